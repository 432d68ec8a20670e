"""wann's own gymnasium wrappers, named in ``task.wrappers`` like gymnasium's.

``NoFallPenalty``: BipedalWalker without the -100 fall penalty, as the paper's
search ran it (the reference code's copy of the env has the line
``reward = -100`` commented out). When the walker falls (or leaves the
terrain at the left), gymnasium replaces that step's reward by -100 and ends
the episode; the wrapper puts back the reward the env computed before
overwriting it (progress of the shaping term minus the torque cost, in the
env's own order of operations), so the episode still ends there but costs
nothing extra. Every other step's reward is untouched.
"""
from __future__ import annotations

import gymnasium
import numpy as np

from wann.errors import UserError


class NoFallPenalty(gymnasium.Wrapper):
    """BipedalWalker with the fall step's -100 replaced by the reward the env overwrote."""

    def __init__(self, env: gymnasium.Env) -> None:
        super().__init__(env)
        from gymnasium.envs.box2d.bipedal_walker import BipedalWalker

        if not isinstance(env.unwrapped, BipedalWalker):
            raise UserError(f"NoFallPenalty applies to BipedalWalker envs only, not {type(env.unwrapped).__name__}")

    def step(self, action):
        from gymnasium.envs.box2d.bipedal_walker import MOTORS_TORQUE

        base = self.env.unwrapped
        shaping_before = base.prev_shaping
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated and (base.game_over or base.hull.position[0] < 0):
            # the env's reward before `reward = -100`, recomputed in its order of operations
            reward = 0 if shaping_before is None else base.prev_shaping - shaping_before
            for a in np.asarray(action):
                reward -= 0.00035 * MOTORS_TORQUE * np.clip(np.abs(a), 0, 1)
            info = {**info, "fall_penalty_removed": True}
        return obs, reward, terminated, truncated, info


# name in task.wrappers -> class
WRAPPERS = {"NoFallPenalty": NoFallPenalty}
