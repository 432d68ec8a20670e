"""What the engine needs to know about each task.

A task declares its input/output sizes and labels, its output activation,
how outputs become actions, its episode length, and its compiled rollout
code when it has one. Tasks without one run through gymnasium.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from wann.activations import LINEAR


@dataclass(frozen=True)
class Task:
    """Static description of a task (reinforcement learning through gymnasium)."""

    name: str  # gymnasium id
    n_inputs: int
    n_outputs: int
    input_labels: tuple[str, ...]
    output_labels: tuple[str, ...]
    action: str  # "clip" (continuous in [-1, 1]) or "threshold" (discrete 0/1 on output > 0)
    max_steps: int
    output_activation: int = LINEAR  # the reference keeps outputs linear
    compiled_code: int | None = None  # index into wann.rollout's task switch
    initial_state: Callable[[int], np.ndarray] | None = None  # seed -> state, compiled path only
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    # Tasks that are not gymnasium rollouts (e.g. classification) score a whole
    # shard themselves: (task, batch, weights, seeds, max_steps) -> (rewards[G, W, R], steps).
    shard_evaluator: Callable[..., tuple[np.ndarray, int]] | None = None
    # Extra numbers stored with a champion, e.g. held-out accuracy: (network, weights) -> dict.
    champion_metrics: Callable[..., dict[str, Any]] | None = None

    def make_env(self, render_mode: str | None = None):
        """Create the gymnasium env for this task."""
        import gymnasium

        import envs  # noqa: F401  (registers the wann/* ids)

        kwargs = dict(self.env_kwargs)
        if render_mode is not None:
            kwargs["render_mode"] = render_mode
        return gymnasium.make(self.name, **kwargs)

    def action_from_outputs(self, outputs: np.ndarray):
        """Turn one output vector into an env action (same rule as the compiled path)."""
        if self.action == "clip":
            a = float(outputs[0])
            if a != a:
                a = 0.0
            return np.array([min(max(a, -1.0), 1.0)])
        if self.action == "threshold":
            return 1 if outputs[0] > 0.0 else 0
        raise ValueError(f"unknown action rule {self.action!r}")


def _builtin_tasks() -> dict[str, Task]:
    from envs.cartpole_balance import (
        CARTPOLE_ACT_LABELS,
        CARTPOLE_MAX_STEPS,
        CARTPOLE_OBS_LABELS,
        cartpole_initial_state,
    )
    from envs.cartpole_swingup import (
        SWINGUP_ACT_LABELS,
        SWINGUP_OBS_LABELS,
        swingup_initial_state,
    )
    from envs.digits import DIGITS_TASK_NAME, make_digits_task
    from wann.rollout import CARTPOLE, SWINGUP

    swingup = dict(
        n_inputs=5,
        n_outputs=1,
        input_labels=SWINGUP_OBS_LABELS,
        output_labels=SWINGUP_ACT_LABELS,
        action="clip",
        compiled_code=SWINGUP,
        initial_state=swingup_initial_state,
    )
    return {
        "wann/CartPoleSwingUp-v1": Task(name="wann/CartPoleSwingUp-v1", max_steps=1000, **swingup),
        "wann/CartPoleSwingUpHard-v1": Task(
            name="wann/CartPoleSwingUpHard-v1", max_steps=200, **swingup
        ),
        "CartPole-v1": Task(
            name="CartPole-v1",
            n_inputs=4,
            n_outputs=1,
            input_labels=CARTPOLE_OBS_LABELS,
            output_labels=CARTPOLE_ACT_LABELS,
            action="threshold",
            max_steps=CARTPOLE_MAX_STEPS,
            compiled_code=CARTPOLE,
            initial_state=cartpole_initial_state,
        ),
        # classification: scores shards itself, data loaded on first use
        DIGITS_TASK_NAME: make_digits_task(),
    }


_TASKS: dict[str, Task] = {}


def register_task(task: Task) -> None:
    """Make ``task`` known to configs and tools by its name."""
    _TASKS[task.name] = task


def task_names() -> list[str]:
    """Names of every known task."""
    _load()
    return sorted(_TASKS)


def get_task(name: str) -> Task:
    """The task called ``name``; ValueError naming the closest known one otherwise."""
    _load()
    if name not in _TASKS:
        close = difflib.get_close_matches(name, list(_TASKS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown task {name!r}{hint}; known: {', '.join(sorted(_TASKS))}")
    return _TASKS[name]


def _load() -> None:
    if not _TASKS:
        for task in _builtin_tasks().values():
            register_task(task)
