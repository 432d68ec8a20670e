"""Score networks: every genome x shared weight x rollout, on a pluggable backend.

Work goes out as shards of flat arrays (a :class:`~wann.network.NetworkBatch`
plus the rollouts' initial states); the task and the weights go to each worker
once, when it starts. Every number depends only on the genome, the weight and
the rollout seed, so results are bit-identical across backends, worker counts
and shard sizes.
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from wann.network import Network, NetworkBatch, forward_into, stack_networks
from wann.tasks import Task, resolve_task


@dataclass(frozen=True)
class WorkerSetup:
    """What every worker needs once: the task (as its spec: plain data) and the shared weights."""

    task_spec: dict
    max_steps: int
    weights: tuple[float, ...]


@dataclass
class EvalResult:
    """Rewards of one evaluation and what it cost."""

    rewards: np.ndarray  # float64[G, n_weights, n_rollouts]
    steps: int  # env steps taken
    seconds: float  # wall time of the evaluation


def task_spec_of(task: Task) -> dict:
    """The plain-data spec that rebuilds ``task`` in a worker (registered tasks: their name)."""
    return dict(task.spec) if task.spec else {"name": task.name}


# ---- worker side -------------------------------------------------------------

_worker: dict = {}
# Task objects this process evaluates, by spec: workers forked from it use them
# as they are (a task built in Python need not be findable by name).
_known_tasks: dict[str, Task] = {}


def _spec_key(spec: dict) -> str:
    import json

    return json.dumps(spec, sort_keys=True, default=str)


def init_worker(setup: WorkerSetup) -> None:
    """Store the task and weights in this process (run once per worker)."""
    known = _known_tasks.get(_spec_key(setup.task_spec))
    _worker["task"] = known if known is not None else resolve_task(setup.task_spec)
    _worker["max_steps"] = setup.max_steps
    _worker["weights"] = np.asarray(setup.weights, dtype=np.float64)


def init_pool_worker(setup: WorkerSetup) -> None:
    """Pool initializer: ignore Ctrl-C (the parent checkpoints and stops the pool)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    init_worker(setup)


def evaluate_shard(shard: tuple[NetworkBatch, np.ndarray]) -> tuple[np.ndarray, int]:
    """Rewards of one shard: (batch, seeds) -> (float64[G, n_weights, n_rollouts], steps)."""
    batch, seeds = shard
    task: Task = _worker["task"]
    return run_rollouts(task, batch, _worker["weights"], seeds, _worker["max_steps"])


def run_rollouts(
    task: Task, batch: NetworkBatch, weights: np.ndarray, seeds: np.ndarray, max_steps: int
) -> tuple[np.ndarray, int]:
    """Every network x weight x seed on ``task``: fused when the task has compiled physics, else gymnasium."""
    if task.shard_evaluator is not None:
        return task.shard_evaluator(task, batch, weights, seeds, max_steps)
    if task.physics is not None:
        from wann.rollout import fused_rollouts

        return fused_rollouts(task, batch, weights, seeds, max_steps)
    return gym_rollouts(task, batch, weights, seeds, max_steps)


def worker_env(task: Task):
    """This process's env of ``task``: made once, reused for every episode (reset with the episode's seed)."""
    envs = _worker.setdefault("envs", {})
    key = id(task)
    if key not in envs:
        envs[key] = (task, task.make_env())  # keep the task alive so its id stays unique
    return envs[key][1]


def close_worker_envs() -> None:
    """Close the envs :func:`worker_env` made in this process."""
    for _task, env in _worker.pop("envs", {}).values():
        env.close()


def gym_rollouts(
    task: Task, batch: NetworkBatch, weights: np.ndarray, seeds: np.ndarray, max_steps: int, env=None
) -> tuple[np.ndarray, int]:
    """The gymnasium path: a Python env step plus one compiled forward pass per step.

    Runs in the worker processes like the fused path; each worker keeps one
    env per task and resets it with each episode's seed, so a reward depends
    only on (network, weight, seed). Envs whose reset does not restore
    everything (``task.reusable_env`` False, e.g. Box2D) get a fresh env per
    episode instead.
    """
    shared_env = env if env is not None else worker_env(task)
    node_offset = batch.node_offset
    rewards = np.zeros((len(batch), len(weights), len(seeds)))
    values = np.empty(int(np.max(np.diff(node_offset))))
    steps = 0
    for g in range(len(batch)):
        base = int(node_offset[g])
        n_nodes = int(node_offset[g + 1]) - base
        for wi, weight in enumerate(weights):
            for r, seed in enumerate(seeds):
                # an env whose reset does not restore everything (Box2D) gets a fresh one per episode
                env = shared_env if task.reusable_env else task.make_env()
                try:
                    obs, _ = env.reset(seed=int(seed))
                    total = 0.0
                    for _ in range(max_steps):
                        forward_into(
                            batch.act, batch.indptr, batch.src, batch.conn_weight, batch.shared_only,
                            base, n_nodes, batch.n_inputs,
                            task.inputs_from_observation(obs), float(weight), values,
                        )
                        action = task.action_from_outputs(values[n_nodes - batch.n_outputs : n_nodes])
                        obs, reward, terminated, truncated, _ = env.step(action)
                        total += float(reward)
                        steps += 1
                        if terminated or truncated:
                            break
                finally:
                    if env is not shared_env:
                        env.close()
                rewards[g, wi, r] = total
    return rewards, steps


# ---- backends ------------------------------------------------------------------


class Backend(Protocol):
    """Runs :func:`evaluate_shard` over shards; a cluster backend implements the same."""

    n_workers: int

    def start(self, setup: WorkerSetup) -> None:
        """Send the setup to every worker once."""

    def map(self, shards: list) -> list:
        """Results of :func:`evaluate_shard` for each shard, in order."""

    def close(self) -> None:
        """Release the workers."""


