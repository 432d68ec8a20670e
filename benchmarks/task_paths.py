"""Env steps per second of the task paths, per task, measured in one run.

For each task, the same networks (grown by random mutation from the minimal
genome, seeded) at the six standard shared weights, three rollouts each:

(1) plain Python policy loop: the gymnasium env stepped by a user's loop, the
    network evaluated in pure Python (the forward pass's un-compiled source),
    one process;
(2) the engine's gymnasium path (``task.path: gymnasium``): gymnasium's env,
    our compiled forward pass once per step, one process;
(3) (2) through the process backend on every core (one env per worker,
    reused across episodes);
(4) the fused compiled path (network and physics in one kernel), one process;
(5) (4) on every core.

(1) and (2) stop after ``--budget`` env steps. The last column is each
path's steps/s divided by (1)'s, measured in the same run. Tasks without a
compiled path (MountainCar-v0, LunarLander-v3) have rows (1)-(3) only.

    python benchmarks/task_paths.py [--budget 20000] [--workers 0] [--tasks Pendulum-v1 ...]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `benchmarks.` importable
    sys.path.insert(0, str(ROOT))

import numba  # noqa: E402

from wann.engine.activations import activation_id  # noqa: E402
from wann.engine.config import STANDARD_WEIGHTS  # noqa: E402
from wann.engine.evaluator import Evaluator, ProcessBackend, SerialBackend, gym_rollouts, run_rollouts  # noqa: E402
from wann.engine.genome import initial_genome, initial_tracker  # noqa: E402
from wann.engine.mutation import MutationRates, mutate  # noqa: E402
from wann.engine.network import Network, compile_genome, forward_into, stack_networks  # noqa: E402
from wann.tasks import Task, resolve_task  # noqa: E402

TASKS = ["wann/CartPoleSwingUp-v1", "Pendulum-v1", "Acrobot-v1", "MountainCarContinuous-v0",
         "MountainCar-v0", "LunarLander-v3"]
SEEDS = np.arange(3)


def grown_networks(task: Task, n: int, mutations: int, seed: int) -> list[Network]:
    """``n`` networks grown from the minimal genome by ``mutations`` random mutations each."""
    rng = np.random.default_rng(seed)
    tracker = initial_tracker(task.n_inputs, task.n_outputs)
    acts = np.arange(1, 11, dtype=np.int8)
    nets = []
    for _ in range(n):
        genome = initial_genome(task.n_inputs, task.n_outputs, activation_id(task.output_activation), 0.5, rng)
        for _ in range(mutations):
            tracker.new_generation()
            genome = mutate(genome, rng, tracker, MutationRates(), acts)
        nets.append(compile_genome(genome))
    return nets


def python_loop(task: Task, nets: list[Network], budget: int) -> float:
    """(1): what a user writes without the engine: env.step plus a pure-Python forward pass."""
    forward = forward_into.py_func
    env = task.make_env()
    steps, t0 = 0, time.perf_counter()
    try:
        for net in nets:
            b = stack_networks([net])
            values = np.empty(net.n_nodes)
            for weight in STANDARD_WEIGHTS:
                for seed in SEEDS:
                    obs, _ = env.reset(seed=int(seed))
                    for _ in range(task.max_steps):
                        forward(b.act, b.indptr, b.src, b.conn_weight, b.shared_only, 0, net.n_nodes,
                                b.n_inputs, task.inputs_from_observation(obs), weight, values)
                        action = task.action_from_outputs(values[net.n_nodes - b.n_outputs:net.n_nodes])
                        obs, _, terminated, truncated, _ = env.step(action)
                        steps += 1
                        if terminated or truncated or steps >= budget:
                            break
                    if steps >= budget:
                        return steps / (time.perf_counter() - t0)
    finally:
        env.close()
    return steps / (time.perf_counter() - t0)


def gym_one_process(task: Task, nets: list[Network], budget: int) -> float:
    """(2): the engine's gymnasium path in this process, networks until ``budget`` steps are passed."""
    env = task.make_env()
    steps, t0 = 0, time.perf_counter()
    try:
        for net in nets:
            _, n = gym_rollouts(task, stack_networks([net]), np.array(STANDARD_WEIGHTS), SEEDS, task.max_steps, env_source=lambda: env)
            steps += n
            if steps >= budget:
                break
    finally:
        env.close()
    return steps / (time.perf_counter() - t0)


