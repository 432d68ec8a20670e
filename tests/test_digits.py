"""The digits task: compiled scores against a numpy reference, the split, and a tiny search."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

pytest.importorskip("sklearn")

from wann.engine.activations import ACTIVATION_IDS  # noqa: E402
from wann.engine.classify import NONFINITE_LOSS, classification_metrics, classify_shard  # noqa: E402
from wann.engine.genome import initial_genome, initial_tracker  # noqa: E402
from wann.engine.mutation import MutationRates, mutate  # noqa: E402
from wann.engine.network import compile_genome, forward, stack_networks  # noqa: E402
from wann.tasks import get_task  # noqa: E402
from wann.tasks.builtin.digits import (  # noqa: E402
    DIGITS_TASK_NAME,
    MissingDatasetError,
    load_digits_arrays,
    load_digits_split,
    stratified_split,
)

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = np.array([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0])
NO_STEP = np.array(
    [ACTIVATION_IDS[a] for a in ("linear", "sin", "gaussian", "tanh", "sigmoid", "inverse", "abs", "relu", "cos")],
    dtype=np.int8,
)


def grown_networks(n: int, seed: int, n_mutations: int = 40):
    """Random genomes grown from sparse initial ones by ``n_mutations`` mutations each."""
    rng = np.random.default_rng(seed)
    tracker = initial_tracker(64, 10)
    nets = []
    for _ in range(n):
        genome = initial_genome(64, 10, 1, 0.1, rng)
        for _ in range(n_mutations):
            tracker.new_generation()
            genome = mutate(genome, rng, tracker, MutationRates(), NO_STEP)
        nets.append(compile_genome(genome))
    return nets


def reference_scores(network, x, y, weights):
    """Plain numpy: forward pass, softmax, mean cross-entropy and accuracy per weight."""
    out = forward(network, x, weights)  # [W, n, 10]
    z = out - out.max(axis=-1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    loss = -np.log(probs[:, np.arange(len(y)), y]).mean(axis=1)
    accuracy = (out.argmax(axis=-1) == y).mean(axis=1)
    ensemble = (probs.mean(axis=0).argmax(axis=-1) == y).mean()
    return loss, accuracy, ensemble


def test_kernel_matches_numpy_reference():
    data = load_digits_split()
    x, y = data.x_train[:300], data.y_train[:300]
    nets = grown_networks(5, seed=7)
    assert any(net.n_nodes > 75 for net in nets)  # some hidden nodes were grown
    loss, accuracy = classify_shard(*stack_networks(nets).arrays(), x, y, WEIGHTS)
    assert loss.shape == accuracy.shape == (5, len(WEIGHTS))
    for g, net in enumerate(nets):
        ref_loss, ref_acc, ref_ens = reference_scores(net, x, y, WEIGHTS)
        assert_allclose(loss[g], ref_loss, rtol=1e-10, atol=1e-12)
        assert_array_equal(accuracy[g], ref_acc)
        metrics = classification_metrics(net, x, y, WEIGHTS)
        assert_allclose(metrics["accuracy_per_weight"], ref_acc, rtol=0, atol=0)
        assert metrics["accuracy_ensemble"] == ref_ens
        assert metrics["accuracy_mean"] == pytest.approx(ref_acc.mean())
        assert metrics["accuracy_best"] == ref_acc.max()
        assert_allclose(metrics["cross_entropy_per_weight"], ref_loss, rtol=1e-10)


def test_non_finite_outputs_count_as_wrong_in_both_paths():
    data = load_digits_split()
    x, y = data.x_train[:40].copy(), data.y_train[:40]
    x[:10] = np.inf  # these rows drive the outputs to inf / NaN
    x[10:15, 3] = np.nan
    nets = grown_networks(3, seed=11, n_mutations=15)
    loss, accuracy = classify_shard(*stack_networks(nets).arrays(), x, y, WEIGHTS)
    for g, net in enumerate(nets):
        metrics = classification_metrics(net, x, y, WEIGHTS)
        assert_array_equal(metrics["accuracy_per_weight"], accuracy[g])
        assert_allclose(metrics["cross_entropy_per_weight"], loss[g], rtol=1e-10)
        assert np.all(loss[g] >= 10 * NONFINITE_LOSS / len(y))  # >= 10 rows charged
        assert 0.0 <= metrics["accuracy_ensemble"] <= 25 / 40


def test_task_rewards_are_minus_cross_entropy_over_rollouts():
    task = get_task(DIGITS_TASK_NAME)
    assert (task.n_inputs, task.n_outputs, task.max_steps) == (64, 10, 1)
    assert task.input_labels[:2] == ("px_0_0", "px_0_1") and task.output_labels[-1] == "9"
    data = load_digits_split()
    nets = grown_networks(3, seed=3, n_mutations=10)
    batch = stack_networks(nets)
    rewards, steps = task.shard_evaluator(task, batch, WEIGHTS, np.array([5, 9]), 1)
    assert rewards.shape == (3, len(WEIGHTS), 2)
    assert steps == 3 * len(WEIGHTS) * len(data.y_train)
    loss, _ = classify_shard(*batch.arrays(), data.x_train, data.y_train, WEIGHTS)
    assert_array_equal(rewards[:, :, 0], -loss)
    assert_array_equal(rewards[:, :, 1], -loss)
    # the probe of Evaluator.start(): one network, one weight, one seed
    probe, _ = task.shard_evaluator(task, stack_networks(nets[:1]), WEIGHTS[:1], np.array([0]), 1)
    assert probe.shape == (1, 1, 1)
    metrics = task.champion_metrics(nets[0], WEIGHTS)
    for key in ("accuracy_per_weight", "accuracy_mean", "accuracy_best", "accuracy_ensemble", "n_test"):
        assert key in metrics
    assert metrics["n_test"] == len(data.y_test)


def test_split_is_stratified_and_deterministic():
    x, y = load_digits_arrays()
    assert x.shape == (1797, 64) and x.min() == 0.0 and x.max() == 1.0
    train, test = stratified_split(y)
    again_train, again_test = stratified_split(y)
    assert_array_equal(train, again_train)
    assert_array_equal(test, again_test)
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == len(y)
    for c in range(10):
        n_c = np.count_nonzero(y == c)
        assert np.count_nonzero(y[test] == c) == round(0.25 * n_c)
    other_train, _ = stratified_split(y, seed=1)
    assert not np.array_equal(train, other_train)
    data = load_digits_split()
    assert_array_equal(data.y_test, y[test])
    assert_array_equal(data.x_train, x[train])


def test_missing_scikit_learn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(MissingDatasetError, match=r'pip install -e "\.\[datasets\]"'):
        load_digits_arrays()


@pytest.mark.slow
def test_tiny_search_writes_test_metrics(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "wann.search", str(ROOT / "configs" / "digits.yaml"),
         "--set", "search.generations=3", "--set", "search.pop_size=16", "--out", str(out), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    champion = json.loads((out / "champion.json").read_text())
    assert champion["task"] == DIGITS_TASK_NAME
    metrics = champion["test_metrics"]
    assert len(metrics["accuracy_per_weight"]) == 6
    assert 0.0 <= metrics["accuracy_ensemble"] <= 1.0
    assert metrics["n_test"] == 450
