"""Tune a champion's weights: the best single shared weight, or individual weights by ES.

``python -m wann.tune CHAMPION --mode shared`` finds the best shared weight
(a grid over [-2, 2], then a finer grid around the best point) and stores it
as ``tuned_shared_weight``. ``--mode individual`` starts every live connection
at the best shared weight and trains one weight per connection with the
evolution strategy of :mod:`wann.es`; each iteration evaluates the whole
population (plus the current mean) as ONE batch of copies of the network that
differ only in ``conn_weight``, at shared weight 1.0. The result is a new
champion file with ``conn_weights`` {innovation: weight}; the input file is
never overwritten.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from wann.champion import Champion, champion_task, save_champion
from wann.runner import RolloutRunner, Stats, evaluation_seeds, with_conn_weights
from wann.cli_common import draw_seeds, make_rng
from wann.config import param
from wann.es import EvolutionStrategy
from wann.network import Network, compile_genome
from wann.tasks import Task

# Seed streams derived from --seed (disjoint from wann.champion_eval's 0-3).
SHARED_STREAM = 10  # episodes that pick the shared weight
ES_NOISE_STREAM = 11  # ES perturbations
ES_EPISODE_STREAM = 12  # fresh episodes of every ES iteration
VALIDATION_STREAM = 13  # fresh episodes that report the result
SELECTION_STREAM = 14  # fixed episodes that pick the best mean seen during the run



@dataclass(frozen=True)
class TuneSettings:
    """Budget and step sizes of ``python -m wann.tune`` (the defaults are the README's)."""

    method: str = param("auto", "optimizer: cma (pycma CMA-ES), es (numpy ES), auto = cma when installed")
    iterations: int = param(600, "optimizer iterations", min=1)
    popsize: int = param(64, "candidates per iteration (es: even, antithetic pairs)", min=2)
    sigma: float = param(0.1, "initial step size (cma) or perturbation std (es)", min=0.0)
    lr: float = param(0.03, "Adam step size of the es method", min=0.0)
    episodes: int = param(16, "episodes per ES candidate, fresh seeds every iteration", min=1)
    shared_episodes: int = param(32, "episodes per weight when searching the best shared weight", min=1)
    grid_points: int = param(81, "weights in the grid over [-2, 2] before refining", min=2)
    refine_points: int = param(21, "weights in the finer grid around the best grid weight", min=1)
    validation_episodes: int = param(100, "fresh episodes that report the result", min=1)
    select_every: int = param(25, "iterations between scorings of the optimizer's mean on the selection episodes", min=1)
    select_episodes: int = param(64, "fixed episodes that score the mean; the best-scoring mean is the result", min=1)


DEFAULTS = TuneSettings()


def _doc(name: str) -> str:
    f = TuneSettings.__dataclass_fields__[name]
    return f"{f.metadata['doc']} (default {f.default})"


@dataclass
class SharedTuneResult:
    """Best shared weight and the curve it was read from."""

    weight: float
    mean: float  # mean reward at ``weight`` over the selection episodes
    weights: np.ndarray  # every weight tried (grid, then refinement)
    means: np.ndarray  # mean reward at each
    episodes: int


def tune_shared(
    network: Network,
    task: Task,
    episodes: int = DEFAULTS.shared_episodes,
    seed: int = 0,
    grid_points: int = DEFAULTS.grid_points,
    refine_points: int = DEFAULTS.refine_points,
    workers: int = 1,
    runner: RolloutRunner | None = None,
    seed_stream: int = SHARED_STREAM,
) -> SharedTuneResult:
    """Best single shared weight in [-2, 2]: a ``grid_points`` grid, then ``refine_points`` around the best.

    Every weight runs on the same ``episodes`` seeds (from ``seed`` and
    ``seed_stream``); ties go to the first weight tried.
    """
    seeds = draw_seeds(make_rng(seed, seed_stream), episodes)
    own = runner is None
    runner = runner or RolloutRunner(task, workers)
    try:
        grid = np.round(np.linspace(-2.0, 2.0, grid_points), 12)
        means = runner.grid([network], grid, seeds)[0].mean(axis=1)
        best = float(grid[int(np.argmax(means))])
        tried, scores = [grid], [means]
        if refine_points > 1 and grid_points > 1:
            step = 4.0 / (grid_points - 1)
            fine = np.round(np.linspace(max(best - step, -2.0), min(best + step, 2.0), refine_points), 12)
            fine = fine[~np.isin(fine, grid)]
            if fine.size:
                tried.append(fine)
                scores.append(runner.grid([network], fine, seeds)[0].mean(axis=1))
    finally:
        if own:
            runner.close()
    weights, values = np.concatenate(tried), np.concatenate(scores)
    k = int(np.argmax(values))
    return SharedTuneResult(float(weights[k]), float(values[k]), weights, values, int(episodes))


@dataclass
class IndividualTuneResult:
    """Tuned per-connection weights and how they were found."""

    conn_weights: dict[int, float]  # innovation -> weight (live connections only)
    start_weight: float
    start: Stats  # shared weight ``start_weight`` on the validation episodes
    final: Stats  # tuned weights (shared weight 1.0) on the same episodes
    history: list[dict[str, Any]] = field(default_factory=list)  # one metrics dict per iteration
    steps: int = 0
    seconds: float = 0.0
    method: str = "es"  # the optimizer that ran (cma or es)
    selection_mean: float = float("nan")  # the result's mean on the selection episodes


def resolve_method(method: str) -> str:
    """``auto`` -> ``cma`` when pycma is installed, else ``es``; other names are checked."""
    from wann.cmaes import cma_available

    if method == "auto":
        return "cma" if cma_available() else "es"
    if method not in METHODS:
        raise ValueError(f"method: {method!r}: allowed: auto, {', '.join(METHODS)}")
    return method


METHODS = ("cma", "es")


def make_optimizer(method: str, x0: np.ndarray, rng: np.random.Generator, popsize: int, sigma: float, lr: float):
    """The ask/tell optimizer for ``method`` (``cma`` or ``es``), started at ``x0``."""
    if resolve_method(method) == "cma":
        from wann.cmaes import CmaStrategy

        return CmaStrategy(x0, rng, popsize=popsize, sigma=sigma)
    return EvolutionStrategy(x0, rng, popsize=popsize, sigma=sigma, lr=lr)


def tune_individual(
    champion: Champion,
    start_weight: float | None = None,
    iterations: int = DEFAULTS.iterations,
    popsize: int = DEFAULTS.popsize,
    sigma: float = DEFAULTS.sigma,
    lr: float = DEFAULTS.lr,
    episodes: int = DEFAULTS.episodes,
    seed: int = 0,
    workers: int = 1,
    validation_episodes: int = DEFAULTS.validation_episodes,
    say: Callable[[str], None] | None = None,
    method: str = DEFAULTS.method,
    select_every: int = DEFAULTS.select_every,
    select_episodes: int = DEFAULTS.select_episodes,
) -> IndividualTuneResult:
    """Train one weight per live connection with CMA-ES (:mod:`wann.cmaes`) or the numpy ES (:mod:`wann.es`).

    Starts every connection at ``start_weight`` (default: the champion's
    ``tuned_shared_weight`` if it has one, else :func:`tune_shared`). Each
    iteration draws ``episodes`` fresh seeds shared by the whole population.
    Every ``select_every`` iterations (and after the last) the optimizer's
    mean is scored on ``select_episodes`` fixed selection seeds; the result is
    the best-scoring mean (a noisy optimizer's last mean may sit on a dip),
    reported next to the starting point on ``validation_episodes`` seeds used
    nowhere else.
    """
    say = say or (lambda _msg: None)
    task = champion_task(champion)
    network = compile_genome(champion.genome)
    if network.n_connections == 0:
        raise ValueError("the champion has no live connections to tune")
    t0 = time.perf_counter()
    with RolloutRunner(task, workers) as runner:
        if start_weight is None:
            stored = champion.extra.get("tuned_shared_weight")
            if stored is not None:
                start_weight = float(stored)
                say(f"starting from the champion's tuned_shared_weight {start_weight:+.3f}")
            else:
                found = tune_shared(network, task, seed=seed, runner=runner)
                start_weight = found.weight
                say(f"best shared weight {start_weight:+.3f} (mean {found.mean:.2f} over {found.episodes} episodes)")
        method = resolve_method(method)
        es = make_optimizer(method, np.full(network.n_connections, float(start_weight)),
                            make_rng(seed, ES_NOISE_STREAM), popsize, sigma, lr)
        episode_rng = make_rng(seed, ES_EPISODE_STREAM)
        selection = draw_seeds(make_rng(seed, SELECTION_STREAM), select_episodes)
        best_weights, best_score = np.array(es.mean), float(runner.grid([network], [float(start_weight)], selection)[0, 0].mean())
        history = []
        say(f"tuning {network.n_connections} connection weights with {method}: {iterations} iterations, "
            f"popsize {popsize}, sigma {sigma}{f', lr {lr}' if method == 'es' else ''}, "
            f"{episodes} episodes per candidate")
        for it in range(iterations):
            seeds = draw_seeds(episode_rng, episodes)
            candidates = es.ask()
            nets = [with_conn_weights(network, c) for c in candidates] + [with_conn_weights(network, es.mean)]
            steps_before = runner.steps
            t_it = time.perf_counter()
            rewards = runner.grid(nets, [1.0], seeds)[:, 0, :].mean(axis=1)
            it_seconds = time.perf_counter() - t_it
            metrics = es.tell(rewards[:-1])
            metrics["center"] = float(rewards[-1])
            rate = (runner.steps - steps_before) / max(it_seconds, 1e-9)
            picked = ""
            if (it + 1) % select_every == 0 or it + 1 == iterations:
                metrics["selection"] = float(runner.grid([with_conn_weights(network, es.mean)], [1.0], selection)[0, 0].mean())
                if metrics["selection"] > best_score:
                    best_weights, best_score = np.array(es.mean), metrics["selection"]
                picked = f" | selection {metrics['selection']:8.2f} (best {best_score:.2f})"
            history.append(metrics)
            say(f"iter {it + 1:4d}/{iterations} | mean weights {metrics['center']:8.2f} | "
                f"pop mean {metrics['fitness_mean']:8.2f} max {metrics['fitness_max']:8.2f} | "
                f"step {metrics['step_norm']:.4f} | {rate / 1e6:5.2f}M steps/s | {time.perf_counter() - t0:6.1f}s{picked}")
        valid = evaluation_seeds(seed, validation_episodes, VALIDATION_STREAM)
        start_r = runner.grid([network], [float(start_weight)], valid)[0, 0]
        final_r = runner.grid([with_conn_weights(network, best_weights)], [1.0], valid)[0, 0]
        steps = runner.steps
    conn = {int(i): float(w) for i, w in zip(network.conn_innov.tolist(), best_weights.tolist())}
    return IndividualTuneResult(conn, float(start_weight), Stats.of(start_r), Stats.of(final_r),
                                history, steps, time.perf_counter() - t0, method, best_score)


def tuned_champion(champion: Champion, extra: dict[str, Any], conn_weights: dict[int, float] | None = None) -> Champion:
    """A copy of ``champion`` with ``extra`` merged in and, if given, new ``conn_weights``."""
    merged = dict(champion.extra)
    merged.update(extra)
    return Champion(
        genome=champion.genome.copy(), task=champion.task, shared_weights=list(champion.shared_weights),
        reward_per_weight=list(champion.reward_per_weight), confirmed_mean=champion.confirmed_mean,
        confirmed_rollouts=champion.confirmed_rollouts, connections=champion.connections,
        generation=champion.generation, seed=champion.seed,
        conn_weights=dict(conn_weights) if conn_weights is not None else champion.conn_weights,
        extra=merged,
    )


# ---- command line -----------------------------------------------------------------------


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
    parser.add_argument("--method", choices=("auto",) + METHODS, default=d.method, help=_doc("method"))
    for name, kind in (("iterations", int), ("popsize", int), ("sigma", float), ("lr", float)):
        parser.add_argument(f"--{name}", type=kind, default=getattr(d, name), help=_doc(name))
    parser.add_argument("--episodes", type=int, help=f"individual mode: {_doc('episodes')}; "
                        f"shared mode: {_doc('shared_episodes')}")
    parser.add_argument("--start-weight", type=float, help="individual mode: start every connection here "
                        "(default: the champion's tuned_shared_weight, else a grid search)")
    parser.add_argument("--grid-points", type=int, default=d.grid_points, help=_doc("grid_points"))
    parser.add_argument("--validation-episodes", type=int, default=d.validation_episodes,
                        help=_doc("validation_episodes"))
    parser.add_argument("--select-every", type=int, default=d.select_every, help=_doc("select_every"))
    parser.add_argument("--select-episodes", type=int, default=d.select_episodes, help=_doc("select_episodes"))
    parser.add_argument("--workers", type=int, default=1, help="worker processes, 0 = all cores (default 1; results do not depend on it)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    from wann.cli_common import add_task_module_option

    add_task_module_option(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m wann.tune``; exit 2 with one line on bad input."""
    from wann.cli_common import run_tool

    args = build_parser().parse_args(argv)
    return run_tool(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from wann.cli_common import (ToolError, check_positive, check_workers, import_task_modules, output_path_for,
                                 read_champion)

    import_task_modules(args.task_modules)

    for name in ("iterations", "popsize", "sigma", "lr", "grid_points", "validation_episodes", "select_every",
                 "select_episodes"):
        check_positive("--" + name.replace("_", "-"), getattr(args, name))
    method = resolve_method(args.method) if args.mode == "individual" else None
    if method == "es" and args.popsize % 2:
        raise ToolError(f"--popsize: {args.popsize}: must be even with --method es (antithetic pairs)")
    if args.episodes is not None:
        check_positive("--episodes", args.episodes)
    check_workers(args.workers)
    champion = read_champion(args.champion)
    out = Path(args.out) if args.out else output_path_for(args.champion, ".tuned.json")
    if out.resolve() == Path(args.champion).resolve():
        raise ToolError(f"{out}: refusing to overwrite the input champion; choose another -o")
    say = (lambda _m: None) if args.quiet else (lambda m: print(m, flush=True))
    task = champion_task(champion)
    t0 = time.perf_counter()
    if args.mode == "shared":
        episodes = args.episodes or DEFAULTS.shared_episodes
        network = compile_genome(champion.genome)
        with RolloutRunner(task, args.workers) as runner:
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
    res = tune_individual(
        champion, start_weight=args.start_weight, iterations=args.iterations, popsize=args.popsize,
        sigma=args.sigma, lr=args.lr, episodes=episodes, seed=args.seed, workers=args.workers,
        validation_episodes=args.validation_episodes, say=say, method=method,
        select_every=args.select_every, select_episodes=args.select_episodes,
    )
    result = tuned_champion(champion, {
        "tuned_shared_weight": res.start_weight,
        "tuned_weights": {
            "mean": res.final.mean, "std": res.final.std, "episodes": res.final.episodes,
            "start_mean": res.start.mean, "start_std": res.start.std,
            "method": res.method, "select_every": args.select_every, "select_episodes": args.select_episodes,
            "selection_mean": res.selection_mean, "iterations": args.iterations, "popsize": args.popsize, "sigma": args.sigma,
            **({"lr": args.lr} if res.method == "es" else {}),
            "episodes_per_candidate": episodes, "seed": args.seed, "source": str(args.champion),
        },
    }, conn_weights=res.conn_weights)
    save_champion(result, out)
    print(f"tuned {len(res.conn_weights)} weights with {res.method} in {res.seconds:.1f}s ({res.steps:,} env steps): "
          f"{res.final.mean:.2f} +- {res.final.std:.2f} over {res.final.episodes} fresh episodes "
          f"(start, shared weight {res.start_weight:+.3f}: {res.start.mean:.2f} +- {res.start.std:.2f}) -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
