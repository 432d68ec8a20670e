"""The gymnasium envs and their compiled fast paths give the same trajectories."""
from __future__ import annotations

import math

import gymnasium
import numpy as np
import pytest
from numpy.testing import assert_allclose

from wann.tasks.builtin import cartpole_swingup
from wann.tasks.builtin.cartpole_balance import (
    CARTPOLE_MAX_STEPS,
    cartpole_initial_state,
    cartpole_observe,
    cartpole_step,
)
from wann.tasks.builtin.cartpole_swingup import (
    COS_THETA,
    SIN_THETA,
    STATE_ROWS,
    CartPoleSwingUpEnv,
    swingup_initial_state,
    swingup_observe,
    swingup_start,
    swingup_step,
)

SEEDS = range(5)
ATOL = 1e-9


# ----------------------------------------------------------------------------- swing-up


def _swingup_action(scheme: str, rng: np.random.Generator, obs: np.ndarray) -> float:
    """Raw (unclipped) action; "gentle" keeps the cart on the track, "wild" drives it off."""
    if scheme == "gentle":  # small noise plus a pull back toward the track centre
        return float(rng.uniform(-0.1, 0.1) - 0.3 * obs[0] - 0.3 * obs[1])
    if scheme == "wild":  # mostly outside [-1, 1], so clipping is exercised too
        return float(rng.uniform(-3.0, 3.0))
    if scheme == "drive":  # push one way, whatever happens
        return 2.0 if rng.random() < 0.9 else -0.5
    raise ValueError(scheme)


def _swingup_pair(seed: int, scheme: str, env_id: str = "wann/CartPoleSwingUp-v1", max_steps: int = 1000):
    """Run gymnasium and the compiled path side by side; return (steps, terminated, truncated)."""
    env = gymnasium.make(env_id)
    obs_env, _ = env.reset(seed=seed)
    state = np.empty((STATE_ROWS, 1))  # one lane
    swingup_start(state, 0, swingup_initial_state(seed))
    obs_fast = np.empty((5, 1))
    swingup_observe(state, 0, obs_fast)
    assert_allclose(obs_fast[:, 0], obs_env, atol=ATOL, rtol=0)

    rng = np.random.default_rng(seed)
    for t in range(1, max_steps + 1):
        a = _swingup_action(scheme, rng, obs_env)
        obs_env, reward_env, terminated_env, truncated_env, _ = env.step(np.array([a]))
        reward_fast, terminated_fast = swingup_step(state, 0, min(max(a, -1.0), 1.0))
        swingup_observe(state, 0, obs_fast)
        assert obs_env.dtype == np.float64
        assert_allclose(obs_fast[:, 0], obs_env, atol=ATOL, rtol=0, err_msg=f"step {t}")
        assert abs(reward_fast - reward_env) <= ATOL, f"step {t}"
        assert terminated_fast == terminated_env, f"step {t}"
        if terminated_env or truncated_env:
            env.close()
            return t, terminated_env, truncated_env
    env.close()
    return max_steps, False, False


@pytest.mark.parametrize("seed", SEEDS)
def test_swingup_full_episode_matches_compiled(seed):
    steps, terminated, truncated = _swingup_pair(seed, "gentle")
    assert (steps, terminated, truncated) == (1000, False, True)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("scheme", ["wild", "drive"])
def test_swingup_terminated_episode_matches_compiled(seed, scheme):
    steps, terminated, truncated = _swingup_pair(seed, scheme)
    assert terminated and not truncated and steps < 1000


def test_swingup_hard_variant_truncates_at_200():
    steps, terminated, truncated = _swingup_pair(0, "gentle", "wann/CartPoleSwingUpHard-v1", 300)
    assert (steps, terminated, truncated) == (200, False, True)
    assert gymnasium.spec("wann/CartPoleSwingUpHard-v1").max_episode_steps == 200
    assert gymnasium.spec("wann/CartPoleSwingUp-v1").max_episode_steps == 1000


