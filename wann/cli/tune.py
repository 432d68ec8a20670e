"""Command line of ``python -m wann.tune`` (the work is done by :mod:`wann.tools.tune`)."""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from wann.cli.common import (
    add_backend_options,
    add_task_module_option,
    backend_choice,
    check_finite,
    check_positive,
    check_workers,
    output_path_for,
)
from wann.cli.progress import Progress
from wann.engine.champion import champion_task, load_champion, save_champion
from wann.engine.network import compile_genome
from wann.engine.seeds import VALIDATION_STREAM, evaluation_seeds
from wann.errors import UserError
from wann.tools.runner import RolloutRunner, Stats
from wann.tools.tune import (
    DEFAULTS,
    METHODS,
    PAIR_METHODS,
    resolve_method,
    setting_doc,
    tune_individual,
    tune_shared,
    tuned_champion,
)
from wann.tools.warmstart import WARM_DEFAULTS, WARM_STARTS, WarmStartSettings, check_warm_start


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m wann.tune``."""
    d = DEFAULTS
    parser = argparse.ArgumentParser(
        prog="python -m wann.tune",
        description="Tune a champion's shared weight, or train individual connection weights with an ES.",
    )
    parser.add_argument("champion", help="champion.json to tune (never overwritten)")
    parser.add_argument("--mode", choices=("shared", "individual"), default="individual",
                        help="shared: best single weight; individual: one weight per connection (default)")
    parser.add_argument("-o", "--out", help="output champion file (default: <name>.tuned.json next to the input)")
    parser.add_argument("--seed", type=int, default=0, help="seed of episodes and optimizer noise (default 0)")
    parser.add_argument("--method", choices=("auto",) + METHODS, default=d.method, help=setting_doc("method"))
    for name, kind in (("iterations", int), ("popsize", int), ("sigma", float), ("lr", float)):
        parser.add_argument(f"--{name}", type=kind, default=getattr(d, name), help=setting_doc(name))
    parser.add_argument("--episodes", type=int, help=f"individual mode: {setting_doc('episodes')}; "
                        f"shared mode: {setting_doc('shared_episodes')}")
    parser.add_argument("--start-weight", type=float, help="individual mode: start every connection here "
                        "(default: the champion's tuned_shared_weight, else a grid search)")
    parser.add_argument("--warm-start", choices=WARM_STARTS, default="none",
                        help="individual mode: openloop = first distil planned open-loop approaches into the weights "
                        "(tasks with compiled physics and continuous actions; see README 'Tune'); default none")
    for flag, field in (("--plan-starts", "starts"), ("--distill-iterations", "distill_iterations")):
        doc = WarmStartSettings.__dataclass_fields__[field].metadata["doc"]
        parser.add_argument(flag, type=int, default=getattr(WARM_DEFAULTS, field),
                            help=f"--warm-start openloop: {doc} (default {getattr(WARM_DEFAULTS, field)})")
    parser.add_argument("--grid-points", type=int, default=d.grid_points, help=setting_doc("grid_points"))
    parser.add_argument("--validation-episodes", type=int, default=d.validation_episodes,
                        help=setting_doc("validation_episodes"))
    parser.add_argument("--select-every", type=int, default=d.select_every, help=setting_doc("select_every"))
    parser.add_argument("--select-episodes", type=int, default=d.select_episodes, help=setting_doc("select_episodes"))
    parser.add_argument("--workers", type=int, default=1, help="worker processes, 0 = all cores (default 1; results do not depend on it)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    add_backend_options(parser)
    add_task_module_option(parser)
    return parser



def run(args: argparse.Namespace) -> int:
    for name in ("iterations", "popsize", "sigma", "lr", "grid_points", "validation_episodes", "select_every",
                 "select_episodes", "plan_starts", "distill_iterations"):
        check_positive("--" + name.replace("_", "-"), getattr(args, name))
    method = resolve_method(args.method) if args.mode == "individual" else None
    if method in PAIR_METHODS and args.popsize % 2:
        raise UserError(f"--popsize: {args.popsize}: must be even with --method {method} (antithetic pairs)")
    if args.episodes is not None:
        check_positive("--episodes", args.episodes)
    check_workers(args.workers)
    backend, scheduler = backend_choice(args)
    check_finite("--start-weight", args.start_weight)
    champion = load_champion(args.champion)
    out = Path(args.out) if args.out else output_path_for(args.champion, ".tuned.json")
    if out.resolve() == Path(args.champion).resolve():
        raise UserError(f"{out}: refusing to overwrite the input champion; choose another -o")
    task = champion_task(champion)
    if args.mode == "individual":
        check_warm_start(task, args.warm_start)
    elif args.warm_start != "none":
        raise UserError(f"--warm-start: {args.warm_start!r}: applies to --mode individual only")
    t0 = time.perf_counter()
    if args.mode == "shared":
        episodes = args.episodes or DEFAULTS.shared_episodes
        network = compile_genome(champion.genome)
        with RolloutRunner(task, args.workers, backend=backend, scheduler=scheduler) as runner:
            _announce(runner, args.quiet)
            found = tune_shared(network, task, episodes, args.seed, args.grid_points, runner=runner)
            valid = evaluation_seeds(args.seed, args.validation_episodes, VALIDATION_STREAM)
            check = Stats.of(runner.grid([network], [found.weight], valid)[0, 0])
        result = tuned_champion(champion, {
            "tuned_shared_weight": found.weight,
            "tuned_shared": {"mean": check.mean, "std": check.std, "episodes": check.episodes,
                             "selection_mean": found.mean, "selection_episodes": found.episodes,
                             "grid_points": args.grid_points, "seed": args.seed, "source": str(args.champion)},
        })
        save_champion(result, out)
        print(f"best shared weight {found.weight:+.3f}: {check.mean:.2f} +- {check.std:.2f} over "
              f"{check.episodes} fresh episodes ({time.perf_counter() - t0:.1f}s) -> {out}")
        return 0
    episodes = args.episodes or DEFAULTS.episodes
    with Progress("tuning", args.quiet, sys.stdout) as progress, \
            RolloutRunner(task, args.workers, backend=backend, scheduler=scheduler) as runner:
        _announce(runner, args.quiet)
        res = tune_individual(
            champion, start_weight=args.start_weight, iterations=args.iterations, popsize=args.popsize,
            sigma=args.sigma, lr=args.lr, episodes=episodes, seed=args.seed, workers=args.workers,
            validation_episodes=args.validation_episodes, say=progress.say, method=method,
            select_every=args.select_every, select_episodes=args.select_episodes, tick=progress.tick,
            runner=runner, warm_start=args.warm_start,
            warm_settings=dataclasses.replace(WARM_DEFAULTS, starts=args.plan_starts,
                                              distill_iterations=args.distill_iterations),
        )
    result = tuned_champion(champion, {
        "tuned_shared_weight": res.start_weight,
        "tuned_weights": {
            "mean": res.final.mean, "std": res.final.std, "episodes": res.final.episodes,
            "start_mean": res.start.mean, "start_std": res.start.std,
            "method": res.method, "select_every": args.select_every, "select_episodes": args.select_episodes,
            "selection_mean": res.selection_mean, "iterations": args.iterations, "popsize": args.popsize, "sigma": args.sigma,
            **({"lr": args.lr} if res.method in PAIR_METHODS else {}),
            "episodes_per_candidate": episodes, "seed": args.seed, "source": str(args.champion),
            **({"warm_start": {"kind": args.warm_start, "plan_starts": args.plan_starts,
                               "distill_iterations": args.distill_iterations, **res.warm_start}}
               if res.warm_start is not None else {}),
        },
    }, conn_weights=res.conn_weights)
    save_champion(result, out)
    print(f"tuned {len(res.conn_weights)} weights with {res.method} in {res.seconds:.1f}s ({res.steps:,} env steps): "
          f"{res.final.mean:.2f} +- {res.final.std:.2f} over {res.final.episodes} fresh episodes "
          f"(start, shared weight {res.start_weight:+.3f}: {res.start.mean:.2f} +- {res.start.std:.2f}) -> {out}")
    return 0


def _announce(runner: RolloutRunner, quiet: bool) -> None:
    if runner.dashboard_link and not quiet:
        print(f"dask dashboard: {runner.dashboard_link} ({runner.n_workers} workers)", flush=True)
