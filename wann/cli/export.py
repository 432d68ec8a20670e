"""Command line of ``python -m wann.export`` (the work is done by :mod:`wann.tools.export`)."""
from __future__ import annotations

import argparse

from wann.cli.common import add_task_module_option, check_finite, say_unless
from wann.engine.champion import load_champion
from wann.engine.jsonio import write_text_atomic
from wann.tools.export import export_source


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m wann.export``."""
    parser = argparse.ArgumentParser(
        prog="python -m wann.export",
        description="Write a champion as a Python module that needs only numpy: act(obs) and forward(obs).",
    )
    parser.add_argument("champion", help="champion.json")
    parser.add_argument("-o", "--out", required=True, help="the .py file to write")
    parser.add_argument("--weight", type=float,
                        help="default shared weight of the module (default: 1.0 with tuned conn_weights, "
                             "else the tuned shared weight, else the best sweep weight)")
    parser.add_argument("--untuned", action="store_true", help="leave the champion's tuned conn_weights out")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    add_task_module_option(parser)
    return parser



def run(args: argparse.Namespace) -> int:
    """Write the champion as a numpy-only module."""
    check_finite("--weight", args.weight)
    champion = load_champion(args.champion)
    write_text_atomic(args.out, export_source(champion, args.weight, tuned=not args.untuned))
    say_unless(args.quiet)(f"wrote {args.out}: from mymodule import act; act(observation) -> action")
    return 0
