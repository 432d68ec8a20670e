"""Env steps per second on swing-up, five ways, and digits rows per second, measured in one run.

Swing-up, for four populations: generation 0 of ``configs/cartpole.yaml``;
networks grown by random mutation (every activation equally likely);
mid-size, the same run's population after generation 256; and a real run's
last population:

(a) reference-style: the paper's code evaluates a network with an N x N
    weight matrix and one numpy dot product per node per step, and steps a
    Python env (re-implemented here in its style, our own code);
(b) the gymnasium env with our compiled forward pass called once per step;
(c) the per-episode fused kernel (``benchmarks/per_episode.py``, what the
    engine ran before the lockstep kernel): the baseline, one process;
(d) the lockstep fused kernel (``wann.engine.rollout.fused_rollouts``), one process;
(e) (d) on every core through the process backend.

All paths score the same networks at the six standard shared weights, three
rollouts each ((a) and (b) stop after ``--budget`` steps). Then digits
(``configs/digits.yaml``'s task): the per-row and lockstep classification
kernels on a population, one process; the per-generation Python overhead
(breeding + compiling genomes, ranking) at pop 192 and 2,000; and the kernels'
first-call compile time, cold and from Numba's cache. The last line prints
the ratios lockstep/per-episode on the mid-size and real populations and
lockstep/reference-style on the real population.

    python benchmarks/throughput.py [--checkpoint results/cartpole/RUN/checkpoint.json]

Without ``--checkpoint`` the real population is the one saved for the tests
(``tests/data/swingup_population.json.gz``: the last population of a
``configs/cartpole.yaml`` run, seed 0); the mid-size one is always
``tests/data/swingup_population_gen256.json.gz`` (the same run after 256
generations).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `benchmarks.` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.per_episode import TASK_CODES, classify_shard_per_row, rollout_shard_per_episode  # noqa: E402
from wann.engine.activations import ACTIVATIONS, activation_id  # noqa: E402
from wann.engine.config import STANDARD_WEIGHTS, load_config  # noqa: E402
from wann.engine.evaluator import Evaluator, ProcessBackend, SerialBackend, gym_rollouts  # noqa: E402
from wann.engine.genome import Genome, initial_genome, initial_tracker  # noqa: E402
from wann.engine.mutation import MutationRates, mutate  # noqa: E402
from wann.engine.network import Network, compile_genome, stack_networks  # noqa: E402
from wann.engine.rollout import fused_rollouts  # noqa: E402
from wann.engine.search import WannSearch  # noqa: E402
from wann.engine.classify import classify_shard  # noqa: E402
from wann.tasks import get_task  # noqa: E402

TASK = "wann/CartPoleSwingUp-v1"
SAVED_POPULATION = ROOT / "tests" / "data" / "swingup_population.json.gz"
MID_POPULATION = ROOT / "tests" / "data" / "swingup_population_gen256.json.gz"
SEEDS = np.arange(3)


# ---- populations ------------------------------------------------------------------


def initial_population(task_name: str, n: int, init_enable: float, seed: int) -> list[Network]:
    """Generation 0: ``n`` minimal genomes, each input->output link enabled with ``init_enable``."""
    task = get_task(task_name)
    rng = np.random.default_rng(seed)
    return [compile_genome(initial_genome(task.n_inputs, task.n_outputs, activation_id(task.output_activation), init_enable, rng))
            for _ in range(n)]


def grow_population(task_name: str, n: int, grow: int, seed: int, init_enable: float = 0.5) -> list[Network]:
    """``n`` networks, each grown from a minimal genome by ``grow`` mutations."""
    task = get_task(task_name)
    rng = np.random.default_rng(seed)
    tracker = initial_tracker(task.n_inputs, task.n_outputs)
    acts = np.arange(1, 11, dtype=np.int8)
    nets = []
    for _ in range(n):
        genome = initial_genome(task.n_inputs, task.n_outputs, activation_id(task.output_activation), init_enable, rng)
        for _ in range(grow):
            tracker.new_generation()  # one mutation per generation, as in the search
            genome = mutate(genome, rng, tracker, MutationRates(), acts)
        nets.append(compile_genome(genome))
    return nets


def saved_population(path: Path) -> list[Network]:
    """The genomes of a population saved for the tests (gzipped JSON), compiled."""
    with gzip.open(path, "rt") as fh:
        return [compile_genome(Genome.from_dict(g)) for g in json.load(fh)["genomes"]]


def real_population(checkpoint: str | None) -> tuple[str, list[Network]]:
    """A real run's ranked population: from ``checkpoint`` (checkpoint.json) or the saved test data."""
    if checkpoint:
        genomes = json.loads(Path(checkpoint).read_text())["ranked"]
        return checkpoint, [compile_genome(Genome.from_dict(g)) for g in genomes]
    return str(SAVED_POPULATION.relative_to(ROOT)), saved_population(SAVED_POPULATION)


