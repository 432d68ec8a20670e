"""The lockstep kernels give bit for bit what the per-episode kernels gave.

``benchmarks/per_episode.py`` keeps the kernels the engine used before the
lockstep form (one episode, or one data row, through the whole network at a
time). Every lockstep lane must perform the same floating-point operations in
the same order, so rewards, losses, accuracies and step counts are compared
with ``array_equal``, never with a tolerance.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.per_episode import (
    TASK_CODES,
    classify_shard_per_row,
    forward_one,
    rollout_shard_per_episode,
)
from tests.helpers import grow_genome
from wann.engine.classify import classify_shard
from wann.engine.config import STANDARD_WEIGHTS
from wann.engine.genome import Genome
from wann.engine.network import ROW_LANES, compile_genome, forward_batch, forward_into, stack_networks
from wann.engine.rollout import fused_rollouts
from wann.tasks import get_task

DATA = Path(__file__).resolve().parent / "data"


def _grown(task, count: int, seed: int, max_mutations: int = 80):
    rng = np.random.default_rng(seed)
    return [
        compile_genome(grow_genome(task.n_inputs, task.n_outputs, int(rng.integers(0, max_mutations)), rng))
        for _ in range(count)
    ]


def _both_rollouts(task, nets, weights, seeds, max_steps=None):
    batch = stack_networks(nets)
    init = np.stack([task.physics.initial_state(int(s)) for s in seeds])
    steps = task.max_steps if max_steps is None else max_steps
    w = np.asarray(weights, dtype=np.float64)
    lock = fused_rollouts(task, batch, w, np.asarray(seeds), steps)
    return lock, rollout_shard_per_episode(TASK_CODES[task.name], steps, init, *batch.arrays(), w)


@pytest.mark.parametrize("task_name", ["wann/CartPoleSwingUp-v1", "wann/CartPoleSwingUpHard-v1", "CartPole-v1"])
def test_lockstep_rollouts_equal_per_episode_on_random_genomes(task_name):
    task = get_task(task_name)
    nets = _grown(task, 24, seed=17)
    (lock, lock_steps), (ref, ref_steps) = _both_rollouts(task, nets, STANDARD_WEIGHTS, [3, 4, 5])
    assert lock.shape == (24, 6, 3)
    assert np.array_equal(lock, ref)
    assert lock_steps == ref_steps
    # the comparison covered episodes that end at different steps
    assert lock_steps < 24 * 6 * 3 * task.max_steps
    assert len(np.unique(lock)) > 20


def test_lockstep_handles_uneven_lane_counts_and_single_lanes():
    task = get_task("wann/CartPoleSwingUpHard-v1")
    nets = _grown(task, 5, seed=2)
    for weights, seeds in [([0.7], [1]), ([-1.3, 0.2, 2.5], [8]), ([1.0], [4, 5, 6, 7, 9])]:
        (lock, lock_steps), (ref, ref_steps) = _both_rollouts(task, nets, weights, seeds)
        assert np.array_equal(lock, ref) and lock_steps == ref_steps


def test_lockstep_with_individual_weights_and_nan_outputs():
    """Tuned per-connection weights (shared_only False), some of them NaN or huge."""
    task = get_task("wann/CartPoleSwingUp-v1")
    rng = np.random.default_rng(5)
    nets = _grown(task, 12, seed=9)
    for k, net in enumerate(nets):
        net.conn_weight = rng.uniform(-2.0, 2.0, size=net.n_connections)
        if k % 3 == 0 and net.n_connections:
            net.conn_weight[rng.integers(net.n_connections)] = np.nan
        if k % 3 == 1 and net.n_connections:
            net.conn_weight[rng.integers(net.n_connections)] = 1e300
    batch = stack_networks(nets)
    assert not batch.shared_only
    (lock, lock_steps), (ref, ref_steps) = _both_rollouts(task, nets, STANDARD_WEIGHTS, [11, 12])
    assert np.array_equal(lock, ref, equal_nan=True) and lock_steps == ref_steps
    assert np.all(np.isfinite(lock))  # a NaN output means no force, never a NaN reward


@pytest.mark.slow
@pytest.mark.parametrize("saved_file", ["swingup_population.json.gz", "swingup_population_gen256.json.gz"])
def test_lockstep_on_a_saved_real_population(saved_file):
    """Populations of a real configs/cartpole.yaml run (seed 0): after 1,024 and after 256 generations."""
    with gzip.open(DATA / saved_file, "rt") as fh:
        saved = json.load(fh)
    nets = [compile_genome(Genome.from_dict(g)) for g in saved["genomes"]]
    assert np.median([n.n_connections for n in nets]) > 20  # grown networks, not initial ones
    task = get_task(saved["task"])
    (lock, lock_steps), (ref, ref_steps) = _both_rollouts(task, nets, STANDARD_WEIGHTS, [21, 22, 23])
    assert np.array_equal(lock, ref) and lock_steps == ref_steps
    assert lock.mean(axis=(1, 2)).max() > 300  # the saved population really swings up


def _random_rows(n_rows: int, n_inputs: int, rng):
    x = rng.normal(size=(n_rows, n_inputs))
    x[3] = np.inf  # a row whose outputs overflow to inf / NaN
    x[7, 0] = np.nan
    return np.ascontiguousarray(x)


@pytest.mark.parametrize("n_rows", [1, 9, ROW_LANES, 2 * ROW_LANES + 37])
def test_lockstep_classification_equals_per_row(n_rows):
    rng = np.random.default_rng(n_rows)
    nets = []
    for k in range(6):
        net = compile_genome(grow_genome(8, 3, int(rng.integers(5, 60)), rng))
        if k == 5:
            net.conn_weight = rng.uniform(-2.0, 2.0, size=net.n_connections)
        nets.append(net)
    x = _random_rows(max(n_rows, 8), 8, rng)[:n_rows]
    y = rng.integers(0, 3, size=n_rows)
    weights = np.array(STANDARD_WEIGHTS)
    for group in (nets[:5], nets):  # shared weights only, then with individual weights
        batch = stack_networks(group)
        lock_loss, lock_acc = classify_shard(*batch.arrays(), x, y, weights)
        ref_loss, ref_acc = classify_shard_per_row(*batch.arrays(), x, y, weights)
        assert np.array_equal(lock_loss, ref_loss) and np.array_equal(lock_acc, ref_acc)


def test_forward_batch_and_forward_into_equal_one_vector_passes():
    rng = np.random.default_rng(4)
    nets = [compile_genome(grow_genome(5, 2, int(rng.integers(0, 60)), rng)) for _ in range(7)]
    x = _random_rows(ROW_LANES + 5, 5, rng)
    weights = np.array([-1.5, 0.25, 2.0])
    batch = stack_networks(nets)
    out = forward_batch(*batch.arrays(), x, weights)
    values = np.empty(max(n.n_nodes for n in nets))
    lanes_of_one = np.empty_like(values)
    for g, net in enumerate(nets):
        base = int(batch.node_offset[g])
        for w, weight in enumerate(weights):
            for s in range(len(x)):
                forward_one(batch.act, batch.indptr, batch.src, batch.conn_weight, batch.shared_only,
                            base, net.n_nodes, 5, x[s], weight, values)
                forward_into(batch.act, batch.indptr, batch.src, batch.conn_weight, batch.shared_only,
                             base, net.n_nodes, 5, x[s], weight, lanes_of_one)
                expected = values[net.n_nodes - 2:net.n_nodes]
                assert np.array_equal(out[g, w, s], expected, equal_nan=True)
                assert np.array_equal(lanes_of_one[net.n_nodes - 2:net.n_nodes], expected, equal_nan=True)
