"""The evaluator: compiled path vs gymnasium path, backends, seeds."""
from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import grow_genome
from wann.engine.config import STANDARD_WEIGHTS
from wann.engine.evaluator import (
    Evaluator,
    ProcessBackend,
    SerialBackend,
    fitness_from_rewards,
    gym_rollouts,
    run_rollouts,
)
from wann.engine.network import compile_genome, forward, stack_networks
from wann.tasks import get_task


def _networks(task_name: str, count: int, seed: int):
    task = get_task(task_name)
    rng = np.random.default_rng(seed)
    return [compile_genome(grow_genome(task.n_inputs, task.n_outputs, int(rng.integers(0, 40)), rng))
            for _ in range(count)]


@pytest.mark.parametrize("task_name", ["wann/CartPoleSwingUpHard-v1", "CartPole-v1"])
def test_compiled_rollouts_equal_gymnasium_rollouts(task_name):
    task = get_task(task_name)
    nets = _networks(task_name, 6, seed=3)
    batch = stack_networks(nets)
    weights = np.array(STANDARD_WEIGHTS)
    seeds = np.array([11, 12])
    fast, fast_steps = run_rollouts(task, batch, weights, seeds, task.max_steps)
    slow, slow_steps = gym_rollouts(task, batch, weights, seeds, task.max_steps)
    assert fast_steps == slow_steps
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-9)


def test_rollout_by_hand_on_swingup():
    """A bias -> output network pushes with force clip(w) every step: replay it in the env."""
    task = get_task("wann/CartPoleSwingUpHard-v1")
    from wann.engine.genome import initial_genome

    genome = initial_genome(5, 1, 1, 0.0, np.random.default_rng(0))
    genome.conn_enabled[genome.conn_src == 5] = True  # only the bias link
    net = compile_genome(genome)
    assert net.n_connections == 1
    rewards, _ = run_rollouts(task, stack_networks([net]), np.array([0.5]), np.array([7]), 200)
    env = task.make_env()
    env.reset(seed=7)
    total = 0.0
    for _ in range(200):
        _, r, term, trunc, _ = env.step(np.array([0.5]))
        total += r
        if term or trunc:
            break
    assert rewards[0, 0, 0] == pytest.approx(total, abs=1e-9)


def test_processes_backend_is_bit_identical_to_serial():
    task = get_task("wann/CartPoleSwingUpHard-v1")
    nets = _networks("wann/CartPoleSwingUpHard-v1", 13, seed=5)
    seeds = [1, 2, 3]
    with Evaluator(task, STANDARD_WEIGHTS, SerialBackend()) as serial:
        a = serial.evaluate(nets, seeds)
    with Evaluator(task, STANDARD_WEIGHTS, ProcessBackend(2), shards_per_worker=3) as procs:
        b = procs.evaluate(nets, seeds)
    assert a.rewards.shape == (13, 6, 3)
    assert np.array_equal(a.rewards, b.rewards)
    assert a.steps == b.steps


def test_fitness_is_mean_and_max_over_weights_of_rollout_means():
    # genome 0: weight 0 rollouts (1, 3) -> 2, weight 1 rollouts (10, 20) -> 15, weight 2 (-4, 0) -> -2
    # genome 1: all rollouts 7 -> 7 at every weight
    rewards = np.array([[[1.0, 3.0], [10.0, 20.0], [-4.0, 0.0]],
                        [[7.0, 7.0], [7.0, 7.0], [7.0, 7.0]]])
    mean, best, per_weight = fitness_from_rewards(rewards)
    assert per_weight.tolist() == [[2.0, 15.0, -2.0], [7.0, 7.0, 7.0]]
    assert mean.tolist() == [5.0, 7.0]  # (2 + 15 - 2) / 3 = 5
    assert best.tolist() == [15.0, 7.0]


def test_forward_of_one_network_matches_batch():
    nets = _networks("wann/CartPoleSwingUp-v1", 3, seed=9)
    x = np.random.default_rng(0).normal(size=(4, 5))
    from wann.engine.network import forward_batch

    batch = forward_batch(*stack_networks(nets).arrays(), x, np.array([0.5, -2.0]))
    for g, net in enumerate(nets):
        np.testing.assert_array_equal(forward(net, x, [0.5, -2.0]), batch[g])


def test_few_networks_are_split_over_workers_by_rollout_with_identical_results():
    """A champion's confirmation (one network, many seeds) uses every worker, same numbers."""
    task = get_task("wann/CartPoleSwingUpHard-v1")
    nets = _networks("wann/CartPoleSwingUpHard-v1", 1, seed=8)
    seeds = list(range(100, 107))
    with Evaluator(task, STANDARD_WEIGHTS, SerialBackend()) as serial:
        a = serial.evaluate_local(nets, seeds)
    with Evaluator(task, STANDARD_WEIGHTS, ProcessBackend(2)) as procs:
        b = procs.evaluate(nets, seeds)
    assert b.rewards.shape == (1, 6, 7)
    assert np.array_equal(a.rewards, b.rewards)
    assert a.steps == b.steps
