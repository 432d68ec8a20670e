"""The exact test vectors of shared/PRUNING.md, and formulas checked on hand-built arrays."""
from __future__ import annotations

import numpy as np
import pytest

from wann.prune.metrics import (
    compression_ratio,
    effective_connections,
    fraction_to_keep,
    nonzero_weights,
    path_count,
    theoretical_speedup,
)
from wann.prune.schedules import (
    agp_sparsity,
    imp_density,
    imp_layer_densities,
    imp_level_for,
    imp_plan,
    polynomial_density,
    synflow_densities,
)
from wann.prune.scores import synflow_objective, synflow_scores
from wann.prune.select import erk_densities, keep_count, select

LENET = [(300, 784), (100, 300), (10, 100)]  # weight shapes n_out x n_in
LENET_SIZES = [784 * 300, 300 * 100, 100 * 10]


@pytest.mark.parametrize("overall, expected", [
    (0.50, (0.4341, 1.0, 1.0)),
    (0.20, (0.1622, 0.4694, 1.0)),
    (0.10, (0.0796, 0.2302, 1.0)),
    (0.036, (0.0277, 0.0802, 0.6613)),
    (0.01, (0.0077, 0.0223, 0.1837)),
])
def test_erk_densities_lenet_300_100(overall, expected):
    d = erk_densities(LENET, overall)
    assert np.round(d, 4).tolist() == list(expected)
    # each row reproduces the requested overall density exactly
    assert sum(di * n for di, n in zip(d, LENET_SIZES)) / sum(LENET_SIZES) == pytest.approx(overall, rel=1e-12)


def test_erk_power_softens_and_fixed_layers_are_kept():
    soft = erk_densities(LENET, 0.1, power=0.5)
    hard = erk_densities(LENET, 0.1)
    assert soft[0] > hard[0]  # a softer distribution gives the big layer more
    fixed = erk_densities(LENET, 0.1, fixed={2: 0.5})
    assert fixed[2] == 0.5
    assert sum(di * n for di, n in zip(fixed, LENET_SIZES)) / sum(LENET_SIZES) == pytest.approx(0.1)


def test_agp_sequence():
    got = [agp_sparsity(t, 0.0, 0.9, 0, 10, 1) for t in range(11)]
    expected = [0, .2439, .4392, .5913, .7056, .7875, .8424, .8757, .8928, .8991, .9]
    assert np.round(got, 4).tolist() == expected
    assert agp_sparsity(25, 0.0, 0.9, 0, 10, 1) == pytest.approx(0.9)  # held after the ramp
    assert agp_sparsity(-3, 0.0, 0.9, 0, 10, 1) == 0.0  # before it
    # the same ramp on progress in [0, 1], as a density
    assert polynomial_density(0.3, 0.1) == pytest.approx(1 - agp_sparsity(3, 0.0, 0.9, 0, 10, 1))


def test_lottery_ticket_remaining_fraction_lenet():
    rates = [0.2, 0.2, 0.1]  # hidden layers 0.8 per round, output 0.9
    rounds = [0, 3, 7, 12, 15, 18, 21]
    percent = [round(100 * imp_density(r, rates, LENET_SIZES), 1) for r in rounds]
    assert percent == [100.0, 51.3, 21.1, 7.0, 3.6, 1.9, 1.0]
    assert imp_layer_densities(2, rates) == pytest.approx([0.64, 0.64, 0.81])


def test_imp_plan_branches_off_the_last_whole_level():
    rates = [0.2, 0.2, 0.1]
    chain, plan = imp_plan(rates, LENET_SIZES, [0.5, 0.036])
    level_half = imp_level_for(0.5, rates, LENET_SIZES)
    assert imp_density(level_half, rates, LENET_SIZES) == pytest.approx(0.5, abs=1e-12)
    assert plan[0.5] == (3, pytest.approx(level_half))  # between levels 3 (51.3%) and 4
    assert plan[0.036][0] == 14 and chain == 14
    # a target's plan does not depend on the other targets
    assert imp_plan(rates, LENET_SIZES, [0.036])[1][0.036] == plan[0.036]
    # a target exactly on a whole level branches off the level before and prunes exactly one level
    whole = imp_density(5, rates, LENET_SIZES)
    branch, level = imp_plan(rates, LENET_SIZES, [whole])[1][whole]
    assert branch == 4 and level == pytest.approx(5.0)


def test_synflow_schedules():
    exp = synflow_densities(0.01, 100, "exponential")
    lin = synflow_densities(0.01, 100, "linear")
    assert [round(exp[k - 1], 3) for k in (1, 10, 50, 100)] == [0.955, 0.631, 0.1, 0.01]
    assert [round(lin[k - 1], 3) for k in (1, 10, 50, 100)] == [0.990, 0.901, 0.505, 0.01]


