"""Schedules composed into masks: IMP with rewinding to step k, AGP, SynFlow iterations, and the controls."""
from __future__ import annotations

import numpy as np
import pytest

from wann.errors import UserError
from wann.prune.config import method_from
from wann.prune.data import load_digits
from wann.prune.dense import MLP, TrainSettings
from wann.prune.methods import (
    agp_network,
    final_network,
    imp_tickets,
    iterative_masks,
    make_context,
    mask_key,
    one_shot_masks,
)
from wann.prune.metrics import collapsed, density, layer_densities
from wann.prune.threads import single_threaded_blas


@pytest.fixture(scope="module")
def ctx():
    with single_threaded_blas():
        data = load_digits()
        settings = TrainSettings(batch_size=64, epochs=3, lr=1e-3)
        init = MLP([64, 40, 20, 10], seed=0)
        yield make_context(data, init, settings, finetune_epochs=1, seed=0, rewind_steps={0, 7},
                           prune_output=True, samples_per_class=5, fisher_samples=200)


def _method(**kw):
    return method_from(kw, "<test>", "methods[0]")


def test_imp_rewinds_to_step_k_and_hits_the_targets(ctx):
    method = _method(preset="lottery_ticket", rewind_step=7)
    tickets = imp_tickets(ctx, method, [0.5, 0.2])
    weights_7, biases_7 = ctx.snapshots[7]
    for target, ticket in tickets.items():
        assert density(ticket.masks) == pytest.approx(target, abs=2e-3)
        for layer, w7, b7, m in zip(ticket.rewound.layers, weights_7, biases_7, ticket.masks):
            assert np.array_equal(layer.weight, w7 * m) and np.array_equal(layer.bias, b7)
        assert all(np.all(l.weight[~m] == 0) for l, m in zip(ticket.trained.layers, ticket.masks))
        assert not np.array_equal(ticket.trained.layers[0].weight, ticket.rewound.layers[0].weight)
    # per-layer rates: hidden layers 0.8 per level, output 0.9, so the output keeps more
    d = layer_densities(tickets[0.2].masks)
    assert d[2] > d[0] == pytest.approx(d[1], abs=0.01)
    # the retrain-free ticket is the rewound one
    net = final_network(ctx, _method(preset="lottery_ticket", rewind_step=7, retrain=False), tickets[0.2].masks, 0.2,
                        found=tickets[0.2])
    assert np.array_equal(net.layers[1].weight, tickets[0.2].rewound.layers[1].weight)


def test_rewind_step_beyond_training_is_a_config_error(ctx):
    with pytest.raises(UserError, match="beyond the"):
        make_context(ctx.data, ctx.init_net, ctx.settings, 1, 0, {10_000}, True, 5, 0)


def test_iterative_synflow_and_agp_reach_the_density(ctx):
    masks = iterative_masks(ctx, _method(preset="synflow", iterations=20), 1 / 64)
    assert density(masks) == pytest.approx(1 / 64, abs=1e-3) and not collapsed(masks)
    net = agp_network(ctx, _method(preset="agp", agp_frequency=5), 0.1)
    assert density(net.masks) == pytest.approx(0.1, abs=1e-3)


def test_one_shot_variants(ctx):
    for preset in ("magnitude_trained", "random_erk", "random_snip_ratio", "obd", "grad_weight", "magnitude_neurons"):
        masks = one_shot_masks(ctx, _method(preset=preset), 0.25)
        assert density(masks) == pytest.approx(0.25, abs=0.02), preset
    again = one_shot_masks(ctx, _method(preset="random_erk"), 0.25)
    assert all(np.array_equal(a, b) for a, b in zip(again, one_shot_masks(ctx, _method(preset="random_erk"), 0.25)))


def test_controls_on_a_mask(ctx):
    base = _method(preset="snip")
    masks = one_shot_masks(ctx, base, 0.2)
    reinit = final_network(ctx, _method(preset="snip", control="reinit", retrain=False), masks, 0.2)
    assert all(np.array_equal(m, n) for m, n in zip(masks, reinit.masks))
    assert not np.array_equal(reinit.layers[0].weight_init, ctx.init_net.layers[0].weight_init)
    assert np.array_equal(reinit.layers[0].weight, reinit.layers[0].weight_init * masks[0])
    shuffled = final_network(ctx, _method(preset="snip", control="shuffle", retrain=False), masks, 0.2)
    assert layer_densities(shuffled.masks) == layer_densities(masks)
    signed = final_network(ctx, _method(preset="snip", control="signed_constant", retrain=False), masks, 0.2)
    w0, w = ctx.init_net.layers[1].weight_init, signed.layers[1].weight
    assert np.allclose(np.abs(w[masks[1]]), np.std(w0)) and np.all(np.sign(w[masks[1]]) == np.sign(w0[masks[1]]))
    # controls share the mask search: the key ignores the name and the control
    assert mask_key(base) == mask_key(_method(preset="snip", name="other", control="reinit"))


def test_unprunable_output_layer(ctx):
    frozen = make_context(ctx.data, ctx.init_net, ctx.settings, 1, 0, {0}, prune_output=False,
                          samples_per_class=5, fisher_samples=0)
    for preset in ("magnitude_trained", "random_erk"):
        masks = one_shot_masks(frozen, _method(preset=preset), 0.1)
        assert masks[2].all()  # the output layer stays whole; density counts the prunable layers
        assert density(masks[:2]) == pytest.approx(0.1, abs=2e-3)
    ticket = imp_tickets(frozen, _method(preset="lottery_ticket"), [0.3])[0.3]
    assert ticket.masks[2].all() and density(ticket.masks[:2]) == pytest.approx(0.3, abs=2e-3)
