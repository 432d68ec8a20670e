"""Command line of ``python -m wann.study`` (the work is done by :mod:`wann.tools.study`)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from wann.cli.common import add_backend_options, add_task_module_option, backend_choice, check_positive, check_workers
from wann.cli.progress import Progress
from wann.engine.config import load_config
from wann.engine.jsonio import write_json_atomic, write_text_atomic
from wann.errors import UserError
from wann.tools.convert import champion_from_reference, read_reference_matrix
from wann.tools.evaluate import PAPER_SWINGUP, evaluate_weights
from wann.tools.study import (CURVE_POINTS, REFERENCE_SAMPLE_RUN, evaluate_seed, markdown_table, plot_curves,
                              progress_table, run_seed, search_progress)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m wann.study``."""
    parser = argparse.ArgumentParser(
        prog="python -m wann.study",
        description="Run a config for several seeds (resumable), then write one table of the paper's four "
                    "conditions, the weight-agnostic score and connections, and one reward-versus-weight figure.",
    )
    parser.add_argument("config", help="YAML config of the search")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3], help="run seeds (default 0 1 2 3)")
    parser.add_argument("--out", help="study folder (default results/<config name>-study); seed k runs in OUT/seed<k>")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override one config value for every seed (repeatable)")
    parser.add_argument("--workers", type=int, help="worker processes for searches and evaluation, 0 = all cores")
    parser.add_argument("--episodes", type=int, default=100, help="episodes per row of the four-condition table (default 100)")
    parser.add_argument("--curve-episodes", type=int, default=20,
                        help=f"episodes per point of the {CURVE_POINTS}-point reward-versus-weight curve (default 20)")
    parser.add_argument("--reference", metavar="FILE.out",
                        help="the reference code's champion (.out) whose curve is drawn for comparison")
    parser.add_argument("--quiet", action="store_true", help="only the final table")
    add_backend_options(parser)
    add_task_module_option(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run every seed, judge every champion, write the table and the figure."""
    check_positive("--episodes", args.episodes)
    check_positive("--curve-episodes", args.curve_episodes)
    if args.workers is not None:
        check_workers(args.workers)
    if len(set(args.seeds)) != len(args.seeds) or min(args.seeds) < 0:
        raise UserError(f"--seeds: {' '.join(map(str, args.seeds))}: give distinct seeds >= 0")
    config = load_config(args.config, args.overrides)  # fail on a bad config before any run starts
    out = Path(args.out) if args.out else Path(config.run.out_dir) / f"{config.run.name}-study"
    workers = 1 if args.workers is None else args.workers
    backend, scheduler = backend_choice(args)
    backend_args = [*(["--backend", args.backend] if args.backend else []),
                    *(["--scheduler", args.scheduler] if args.scheduler else [])]
    results = []
    with Progress("study", args.quiet, sys.stdout) as progress:
        for k, seed in enumerate(args.seeds):
            run_seed(args.config, seed, out / f"seed{seed}", config.search.generations, args.overrides,
                     args.workers, args.task_modules, say=progress.say, backend_args=backend_args)
            results.append(evaluate_seed(out / f"seed{seed}", seed, args.episodes, args.curve_episodes, workers,
                                         say=progress.say, backend=backend, scheduler=scheduler))
            progress.tick(k + 1, len(args.seeds))
    reference = None
    if args.reference:
        champion = champion_from_reference(read_reference_matrix(args.reference), config.task.name, episodes=0)
        weights = np.linspace(-2.0, 2.0, CURVE_POINTS)
        reference = (weights, evaluate_weights(champion, weights, args.curve_episodes, seed=0,
                                               workers=workers).rewards.mean(axis=1))
    paper = PAPER_SWINGUP if config.task.name == "wann/CartPoleSwingUp-v1" else None
    table = markdown_table(results, {c: m for c, (m, _s) in paper.items()} if paper else None)
    search_curves = {seed: search_progress(out / f"seed{seed}") for seed in args.seeds}
    progress_md = progress_table(search_curves, REFERENCE_SAMPLE_RUN if paper else None)
    if progress_md:
        table += "\n\n" + progress_md
    figure = plot_curves(results, out / "study_curves.png", reference, title=f"{config.run.name}: reward vs shared weight")
    write_text_atomic(out / "study.md", table + "\n")
    write_json_atomic(out / "study.json", {
        "config": str(args.config), "overrides": args.overrides, "seeds": args.seeds, "episodes": args.episodes,
        "curve_episodes": args.curve_episodes, "results": [r.__dict__ for r in results],
        "search_progress": {str(seed): {str(g): list(v) for g, v in cells.items()} for seed, cells in search_curves.items()},
        "reference_curve": None if reference is None else [list(map(float, reference[0])), list(map(float, reference[1]))],
    })
    print(table)
    print(f"wrote {out / 'study.md'}, {out / 'study.json'} and {figure}")
    return 0
