"""Selection, distributions, scores, controls, metrics and the WANN bridge, on small hand-checkable cases."""
from __future__ import annotations

import json

import numpy as np
import pytest

from wann.engine.config import STANDARD_WEIGHTS
from wann.engine.losses import softmax
from wann.errors import UserError
from wann.prune.bridge import read_champion, shared_weight_eval, signs_of
from wann.prune.controls import dynamic_weight_rescaling, random_reinit, shuffle_masks, signed_constant
from wann.prune.dense import MLP
from wann.prune.metrics import (
    collapsed,
    effective_masks,
    empty_layers,
    layer_densities,
    nonzero_weights,
    summary,
)
from wann.prune.scores import (
    compute_scores,
    fisher_diagonal,
    grad_weight_scores,
    magnitude_scores,
    obd_scores,
    random_scores,
    snip_scores,
)
from wann.prune.select import (
    erk_densities,
)
from wann.prune.select import layer_densities as distribution_densities
from wann.prune.select import neuron_scores, select, select_neurons, snip_ratio_densities

SHAPES = [(30, 20), (10, 30), (4, 10)]


def _scores(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.random(s) for s in SHAPES]


def test_select_counts_and_masks_never_regrow():
    scores = _scores()
    n = sum(np.prod(s) for s in SHAPES)
    for d in (1.0, 0.5, 0.1, 0.013):
        masks = select(scores, d)
        assert nonzero_weights(masks) == int(np.ceil(d * n - 1e-9))
    first = select(scores, 0.5)
    second = select([-s for s in scores], 0.25, masks=first)  # would prefer the pruned ones, cannot regrow them
    assert all(np.all(b <= a) for a, b in zip(first, second))
    assert nonzero_weights(second) == int(np.ceil(0.25 * n))


def test_per_layer_densities_and_prunable_flags():
    scores = _scores()
    masks = select(scores, 0.5, scope="layer", layer_densities=[0.1, 0.5, 1.0])
    assert [int(m.sum()) for m in masks] == [60, 150, 40]
    frozen = select(scores, 0.2, prunable=[True, True, False])
    assert frozen[2].all()  # the output layer kept whole
    assert nonzero_weights(frozen[:2]) == int(np.ceil(0.2 * (600 + 300)))


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5, float("nan"), "half"])
def test_density_outside_0_1_is_refused(bad):
    with pytest.raises(UserError, match=r"\(0, 1\]"):
        select(_scores(), bad)


def test_ties_broken_by_the_seed_deterministically():
    flat = [np.ones((10, 10)), np.ones((5, 10))]
    a = select(flat, 0.3, rng=np.random.default_rng(5))
    b = select(flat, 0.3, rng=np.random.default_rng(5))
    c = select(flat, 0.3, rng=np.random.default_rng(6))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))
    assert nonzero_weights(a) == 45
    # without a generator, ties go by index: the first 45 entries
    d = select(flat, 0.3)
    assert d[0].ravel()[:45].all() and not d[1].any()
    # NaN ranks lowest
    nan = [np.array([[np.nan, 1.0, 2.0]])]
    assert select(nan, 0.6)[0].tolist() == [[False, True, True]]


def test_keep_at_least_guard():
    scores = [np.full((10, 10), 5.0), np.full((3, 10), 0.1)]  # global selection would empty layer 1
    assert not select(scores, 0.2)[1].any()
    guarded = select(scores, 0.2, min_per_layer=2)
    assert guarded[1].sum() == 2 and guarded[0].sum() == 26


def test_neuron_level_selection():
    scores = _scores(1)
    scores[0][7] *= 10  # hidden unit 7 of layer 0 is the strongest
    masks = select_neurons(scores, 0.25, scope="layer")
    n = sum(np.prod(s) for s in SHAPES)
    kept = nonzero_weights(masks)
    assert kept >= np.ceil(0.25 * n)
    rows0 = masks[0].any(axis=1)
    assert rows0[7]
    # structured: whole rows and the matching columns of the next layer go together
    assert np.array_equal(masks[1].any(axis=0), rows0)
    assert all(masks[0][i].all() or not masks[0][i].any() for i in range(30))
    assert masks[2].shape == (4, 10) and masks[2].any(axis=1).all()  # outputs never removed
    g = select_neurons(scores, 0.05, scope="global")
    assert g[0].any() and g[1].any() and g[2].any()  # every hidden layer keeps a unit
    assert len(neuron_scores(scores)) == 2


def test_distributions():
    assert distribution_densities("uniform", SHAPES, 0.3) == [0.3, 0.3, 0.3]
    assert distribution_densities("erk", SHAPES, 0.3) == erk_densities(SHAPES, 0.3)
    snip = _scores(2)
    ratio = snip_ratio_densities(snip, 0.2)
    masks = select(snip, 0.2)
    assert ratio == pytest.approx(layer_densities(masks))
    with pytest.raises(UserError, match="allowed"):
        distribution_densities("lognormal", SHAPES, 0.3)


def _net_and_batch(seed=0):
    rng = np.random.default_rng(seed)
    net = MLP([20, 30, 10, 4], seed=seed, dtype=np.float64)
    x = rng.random((60, 20))
    y = rng.integers(0, 4, 60)
    return net, x, y