@pytest.mark.parametrize("seed", SEEDS)
def test_swingup_initial_state_matches_reset(seed):
    env = gymnasium.make("wann/CartPoleSwingUp-v1")
    env.reset(seed=seed)
    state = swingup_initial_state(seed)
    assert state.dtype == np.float64 and state.shape == (4,)
    np.testing.assert_array_equal(env.unwrapped.state, state)
    # The pole starts near hanging (theta ~ pi), with spread.
    assert abs(state[2] - math.pi) < 1.0
    assert not np.array_equal(state, swingup_initial_state(seed + 1))


def test_swingup_single_step_by_hand():
    """One step from a fixed state, computed here straight from REFERENCE.md's formulas."""
    g, m_c, m_p, l, force_mag, dt, b = 9.82, 0.5, 0.5, 0.6, 10.0, 0.01, 0.1
    x, x_dot, theta, theta_dot, a = 0.3, -0.4, 2.0, 1.5, 0.7
    F = a * force_mag
    M = m_c + m_p
    s, c = np.sin(theta), np.cos(theta)
    xacc = (-2 * m_p * l * theta_dot**2 * s + 3 * m_p * g * s * c + 4 * F - 4 * b * x_dot) / (4 * M - 3 * m_p * c**2)
    thacc = (-3 * m_p * l * theta_dot**2 * s * c + 6 * M * g * s + 6 * (F - b * x_dot) * c) / (
        4 * l * M - 3 * m_p * l * c**2
    )
    expected = np.array([x + x_dot * dt, x_dot + xacc * dt, theta + theta_dot * dt, theta_dot + thacc * dt])
    expected_reward = (np.cos(expected[2]) + 1) / 2 * np.cos(expected[0] / 2.4 * np.pi / 2)

    state = np.empty((STATE_ROWS, 1))
    swingup_start(state, 0, np.array([x, x_dot, theta, theta_dot]))
    reward, terminated = swingup_step(state, 0, a)
    assert_allclose(state[COS_THETA, 0], np.cos(expected[2]), rtol=0, atol=1e-15)
    assert_allclose(state[SIN_THETA, 0], np.sin(expected[2]), rtol=0, atol=1e-15)
    assert_allclose(state[:4, 0], expected, rtol=1e-12, atol=1e-12)
    assert reward == pytest.approx(expected_reward, rel=1e-12)
    assert not terminated

    # The env, started from the same state, takes the same step (and clips the action).
    env = CartPoleSwingUpEnv()
    env.reset(seed=0)
    env.state = np.array([x, x_dot, theta, theta_dot])
    obs, reward_env, terminated_env, truncated_env, _ = env.step(np.array([a]))
    assert_allclose(obs, [expected[0], expected[1], np.cos(expected[2]), np.sin(expected[2]), expected[3]], rtol=1e-12, atol=1e-12)
    assert reward_env == pytest.approx(expected_reward, rel=1e-12)
    assert (terminated_env, truncated_env) == (False, False)
    env.state = np.array([x, x_dot, theta, theta_dot])
    clipped = env.step(np.array([5.0]))[0]
    env.state = np.array([x, x_dot, theta, theta_dot])
    np.testing.assert_array_equal(clipped, env.step(np.array([1.0]))[0])


def test_swingup_leaving_track_terminates():
    states = np.zeros((STATE_ROWS, 2))
    swingup_start(states, 1, np.array([2.399, 1.0, 0.0, 0.0]))  # lane 1 is at the edge
    _, terminated = swingup_step(states, 1, 0.0)
    assert terminated and states[0, 1] > 2.4
    assert np.all(states[:, 0] == 0.0)  # the other lane is untouched
    assert states[COS_THETA, 1] == 1.0 and states[SIN_THETA, 1] == 0.0


