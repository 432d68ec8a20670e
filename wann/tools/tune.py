"""Tune a champion's weights: the best single shared weight, or individual weights by ES.

``python -m wann.tune CHAMPION --mode shared`` finds the best shared weight
(a grid over [-2, 2], then a finer grid around the best point) and stores it
as ``tuned_shared_weight``. ``--mode individual`` starts every live connection
at the best shared weight and trains one weight per connection with CMA-ES
(:mod:`wann.tools.cmaes`), the evolution strategy of :mod:`wann.tools.es` or
PEPG (:mod:`wann.tools.pepg`); each iteration evaluates the whole
population (plus the current mean) as ONE batch of copies of the network that
differ only in ``conn_weight``, at shared weight 1.0. ``--warm-start openloop``
first distils planned open-loop approaches into the weights
(:mod:`wann.tools.warmstart`) and starts there. The result is a new
champion file with ``conn_weights`` {innovation: weight}; the input file is
never overwritten.
"""
from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from wann.engine.champion import Champion, champion_task
from wann.engine.config import param
from wann.engine.network import Network, compile_genome
from wann.engine.seeds import (
    ES_EPISODE_STREAM,
    ES_NOISE_STREAM,
    SELECTION_STREAM,
    SHARED_STREAM,
    VALIDATION_STREAM,
    draw_seeds,
    evaluation_seeds,
    make_rng,
)
from wann.errors import UserError
from wann.tasks import Task
from wann.tools.cmaes import CmaStrategy, cma_available
from wann.tools.es import EvolutionStrategy
from wann.tools.pepg import Pepg
from wann.tools.runner import RolloutRunner, Stats, with_conn_weights
from wann.tools.warmstart import WARM_DEFAULTS, WarmStartSettings, check_warm_start, openloop_warm_start

# Seed streams derived from --seed (disjoint from wann.tools.evaluate's 0-3).



@dataclass(frozen=True)
class TuneSettings:
    """Budget and step sizes of ``python -m wann.tune`` (the defaults are the README's)."""

    method: str = param("auto", "optimizer: cma (pycma CMA-ES), es (numpy ES), pepg (numpy PEPG, one sigma per weight), auto = cma when installed")
    iterations: int = param(600, "optimizer iterations", min=1)
    popsize: int = param(64, "candidates per iteration (es, pepg: even, antithetic pairs)", min=2)
    sigma: float = param(0.1, "initial step size (cma) or perturbation std (es, pepg: every weight's initial one)", min=0.0)
    lr: float = param(0.03, "Adam step size of the es method (pepg: times the mean sigma)", min=0.0)
    episodes: int = param(16, "episodes per ES candidate, fresh seeds every iteration", min=1)
    shared_episodes: int = param(32, "episodes per weight when searching the best shared weight", min=1)
    grid_points: int = param(81, "weights in the grid over [-2, 2] before refining", min=2)
    refine_points: int = param(21, "weights in the finer grid around the best grid weight", min=1)
    validation_episodes: int = param(100, "fresh episodes that report the result", min=1)
    select_every: int = param(25, "iterations between scorings of the optimizer's mean on the selection episodes", min=1)
    select_episodes: int = param(64, "fixed episodes that score the mean; the best-scoring mean is the result", min=1)


DEFAULTS = TuneSettings()


def setting_doc(name: str) -> str:
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
    method: str = "es"  # the optimizer that ran (cma, es or pepg)
    selection_mean: float = float("nan")  # the result's mean on the selection episodes
    warm_start: dict[str, Any] | None = None  # what --warm-start openloop made (None without one)


def resolve_method(method: str) -> str:
    """``auto`` -> ``cma`` when pycma is installed, else ``es``; other names are checked."""
    if method == "auto":
        return "cma" if cma_available() else "es"
    if method not in METHODS:
        raise UserError(f"method: {method!r}: allowed: auto, {', '.join(METHODS)}")
    return method


METHODS = ("cma", "es", "pepg")
PAIR_METHODS = ("es", "pepg")  # sample +- pairs and step with Adam: an even popsize and a learning rate