def test_scores_shapes_and_definitions():
    net, x, y = _net_and_batch()
    assert all(s.shape == w.shape for s, w in zip(magnitude_scores(net.weights), net.weights))
    snip = snip_scores(net, x, y)
    assert sum(s.sum() for s in snip) == pytest.approx(1.0)
    gw = grad_weight_scores(net, x, y)
    _, grads, _ = net.gradients(x, y)
    assert np.allclose(gw[1], np.abs(grads[1] * net.weights[1]))
    # the empirical Fisher diagonal equals the mean of per-sample squared gradients
    fisher = fisher_diagonal(net, x, y)
    per_sample = np.mean([net.gradients(x[i:i + 1], y[i:i + 1])[1][0] ** 2 for i in range(len(y))], axis=0)
    assert np.allclose(fisher[0], per_sample)
    assert np.allclose(obd_scores(net, x, y)[2], 0.5 * fisher[2] * net.weights[2] ** 2)
    r1 = random_scores(SHAPES, np.random.default_rng(1))
    assert np.array_equal(r1[0], random_scores(SHAPES, np.random.default_rng(1))[0])
    with pytest.raises(UserError, match="allowed"):
        compute_scores("hessian", net, x, y)
    with pytest.raises(UserError, match="batch"):
        compute_scores("snip", net)


def test_controls():
    masks = select(_scores(), 0.3, scope="layer")
    rng = np.random.default_rng(0)
    shuffled = shuffle_masks(masks, rng)
    assert layer_densities(shuffled) == layer_densities(masks)
    assert not all(np.array_equal(a, b) for a, b in zip(shuffled, masks))
    fresh = random_reinit(masks, "he_normal", np.random.default_rng(1))
    assert all(np.all(f[~m] == 0) and np.all(f[m] != 0) for f, m in zip(fresh, masks))
    w0 = [np.random.default_rng(2).normal(0, s, size=shape) for s, shape in zip((0.1, 1.0, 3.0), SHAPES)]
    sc = signed_constant(w0, masks)
    for s, w, m in zip(sc, w0, masks):
        assert np.allclose(np.abs(s[m]), np.std(w))
        assert np.all(np.sign(s[m]) == np.sign(w[m])) and np.all(s[~m] == 0)
    rescaled = dynamic_weight_rescaling(w0, masks)
    assert np.allclose(rescaled[0], w0[0] * (600 / masks[0].sum()))


def test_metrics_summary_and_collapse():
    masks = [np.ones((3, 2), bool), np.zeros((2, 3), bool), np.ones((1, 2), bool)]
    s = summary(masks)
    assert s["collapsed"] and s["effective_connections"] == 0 and empty_layers(masks) == [1]
    assert s["nonzero_weights"] == 8 and s["compression"] == pytest.approx(14 / 8)
    masks[1][0, 0] = True
    eff = effective_masks(masks)
    assert not collapsed(masks)
    assert [int(e.sum()) for e in eff] == [2, 1, 1]  # only unit 0 of layer 1 and unit 0 of layer 2 carry paths


def test_shared_weight_eval_matches_a_manual_forward():
    net, x, y = _net_and_batch(3)
    masks = select([np.random.default_rng(4).random(s) for s in net.shapes], 0.5)
    signs = signs_of(net.weights, masks)
    out = shared_weight_eval(net, masks, signs, x, y)
    assert len(out["per_weight"]) == len(STANDARD_WEIGHTS) == 6
    assert out["best"] == max(out["per_weight"]) and out["mean"] == pytest.approx(np.mean(out["per_weight"]))
    probs = 0
    for w, acc in zip(STANDARD_WEIGHTS, out["per_weight"]):
        a = x
        for l, (s, m) in enumerate(zip(signs, masks)):
            z = a @ (w * s * m).T  # biases zero
            a = np.maximum(z, 0) if l < 2 else z
        assert acc == pytest.approx(np.mean(a.argmax(1) == y))
        probs = probs + softmax(a)
    assert out["ensemble"] == pytest.approx(np.mean(probs.argmax(1) == y))
    # the network's own weights are untouched
    assert all(np.array_equal(l.weight, l.weight_init) for l in net.layers)


def _champion(tmp_path, **data):
    path = tmp_path / "champion.json"
    path.write_text(json.dumps(data))
    return path


def test_read_champion(tmp_path):
    metrics = {"accuracy_mean": 0.6, "accuracy_best": 0.7, "accuracy_ensemble": 0.72}
    point = read_champion(_champion(tmp_path, task="digits", connections=321, test_metrics=metrics, extra=1))
    assert point.connections == 321 and point.accuracy_tuned is None and point.accuracy_best == 0.7
    point = read_champion(_champion(tmp_path, task="digits", connections=5, test_metrics={**metrics, "accuracy_tuned": 0.9}))
    assert point.accuracy_tuned == 0.9
    with pytest.raises(UserError, match='no "test_metrics"'):
        read_champion(_champion(tmp_path, task="wann/CartPoleSwingUp-v1", connections=5))
    with pytest.raises(UserError, match='"accuracy_best"'):
        read_champion(_champion(tmp_path, task="digits", connections=5, test_metrics={"accuracy_mean": 0.5}))
    with pytest.raises(UserError, match='"connections"'):
        read_champion(_champion(tmp_path, task="digits", connections="many", test_metrics=metrics))
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(UserError, match="not valid JSON"):
        read_champion(tmp_path / "broken.json")
