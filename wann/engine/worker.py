"""The worker side of evaluation: what one process holds and runs, whatever the backend.

A :class:`WorkerSetup` (task spec, step limit, default shared weights) is
sent to every worker once; a :class:`Worker` built from it runs jobs, lists
of (networks, weights or None, rollout seeds), through :func:`run_rollouts`.
The process pool, the dask backend and this process all run the same code, so
every reward depends only on (network, weight, seed).
"""
from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field

import numpy as np

from wann.engine.activations import activation_id
from wann.engine.genome import initial_genome
from wann.engine.network import NetworkBatch, compile_genome, stack_networks
from wann.engine.policy import Policy, play_episode
from wann.tasks import Task, resolve_task


@dataclass(frozen=True)
class WorkerSetup:
    """What every worker needs once: the task, the step limit and the default shared weights.

    ``task`` travels to forked workers as it is (a task built in Python need
    not be findable by name); spawned workers rebuild it from ``task_spec``.
    """

    task_spec: dict
    max_steps: int
    weights: tuple[float, ...]
    task: Task | None = field(default=None, compare=False)

    def __getstate__(self) -> dict:
        return {"task_spec": self.task_spec, "max_steps": self.max_steps, "weights": self.weights, "task": None}

    def __setstate__(self, state: dict) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)


def task_spec_of(task: Task) -> dict:
    """The plain-data spec that rebuilds ``task`` in a worker (registered tasks: their name)."""
    return dict(task.spec) if task.spec else {"name": task.name}


# A job is a list of (networks, shared weights or None = the setup's, rollout seeds);
# its result is (one reward array [G, W, R] per item, env steps).
Job = list[tuple[NetworkBatch, "np.ndarray | None", np.ndarray]]
JobResult = tuple[list[np.ndarray], int]


# ---- worker side -------------------------------------------------------------


class Worker:
    """What one process holds to run jobs of one setup: the task, the weights and its envs."""

    def __init__(self, setup: WorkerSetup) -> None:
        self.task = setup.task if setup.task is not None else resolve_task(setup.task_spec)
        self.max_steps = setup.max_steps
        self.weights = np.asarray(setup.weights, dtype=np.float64)
        self._env = None  # made on first use, reused for every episode (reset with the episode's seed)

    def env(self):
        """This worker's env of the task."""
        if self._env is None:
            self._env = self.task.make_env()
        return self._env

    def run(self, job: Job) -> JobResult:
        """Rewards of every item of ``job``."""
        out, steps = [], 0
        for batch, weights, seeds in job:
            w = self.weights if weights is None else weights
            rewards, n = run_rollouts(self.task, batch, w, seeds, self.max_steps, self.env)
            out.append(rewards)
            steps += int(n)
        return out, steps

    def close(self) -> None:
        """Close the env, if one was made."""
        if self._env is not None:
            self._env.close()
            self._env = None


def probe_job(worker: Worker) -> Job:
    """One short rollout of a minimal network: running it compiles (or loads) every kernel the worker uses."""
    task = worker.task
    probe = compile_genome(
        initial_genome(task.n_inputs, task.n_outputs, activation_id(task.output_activation), 1.0,
                       np.random.default_rng(0))
    )
    weight = worker.weights[:1] if len(worker.weights) else np.ones(1)
    return [(stack_networks([probe]), weight, np.array([0], dtype=np.int64))]


def quiet_worker_signals() -> None:
    """Signals in a worker process: the parent alone decides when work stops.

    Ctrl-C and a hung-up terminal reach the whole process group: workers
    ignore them (the parent checkpoints, then stops them); SIGTERM, which the
    parent sends to stop them, ends them silently. On Linux a worker also
    dies with its parent, so a killed run never leaves workers behind.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()


def _die_with_parent() -> None:
    if not os.path.exists("/proc/self"):  # not Linux: no prctl
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
    except (OSError, AttributeError):  # no libc prctl: workers then end when their pipe closes
        pass


def run_rollouts(
    task: Task, batch: NetworkBatch, weights: np.ndarray, seeds: np.ndarray, max_steps: int, env_source=None
) -> tuple[np.ndarray, int]:
    """Every network x weight x seed on ``task``: fused when the task has compiled physics, else gymnasium.

    ``env_source`` (gymnasium path): a callable returning a reusable env; by
    default every episode gets a fresh env.
    """
    if task.shard_evaluator is not None:
        return task.shard_evaluator(task, batch, weights, seeds, max_steps)
    if task.physics is not None:
        from wann.engine.rollout import fused_rollouts

        return fused_rollouts(task, batch, weights, seeds, max_steps)
    return gym_rollouts(task, batch, weights, seeds, max_steps, env_source)


def gym_rollouts(
    task: Task, batch: NetworkBatch, weights: np.ndarray, seeds: np.ndarray, max_steps: int, env_source=None
) -> tuple[np.ndarray, int]:
    """The gymnasium path: a Python env step plus one compiled forward pass per step.

    Every episode resets its env with the episode's seed, so a reward depends
    only on (network, weight, seed). With ``env_source`` one env is reused
    for every episode (for envs whose reset restores everything); otherwise
    (e.g. Box2D, ``task.reusable_env`` False) each episode gets a fresh env.
    """
    if not task.reusable_env:
        env_source = None  # its reset does not restore everything: a fresh env per episode
    rewards = np.zeros((len(batch), len(weights), len(seeds)))
    steps = 0
    for g in range(len(batch)):
        for wi, weight in enumerate(weights):
            policy = Policy(task, batch, g, float(weight))
            for r, seed in enumerate(seeds):
                env = env_source() if env_source is not None else task.make_env()
                try:
                    total = 0.0
                    for reward, _over in play_episode(policy, env, int(seed), max_steps):
                        total += reward
                        steps += 1
                finally:
                    if env_source is None:
                        env.close()
                rewards[g, wi, r] = total
    return rewards, steps


class BackendLost(RuntimeError):
    """The workers cannot be reached any more (e.g. the dask scheduler went away); the run can resume later."""
