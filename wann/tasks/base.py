"""The task interface: what the engine needs to know about a task, as plain data.

This module imports nothing from the engine. A task says how many inputs and
outputs a network needs, how outputs become actions (:class:`ActionRule`),
how long an episode lasts, and how to run it: through a gymnasium env
(``env_factory``), through compiled physics the engine fuses with the
network's forward pass (``physics``), or, for tasks that are not episodes
(classification), by scoring whole shards itself (``shard_evaluator``).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from wann.errors import UserError
from wann.tasks.actions import ACTION_KINDS, DISCRETE_KINDS, action_function


@dataclass(frozen=True)
class ActionRule:
    """How a network's outputs become an action (the same rule on every path).

    ``kind``: ``clip`` (k outputs, each clipped to its bounds; NaN -> 0),
    ``tanh`` (k outputs squashed into the bounds), ``argmax`` (index of the
    largest of n outputs) or ``threshold`` (1 if the single output > 0, else 0).
    ``low``/``high`` are the bounds of continuous actions (one per output);
    ``size`` is the number of outputs the rule reads.
    """

    kind: str
    size: int
    low: tuple[float, ...] = ()
    high: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ACTION_KINDS:
            raise UserError(f"unknown action rule {self.kind!r}; allowed: {', '.join(ACTION_KINDS)}")
        if self.size < 1:
            raise UserError(f"action rule {self.kind!r} needs at least one output, got {self.size}")
        if self.kind in ("clip", "tanh") and not (len(self.low) == len(self.high) == self.size):
            raise UserError(f"action rule {self.kind!r}: low/high need {self.size} bounds each")
        if self.kind == "tanh" and not all(math.isfinite(v) for v in self.low + self.high):
            raise UserError("action rule 'tanh' needs finite bounds; use 'clip' for unbounded actions")
        if self.kind == "threshold" and self.size != 1:
            raise UserError("action rule 'threshold' reads exactly one output")

    @staticmethod
    def clip(low: float | list[float], high: float | list[float], size: int = 1) -> "ActionRule":
        """Continuous actions: ``size`` outputs clipped to [low, high] (scalars apply to every output)."""
        return ActionRule("clip", size, _bounds(low, size), _bounds(high, size))

    @staticmethod
    def tanh(low: float | list[float], high: float | list[float], size: int = 1) -> "ActionRule":
        """Continuous actions: ``low + (tanh(o) + 1) / 2 * (high - low)`` per output."""
        return ActionRule("tanh", size, _bounds(low, size), _bounds(high, size))

    @staticmethod
    def argmax(n: int) -> "ActionRule":
        """Discrete actions 0..n-1: the index of the largest of ``n`` outputs (NaN never wins)."""
        return ActionRule("argmax", n)

    @staticmethod
    def threshold() -> "ActionRule":
        """Discrete actions 0/1 from one output: 1 if it is > 0."""
        return ActionRule("threshold", 1)

    @property
    def discrete(self) -> bool:
        """True when the action is an integer (argmax, threshold)."""
        return self.kind in DISCRETE_KINDS

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) as float64 arrays of length ``size`` (zeros for discrete rules)."""
        if self.discrete:
            return np.zeros(self.size), np.zeros(self.size)
        return np.array(self.low, dtype=np.float64), np.array(self.high, dtype=np.float64)

    def to_env(self, outputs: np.ndarray) -> Any:
        """The env action for one output vector (runs the compiled rule, so it equals the fused path)."""
        values = np.ascontiguousarray(outputs, dtype=np.float64).reshape(-1, 1)
        low, high = self.bounds()
        actions = np.empty((self.size, 1))
        action_function(self.kind)(values, 0, self.size, 0, low, high, actions)
        if self.discrete:
            return int(actions[0, 0])
        return actions[:, 0].copy()


def _bounds(value: float | list[float], size: int) -> tuple[float, ...]:
    if np.ndim(value) == 0:
        return (float(value),) * size
    return tuple(float(v) for v in value)


@dataclass(frozen=True)
class FusedPhysics:
    """A task's physics as Numba functions, fused by the engine with the network into one kernel.

    Every function works on one lane (a column) of a float64[state_rows, lanes]
    ``states`` array, so many episodes run side by side:

    - ``initial_state(seed) -> float64[k]``: plain Python, the start of the episode with that seed;
    - ``start(states, lane, state)``: write ``state`` into column ``lane`` (default: copy it);
    - ``observe(states, lane, values)``: write the observation into ``values[0:n_inputs, lane]``;
    - ``step(states, lane, actions) -> (reward, terminated)``: advance the lane by one step,
      its action being ``actions[0:size, lane]`` (a float, or an integer stored as a float).

    ``start``, ``observe`` and ``step`` must be ``numba.njit`` functions
    (``cache=True`` lets the fused kernel load from disk in later runs).
    """

    state_rows: int
    initial_state: Callable[[int], np.ndarray]
    observe: Any
    step: Any
    start: Any = None


