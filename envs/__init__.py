"""Tasks for wann: gymnasium envs plus their compiled fast paths.

Importing this package registers ``wann/CartPoleSwingUp-v1`` (1000 steps) and
``wann/CartPoleSwingUpHard-v1`` (200 steps) with gymnasium.
"""
from __future__ import annotations

import gymnasium

from envs.cartpole_balance import (
    CARTPOLE_ACT_LABELS,
    CARTPOLE_MAX_STEPS,
    CARTPOLE_OBS_LABELS,
    cartpole_initial_state,
    cartpole_observe,
    cartpole_start,
    cartpole_step,
)
from envs.cartpole_swingup import (
    SWINGUP_ACT_LABELS,
    SWINGUP_OBS_LABELS,
    CartPoleSwingUpEnv,
    sample_swingup_state,
    swingup_initial_state,
    swingup_observe,
    swingup_start,
    swingup_step,
)

_SWINGUP_IDS = {"wann/CartPoleSwingUp-v1": 1000, "wann/CartPoleSwingUpHard-v1": 200}


def register_envs() -> None:
    """Register the wann/* ids with gymnasium; safe to call more than once."""
    for env_id, steps in _SWINGUP_IDS.items():
        if env_id in gymnasium.registry:  # re-import or reload: gymnasium would warn
            continue
        gymnasium.register(
            id=env_id,
            entry_point="envs.cartpole_swingup:CartPoleSwingUpEnv",
            kwargs={"max_steps": steps},
            # The env truncates by itself too; keep TimeLimit in agreement.
            max_episode_steps=steps,
        )


register_envs()

__all__ = [
    "CARTPOLE_ACT_LABELS",
    "CARTPOLE_MAX_STEPS",
    "CARTPOLE_OBS_LABELS",
    "SWINGUP_ACT_LABELS",
    "SWINGUP_OBS_LABELS",
    "CartPoleSwingUpEnv",
    "cartpole_initial_state",
    "cartpole_observe",
    "cartpole_start",
    "cartpole_step",
    "register_envs",
    "sample_swingup_state",
    "swingup_initial_state",
    "swingup_observe",
    "swingup_start",
    "swingup_step",
]