def make_optimizer(method: str, x0: np.ndarray, rng: np.random.Generator, popsize: int, sigma: float, lr: float):
    """The ask/tell optimizer for ``method`` (``cma``, ``es`` or ``pepg``), started at ``x0``."""
    method = resolve_method(method)
    if method == "cma":
        return CmaStrategy(x0, rng, popsize=popsize, sigma=sigma)
    if method == "pepg":
        return Pepg(x0, rng, popsize=popsize, sigma=sigma, lr=lr)
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
    tick: Callable[[int, int], None] | None = None,
    runner: RolloutRunner | None = None,
    warm_start: str = "none",
    warm_settings: WarmStartSettings = WARM_DEFAULTS,
) -> IndividualTuneResult:

    """Train one weight per live connection with CMA-ES (:mod:`wann.tools.cmaes`), the numpy ES (:mod:`wann.tools.es`) or PEPG.

    Starts every connection at ``start_weight`` (default: the champion's
    ``tuned_shared_weight`` if it has one, else :func:`tune_shared`). Each
    iteration draws ``episodes`` fresh seeds shared by the whole population.
    Every ``select_every`` iterations (and after the last) the optimizer's
    mean is scored on ``select_episodes`` fixed selection seeds; the result is
    the best-scoring mean (a noisy optimizer's last mean may sit on a dip),
    reported next to the starting point on ``validation_episodes`` seeds used
    nowhere else. ``say(line)`` gets one line per iteration, ``tick(done, total)``
    the progress. ``runner``: run on these workers (e.g. a dask cluster)
    instead of a pool of ``workers`` processes made here. ``warm_start``:
    ``"openloop"`` first distils planned open-loop approaches into the
    weights (:mod:`wann.tools.warmstart`, ``warm_settings``) and starts the
    optimizer there; the shared-weight start still competes for the result.
    """
    say = say or (lambda _msg: None)
    tick = tick or (lambda _done, _total: None)
    task = champion_task(champion)
    network = compile_genome(champion.genome)
    if network.n_connections == 0:
        raise UserError("the champion has no live connections to tune")
    check_warm_start(task, warm_start)
    t0 = time.perf_counter()
    with (nullcontext(runner) if runner is not None else RolloutRunner(task, workers)) as runner:
        steps_at_start = runner.steps
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
        shared_start = np.full(network.n_connections, float(start_weight))
        x0, warm = shared_start, None
        if warm_start == "openloop":
            warm = openloop_warm_start(
                task, network, float(start_weight), seed,
                lambda x, rng, size, step: make_optimizer(method, x, rng, size, step, lr), warm_settings, say)
            x0 = warm.weights
        es = make_optimizer(method, x0, make_rng(seed, ES_NOISE_STREAM), popsize, sigma, lr)
        episode_rng = make_rng(seed, ES_EPISODE_STREAM)
        selection = draw_seeds(make_rng(seed, SELECTION_STREAM), select_episodes)
        # Candidates for the result start with the shared weight (and the warm start, scored the same way).
        best_weights, best_score = shared_start, float(runner.grid([network], [float(start_weight)], selection)[0, 0].mean())
        if warm is not None:
            warm_score = float(runner.grid([with_conn_weights(network, x0)], [1.0], selection)[0, 0].mean())
            say(f"warm start: distilled weights score {warm_score:.2f} on the selection episodes "
                f"(shared weight {best_score:.2f}); tuning from them")
            if warm_score > best_score:
                best_weights, best_score = np.array(x0), warm_score
        history = []
        say(f"tuning {network.n_connections} connection weights with {method}: {iterations} iterations, "
            f"popsize {popsize}, sigma {sigma}{f', lr {lr}' if method in PAIR_METHODS else ''}, "
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
            tick(it + 1, iterations)
        valid = evaluation_seeds(seed, validation_episodes, VALIDATION_STREAM)
        start_r = runner.grid([network], [float(start_weight)], valid)[0, 0]
        final_r = runner.grid([with_conn_weights(network, best_weights)], [1.0], valid)[0, 0]
        steps = runner.steps - steps_at_start
    conn = {int(i): float(w) for i, w in zip(network.conn_innov.tolist(), best_weights.tolist())}
    return IndividualTuneResult(conn, float(start_weight), Stats.of(start_r), Stats.of(final_r),
                                history, steps, time.perf_counter() - t0, method, best_score,
                                None if warm is None else warm.record())


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