# ---- (a) and (b): budgeted slow paths ----------------------------------------------


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


# ---- (c), (d), (e): fused kernels ----------------------------------------------------


def _best_of(repeats: int, run) -> tuple[float, int]:
    """Steps/s of the fastest of ``repeats`` timed calls of ``run()`` (which returns its steps)."""
    best, steps = 0.0, 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        steps = run()
        best = max(best, steps / (time.perf_counter() - t0))
    return best, steps


def _per_episode(task, batch, weights, seeds, max_steps):
    init = np.stack([task.physics.initial_state(int(s)) for s in seeds])
    return rollout_shard_per_episode(TASK_CODES[task.name], max_steps, init, *batch.arrays(), weights)


def fused(kernel, nets: list[Network], repeats: int) -> tuple[float, int]:
    """(c) or (d): the whole population in one compiled call of ``kernel``, this process.

    ``kernel(task, batch, weights, seeds, max_steps)``: :func:`wann.engine.rollout.fused_rollouts`
    or the per-episode baseline.
    """
    task = get_task(TASK)
    batch = stack_networks(nets)
    weights = np.array(STANDARD_WEIGHTS)
    kernel(task, stack_networks(nets[:1]), weights[:1], SEEDS[:1], 1)  # compile
    return _best_of(repeats, lambda: kernel(task, batch, weights, SEEDS, task.max_steps)[1])


def fused_parallel(nets: list[Network], repeats: int, workers: int) -> tuple[float, int]:
    """(e): the lockstep kernel through the process backend, every core."""
    task = get_task(TASK)
    backend = ProcessBackend(workers) if workers > 1 else SerialBackend()
    with Evaluator(task, STANDARD_WEIGHTS, backend) as evaluator:
        evaluator.start()
        evaluator.evaluate(nets, SEEDS)  # workers warm
        return _best_of(repeats, lambda: evaluator.evaluate(nets, SEEDS).steps)


def swingup_table(label: str, nets: list[Network], args, workers: int) -> dict[str, float]:
    """Print and return steps/s of paths (a)-(e) for one population."""
    conns = [n.n_connections for n in nets]
    nodes = [n.n_nodes for n in nets]
    print(f"\n{label}: {len(nets)} genomes, median {int(np.median(nodes))} nodes / "
          f"{int(np.median(conns))} connections (max {max(nodes)} / {max(conns)})")
    rates = {}
    rows = [
        ("a", "(a) reference-style (N x N dot per node + Python env)", lambda: reference_style(nets, args.budget)),
        ("b", "(b) gymnasium env + compiled forward per step", lambda: gym_compiled(nets, args.budget)),
        ("c", "(c) per-episode fused kernel, 1 process (baseline)",
         lambda: fused(_per_episode, nets, args.repeats)),
        ("d", "(d) lockstep fused kernel, 1 process", lambda: fused(fused_rollouts, nets, args.repeats)),
        ("e", f"(e) lockstep fused kernel, {workers} processes", lambda: fused_parallel(nets, args.repeats, workers)),
    ]
    print(f"{'path':58s} {'steps/s':>14s} {'steps/call':>12s}")
    for key, name, run in rows:
        rate, steps = run()
        rates[key] = rate
        print(f"{name:58s} {rate:14,.0f} {steps:12,d}")
    print(f"lockstep/per-episode {rates['d'] / rates['c']:.2f}x (1 process)   "
          f"{workers} processes/1 process {rates['e'] / rates['d']:.2f}x   "
          f"lockstep/reference-style {rates['d'] / rates['a']:,.0f}x")
    return rates


