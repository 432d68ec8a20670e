"""The pruning literature's relations, reproduced on digits with a 64-300-100-10 MLP (a cut-down run).

Protocol: the default settings (the WANN digits task's 1347/450 split; Adam,
lr 1e-3, batch 64, 40 epochs, He-normal init; seed 0), only the densities and
methods the relations need.

- the dense network reaches >= 95% test accuracy;
- the lottery ticket (per-layer IMP, 20% of hidden / 10% of output weights per
  level, rewound to init) at 5% density is within 2 points of dense;
- the same ticket randomly re-initialised is below the ticket;
- one-shot magnitude (or SNIP) at init leaves no input-to-output path at a
  density where iterative SynFlow (100 exponential steps) still connects.

With this protocol the relations held for each of seeds 0-7 when it was
chosen (ticket at most 1.8 points below dense, re-init at least 2.0 points
below the ticket, magnitude at init collapsed at x64 and SynFlow never);
seed 0, asserted here, has 1.1 and 2.2 points.
"""
from __future__ import annotations

import pytest

from wann.prune.config import config_from_dict
from wann.prune.runner import run

pytestmark = pytest.mark.slow  # a cut-down training run of the whole protocol


@pytest.fixture(scope="module")
def ticket_rows():
    config = config_from_dict({
        "prune": {"compressions": [], "densities": [0.05]},
        "run": {"seed": 0},
        "methods": ["lottery_ticket", "ticket_reinit"],
    })
    return {row["method"]: row for row in run(config, say=lambda s: None).rows}


def test_dense_reaches_95_percent(ticket_rows):
    assert ticket_rows["dense"]["test_accuracy"] >= 0.95


def test_lottery_ticket_at_5_percent_is_within_2_points_of_dense(ticket_rows):
    ticket = ticket_rows["lottery_ticket"]
    assert ticket["density"] <= 0.05 + 1e-4  # ceil() per layer may keep a weight or two more
    assert ticket["effective_connections"] > 0 and not ticket["collapsed"]
    assert ticket["test_accuracy"] >= ticket_rows["dense"]["test_accuracy"] - 0.02


def test_random_reinit_of_the_ticket_is_worse(ticket_rows):
    reinit, ticket = ticket_rows["ticket_reinit"], ticket_rows["lottery_ticket"]
    assert reinit["nonzero_weights"] == ticket["nonzero_weights"]  # the same mask, fresh weights
    assert reinit["test_accuracy"] < ticket["test_accuracy"]


def test_one_shot_at_init_collapses_where_iterative_synflow_does_not():
    config = config_from_dict({
        "prune": {"compressions": [64, 128]},
        "run": {"seed": 0},
        "methods": ["magnitude_init", "snip", "synflow"],
    })
    rows = run(config, say=lambda s: None).rows
    collapsed = {(r["method"], r["target_compression"]): r["collapsed"] for r in rows}
    witnesses = [c for c in (64, 128)
                 if (collapsed[("magnitude_init", c)] or collapsed[("snip", c)]) and not collapsed[("synflow", c)]]
    assert witnesses, collapsed
    for c in (64, 128):
        synflow = next(r for r in rows if r["method"] == "synflow" and r["target_compression"] == c)
        assert synflow["effective_connections"] > 0.9 * synflow["nonzero_weights"]
