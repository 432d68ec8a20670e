"""Command line of ``python -m wann.evaluate`` (the work is done by :mod:`wann.tools.evaluate`)."""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Sequence

import numpy as np

from wann.cli.common import (
    add_backend_options,
    add_task_module_option,
    backend_choice,
    check_finite,
    check_positive,
    check_workers,
    say_unless,
)
from wann.cli.progress import Progress
from wann.engine.champion import champion_task, load_champion
from wann.engine.config import STANDARD_WEIGHTS
from wann.engine.jsonio import write_json_atomic, write_text_atomic
from wann.errors import UserError
from wann.tools.evaluate import (
    csv_text,
    evaluate_weights,
    format_conditions,
    format_weight_table,
    four_conditions,
    on_other_task,
)
from wann.tools.runner import RolloutRunner


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m wann.evaluate``."""
    parser = argparse.ArgumentParser(
        prog="python -m wann.evaluate",
        description="Evaluate a champion at fixed shared weights, or print the paper's four-condition table.",
    )
    parser.add_argument("champion", help="champion.json written by python -m wann.search (or python -m wann.tune)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--weights", type=float, nargs="+", metavar="W",
                       help="shared weights to evaluate (default: -2 -1 -0.5 0.5 1 2)")
    which.add_argument("--sweep", type=float, nargs=2, metavar=("LO", "HI"),
                       help="evaluate --points weights evenly spaced from LO to HI")
    which.add_argument("--table", action="store_true",
                       help="print the paper's four rows: random individual, random shared, tuned shared, tuned weights")
    parser.add_argument("--points", type=int, default=41, help="number of weights for --sweep (default 41)")
    parser.add_argument("--tuned", action="store_true",
                        help="apply the champion's tuned conn_weights on top of each shared weight")
    parser.add_argument("--episodes", type=int, default=100, help="episodes per weight or per row (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the episodes and random draws (default 0)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes, 0 = all cores (default 1; results do not depend on it)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--csv", metavar="PATH", help="also write the results as CSV")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--task", metavar="TASK",
                        help="score on this task instead of the champion's own (same inputs and outputs): an id, "
                             "e.g. BipedalWalker-v3, or a task section as YAML, e.g. "
                             "'{name: BipedalWalker-v3, wrappers: [{name: NoFallPenalty}]}'")
    parser.add_argument("--skip-tuned-shared", action="store_true",
                        help="--table: leave out the tuned-shared-weight row (its weight search costs ~100x --episodes episodes)")
    add_backend_options(parser)
    add_task_module_option(parser)
    return parser



def run(args: argparse.Namespace) -> int:
    check_positive("--episodes", args.episodes)
    check_workers(args.workers)
    check_finite("--weights", *(args.weights or ()))
    check_finite("--sweep", *(args.sweep or ()))
    if args.sweep is not None:
        check_positive("--points", args.points)
        if args.points < 2 and args.sweep[0] != args.sweep[1]:
            raise UserError(f"--points: {args.points}: a sweep needs at least 2 points")
    champion = load_champion(args.champion)
    if args.task:
        champion = on_other_task(champion, args.task)
    if args.tuned and not champion.conn_weights:
        raise UserError(f"{args.champion}: --tuned: the champion has no tuned conn_weights (run python -m wann.tune)")
    task = champion_task(champion)
    say = say_unless(args.quiet, sys.stderr)
    t0 = time.perf_counter()
    header = (f"champion {args.champion}: {task.name}, {champion.connections} connections, "
              f"{args.episodes} episodes per {'row' if args.table else 'weight'}, seed {args.seed}")
    result: dict[str, Any] = {
        "format": "wann-evaluation", "champion": str(args.champion), "task": task.name,
        "episodes": args.episodes, "seed": args.seed,
    }
    backend, scheduler = backend_choice(args)
    with RolloutRunner(task, args.workers, backend=backend, scheduler=scheduler) as runner:
        if runner.dashboard_link:
            say(f"dask dashboard: {runner.dashboard_link} ({runner.n_workers} workers)")
        if args.table:
            say("evaluating the four conditions ...")
            with Progress("four conditions", args.quiet) as progress:
                rows = four_conditions(champion, args.episodes, args.seed, runner=runner, say=progress.say,
                                       tick=progress.tick, skip_tuned_shared=args.skip_tuned_shared)
            print(header)
            print(format_conditions(rows, task.name))
            result["table"] = [r.to_dict() for r in rows]
            csv_rows = result["table"]
            columns: Sequence[str] = ("condition", "mean", "std", "min", "max", "episodes", "weight", "note")
        else:
            if args.sweep is not None:
                weights = np.linspace(args.sweep[0], args.sweep[1], args.points)
            else:
                weights = np.asarray(args.weights if args.weights else STANDARD_WEIGHTS, dtype=np.float64)
            table = evaluate_weights(champion, weights, args.episodes, args.seed, runner=runner, tuned=args.tuned)
            print(header + (" (tuned conn_weights applied)" if args.tuned else ""))
            print(format_weight_table(table))
            result["tuned"] = bool(args.tuned)
            result["weights"] = table.rows()
            csv_rows = result["weights"]
            columns = ("weight", "mean", "std", "min", "max")
        steps = runner.steps
    seconds = time.perf_counter() - t0
    say(f"{steps:,} env steps in {seconds:.1f}s")
    if args.json:
        write_json_atomic(args.json, result)
        say(f"wrote {args.json}")
    if args.csv:
        write_text_atomic(args.csv, csv_text(csv_rows, columns))
        say(f"wrote {args.csv}")
    return 0
