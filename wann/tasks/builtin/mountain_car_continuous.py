"""Compiled fast path for gymnasium's ``MountainCarContinuous-v0`` (drive up the hill, 999 steps).

The env is gymnasium's own; these functions reproduce
``gymnasium.envs.classic_control.continuous_mountain_car.Continuous_MountainCarEnv``
step for step, including its number types: the start state is float64, but
after every step gymnasium stores the state as float32, and a velocity
clipped to the speed limit (a Python float) makes the next position update a
float32 addition (NumPy 2 promotion rules). Row 2 of a lane records whether
it has stepped yet. Reward: 100 on reaching the goal, minus 0.1 * action^2
every step.
"""
from __future__ import annotations

import math

import numpy as np
from gymnasium.utils import seeding
from numba import njit

from wann.tasks.base import ActionRule, FusedPhysics, gymnasium_twin
from wann.tasks.libm import libm_pow
from wann.tasks.registry import register_task

ENV_ID = "MountainCarContinuous-v0"
MAX_STEPS = 999
MIN_POSITION = -1.2
MAX_POSITION = 0.6
MAX_SPEED = 0.07
GOAL_POSITION = 0.45
POWER = 0.0015
STATE_ROWS = 3  # position, velocity, stepped (0 until the first step)

MCC_OBS_LABELS = ("position", "velocity")
MCC_ACT_LABELS = ("force",)


def mcc_initial_state(seed: int) -> np.ndarray:
    """The state ``gymnasium.make("MountainCarContinuous-v0").reset(seed=seed)`` starts from, plus the stepped flag."""
    rng, _ = seeding.np_random(int(seed))
    return np.array([rng.uniform(low=-0.6, high=-0.4), 0.0, 0.0])


@njit(cache=True, inline="always")
def _f32(x):
    return np.float64(np.float32(x))


@njit(cache=True, inline="always")
def mcc_step(states, lane, actions):
    """One step with force ``actions[0, lane]`` (clipped to [-1, 1]); returns (reward, terminated)."""
    action = actions[0, lane]
    position = states[0, lane]
    velocity = states[1, lane]
    stepped = states[2, lane] != 0.0  # position and velocity hold float32 values
    force = min(max(action, -1.0), 1.0)
    c = math.cos(_f32(3.0 * position)) if stepped else math.cos(3.0 * position)
    velocity = velocity + (force * POWER - 0.0025 * c)
    clipped = False
    if velocity > MAX_SPEED:
        velocity = MAX_SPEED
        clipped = True
    if velocity < -MAX_SPEED:
        velocity = -MAX_SPEED
        clipped = True
    single = clipped and stepped  # float32 position + Python float: a float32 sum and comparisons
    if single:
        position = _f32(position + _f32(velocity))
    else:
        position = position + velocity
    if position > (_f32(MAX_POSITION) if single else MAX_POSITION):
        position = MAX_POSITION
        single = False
    if position < (_f32(MIN_POSITION) if single else MIN_POSITION):
        position = MIN_POSITION
        single = False
    if position == (_f32(MIN_POSITION) if single else MIN_POSITION) and velocity < 0:
        velocity = 0.0
    terminated = position >= (_f32(GOAL_POSITION) if single else GOAL_POSITION) and velocity >= 0.0
    reward = 100.0 if terminated else 0.0
    reward -= libm_pow(action, 2.0) * 0.1  # gymnasium's math.pow, not x * x
    states[0, lane] = _f32(position)
    states[1, lane] = _f32(velocity)
    states[2, lane] = 1.0
    return reward, terminated


@njit(cache=True, inline="always")
def mcc_observe(states, lane, values):
    """Write (position, velocity), rounded to float32, into ``values[:2, lane]``."""
    values[0, lane] = _f32(states[0, lane])
    values[1, lane] = _f32(states[1, lane])


register_task(gymnasium_twin(
    ENV_ID, ActionRule.clip(-1.0, 1.0), MAX_STEPS, MCC_OBS_LABELS, MCC_ACT_LABELS,
    FusedPhysics(state_rows=STATE_ROWS, initial_state=mcc_initial_state, observe=mcc_observe, step=mcc_step),
))
