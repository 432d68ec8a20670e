"""Command line of ``python -m wann.plot`` (the work is done by :mod:`wann.tools.plot`)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from wann.cli.common import check_positive, check_workers, run_command
from wann.errors import UserError
from wann.tools.plot import plot_run


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m wann.plot``."""
    parser = argparse.ArgumentParser(prog="python -m wann.plot", description="Plot a wann run folder.")
    parser.add_argument("run_dir", help="run folder written by python -m wann.search (holds log.csv)")
    parser.add_argument("-o", "--out", help="folder for the PNGs (default RUN_DIR/plots)")
    parser.add_argument("--sheet", action="store_true", help="one PNG with every panel (run_sheet.png)")
    parser.add_argument("--no-sweep", action="store_true", help="skip the reward-versus-shared-weight figure")
    parser.add_argument("--points", type=int, default=41, help="shared weights in the sweep over [-2, 2] (default 41)")
    parser.add_argument("--episodes", type=int, default=20, help="episodes per sweep weight (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sweep episodes (default 0)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes for the sweep, 0 = all cores")
    parser.add_argument("--dpi", type=int, default=110, help="resolution (default 110)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m wann.plot``; exit 2 with one line on bad input."""
    return run_command(build_parser(), _run, argv)


def _run(args: argparse.Namespace) -> int:
    for name in ("points", "episodes", "dpi"):
        check_positive("--" + name, getattr(args, name))
    check_workers(args.workers)
    if not Path(args.run_dir).is_dir():
        raise UserError(f"{args.run_dir}: not a folder (expected a run folder with log.csv)")
    if not args.no_sweep and not (Path(args.run_dir) / "champion.json").exists():
        print(f"note: {args.run_dir} has no champion.json yet; skipping the weight sweep")
    paths = plot_run(args.run_dir, args.out, args.sheet, not args.no_sweep, args.points, args.episodes,
                     args.seed, args.workers, args.dpi)
    for path in paths:
        print(f"wrote {path}")
    return 0
