"""Env steps per second on swing-up, four ways, measured in one run.

(a) reference-style: the paper's code evaluates a network with an N x N
    weight matrix and one numpy dot product per node per step, and steps a
    Python env (re-implemented here in its style, our own code);
(b) the gymnasium env with our compiled forward pass called once per step;
(c) our fused compiled rollout (network + physics in one Numba loop), one process;
(d) (c) on every core through the process backend.

Prints steps/s for each and the ratios c/a and c/b. All four score the same
population of genomes (grown by mutation, so their sizes are typical of a
search in progress) at the six standard shared weights.

    python benchmarks/throughput.py [--genomes 32] [--grow 60] [--seed 0]
    python benchmarks/throughput.py --checkpoint results/cartpole/RUN/checkpoint.json

With ``--checkpoint`` the networks are a real run's last population (the
sizes a search actually evaluates); otherwise they are grown by random
mutation.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import envs  # noqa: F401  (registers the swing-up ids)
from wann.activations import ACTIVATIONS
from wann.config import STANDARD_WEIGHTS
from wann.evaluate import Evaluator, ProcessBackend, SerialBackend, gym_rollouts, run_rollouts
from wann.genome import initial_genome, initial_tracker
from wann.mutation import MutationRates, mutate
from wann.network import Network, compile_genome, stack_networks
from wann.tasks import get_task

TASK = "wann/CartPoleSwingUp-v1"


def grow_population(n: int, grow: int, seed: int) -> list[Network]:
    """``n`` networks, each grown from a minimal genome by ``grow`` mutations."""
    task = get_task(TASK)
    rng = np.random.default_rng(seed)
    tracker = initial_tracker(task.n_inputs, task.n_outputs)
    acts = np.arange(1, 11, dtype=np.int8)
    nets = []
    for _ in range(n):
        genome = initial_genome(task.n_inputs, task.n_outputs, 1, 0.5, rng)
        for _ in range(grow):
            tracker.new_generation()  # one mutation per generation, as in the search
            genome = mutate(genome, rng, tracker, MutationRates(), acts)
        nets.append(compile_genome(genome))
    return nets


def checkpoint_population(path: str, limit: int) -> list[Network]:
    """The ranked population saved in a run's checkpoint.json (at most ``limit`` genomes)."""
    import json

    from wann.genome import Genome

    state = json.loads(open(path).read())
    return [compile_genome(Genome.from_dict(g)) for g in state["ranked"][:limit]]


def _reference_act(act_id: int, x: np.ndarray) -> np.ndarray:
    # The reference's activation dispatch: an if-chain over numpy ops per node.
    name = ACTIVATIONS[act_id]
    if name == "linear":
        return x
    if name == "step":
        return 1.0 * (x > 0.0)
    if name == "sin":
        return np.sin(np.pi * x)
    if name == "gaussian":
        return np.exp(-np.multiply(x, x) / 2.0)
    if name == "tanh":
        return np.tanh(x)
    if name == "sigmoid":
        return (np.tanh(x / 2.0) + 1.0) / 2.0
    if name == "inverse":
        return -x
    if name == "abs":
        return np.abs(x)
    if name == "relu":
        return np.maximum(0, x)
    return np.cos(np.pi * x)


def reference_style(nets: list[Network], budget_steps: int) -> tuple[float, int]:
    """(a): dense N x N matrix, a numpy dot per node per step, Python env step."""
    task = get_task(TASK)
    env = task.make_env().unwrapped
    steps = 0
    t0 = time.perf_counter()
    for net in nets:
        n = net.n_nodes
        for weight in STANDARD_WEIGHTS:
            w_mat = np.zeros((n, n))
            for i in range(n):
                for k in range(net.indptr[i], net.indptr[i + 1]):
                    w_mat[net.src[k], i] = weight
            obs, _ = env.reset(seed=steps)
            for _ in range(task.max_steps):
                node_act = np.zeros(n)
                node_act[: net.n_inputs] = obs
                node_act[net.n_inputs] = 1.0
                for i in range(net.n_inputs + 1, n):
                    node_act[i] = _reference_act(int(net.act[i]), np.dot(node_act, w_mat[:, i]))
                action = task.action_from_outputs(node_act[n - net.n_outputs :])
                obs, _, terminated, truncated, _ = env.step(action)
                steps += 1
                if terminated or truncated:
                    break
            if steps >= budget_steps:
                return steps / (time.perf_counter() - t0), steps
    return steps / (time.perf_counter() - t0), steps


