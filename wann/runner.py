"""Run rollouts of one network at many weights, for the champion tools (evaluate, tune).

:class:`RolloutRunner` evaluates batches of copies of a network that differ
only in their connection weights, in this process or on a pool of workers;
every reward depends only on the network, the weight and the seed, so
results do not depend on the number of workers.
"""
from __future__ import annotations

import dataclasses
import os
import signal
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from wann.evaluator import run_rollouts, task_spec_of
from wann.network import Network, NetworkBatch, stack_networks
from wann.tasks import Task, resolve_task

EVAL_STREAM = 0  # evaluation episodes, shared by every row and weight (a seed stream of cli_common.make_rng)


# ---- running rollouts ------------------------------------------------------------


def _init_tool_worker() -> None:
    """Pool initializer: Ctrl-C is handled by the parent, which stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_jobs(payload: tuple[dict, int, list[tuple[NetworkBatch, np.ndarray, np.ndarray]]]) -> tuple[list[np.ndarray], int]:
    """Worker side: run each (batch, weights, seeds) triple with :func:`run_rollouts`."""
    task_spec, max_steps, triples = payload
    task = resolve_task(task_spec)
    out, steps = [], 0
    for batch, weights, seeds in triples:
        rewards, n = run_rollouts(task, batch, weights, seeds, max_steps)
        out.append(rewards)
        steps += int(n)
    return out, steps


class RolloutRunner:
    """Runs rollouts of networks on a task, in this process or on a pool of workers.

    Results do not depend on the number of workers: every reward is a
    function of the network, the shared weight and the seed only.
    """

    def __init__(self, task: Task, workers: int = 1, max_steps: int | None = None) -> None:
        """``workers`` 0 = every core; 1 runs in this process."""
        self.task = task
        self.max_steps = int(max_steps or task.max_steps)
        self.n_workers = workers if workers > 0 else (os.cpu_count() or 1)
        self.steps = 0  # env steps taken so far
        self._pool = None

    # -- pool --------------------------------------------------------------------

    def _map(self, jobs: list[list[tuple[NetworkBatch, np.ndarray, np.ndarray]]]) -> list[np.ndarray]:
        payloads = [(task_spec_of(self.task), self.max_steps, triples) for triples in jobs if triples]
        if self.n_workers <= 1 or len(payloads) <= 1:
            results = [_run_jobs(p) for p in payloads]
        else:
            if self._pool is None:
                self._start_pool(payloads[0][2][0][0])
            results = self._pool.map(_run_jobs, payloads, chunksize=1)
        flat: list[np.ndarray] = []
        for rewards, steps in results:
            flat.extend(rewards)
            self.steps += steps
        return flat

    def _start_pool(self, probe: NetworkBatch) -> None:
        import multiprocess

        # Compile (or load from cache) here first, so forked workers inherit the kernels.
        run_rollouts(self.task, probe, np.ones(1), np.zeros(1, dtype=np.int64), 1)
        methods = multiprocess.get_all_start_methods()
        ctx = multiprocess.get_context("fork" if "fork" in methods else "spawn")
        self._pool = ctx.Pool(self.n_workers, initializer=_init_tool_worker)

    def close(self) -> None:
        """Stop the worker processes, if any."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

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
        shards = self.n_workers * 2 if self.n_workers > 1 else 1
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
        shards = self.n_workers * 2 if self.n_workers > 1 else 1
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


def evaluation_seeds(seed: int, episodes: int, stream: int = EVAL_STREAM) -> np.ndarray:
    """The rollout seeds of ``episodes`` evaluation episodes for ``--seed seed``."""
    from wann.cli_common import draw_seeds, make_rng

    return draw_seeds(make_rng(seed, stream), episodes)


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
