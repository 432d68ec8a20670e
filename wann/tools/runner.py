"""Run rollouts of one network at many weights, for the champion tools (evaluate, tune).

:class:`RolloutRunner` evaluates batches of copies of a network that differ
only in their connection weights, in this process or on a pool of workers;
every reward depends only on the network, the weight and the seed, so
results do not depend on the number of workers.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from wann.engine.evaluator import Evaluator, Job, make_backend
from wann.engine.network import Network, stack_networks
from wann.tasks import Task


class RolloutRunner:
    """Runs rollouts of networks on a task, in this process or on the evaluator's worker pool.

    Results do not depend on the number of workers: every reward is a
    function of the network, the shared weight and the seed only.
    """

    def __init__(self, task: Task, workers: int = 1, max_steps: int | None = None, backend: str = "processes",
                 scheduler: str = "local") -> None:
        """``workers`` 0 = every core; 1 runs in this process (``processes``).

        ``backend`` ``dask`` runs on a dask cluster: ``scheduler`` ``local``
        starts a LocalCluster of ``workers`` processes, anything else is the
        address of a running scheduler (whose workers set the shard count).
        """
        self.task = task
        self.evaluator = Evaluator(task, (), make_backend(backend, workers, scheduler), max_steps)
        if backend == "dask":
            self.evaluator.start()  # connect now: the cluster's size decides how work is split
        self.max_steps = self.evaluator.max_steps
        self.steps = 0  # env steps taken so far

    def _shards(self) -> int:
        return self.n_workers * 2 if self.n_workers > 1 else 1

    def _map(self, jobs: list[Job]) -> list[np.ndarray]:
        flat: list[np.ndarray] = []
        for rewards, steps in self.evaluator.run_jobs([job for job in jobs if job]):
            flat.extend(rewards)
            self.steps += steps
        return flat

    @property
    def dashboard_link(self) -> str | None:
        """The dask dashboard's URL when running on a dask cluster, else None."""
        return getattr(self.evaluator.backend, "dashboard_link", None)

    @property
    def n_workers(self) -> int:
        """Workers of the backend (a running dask cluster: its worker threads)."""
        return self.evaluator.n_workers

    def close(self) -> None:
        """Stop the worker processes, if any."""
        self.evaluator.close()

    def __enter__(self) -> "RolloutRunner":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the two shapes of work --------------------------------------------------

    def grid(self, networks: Sequence[Network], weights: Sequence[float], seeds: Sequence[int]) -> np.ndarray:
        """Rewards of every network x shared weight x seed: float64[G, W, R].

        Split over networks when there are enough of them, else over seeds.
        """
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        s = np.asarray(seeds, dtype=np.int64).reshape(-1)
        networks = list(networks)
        shards = self._shards()
        if len(networks) >= shards or len(s) < 2:
            bounds = _bounds(len(networks), shards)
            jobs = [[(stack_networks(networks[lo:hi]), w, s)] for lo, hi in bounds]
            return np.concatenate(self._map(jobs), axis=0)
        batch = stack_networks(networks)
        jobs = [[(batch, w, s[lo:hi])] for lo, hi in _bounds(len(s), shards)]
        return np.concatenate(self._map(jobs), axis=2)

    def paired(self, networks: Sequence[Network], weights: Sequence[float], seeds: Sequence[int]) -> np.ndarray:
        """Reward of episode i = (networks[i], weights[i], seeds[i]): float64[N].

        ``networks`` may hold one network, used for every episode.
        """
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        s = np.asarray(seeds, dtype=np.int64).reshape(-1)
        networks = list(networks)
        if len(w) != len(s) or len(networks) not in (1, len(s)):
            raise ValueError("paired(): networks, weights and seeds must have matching lengths")
        single = stack_networks(networks[:1]) if len(networks) == 1 else None
        triples = [
            (single if single is not None else stack_networks([networks[i]]), w[i : i + 1], s[i : i + 1])
            for i in range(len(s))
        ]
        shards = self._shards()
        jobs = [triples[lo:hi] for lo, hi in _bounds(len(triples), shards)]
        return np.array([r[0, 0, 0] for r in self._map(jobs)], dtype=np.float64)


def _bounds(n: int, parts: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, n, min(max(parts, 1), max(n, 1)) + 1).astype(int)
    return [(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:]) if hi > lo]


def with_conn_weights(network: Network, conn_weight: np.ndarray) -> Network:
    """A copy of ``network`` whose connections carry ``conn_weight`` (in ``network.conn_innov`` order)."""
    conn_weight = np.asarray(conn_weight, dtype=np.float64)
    if conn_weight.shape != network.conn_weight.shape:
        raise ValueError(f"expected {network.n_connections} connection weights, got {conn_weight.shape}")
    return dataclasses.replace(network, conn_weight=conn_weight.copy())


@dataclass
class Stats:
    """Summary of one set of episode rewards."""

    mean: float
    std: float  # population standard deviation (ddof 0) over episodes
    min: float
    max: float
    episodes: int

    @classmethod
    def of(cls, rewards: np.ndarray) -> "Stats":
        """Summarise a 1-D array of episode rewards."""
        r = np.asarray(rewards, dtype=np.float64).reshape(-1)
        return cls(float(r.mean()), float(r.std()), float(r.min()), float(r.max()), int(r.size))