def gym_compiled(nets: list[Network], budget_steps: int) -> tuple[float, int]:
    """(b): gymnasium env.step plus one compiled forward call per step."""
    task = get_task(TASK)
    weights = np.array(STANDARD_WEIGHTS)
    steps, t0 = 0, time.perf_counter()
    for k, net in enumerate(nets):
        _, s = gym_rollouts(task, stack_networks([net]), weights, np.array([k]), task.max_steps)
        steps += s
        if steps >= budget_steps:
            break
    return steps / (time.perf_counter() - t0), steps


def fused(nets: list[Network], repeats: int) -> tuple[float, int]:
    """(c): the whole shard in one compiled call, this process."""
    task = get_task(TASK)
    batch = stack_networks(nets)
    weights = np.array(STANDARD_WEIGHTS)
    seeds = np.arange(3)
    run_rollouts(task, stack_networks(nets[:1]), weights[:1], seeds[:1], 1)  # compile first
    steps, t0 = 0, time.perf_counter()
    for _ in range(repeats):
        _, s = run_rollouts(task, batch, weights, seeds, task.max_steps)
        steps += s
    return steps / (time.perf_counter() - t0), steps


def fused_parallel(nets: list[Network], repeats: int, workers: int) -> tuple[float, int]:
    """(d): the fused path through the process backend, every core."""
    task = get_task(TASK)
    backend = ProcessBackend(workers) if workers > 1 else SerialBackend()
    with Evaluator(task, STANDARD_WEIGHTS, backend) as evaluator:
        evaluator.start()
        evaluator.evaluate(nets, np.arange(3))  # workers warm
        steps, t0 = 0, time.perf_counter()
        for _ in range(repeats):
            steps += evaluator.evaluate(nets, np.arange(3)).steps
        return steps / (time.perf_counter() - t0), steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--genomes", type=int, default=32)
    parser.add_argument("--grow", type=int, default=60, help="mutations per genome")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=60_000, help="env steps for the slow paths")
    parser.add_argument("--repeats", type=int, default=10, help="timed passes of the fast paths")
    parser.add_argument("--checkpoint", help="benchmark the population saved in this checkpoint.json")
    args = parser.parse_args()
    workers = os.cpu_count() or 1
    if args.checkpoint:
        nets = checkpoint_population(args.checkpoint, args.genomes)
    else:
        nets = grow_population(args.genomes, args.grow, args.seed)
    conns = [n.n_connections for n in nets]
    nodes = [n.n_nodes for n in nets]
    print(f"machine: {platform.processor() or platform.machine()}, {workers} cores, "
          f"Python {platform.python_version()}, numpy {np.__version__}")
    print(f"population: {len(nets)} genomes, median {int(np.median(nodes))} nodes / "
          f"{int(np.median(conns))} connections (max {max(nodes)} / {max(conns)})")
    a, sa = reference_style(nets, args.budget)
    b, sb = gym_compiled(nets, args.budget)
    c, sc = fused(nets, args.repeats)
    d, sd = fused_parallel(nets, args.repeats, workers)
    rows = [
        ("(a) reference-style (N x N dot per node + Python env)", a, sa),
        ("(b) gymnasium env + compiled forward per step", b, sb),
        ("(c) fused compiled rollout, 1 process", c, sc),
        (f"(d) fused compiled rollout, {workers} processes", d, sd),
    ]
    print(f"{'path':58s} {'steps/s':>14s} {'steps timed':>12s}")
    for name, rate, steps in rows:
        print(f"{name:58s} {rate:14,.0f} {steps:12,d}")
    print(f"ratio c/a = {c / a:,.0f}x   c/b = {c / b:,.0f}x   d/c = {d / c:.2f}x")


if __name__ == "__main__":
    main()
