"""Compiled fast path for gymnasium's CartPole-v1 (balance from upright, 500 steps).

The env itself is gymnasium's own; these functions reproduce
``gymnasium.envs.classic_control.cartpole.CartPoleEnv`` (default euler
integrator, reward 1 per step, ``sutton_barto_reward=False``) bit for bit.
Gymnasium keeps its state in float64 but returns observations cast to
float32, so ``cartpole_observe`` rounds to float32 the same way.
"""
from __future__ import annotations

import math

import numpy as np
from gymnasium.utils import seeding
from numba import njit

from wann.tasks.base import ActionRule, FusedPhysics, gymnasium_twin
from wann.tasks.registry import register_task

# Constants as gymnasium derives them (same operations, so the same doubles).
GRAVITY = 9.8
MASS_CART = 1.0
MASS_POLE = 0.1
TOTAL_MASS = MASS_POLE + MASS_CART
LENGTH = 0.5  # half the pole's length
POLEMASS_LENGTH = MASS_POLE * LENGTH
FORCE_MAG = 10.0
TAU = 0.02
THETA_THRESHOLD_RADIANS = 12 * 2 * math.pi / 360
X_THRESHOLD = 2.4

CARTPOLE_OBS_LABELS = ("x", "x_dot", "theta", "theta_dot")
CARTPOLE_ACT_LABELS = ("push_right",)
CARTPOLE_MAX_STEPS = 500


def cartpole_initial_state(seed: int) -> np.ndarray:
    """The float64 state ``gymnasium.make("CartPole-v1").reset(seed=seed)`` starts from."""
    rng, _ = seeding.np_random(int(seed))
    # gymnasium's default reset bounds (options=None): U(-0.05, 0.05) for all four.
    return rng.uniform(low=-0.05, high=0.05, size=(4,))


STATE_ROWS = 4  # rows of a lane's state in the compiled path: x, x_dot, theta, theta_dot


@njit(cache=True, inline="always")
def cartpole_start(states, lane, state):
    """Start column ``lane`` of float64[STATE_ROWS, n_lanes] ``states`` from ``state``."""
    for j in range(4):
        states[j, lane] = state[j]


@njit(cache=True, inline="always")
def cartpole_step(states, lane, action):
    """Advance column ``lane`` of float64[4, n_lanes] ``states``; ``action`` 1 pushes right, 0 left.

    Returns (reward, terminated); reward is 1.0, including on the terminating step.
    """
    x = states[0, lane]
    x_dot = states[1, lane]
    theta = states[2, lane]
    theta_dot = states[3, lane]
    force = FORCE_MAG if action == 1 else -FORCE_MAG
    costheta = math.cos(theta)
    sintheta = math.sin(theta)
    # Same grouping of products as gymnasium, so results are bit-identical.
    temp = (force + POLEMASS_LENGTH * (theta_dot * theta_dot) * sintheta) / TOTAL_MASS
    thetaacc = (GRAVITY * sintheta - costheta * temp) / (
        LENGTH * (4.0 / 3.0 - MASS_POLE * (costheta * costheta) / TOTAL_MASS)
    )
    xacc = temp - POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS
    # Explicit euler, gymnasium's default integrator.
    x = x + TAU * x_dot
    x_dot = x_dot + TAU * xacc
    theta = theta + TAU * theta_dot
    theta_dot = theta_dot + TAU * thetaacc
    states[0, lane] = x
    states[1, lane] = x_dot
    states[2, lane] = theta
    states[3, lane] = theta_dot
    terminated = (
        x < -X_THRESHOLD
        or x > X_THRESHOLD
        or theta < -THETA_THRESHOLD_RADIANS
        or theta > THETA_THRESHOLD_RADIANS
    )
    return 1.0, terminated


@njit(cache=True, inline="always")
def cartpole_observe(states, lane, obs):
    """Write lane ``lane``'s observation into ``obs[:4, lane]``, rounded to float32 as gymnasium returns it."""
    for i in range(4):
        obs[i, lane] = np.float32(states[i, lane])


@njit(cache=True, inline="always")
def cartpole_step_actions(states, lane, actions):
    """:func:`cartpole_step` with the lane's action (0.0 or 1.0) read from ``actions[0, lane]``."""
    return cartpole_step(states, lane, 1 if actions[0, lane] == 1.0 else 0)


register_task(gymnasium_twin(
    "CartPole-v1", ActionRule.threshold(), CARTPOLE_MAX_STEPS, CARTPOLE_OBS_LABELS, CARTPOLE_ACT_LABELS,
    FusedPhysics(state_rows=STATE_ROWS, initial_state=cartpole_initial_state, start=cartpole_start, observe=cartpole_observe, step=cartpole_step_actions),
))