class SerialBackend:
    """Evaluate in this process."""

    n_workers = 1

    def start(self, setup: WorkerSetup) -> None:
        init_worker(setup)

    def map(self, shards: list) -> list:
        return [evaluate_shard(shard) for shard in shards]

    def close(self) -> None:
        pass


class ProcessBackend:
    """Long-lived worker processes (``multiprocess``), fork start method where available.

    Fork lets workers inherit the already-compiled kernels; elsewhere spawn
    workers load them from Numba's on-disk cache.
    """

    def __init__(self, n_workers: int) -> None:
        self.n_workers = n_workers
        self._pool = None

    def start(self, setup: WorkerSetup) -> None:
        import multiprocess

        methods = multiprocess.get_all_start_methods()
        ctx = multiprocess.get_context("fork" if "fork" in methods else "spawn")
        self._pool = ctx.Pool(self.n_workers, initializer=init_pool_worker, initargs=(setup,))

    def map(self, shards: list) -> list:
        return self._pool.map(evaluate_shard, shards, chunksize=1)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


def make_backend(name: str, workers: int) -> Backend:
    """Backend by name: ``serial`` or ``processes`` (``workers`` 0 = all cores)."""
    n = workers if workers > 0 else (os.cpu_count() or 1)
    if name == "serial" or n == 1:
        return SerialBackend()
    if name == "processes":
        return ProcessBackend(n)
    raise ValueError(f"unknown backend {name!r}; allowed: serial, processes")


# ---- the evaluator -------------------------------------------------------------


class Evaluator:
    """Joins networks, task and backend: rewards per genome x shared weight x rollout."""

    def __init__(
        self,
        task: Task,
        weights: Sequence[float],
        backend: Backend | None = None,
        max_steps: int | None = None,
        shards_per_worker: int = 4,
    ) -> None:
        self.task = task
        self.weights = np.asarray(weights, dtype=np.float64)
        self.max_steps = int(max_steps or task.max_steps)
        self.backend = backend or SerialBackend()
        self.shards_per_worker = shards_per_worker
        self._local = WorkerSetup(task_spec_of(task), self.max_steps, tuple(self.weights.tolist()))
        _known_tasks[_spec_key(self._local.task_spec)] = task
        self._started = False

    def start(self) -> float:
        """Compile the kernels in this process, then start the workers.

        Returns the first-call (compile or cache-load) time in seconds, which
        the caller reports apart from evaluation speed.
        """
        t0 = time.perf_counter()
        init_worker(self._local)
        from wann.activations import activation_id
        from wann.genome import initial_genome
        from wann.network import compile_genome

        probe = compile_genome(
            initial_genome(self.task.n_inputs, self.task.n_outputs, activation_id(self.task.output_activation),
                           1.0, np.random.default_rng(0))
        )
        run_rollouts(self.task, stack_networks([probe]), self.weights[:1], np.array([0]), 1)
        compile_seconds = time.perf_counter() - t0
        self.backend.start(self._local)
        self._started = True
        return compile_seconds

    def evaluate(self, networks: Sequence[Network], seeds: Sequence[int]) -> EvalResult:
        """Rewards of every network x weight x seed, using the backend's workers."""
        if not self._started:
            self.start()
        t0 = time.perf_counter()
        seeds_arr = np.asarray(seeds, dtype=np.int64)
        n_workers = self.backend.n_workers
        if len(networks) < n_workers and len(seeds_arr) > 1:
            # Too few networks to keep every worker busy (e.g. a champion's
            # confirmation): split the rollouts instead. A reward depends only
            # on (network, weight, seed), so the pieces join exactly.
            batch = stack_networks(list(networks))
            pieces = np.array_split(seeds_arr, min(n_workers, len(seeds_arr)))
            results = self.backend.map([(batch, piece) for piece in pieces])
            rewards = np.concatenate([r for r, _ in results], axis=2)
        else:
            # Shard k takes networks k, k + n, k + 2n, ...: a ranked population
            # has its long episodes (good genomes) at the front, so contiguous
            # shards would leave one worker with most of the work.
            n_shards = max(1, min(len(networks), n_workers * self.shards_per_worker))
            members = [np.arange(k, len(networks), n_shards) for k in range(n_shards)]
            shards = [(stack_networks([networks[i] for i in idx]), seeds_arr) for idx in members]
            results = self.backend.map(shards)
            rewards = np.empty((len(networks),) + results[0][0].shape[1:])
            for idx, (shard_rewards, _) in zip(members, results):
                rewards[idx] = shard_rewards
        steps = int(sum(s for _, s in results))
        return EvalResult(rewards, steps, time.perf_counter() - t0)

    def evaluate_local(self, networks: Sequence[Network], seeds: Sequence[int]) -> EvalResult:
        """Like :meth:`evaluate`, in this process (small jobs such as champion checks)."""
        t0 = time.perf_counter()
        rewards, steps = run_rollouts(
            self.task, stack_networks(list(networks)), self.weights,
            np.asarray(seeds, dtype=np.int64), self.max_steps,
        )
        return EvalResult(rewards, int(steps), time.perf_counter() - t0)

    def close(self) -> None:
        """Stop the backend's workers."""
        self.backend.close()
        close_worker_envs()
        self._started = False

    def __enter__(self) -> "Evaluator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def fitness_from_rewards(rewards: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean over weights, max over weights, reward per weight) from [G, W, R] rewards."""
    per_weight = rewards.mean(axis=2)
    return per_weight.mean(axis=1), per_weight.max(axis=1), per_weight
