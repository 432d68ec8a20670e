"""The compiled classic-control tasks match gymnasium step for step over whole episodes.

For each task and seed, gymnasium's env and the compiled functions start from
the same seed and receive the same actions; observations, rewards and
termination must be equal (bit for bit) at every step until the episode ends.
"""
from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from numpy.testing import assert_allclose

from wann.tasks import get_task

SEEDS = range(5)
ATOL = 0.0  # exact


def _policy(task_name: str, scheme: str, rng: np.random.Generator, obs: np.ndarray, t: int) -> float:
    """An action value per scheme: random ones, and ones that reach the goal or the limits."""
    if task_name == "Acrobot-v1":
        if scheme == "random":
            return float(rng.integers(3))
        # pump energy: torque along the lower link's speed (reaches the goal well before 500 steps)
        return 2.0 if obs[5] > 0 else 0.0
    if task_name == "Pendulum-v1":
        if scheme == "random":
            return float(rng.uniform(-3.0, 3.0))  # outside the bounds half the time
        return 2.0 if obs[2] >= 0 else -2.0  # pump energy: speeds reach the clip at 8
    if scheme == "random":  # MountainCarContinuous
        return float(rng.uniform(-1.5, 1.5))
    return 1.0 if obs[1] >= 0 else -1.0  # bang-bang with the speed: reaches the goal


def _episode(task_name: str, seed: int, scheme: str):
    """Run gymnasium and the compiled step side by side; return (steps, terminated, truncated, rewards)."""
    task = get_task(task_name)
    physics = task.physics
    env = gymnasium.make(task_name)
    obs_env, _ = env.reset(seed=seed)
    states = np.zeros((physics.state_rows, 2))  # lane 1 is used, lane 0 must stay untouched
    init = physics.initial_state(seed)
    if physics.start is not None:
        physics.start(states, 1, init)
    else:
        states[: len(init), 1] = init
    values = np.zeros((task.n_inputs, 2))
    physics.observe(states, 1, values)
    assert_allclose(values[:, 1], obs_env, atol=ATOL, rtol=0)
    rng = np.random.default_rng(seed)
    actions = np.zeros((task.action.size, 2))
    rewards = []
    for t in range(1, task.max_steps + 1):
        a = _policy(task_name, scheme, rng, values[:, 1], t)
        if task.action.discrete:
            env_action = int(a)
        else:
            a = min(max(a, task.action.low[0]), task.action.high[0])  # what the clip rule hands over
            env_action = np.array([a])
        actions[0, 1] = a
        obs_env, reward_env, terminated_env, truncated_env, _ = env.step(env_action)
        reward, terminated = physics.step(states, 1, actions)
        physics.observe(states, 1, values)
        assert_allclose(values[:, 1], obs_env, atol=ATOL, rtol=0, err_msg=f"step {t}")
        assert abs(reward - reward_env) <= ATOL, f"step {t}: {reward} != {reward_env}"
        assert terminated == terminated_env, f"step {t}"
        rewards.append(reward)
        if terminated_env or truncated_env:
            env.close()
            assert not np.any(states[:, 0])
            return t, terminated_env, truncated_env, rewards
    env.close()
    return task.max_steps, False, False, rewards


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("scheme", ["random", "goal"])
def test_pendulum_matches_gymnasium(seed, scheme):
    steps, terminated, truncated, rewards = _episode("Pendulum-v1", seed, scheme)
    assert (steps, terminated, truncated) == (200, False, True)
    assert min(rewards) < -1.0


@pytest.mark.parametrize("seed", SEEDS)
def test_acrobot_random_runs_to_the_time_limit(seed):
    steps, terminated, truncated, rewards = _episode("Acrobot-v1", seed, "random")
    assert (steps, terminated, truncated) == (500, False, True)
    assert set(rewards) == {-1.0}


@pytest.mark.parametrize("seed", SEEDS)
def test_acrobot_pumping_reaches_the_goal(seed):
    steps, terminated, truncated, rewards = _episode("Acrobot-v1", seed, "goal")
    assert terminated and not truncated and steps < 500
    assert rewards[-1] == 0.0 and set(rewards[:-1]) == {-1.0}


@pytest.mark.parametrize("seed", SEEDS)
def test_mountain_car_continuous_random_runs_to_the_time_limit(seed):
    steps, terminated, truncated, _ = _episode("MountainCarContinuous-v0", seed, "random")
    assert (steps, terminated, truncated) == (999, False, True)


@pytest.mark.parametrize("seed", SEEDS)
def test_mountain_car_continuous_bang_bang_reaches_the_goal(seed):
    steps, terminated, truncated, rewards = _episode("MountainCarContinuous-v0", seed, "goal")
    assert terminated and not truncated and steps < 999
    assert rewards[-1] > 99.0


@pytest.mark.parametrize("task_name", ["Pendulum-v1", "Acrobot-v1", "MountainCarContinuous-v0"])
def test_initial_state_matches_reset(task_name):
    task = get_task(task_name)
    for seed in SEEDS:
        env = gymnasium.make(task_name)
        env.reset(seed=seed)
        init = task.physics.initial_state(seed)
        n = len(np.asarray(env.unwrapped.state))
        np.testing.assert_array_equal(init[:n], np.asarray(env.unwrapped.state, dtype=np.float64))
        env.close()


@pytest.mark.parametrize("task_name", ["Pendulum-v1", "Acrobot-v1", "MountainCarContinuous-v0"])
def test_fused_path_equals_gymnasium_path_on_networks(task_name):
    """Whole rollouts of grown networks: the engine's fused path and its gymnasium path agree."""
    from tests.helpers import grow_genome
    from wann.engine.evaluator import gym_rollouts, run_rollouts
    from wann.engine.network import compile_genome, stack_networks

    task = get_task(task_name)
    assert task.physics is not None  # selected automatically for the plain gymnasium id
    rng = np.random.default_rng(3)
    nets = [compile_genome(grow_genome(task.n_inputs, task.n_outputs, int(rng.integers(5, 40)), rng))
            for _ in range(12)]
    batch = stack_networks(nets)
    weights = np.array([-1.5, 0.5, 2.0])
    seeds = np.array([7, 8])
    fused, fused_steps = run_rollouts(task, batch, weights, seeds, task.max_steps)
    env = task.make_env()
    gym, gym_steps = gym_rollouts(task, batch, weights, seeds, task.max_steps, env_source=lambda: env)
    env.close()
    assert fused_steps == gym_steps
    assert np.array_equal(fused, gym)
    assert len(np.unique(np.round(fused, 6))) > 3
