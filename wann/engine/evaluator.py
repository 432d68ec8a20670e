"""Score networks: every genome x shared weight x rollout, on a pluggable backend.

Work goes out as shards of flat arrays (a :class:`~wann.engine.network.NetworkBatch`
plus the rollouts' initial states); the task and the weights go to each worker
once, when it starts. Every number depends only on the genome, the weight and
the rollout seed, so results are bit-identical across backends, worker counts
and shard sizes.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from wann.engine.network import Network, stack_networks
from wann.engine.worker import (  # noqa: F401  (re-exported: the evaluator's public names)
    BackendLost,
    Job,
    JobResult,
    Worker,
    WorkerSetup,
    gym_rollouts,
    probe_job,
    quiet_worker_signals,
    run_rollouts,
    task_spec_of,
)
from wann.errors import UserError
from wann.tasks import Task


@dataclass
class EvalResult:
    """Rewards of one evaluation and what it cost."""

    rewards: np.ndarray  # float64[G, n_weights, n_rollouts]
    steps: int  # env steps taken
    seconds: float  # wall time of the evaluation


_pool_worker: Worker | None = None  # the Worker of a pool process (one pool serves one setup)


def _init_pool_worker(setup: WorkerSetup) -> None:
    """Pool initializer: quiet signals (:func:`quiet_worker_signals`), build the Worker."""
    global _pool_worker
    quiet_worker_signals()
    _pool_worker = Worker(setup)


def _run_in_pool(job: Job) -> JobResult:
    assert _pool_worker is not None, "pool worker not initialised"
    return _pool_worker.run(job)


# ---- backends ------------------------------------------------------------------


class Backend(Protocol):
    """Runs jobs on workers that hold one :class:`WorkerSetup`; a cluster backend implements the same."""

    n_workers: int

    def start(self, setup: WorkerSetup) -> None:
        """Send the setup to every worker once."""

    def map(self, jobs: list[Job]) -> list[JobResult]:
        """Results of each job, in order."""

    def close(self) -> None:
        """Release the workers."""


class SerialBackend:
    """Run jobs in this process (its own :class:`Worker`: two serial backends never share state)."""

    n_workers = 1

    def __init__(self) -> None:
        self._worker: Worker | None = None

    def start(self, setup: WorkerSetup) -> None:
        self.close()
        self._worker = Worker(setup)

    def map(self, jobs: list[Job]) -> list[JobResult]:
        assert self._worker is not None, "start() the backend first"
        return [self._worker.run(job) for job in jobs]

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None


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

        self.close()
        methods = multiprocess.get_all_start_methods()
        ctx = multiprocess.get_context("fork" if "fork" in methods else "spawn")
        self._pool = ctx.Pool(self.n_workers, initializer=_init_pool_worker, initargs=(setup,))

    def map(self, jobs: list[Job]) -> list[JobResult]:
        assert self._pool is not None, "start() the backend first"
        return self._pool.map(_run_in_pool, jobs, chunksize=1)

    def close(self) -> None:
        """Stop the workers. Never hangs: a pool whose terminate() blocks (its task thread stuck on a
        queue lock after an interrupt) has its workers killed and is left behind."""
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        stopper = threading.Thread(target=pool.terminate, daemon=True)
        stopper.start()
        stopper.join(TERMINATE_TIMEOUT)
        if stopper.is_alive():
            for process in list(getattr(pool, "_pool", [])):
                if process.is_alive():
                    process.kill()
            return
        pool.join()


BACKENDS = ("serial", "processes", "dask")
TERMINATE_TIMEOUT = 10.0  # seconds a pool's terminate() may take before its workers are killed


def make_backend(name: str, workers: int, scheduler: str = "local") -> Backend:
    """Backend by name: ``serial``, ``processes`` or ``dask`` (``workers`` 0 = all cores).

    ``scheduler`` (dask only): ``local`` starts a LocalCluster of ``workers``
    processes; anything else is the address of a running scheduler. Nothing
    starts until :meth:`Backend.start`.
    """
    n = workers if workers > 0 else (os.cpu_count() or 1)
    if name == "dask":
        from wann.engine.dask_backend import DaskBackend

        return DaskBackend(scheduler, n)
    if name == "serial" or (name == "processes" and n == 1):
        return SerialBackend()
    if name == "processes":
        return ProcessBackend(n)
    raise UserError(f"evaluation.backend: {name!r}: allowed: {', '.join(BACKENDS)}")


# ---- the evaluator -------------------------------------------------------------


class Evaluator:
    """Joins networks, task and backend: rewards per genome x shared weight x rollout.

    The search and the champion tools share it: :meth:`evaluate` scores a
    population at the evaluator's weights, :meth:`run_jobs` runs any
    (networks, weights, seeds) jobs on the same workers.
    """

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
        self.setup = WorkerSetup(task_spec_of(task), self.max_steps, tuple(self.weights.tolist()), task)
        self._local = Worker(self.setup)  # this process's own worker: compile probe and small jobs
        self._started = False

    @property
    def n_workers(self) -> int:
        """Number of worker processes of the backend."""
        return self.backend.n_workers

    def start(self) -> float:
        """Compile the kernels in this process, then start the workers.

        Returns the first-call (compile or cache-load) time in seconds, which
        the caller reports apart from evaluation speed.
        """
        t0 = time.perf_counter()
        self._local.run(probe_job(self._local))
        compile_seconds = time.perf_counter() - t0
        self.backend.start(self.setup)
        self._started = True
        return compile_seconds

    def run_jobs(self, jobs: list[Job]) -> list[JobResult]:
        """Run ``jobs`` on the backend's workers (in this process when there is one job or one worker)."""
        if len(jobs) <= 1 or self.backend.n_workers <= 1:
            return [self._local.run(job) for job in jobs]
        if not self._started:
            self.start()
        return self.backend.map(jobs)

    def evaluate(self, networks: Sequence[Network], seeds: Sequence[int],
                 weights: Sequence[float] | None = None) -> EvalResult:
        """Rewards of every network x weight x seed, using the backend's workers.

        ``weights``: the shared weights of this call (default: the evaluator's).
        """
        if not self._started:
            self.start()
        t0 = time.perf_counter()
        seeds_arr = np.asarray(seeds, dtype=np.int64)
        w = None if weights is None else np.asarray(weights, dtype=np.float64)
        n_workers = self.backend.n_workers
        if len(networks) < n_workers and len(seeds_arr) > 1:
            # Too few networks to keep every worker busy (e.g. a champion's
            # confirmation): split the rollouts instead. A reward depends only
            # on (network, weight, seed), so the pieces join exactly.
            batch = stack_networks(list(networks))
            pieces = np.array_split(seeds_arr, min(n_workers, len(seeds_arr)))
            results = self.backend.map([[(batch, w, piece)] for piece in pieces])
            rewards = np.concatenate([r[0] for r, _ in results], axis=2)
        else:
            # Shard k takes networks k, k + n, k + 2n, ...: a ranked population
            # has its long episodes (good genomes) at the front, so contiguous
            # shards would leave one worker with most of the work.
            n_shards = max(1, min(len(networks), n_workers * self.shards_per_worker))
            members = [np.arange(k, len(networks), n_shards) for k in range(n_shards)]
            jobs = [[(stack_networks([networks[i] for i in idx]), w, seeds_arr)] for idx in members]
            results = self.backend.map(jobs)
            rewards = np.empty((len(networks),) + results[0][0][0].shape[1:])
            for idx, (shard_rewards, _) in zip(members, results):
                rewards[idx] = shard_rewards[0]
        steps = int(sum(s for _, s in results))
        return EvalResult(rewards, steps, time.perf_counter() - t0)

    def evaluate_local(self, networks: Sequence[Network], seeds: Sequence[int]) -> EvalResult:
        """Like :meth:`evaluate`, in this process (small jobs such as champion checks)."""
        t0 = time.perf_counter()
        (rewards,), steps = self._local.run([(stack_networks(list(networks)), None, np.asarray(seeds, dtype=np.int64))])
        return EvalResult(rewards, int(steps), time.perf_counter() - t0)

    def close(self) -> None:
        """Stop the backend's workers and close this process's env."""
        self.backend.close()
        self._local.close()
        self._started = False

    def __enter__(self) -> "Evaluator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def fitness_from_rewards(rewards: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean over weights, max over weights, reward per weight) from [G, W, R] rewards."""
    per_weight = rewards.mean(axis=2)
    return per_weight.mean(axis=1), per_weight.max(axis=1), per_weight