# ---- digits ---------------------------------------------------------------------------


def digits_generations(kernel, generations: int) -> tuple[float, float]:
    """Seconds per generation (ask + evaluate + tell, one process) of configs/digits.yaml with ``kernel``.

    Both kernels give bit-identical losses, so both runs see the same populations.
    Returns (seconds per generation, median connections at the end).
    """
    from wann.tasks.builtin.digits import digits_shard_evaluator

    config = load_config(ROOT / "configs" / "digits.yaml")
    search = WannSearch(config)
    weights = np.array(config.evaluation.shared_weights, dtype=np.float64)
    seeds = np.zeros(config.evaluation.rollouts, dtype=np.int64)
    t0 = time.perf_counter()
    for _ in range(generations):
        search.ask()
        rewards, _ = digits_shard_evaluator(search.task, stack_networks(search.networks()), weights, seeds, 1,
                                            kernel=kernel)
        search.tell(rewards)
    conns = np.median([n.n_connections for n in search.networks()])
    return (time.perf_counter() - t0) / generations, float(conns)


def digits_table(repeats: int, generations: int) -> float | None:
    """Digits: rows/s of both classification kernels, and whole generations of configs/digits.yaml."""
    try:
        from wann.tasks.builtin.digits import load_digits_split

        data = load_digits_split()
    except ImportError as exc:
        print(f"\ndigits: skipped ({exc})")
        return None
    config = load_config(ROOT / "configs" / "digits.yaml")
    weights = np.array(config.evaluation.shared_weights, dtype=np.float64)
    pops = [
        ("generation 0", initial_population("wann/Digits-v0", config.search.pop_size,
                                            config.search.init_enable, 0)),
        ("grown by 60 mutations", grow_population("wann/Digits-v0", 64, 60, 0)),
    ]
    print(f"\ndigits (configs/digits.yaml): {len(data.y_train)} training rows x {len(weights)} weights per genome")
    print(f"{'population':40s} {'per-row rows/s':>15s} {'lockstep rows/s':>16s} {'ratio':>7s}")
    for label, nets in pops:
        batch = stack_networks(nets)
        rates = []
        for kernel in (classify_shard_per_row, classify_shard):
            kernel(*stack_networks(nets[:1]).arrays(), data.x_train[:2], data.y_train[:2], weights[:1])
            rows = len(nets) * len(weights) * len(data.y_train)

            def run(kernel=kernel):
                kernel(*batch.arrays(), data.x_train, data.y_train, weights)
                return rows

            rates.append(_best_of(repeats, run)[0])
        conns = int(np.median([n.n_connections for n in nets]))
        print(f"{label + f' ({len(nets)}, median {conns} conns)':40s} {rates[0]:15,.0f} {rates[1]:16,.0f} "
              f"{rates[1] / rates[0]:6.2f}x")
    old, conns = digits_generations(classify_shard_per_row, generations)
    new, _ = digits_generations(classify_shard, generations)
    print(f"whole generations 0-{generations - 1} of configs/digits.yaml (pop {config.search.pop_size}, 1 process, "
          f"median {conns:.0f} conns at the end): per-row {old:.2f} s, lockstep {new:.2f} s per generation, "
          f"{old / new:.2f}x")
    return old / new


# ---- per-generation Python overhead and compile time ---------------------------------