@dataclass(frozen=True)
class Task:
    """Static description of a task; build one and pass it to :func:`wann.tasks.register_task`."""

    name: str  # id used in configs and champion files
    n_inputs: int
    n_outputs: int
    action: ActionRule
    max_steps: int  # episode length cap
    input_labels: tuple[str, ...] = ()  # default: indices
    output_labels: tuple[str, ...] = ()  # default: indices
    output_activation: str = "linear"  # the reference keeps outputs linear
    physics: FusedPhysics | None = None  # compiled fast path, when the task has one
    env_factory: Callable[..., Any] | None = None  # (render_mode=None) -> gymnasium env
    one_hot_observation: bool = False  # gymnasium Discrete(n) observation -> n one-hot inputs
    # Whether reset(seed) restores everything, so one env can serve many episodes
    # (False e.g. for Box2D envs, whose world keeps state across resets).
    reusable_env: bool = True
    # Tasks that are not episodes (e.g. classification) score a whole shard
    # themselves: (task, batch, weights, seeds, max_steps) -> (rewards[G, W, R], steps).
    shard_evaluator: Callable[..., tuple[np.ndarray, int]] | None = None
    # Extra numbers stored with a champion, e.g. held-out accuracy: (network, weights) -> dict.
    champion_metrics: Callable[..., dict[str, Any]] | None = None
    # A task with options of its own (e.g. a data folder): (task, task.kwargs) -> the configured
    # task, raising ValueError in one line; without it, task.kwargs go to gymnasium.make.
    configure: Callable[..., "Task"] | None = None
    # How to rebuild this task in another process or tool (name, kwargs, wrappers, ...).
    spec: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.input_labels:
            object.__setattr__(self, "input_labels", tuple(str(i) for i in range(self.n_inputs)))
        if not self.output_labels:
            object.__setattr__(self, "output_labels", tuple(str(i) for i in range(self.n_outputs)))
        if len(self.input_labels) != self.n_inputs or len(self.output_labels) != self.n_outputs:
            raise UserError(
                f"task {self.name}: {len(self.input_labels)} input / {len(self.output_labels)} output labels "
                f"for {self.n_inputs} inputs / {self.n_outputs} outputs"
            )
        if self.shard_evaluator is None and self.action.size > self.n_outputs:
            raise UserError(f"task {self.name}: action rule reads {self.action.size} outputs, task has {self.n_outputs}")

    @property
    def has_env(self) -> bool:
        """True when a gymnasium env can be made (gymnasium path, rendering)."""
        return self.env_factory is not None

    def make_env(self, render_mode: str | None = None):
        """A fresh gymnasium env of this task (with its wrappers)."""
        if self.env_factory is None:
            raise UserError(f"task {self.name} has no gymnasium env")
        return self.env_factory(render_mode=render_mode)

    def inputs_from_observation(self, obs: Any) -> np.ndarray:
        """A gymnasium observation as the network's float64 input vector (flattened, or one-hot)."""
        if self.one_hot_observation:
            x = np.zeros(self.n_inputs)
            x[int(obs)] = 1.0
            return x
        return np.asarray(obs, dtype=np.float64).reshape(-1)

    def action_from_outputs(self, outputs: np.ndarray) -> Any:
        """Turn one output vector into an env action (the compiled rule of the fused path)."""
        return self.action.to_env(outputs)


def make_gymnasium_env(env_id: str, render_mode: str | None = None):
    """``gymnasium.make(env_id, render_mode=...)``: the gymnasium twin of a built-in task.

    Use ``functools.partial(make_gymnasium_env, ENV_ID)`` as a task's ``env_factory``.
    """
    import gymnasium

    return gymnasium.make(env_id, render_mode=render_mode)


def gymnasium_twin(env_id: str, action: ActionRule, max_steps: int, input_labels: tuple[str, ...],
                   output_labels: tuple[str, ...], physics: FusedPhysics) -> Task:
    """A built-in task whose compiled ``physics`` matches gymnasium's ``env_id`` step for step.

    Input and output counts come from the labels; the env factory makes the
    gymnasium env itself (for the gymnasium path, rendering and tests).
    """
    return Task(
        name=env_id, n_inputs=len(input_labels), n_outputs=len(output_labels), action=action,
        max_steps=max_steps, input_labels=input_labels, output_labels=output_labels, physics=physics,
        env_factory=functools.partial(make_gymnasium_env, env_id),
    )
