"""Command line of ``python -m wann tasks``: every registered task with its sizes and evaluation path."""
from __future__ import annotations

import argparse

from wann.cli.common import add_task_module_option
from wann.tasks import get_task, registered_names, registered_task
from wann.tasks.base import Task


def evaluation_path(task: Task) -> str:
    """How the task's episodes run: ``fused`` (compiled env + network), ``classification`` or ``gymnasium``."""
    if task.shard_evaluator is not None:
        return "classification"
    return "fused" if task.physics is not None else "gymnasium"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``wann tasks``."""
    parser = argparse.ArgumentParser(
        prog="wann tasks",
        description="List the registered tasks (built-in and user tasks); any gymnasium id works as well.",
    )
    parser.add_argument("names", nargs="*", metavar="TASK",
                        help="also describe these tasks or gymnasium ids (e.g. Pendulum-v1)")
    add_task_module_option(parser)
    return parser



def run(args: argparse.Namespace) -> int:
    names = registered_names() + [n for n in args.names if n not in registered_names()]
    rows = []
    for name in names:
        task = registered_task(name) if name in registered_names() else get_task(name)
        rows.append((task.name, str(task.n_inputs), str(task.n_outputs), task.action.kind,
                     str(task.max_steps), evaluation_path(task)))
    header = ("task", "inputs", "outputs", "action", "max steps", "path")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    for row in [header] + rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    print("any gymnasium id (e.g. Pendulum-v1, LunarLander-v3) also works as task.name; "
          "fused = compiled env and network in one kernel")
    return 0
