"""``wann <command>`` and ``python -m wann <command>``: every command of the package in one place.

Each command is also ``python -m wann.<command>`` (a thin module that calls
:func:`run_module_command`). A command's module is imported only when it
runs, so ``wann --help`` and ``wann --version`` start instantly.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from wann import __version__
from wann.cli.common import run_command

# command -> (module with main(argv), one-line summary)
COMMANDS: dict[str, tuple[str, str]] = {
    "search": ("wann.cli.search", "evolve a weight agnostic network from a YAML config (or --resume a run)"),
    "evaluate": ("wann.cli.evaluate", "reward of a champion at fixed shared weights, or the paper's four-row table"),
    "tune": ("wann.cli.tune", "tune a champion's shared weight or its individual connection weights"),
    "draw": ("wann.cli.draw", "draw a champion's network (PNG, SVG, PDF, GraphML, JSON)"),
    "plot": ("wann.cli.plot", "plot a run's learning curves and its champion's reward-versus-weight curve"),
    "watch": ("wann.cli.watch", "render a champion's episode as a GIF or MP4"),
    "convert": ("wann.cli.convert", "convert the reference code's champions (.out) to ours, and back"),
    "study": ("wann.cli.study", "run a config over several seeds and tabulate every champion (four conditions, curve)"),
    "export": ("wann.cli.export", "write a champion as a dependency-free Python/numpy module"),
    "data": ("wann.cli.data", "check the MNIST IDX files, or --download them (SHA-256 checked)"),
    "tasks": ("wann.cli.tasks", "list the tasks: inputs, outputs, action rule, fast path"),
    "prune": ("wann.cli.prune", "prune dense networks and compare them with WANN champions"),
}


def version() -> str:
    """The installed package version."""
    return __version__


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser: ``wann [--version] <command> [arguments]``."""
    parser = argparse.ArgumentParser(
        prog="wann",
        description="Weight Agnostic Neural Networks: search, evaluate, tune and inspect champions.",
        epilog="commands:\n" + "\n".join(f"  {name:<9} {summary}" for name, (_, summary) in COMMANDS.items())
               + "\n\nrun `wann <command> --help` for a command's options",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"wann {version()}")
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="command", help="one of the commands below")
    return parser


def run_module_command(name: str, argv: Sequence[str] | None = None) -> int:
    """Run command ``name`` with ``argv`` (default: this process's arguments)."""
    module = importlib.import_module(COMMANDS[name][0])
    return run_command(module.build_parser(), module.run, list(sys.argv[1:] if argv is None else argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``wann`` and ``python -m wann``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        return run_module_command(argv[0], argv[1:])
    if argv and argv[0] == "--version":
        print(f"wann {version()}")
        return 0
    parser = build_parser()
    if not argv:
        parser.print_help()
        return 2
    parser.parse_args(argv)  # prints help / an unknown-command error and exits
    return 2
