"""Compiled fast path for gymnasium's ``Acrobot-v1`` (swing the tip above the bar, 500 steps).

The env is gymnasium's own; these functions reproduce
``gymnasium.envs.classic_control.acrobot.AcrobotEnv`` (the "book" dynamics,
no torque noise, one RK4 step of 0.2 s) step for step: the start state is
drawn as gymnasium draws it and rounded to float32 as it is, the integration
repeats gymnasium's ``rk4`` and ``_dsdt`` operation for operation, and
observations are rounded to float32. Reward -1 per step, 0 on the step that
reaches the goal, which ends the episode.
"""
from __future__ import annotations

import math

import numpy as np
from gymnasium.utils import seeding
from numba import njit

from wann.tasks.base import ActionRule, FusedPhysics, gymnasium_twin
from wann.tasks.libm import libm_pow
from wann.tasks.registry import register_task

ENV_ID = "Acrobot-v1"
MAX_STEPS = 500
DT = 0.2
LINK_LENGTH_1 = 1.0
LINK_MASS_1 = 1.0
LINK_MASS_2 = 1.0
LINK_COM_POS_1 = 0.5
LINK_COM_POS_2 = 0.5
LINK_MOI = 1.0
MAX_VEL_1 = 4 * math.pi
MAX_VEL_2 = 9 * math.pi
STATE_ROWS = 4  # theta1, theta2, dtheta1, dtheta2

ACROBOT_OBS_LABELS = ("cos_theta1", "sin_theta1", "cos_theta2", "sin_theta2", "theta1_dot", "theta2_dot")
ACROBOT_ACT_LABELS = ("torque_-1", "torque_0", "torque_+1")


def acrobot_initial_state(seed: int) -> np.ndarray:
    """The state ``gymnasium.make("Acrobot-v1").reset(seed=seed)`` starts from (U(-0.1, 0.1), float32-rounded)."""
    rng, _ = seeding.np_random(int(seed))
    return rng.uniform(low=-0.1, high=0.1, size=(4,)).astype(np.float32).astype(np.float64)


@njit(cache=True, inline="always")
def _dsdt(theta1, theta2, dtheta1, dtheta2, a):
    """gymnasium's ``AcrobotEnv._dsdt`` ("book"), same operations in the same order.

    Squares of NumPy scalars go through :func:`~wann.tasks.libm.libm_pow`, as
    NumPy computes them; squares of Python constants are exact either way.
    """
    m1 = LINK_MASS_1
    m2 = LINK_MASS_2
    l1 = LINK_LENGTH_1
    lc1 = LINK_COM_POS_1
    lc2 = LINK_COM_POS_2
    I1 = LINK_MOI
    I2 = LINK_MOI
    g = 9.8
    d1 = m1 * lc1**2 + m2 * (l1**2 + lc2**2 + 2 * l1 * lc2 * math.cos(theta2)) + I1 + I2
    d2 = m2 * (lc2**2 + l1 * lc2 * math.cos(theta2)) + I2
    phi2 = m2 * lc2 * g * math.cos(theta1 + theta2 - math.pi / 2.0)
    phi1 = (
        -m2 * l1 * lc2 * libm_pow(dtheta2, 2.0) * math.sin(theta2)
        - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * math.sin(theta2)
        + (m1 * lc1 + m2 * l1) * g * math.cos(theta1 - math.pi / 2)
        + phi2
    )
    ddtheta2 = (
        a + d2 / d1 * phi1 - m2 * l1 * lc2 * libm_pow(dtheta1, 2.0) * math.sin(theta2) - phi2
    ) / (m2 * lc2**2 + I2 - libm_pow(d2, 2.0) / d1)
    ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
    return dtheta1, dtheta2, ddtheta1, ddtheta2


@njit(cache=True, inline="always")
def _wrap(x, m, big_m):
    diff = big_m - m
    while x > big_m:
        x = x - diff
    while x < m:
        x = x + diff
    return x


@njit(cache=True, inline="always")
def acrobot_step(states, lane, actions):
    """One RK4 step with torque ``actions[0, lane] - 1`` (action 0, 1, 2 -> -1, 0, +1); returns (reward, terminated)."""
    a = actions[0, lane] - 1.0
    y0 = states[0, lane]
    y1 = states[1, lane]
    y2 = states[2, lane]
    y3 = states[3, lane]
    dt = DT - 0
    dt2 = dt / 2.0
    k1a, k1b, k1c, k1d = _dsdt(y0, y1, y2, y3, a)
    k2a, k2b, k2c, k2d = _dsdt(y0 + dt2 * k1a, y1 + dt2 * k1b, y2 + dt2 * k1c, y3 + dt2 * k1d, a + dt2 * 0.0)
    k3a, k3b, k3c, k3d = _dsdt(y0 + dt2 * k2a, y1 + dt2 * k2b, y2 + dt2 * k2c, y3 + dt2 * k2d, a + dt2 * 0.0)
    k4a, k4b, k4c, k4d = _dsdt(y0 + dt * k3a, y1 + dt * k3b, y2 + dt * k3c, y3 + dt * k3d, a + dt * 0.0)
    h = dt / 6.0
    n0 = y0 + h * (k1a + 2 * k2a + 2 * k3a + k4a)
    n1 = y1 + h * (k1b + 2 * k2b + 2 * k3b + k4b)
    n2 = y2 + h * (k1c + 2 * k2c + 2 * k3c + k4c)
    n3 = y3 + h * (k1d + 2 * k2d + 2 * k3d + k4d)
    n0 = _wrap(n0, -math.pi, math.pi)
    n1 = _wrap(n1, -math.pi, math.pi)
    n2 = min(max(n2, -MAX_VEL_1), MAX_VEL_1)
    n3 = min(max(n3, -MAX_VEL_2), MAX_VEL_2)
    states[0, lane] = n0
    states[1, lane] = n1
    states[2, lane] = n2
    states[3, lane] = n3
    terminated = -math.cos(n0) - math.cos(n1 + n0) > 1.0
    return (0.0 if terminated else -1.0), terminated


@njit(cache=True, inline="always")
def acrobot_observe(states, lane, values):
    """Write (cos, sin of both angles, both speeds), rounded to float32, into ``values[:6, lane]``."""
    values[0, lane] = np.float32(math.cos(states[0, lane]))
    values[1, lane] = np.float32(math.sin(states[0, lane]))
    values[2, lane] = np.float32(math.cos(states[1, lane]))
    values[3, lane] = np.float32(math.sin(states[1, lane]))
    values[4, lane] = np.float32(states[2, lane])
    values[5, lane] = np.float32(states[3, lane])


register_task(gymnasium_twin(
    ENV_ID, ActionRule.argmax(3), MAX_STEPS, ACROBOT_OBS_LABELS, ACROBOT_ACT_LABELS,
    FusedPhysics(state_rows=STATE_ROWS, initial_state=acrobot_initial_state, observe=acrobot_observe, step=acrobot_step),
))