def python_overhead(pop_size: int, generations: int = 5) -> tuple[float, float]:
    """Seconds per generation of ask() (breed + compile genomes) and tell() (rank), rewards faked."""
    config = load_config(ROOT / "configs" / "cartpole.yaml",
                         [f"search.pop_size={pop_size}", "search.prob_connection_objective=0.5"])
    search = WannSearch(config)
    rng = np.random.default_rng(0)
    ask_s = tell_s = 0.0
    for gen in range(generations + 20):
        t0 = time.perf_counter()
        search.ask()
        t1 = time.perf_counter()
        search.tell(rng.normal(size=(pop_size, 6, 3)))
        t2 = time.perf_counter()
        if gen >= 20:  # after the networks have grown a little
            ask_s += t1 - t0
            tell_s += t2 - t1
    return ask_s / generations, tell_s / generations


_COMPILE_PROBE = """
from wann.engine.evaluator import Evaluator
from wann.tasks import get_task
ev = Evaluator(get_task("wann/CartPoleSwingUp-v1"), [1.0])
seconds = ev.start()
print(seconds)
"""


def compile_seconds() -> tuple[float, float]:
    """First-call time of the swing-up kernels in a fresh process: cold (empty cache), then cached."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        times = []
        for _ in range(2):
            out = subprocess.run([sys.executable, "-c", _COMPILE_PROBE], env=env, cwd=ROOT,
                                 capture_output=True, text=True, check=True)
            times.append(float(out.stdout.strip().splitlines()[-1]))
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", help="real population: the one saved in this checkpoint.json")
    parser.add_argument("--genomes", type=int, default=64, help="genomes in the grown population")
    parser.add_argument("--grow", type=int, default=60, help="mutations per grown genome")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=60_000, help="env steps for the slow paths (a), (b)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls of each fast path (best is kept)")
    parser.add_argument("--digits-generations", type=int, default=15, help="digits generations timed per kernel")
    args = parser.parse_args()
    workers = os.cpu_count() or 1
    print(f"machine: {platform.machine()} {platform.processor() or ''}, {workers} cores, "
          f"Python {platform.python_version()}, numpy {np.__version__}, "
          f"numba {__import__('numba').__version__}")
    real_label, real = real_population(args.checkpoint)
    swingup_table("generation 0 of configs/cartpole.yaml (pop 192, init_enable 0.5)",
                  initial_population(TASK, 192, 0.5, args.seed), args, workers)
    swingup_table(f"grown by {args.grow} random mutations, every activation equally likely",
                  grow_population(TASK, args.genomes, args.grow, args.seed), args, workers)
    mid = swingup_table(f"mid-size: generation 256 of the same run ({MID_POPULATION.relative_to(ROOT)})",
                        saved_population(MID_POPULATION), args, workers)
    rates = swingup_table(f"real population ({real_label})", real, args, workers)
    digits_ratio = digits_table(args.repeats, args.digits_generations)

    print("\nper-generation Python overhead (ask = breed + compile genomes, tell = rank)")
    for pop in (192, 2000):
        ask_s, tell_s = python_overhead(pop)
        print(f"  pop {pop:5d}: ask {ask_s * 1e3:8.1f} ms   tell {tell_s * 1e3:8.1f} ms")
    cold, warm = compile_seconds()
    print(f"first call of the kernels: {cold:.1f} s cold (empty Numba cache), {warm:.2f} s from the cache")

    digits = f"   digits generation lockstep/per-row {digits_ratio:.2f}x" if digits_ratio else ""
    print(f"\nlockstep/per-episode: mid-size {mid['d'] / mid['c']:.2f}x, real {rates['d'] / rates['c']:.2f}x   "
          f"lockstep/reference-style on the real population: {rates['d'] / rates['a']:,.0f}x (1 process), "
          f"{rates['e'] / rates['a']:,.0f}x ({workers} processes){digits}")


if __name__ == "__main__":
    main()
