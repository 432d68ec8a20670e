"""A network acting in a gymnasium env: one forward pass and the task's action rule per step.

:class:`Policy` is what a user runs in a plain gymnasium loop
(``load_champion(path).policy(weight=1.0).act(obs)``), and
:func:`play_episode` is the one episode loop of the package: the evaluator's
gymnasium path and ``wann.watch`` both step through it.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from wann.engine.network import Network, NetworkBatch, forward_into, stack_networks
from wann.errors import UserError
from wann.tasks.base import Task


class Policy:
    """Network ``index`` of ``batch`` with one shared weight, acting on ``task``'s observations.

    ``act(observation)`` (or calling the policy) returns the env action;
    ``outputs(observation)`` returns the raw output node values.
    """

    def __init__(self, task: Task, batch: NetworkBatch, index: int = 0, weight: float = 1.0) -> None:
        self.task = task
        self.batch = batch
        self.base = int(batch.node_offset[index])
        self.n_nodes = int(batch.node_offset[index + 1]) - self.base
        self.weight = float(weight)
        self._values = np.empty(self.n_nodes)

    @classmethod
    def from_network(cls, network: Network, task: Task, weight: float = 1.0) -> "Policy":
        """The policy of one compiled network."""
        return cls(task, stack_networks([network]), 0, weight)

    def outputs(self, observation: Any) -> np.ndarray:
        """Output node values for one observation: float64[n_outputs] (a new array)."""
        return self._forward(observation).copy()

    def act(self, observation: Any) -> Any:
        """The env action for one observation."""
        return self.task.action_from_outputs(self._forward(observation))

    __call__ = act

    def _forward(self, observation: Any) -> np.ndarray:
        x = self.task.inputs_from_observation(observation)
        if x.shape[0] != self.batch.n_inputs:
            raise UserError(f"observation has {x.shape[0]} values, the network of task {self.task.name} "
                            f"reads {self.batch.n_inputs}")
        b = self.batch
        forward_into(b.act, b.indptr, b.src, b.conn_weight, b.shared_only, self.base, self.n_nodes, b.n_inputs,
                     x, self.weight, self._values)
        return self._values[self.n_nodes - b.n_outputs : self.n_nodes]


def play_episode(policy: Policy, env: Any, seed: int, max_steps: int) -> Iterator[tuple[float, bool]]:
    """Reset ``env`` with ``seed`` and step it with ``policy``: yields (reward, episode over) per step."""
    obs, _ = env.reset(seed=int(seed))
    return episode_steps(policy, env, obs, max_steps)


def episode_steps(policy: Policy, env: Any, obs: Any, max_steps: int) -> Iterator[tuple[float, bool]]:
    """Step ``env`` from observation ``obs`` with ``policy``, at most ``max_steps`` times: (reward, episode over)."""
    for _ in range(int(max_steps)):
        obs, reward, terminated, truncated, _ = env.step(policy.act(obs))
        over = bool(terminated or truncated)
        yield float(reward), over
        if over:
            return
