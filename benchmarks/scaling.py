"""Generation time and env steps per second against the number of workers, per backend, in one run.

Two workloads, each one generation's evaluation (every network x the six
standard shared weights x ``--rollouts`` rollouts):

- swing-up, fused compiled path: the mid-size population saved for the tests
  (``tests/data/swingup_population_gen256.json.gz``, 192 genomes of a real
  ``configs/cartpole.yaml`` run after 256 generations);
- ``LunarLander-v3``, the gymnasium path with Box2D: ``--lander-pop``
  networks grown by 20 random mutations (seed 0).

Backends: ``serial`` (one process: the baseline of every ratio),
``processes`` with 2 workers, and ``dask`` LocalClusters of 1, 2 and 4
one-thread worker processes (4 is more processes than this machine's 2
cores: it shows the overhead of oversubscription). Each cell is the best of
``--repeats`` evaluations after one warm-up; rewards are checked equal to the
serial ones. The cluster's start-up time is printed apart.

    python benchmarks/scaling.py [--repeats 3] [--lander-pop 24] [--rollouts 3]
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

from benchmarks.task_paths import grown_networks  # noqa: E402
from benchmarks.throughput import MID_POPULATION, saved_population  # noqa: E402
from wann.engine.config import STANDARD_WEIGHTS  # noqa: E402
from wann.engine.evaluator import Evaluator, make_backend  # noqa: E402
from wann.tasks import resolve_task  # noqa: E402

SETUPS = [("serial", 1), ("processes", 2), ("dask", 1), ("dask", 2), ("dask", 4)]


def measure(task, nets, backend_name: str, workers: int, seeds: np.ndarray, repeats: int):
    """(start-up seconds, best evaluation seconds, env steps, rewards) of one backend."""
    backend = make_backend(backend_name, workers)
    with Evaluator(task, STANDARD_WEIGHTS, backend) as ev:
        t0 = time.perf_counter()
        ev.start()
        startup = time.perf_counter() - t0
        first = ev.evaluate(nets, seeds)  # warm-up: workers load their kernels and envs
        best = min(ev.evaluate(nets, seeds).seconds for _ in range(repeats))
    return startup, best, first.steps, first.rewards


def table(label: str, task, nets, seeds: np.ndarray, repeats: int) -> list[str]:
    rows = [f"### {label}: {len(nets)} networks x {len(STANDARD_WEIGHTS)} weights x {len(seeds)} rollouts", "",
            "| backend | workers | start-up s | generation s | env steps/s | x serial |", "|---|---|---|---|---|---|"]
    base_seconds, base_rewards = None, None
    for name, workers in SETUPS:
        startup, seconds, steps, rewards = measure(task, nets, name, workers, seeds, repeats)
        if base_rewards is None:
            base_seconds, base_rewards = seconds, rewards
        assert np.array_equal(rewards, base_rewards), f"{name} x{workers}: rewards differ from serial"
        rows.append(f"| {name} | {workers} | {startup:.2f} | {seconds:.3f} | {steps / seconds:,.0f} | "
                    f"{base_seconds / seconds:.2f}x |")
        print(rows[-1], flush=True)
    return rows + [""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="evaluations per cell (best is kept)")
    parser.add_argument("--lander-pop", type=int, default=24, help="LunarLander networks")
    parser.add_argument("--rollouts", type=int, default=3, help="rollouts per weight")
    args = parser.parse_args(argv)
    seeds = np.arange(args.rollouts, dtype=np.int64)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}", flush=True)
    out = []
    swing = resolve_task({"name": "wann/CartPoleSwingUp-v1"})
    out += table("swing-up, fused path (real population, generation 256)", swing, saved_population(MID_POPULATION),
                 seeds, args.repeats)
    lander = resolve_task({"name": "LunarLander-v3"})
    out += table("LunarLander-v3, gymnasium path (Box2D)", lander, grown_networks(lander, args.lander_pop, 20, 0),
                 seeds, args.repeats)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