def fused_one_process(task: Task, nets: list[Network]) -> float:
    """(4): the whole population in one compiled call, this process (after a warm-up call)."""
    batch = stack_networks(nets)
    run_rollouts(task, stack_networks(nets[:1]), np.ones(1), SEEDS[:1], 1)  # compile or load
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        _, steps = run_rollouts(task, batch, np.array(STANDARD_WEIGHTS), SEEDS, task.max_steps)
        best = max(best, steps / (time.perf_counter() - t0))
    return best


def through_backend(task: Task, nets: list[Network], workers: int, repeats: int) -> float:
    """(3) or (5): the evaluator on ``workers`` processes (workers started and warm before timing)."""
    backend = ProcessBackend(workers) if workers > 1 else SerialBackend()
    with Evaluator(task, STANDARD_WEIGHTS, backend) as evaluator:
        evaluator.start()
        evaluator.evaluate(nets[: max(1, workers)], SEEDS[:1])  # warm every worker (envs made)
        best = 0.0
        for _ in range(repeats):
            result = evaluator.evaluate(nets, SEEDS)
            best = max(best, result.steps / result.seconds)
    return best


def first_compile_seconds(task: Task) -> tuple[float, float]:
    """First-call time of the fused path in a fresh process: cold (empty Numba cache), then from the cache."""
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        return _first_call(task, env), _first_call(task, env)


def _first_call(task: Task, env: dict) -> float:
    import subprocess

    code = ("import time, numpy as np; t0 = time.perf_counter();"
            "from wann.tasks import get_task; from wann.engine.evaluator import run_rollouts;"
            "from wann.engine.genome import initial_genome; from wann.engine.network import compile_genome, stack_networks;"
            f"task = get_task({task.name!r});"
            "net = compile_genome(initial_genome(task.n_inputs, task.n_outputs, 0, 1.0, np.random.default_rng(0)));"
            "run_rollouts(task, stack_networks([net]), np.ones(1), np.zeros(1, dtype=np.int64), 1);"
            "print(time.perf_counter() - t0)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env_source=lambda: env)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=TASKS)
    parser.add_argument("--networks", type=int, default=24, help="networks per task (default 24)")
    parser.add_argument("--mutations", type=int, default=20, help="random mutations per network (default 20)")
    parser.add_argument("--budget", type=int, default=20000, help="env steps of paths (1) and (2) (default 20000)")
    parser.add_argument("--workers", type=int, default=0, help="processes of (3) and (5); 0 = every core")
    args = parser.parse_args(argv)
    workers = args.workers or os.cpu_count() or 1
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numba {numba.__version__}; {args.networks} networks x 6 weights x 3 rollouts per task")
    for name in args.tasks:
        task = resolve_task(name)
        gym_task = resolve_task({"name": name, "path": "gymnasium"})
        nets = grown_networks(task, args.networks, args.mutations, seed=0)
        rows = []
        base = python_loop(gym_task, nets, args.budget)
        rows.append(("(1) plain Python loop (gymnasium + Python forward)", base))
        rows.append(("(2) gymnasium path, compiled forward, 1 process", gym_one_process(gym_task, nets, args.budget)))
        gym_nets = nets[: max(workers, int(np.ceil(args.budget / (18 * gym_task.max_steps))) * workers)]
        rows.append((f"(3) gymnasium path, {workers} processes", through_backend(gym_task, gym_nets, workers, 1)))
        if task.physics is not None:
            cold, warm = first_compile_seconds(task)
            rows.append(("(4) fused compiled path, 1 process", fused_one_process(task, nets)))
            rows.append((f"(5) fused compiled path, {workers} processes", through_backend(task, nets, workers, 3)))
        print(f"\n{name} ({task.max_steps} steps; " + (f"fused path's first call in a fresh process: {cold:.1f}s cold, {warm:.2f}s from Numba's cache)"
              if task.physics is not None else "no fused path)"))
        print(f"{'path':52s} {'steps/s':>12s} {'x (1)':>9s}")
        for label, rate in rows:
            print(f"{label:52s} {rate:12,.0f} {rate / base:9.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