def _random_lenet(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(0, np.sqrt(2 / n_in), size=(n_out, n_in)) for n_out, n_in in LENET]


def test_synflow_conservation_per_layer():
    weights = _random_lenet()
    scores = synflow_scores(weights)
    r = synflow_objective(weights)
    for s in scores:
        assert (s >= 0).all()
        assert s.sum() == pytest.approx(r, rel=1e-12)


def test_synflow_closed_form_matches_finite_difference():
    weights = _random_lenet(1)
    scores = synflow_scores(weights)
    rng = np.random.default_rng(2)
    for l, w in enumerate(weights):
        for _ in range(3):
            i, j = rng.integers(w.shape[0]), rng.integers(w.shape[1])
            h = 0.1 * abs(w[i, j])  # R is linear in each single |w| (no sign change within h), so only rounding is left
            up = [x.copy() for x in weights]
            down = [x.copy() for x in weights]
            up[l][i, j] += h
            down[l][i, j] -= h
            grad = (synflow_objective(up) - synflow_objective(down)) / (2 * h)
            fd_score = grad * w[i, j]  # (dR/dw) * w = (dR/d|w|) * |w|
            assert scores[l][i, j] == pytest.approx(fd_score, rel=1e-7)


def test_synflow_log_domain_agrees_and_survives_overflow():
    weights = _random_lenet(3)
    masks = [np.random.default_rng(4).random(w.shape) < 0.5 for w in weights]
    plain = synflow_scores(weights, masks)
    logs = synflow_scores(weights, masks, log_domain=True)
    for p, lg, m in zip(plain, logs, masks):
        assert np.allclose(np.exp(lg[m]), p[m], rtol=1e-9)
        assert np.isneginf(lg[~m]).all()
    # 40 layers of 1000x larger weights overflow float64 but not the log domain
    deep = [np.full((4, 4), 1e3) for _ in range(120)]
    with np.errstate(over="ignore", invalid="ignore"):
        assert not np.isfinite(synflow_scores(deep)[0]).all()
    logs = synflow_scores(deep, log_domain=True)
    assert all(np.isfinite(s).all() for s in logs)


def test_global_versus_per_layer_thresholds_on_hand_built_arrays():
    scores = [np.array([[0.9, 0.1], [0.8, 0.2]]), np.array([[0.05, 0.04, 0.03, 0.5]])]
    # global, density 0.5 of 8 weights: the 4 highest overall (0.9, 0.8, 0.5, 0.2)
    g = select(scores, 0.5, scope="global")
    assert g[0].tolist() == [[True, False], [True, True]]
    assert g[1].tolist() == [[False, False, False, True]]
    # per layer: the top half of each layer
    p = select(scores, 0.5, scope="layer")
    assert p[0].tolist() == [[True, False], [True, False]]
    assert p[1].tolist() == [[True, False, False, True]]
    # keep ceil(d * N): 0.3 of 8 -> 3
    assert nonzero_weights(select(scores, 0.3)) == 3 == keep_count(0.3, 8)


def test_compression_ratio_and_speedup_of_a_known_mask():
    masks = [np.zeros((4, 5), dtype=bool), np.zeros((2, 4), dtype=bool)]
    masks[0][0, :] = True  # 5 of 20
    masks[1][0, 0] = True  # 1 of 8
    assert nonzero_weights(masks) == 6
    assert compression_ratio(masks) == pytest.approx(28 / 6)
    assert compression_ratio(masks, n_biases=6) == pytest.approx(34 / 12)  # biases counted on both sides
    assert theoretical_speedup(masks) == pytest.approx(28 / 6)
    # unit 0 of the hidden layer has inputs and feeds output 0: 5 + 1 effective connections, 5 paths
    assert effective_connections(masks) == 6 and path_count(masks) == 5.0
    masks[1][0, 0], masks[1][1, 2] = False, True  # now the live output weight leaves a dead unit
    assert effective_connections(masks) == 0 and path_count(masks) == 0.0


def test_shrinkbench_fraction_to_keep_lenet():
    n_total = 784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10
    n_prunable = n_total - (100 * 10 + 10)  # classifier unprunable
    got = [round(fraction_to_keep(c, n_total, n_prunable), 4) for c in (2, 4, 8, 16, 32)]
    assert got == [0.4981, 0.2471, 0.1217, 0.0589, 0.0276]
    with pytest.raises(ValueError, match="unreachable"):
        fraction_to_keep(1e6, n_total, n_prunable)
