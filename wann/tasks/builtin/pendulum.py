"""Compiled fast path for gymnasium's ``Pendulum-v1`` (swing up and hold a pendulum, 200 steps).

The env is gymnasium's own; these functions reproduce
``gymnasium.envs.classic_control.pendulum.PendulumEnv`` with its defaults
(g = 10, m = l = 1, dt = 0.05, torque in [-2, 2], speed in [-8, 8]) step for
step: same start state for a seed, same float64 state, observations rounded
to float32 as gymnasium returns them, same reward. The episode never
terminates; gymnasium's TimeLimit truncates it at 200 steps.
"""
from __future__ import annotations

import math

import numpy as np
from gymnasium.utils import seeding
from numba import njit

from wann.tasks.base import ActionRule, FusedPhysics, gymnasium_twin
from wann.tasks.libm import libm_pow
from wann.tasks.registry import register_task

ENV_ID = "Pendulum-v1"
MAX_STEPS = 200
G = 10.0
M = 1.0
L = 1.0
DT = 0.05
MAX_SPEED = 8.0
MAX_TORQUE = 2.0
STATE_ROWS = 2  # theta, theta_dot

PENDULUM_OBS_LABELS = ("cos_theta", "sin_theta", "theta_dot")
PENDULUM_ACT_LABELS = ("torque",)


def pendulum_initial_state(seed: int) -> np.ndarray:
    """The state ``gymnasium.make("Pendulum-v1").reset(seed=seed)`` starts from: theta ~ U(-pi, pi), speed ~ U(-1, 1)."""
    rng, _ = seeding.np_random(int(seed))
    high = np.array([np.pi, 1.0])
    return rng.uniform(low=-high, high=high)


@njit(cache=True, inline="always")
def _angle_normalize(x):
    return ((x + math.pi) % (2 * math.pi)) - math.pi


@njit(cache=True, inline="always")
def pendulum_step(states, lane, actions):
    """One step with torque ``actions[0, lane]`` (clipped to [-2, 2]); returns (reward, False)."""
    th = states[0, lane]
    thdot = states[1, lane]
    u = min(max(actions[0, lane], -MAX_TORQUE), MAX_TORQUE)
    th_n = _angle_normalize(th)
    costs = libm_pow(th_n, 2.0) + 0.1 * libm_pow(thdot, 2.0) + 0.001 * libm_pow(u, 2.0)  # gymnasium's ** 2
    newthdot = thdot + (3 * G / (2 * L) * math.sin(th) + 3.0 / (M * L * L) * u) * DT
    newthdot = min(max(newthdot, -MAX_SPEED), MAX_SPEED)
    states[0, lane] = th + newthdot * DT
    states[1, lane] = newthdot
    return -costs, False


@njit(cache=True, inline="always")
def pendulum_observe(states, lane, values):
    """Write (cos theta, sin theta, theta_dot), rounded to float32, into ``values[:3, lane]``."""
    th = states[0, lane]
    values[0, lane] = np.float32(math.cos(th))
    values[1, lane] = np.float32(math.sin(th))
    values[2, lane] = np.float32(states[1, lane])


register_task(gymnasium_twin(
    ENV_ID, ActionRule.clip(-MAX_TORQUE, MAX_TORQUE), MAX_STEPS, PENDULUM_OBS_LABELS, PENDULUM_ACT_LABELS,
    FusedPhysics(state_rows=STATE_ROWS, initial_state=pendulum_initial_state, observe=pendulum_observe, step=pendulum_step),
))