def test_swingup_render_rgb_array():
    env = gymnasium.make("wann/CartPoleSwingUp-v1", render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    assert isinstance(first, np.ndarray) and first.dtype == np.uint8
    assert first.ndim == 3 and first.shape[2] == 3
    env.unwrapped.state = np.array([1.0, 0.0, 0.3, 0.0])  # cart moved, pole nearly upright
    second = env.render()
    assert second.shape == first.shape
    assert not np.array_equal(first, second)
    env.close()


def test_swingup_spaces_and_reregistration():
    import importlib

    importlib.reload(cartpole_swingup)  # a second registration must be skipped quietly
    env = gymnasium.make("wann/CartPoleSwingUp-v1")
    assert env.observation_space.shape == (5,)
    assert env.action_space.shape == (1,)
    obs, _ = env.reset(seed=3)
    assert env.observation_space.contains(obs)


# ----------------------------------------------------------------------------- balance


def _cartpole_action(policy: str, rng: np.random.Generator, obs: np.ndarray) -> int:
    """"random" falls within tens of steps; "balance" (push toward the lean) lasts 500."""
    if policy == "random":
        return int(rng.integers(2))
    if policy == "balance":
        return int(obs[2] + 0.5 * obs[3] > 0.0)
    raise ValueError(policy)


def _cartpole_pair(seed: int, policy: str):
    env = gymnasium.make("CartPole-v1")
    obs_env, _ = env.reset(seed=seed)
    state = cartpole_initial_state(seed).reshape(4, 1)  # one lane
    obs_fast = np.empty((4, 1))
    cartpole_observe(state, 0, obs_fast)
    assert_allclose(obs_fast[:, 0], obs_env, atol=ATOL, rtol=0)

    rng = np.random.default_rng(seed)
    for t in range(1, CARTPOLE_MAX_STEPS + 1):
        action = _cartpole_action(policy, rng, obs_fast[:, 0])
        obs_env, reward_env, terminated_env, truncated_env, _ = env.step(action)
        reward_fast, terminated_fast = cartpole_step(state, 0, action)
        cartpole_observe(state, 0, obs_fast)
        assert_allclose(obs_fast[:, 0], obs_env, atol=ATOL, rtol=0, err_msg=f"step {t}")
        # The full-precision state agrees too, not only its float32 rounding.
        assert_allclose(state[:, 0], env.unwrapped.state, atol=ATOL, rtol=0, err_msg=f"step {t}")
        assert reward_fast == reward_env == 1.0
        assert terminated_fast == terminated_env, f"step {t}"
        if terminated_env or truncated_env:
            return t, terminated_env, truncated_env
    return CARTPOLE_MAX_STEPS, False, False


@pytest.mark.parametrize("seed", SEEDS)
def test_cartpole_random_policy_matches_gymnasium(seed):
    steps, terminated, truncated = _cartpole_pair(seed, "random")
    assert terminated and not truncated and steps < CARTPOLE_MAX_STEPS


@pytest.mark.parametrize("seed", SEEDS)
def test_cartpole_balancing_policy_matches_gymnasium(seed):
    steps, terminated, truncated = _cartpole_pair(seed, "balance")
    assert (steps, terminated, truncated) == (CARTPOLE_MAX_STEPS, False, True)


@pytest.mark.parametrize("seed", SEEDS)
def test_cartpole_initial_state_matches_reset(seed):
    env = gymnasium.make("CartPole-v1")
    obs, _ = env.reset(seed=seed)
    state = cartpole_initial_state(seed)
    assert state.dtype == np.float64
    np.testing.assert_array_equal(env.unwrapped.state, state)
    np.testing.assert_array_equal(obs, state.astype(np.float32))
    assert np.all(np.abs(state) < 0.05)


def test_cartpole_observe_rounds_like_gymnasium():
    state = np.array([0.1, 1 / 3, -0.123456789, 2.0 / 7.0])
    obs = np.empty((4, 1))
    cartpole_observe(state.reshape(4, 1), 0, obs)
    np.testing.assert_array_equal(obs[:, 0], state.astype(np.float32))
