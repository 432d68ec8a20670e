"""Genome serialisation, validation and the initial population."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from wann.engine.genome import (
    Genome,
    NodeKind,
    initial_genome,
    initial_tracker,
    node_depths,
    validate_genome,
)
from wann.engine.mutation import MutationRates, mutate

ALL_ACTS = np.arange(1, 11, dtype=np.int8)


def grown(seed: int, n_in: int = 3, n_out: int = 2, n_mut: int = 40) -> Genome:
    rng = np.random.default_rng(seed)
    tracker = initial_tracker(n_in, n_out)
    g = initial_genome(n_in, n_out, 1, 0.5, rng)
    for _ in range(n_mut):
        tracker.new_generation()
        g = mutate(g, rng, tracker, MutationRates(), ALL_ACTS)
    return g


def assert_same_genome(a: Genome, b: Genome) -> None:
    for name in ("node_id", "node_kind", "node_act", "conn_innov", "conn_src", "conn_dst", "conn_enabled"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)


# ----------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("seed", range(20))
def test_to_dict_from_dict_round_trip(seed):
    g = grown(seed, n_in=1 + seed % 5, n_out=1 + seed % 3, n_mut=seed * 3)
    d = g.to_dict()
    text = json.dumps(d)  # JSON-ready: plain ints, strings, bools
    back = Genome.from_dict(json.loads(text))
    assert_same_genome(g, back)
    assert back.to_dict() == d


def test_to_dict_format():
    g = initial_genome(2, 1, 5, 1.0, np.random.default_rng(0))
    d = g.to_dict()
    assert d["nodes"] == [[0, "input", "linear"], [1, "input", "linear"], [2, "bias", "linear"],
                          [3, "output", "tanh"]]
    assert d["connections"] == [[0, 0, 3, True], [1, 1, 3, True], [2, 2, 3, True]]
    for n in d["nodes"]:
        assert type(n[0]) is int
    for c in d["connections"]:
        assert [type(v) for v in c] == [int, int, int, bool]


def test_copy_is_deep():
    g = grown(1)
    c = g.copy()
    assert_same_genome(g, c)
    c.conn_enabled[:] = ~c.conn_enabled
    c.node_act[-1] = 9 if c.node_act[-1] != 9 else 8
    assert not np.array_equal(c.conn_enabled, g.conn_enabled)
    assert not np.array_equal(c.node_act, g.node_act)


# ----------------------------------------------------------------------------- from_dict rejects


def base_dict() -> dict:
    """inputs 0, 1; bias 2; output 3; hidden 4 and 5 in a chain 0 -> 4 -> 5 -> 3."""
    return {
        "nodes": [[0, "input", "linear"], [1, "input", "linear"], [2, "bias", "linear"],
                  [3, "output", "linear"], [4, "hidden", "tanh"], [5, "hidden", "relu"]],
        "connections": [[0, 0, 3, False], [1, 1, 3, True], [2, 2, 3, True],
                        [10, 0, 4, True], [11, 4, 5, True], [12, 5, 3, True]],
    }


def test_base_dict_is_valid():
    g = Genome.from_dict(base_dict())
    validate_genome(g)
    assert g.n_inputs == 2 and g.n_outputs == 1 and g.n_enabled == 5


def _with(conns=None, nodes=None) -> dict:
    d = copy.deepcopy(base_dict())
    if conns is not None:
        d["connections"] += conns
    if nodes is not None:
        d["nodes"] += nodes
    return d


BAD = {
    "cycle": _with(conns=[[13, 5, 4, True]]),
    "disabled cycle": _with(conns=[[13, 5, 4, False]]),
    "self loop": _with(conns=[[13, 4, 4, True]]),
    "unknown source id": _with(conns=[[13, 42, 3, True]]),
    "unknown destination id": _with(conns=[[13, 0, 42, True]]),
    "unknown activation": _with(nodes=[[6, "hidden", "swish"]]),
    "unknown kind": _with(nodes=[[6, "hiddn", "tanh"]]),
    "link into input": _with(conns=[[13, 4, 1, True]]),
    "link into bias": _with(conns=[[13, 0, 2, True]]),
    "link out of output": _with(nodes=[[6, "output", "linear"]], conns=[[13, 3, 6, True]]),
    "duplicate innovation": _with(conns=[[12, 1, 4, True]]),
    "duplicate connection": _with(conns=[[13, 5, 3, False]]),
    "duplicate node id": _with(nodes=[[4, "hidden", "sin"]]),
    "missing connections": {"nodes": base_dict()["nodes"]},
    "short connection": _with(conns=[[13, 1, 4]]),
    "input after hidden": {
        "nodes": [[0, "input", "linear"], [1, "bias", "linear"], [3, "hidden", "tanh"],
                  [4, "input", "linear"], [2, "output", "linear"]],
        "connections": [[0, 0, 2, True]],
    },
}


@pytest.mark.parametrize("name", list(BAD))
def test_from_dict_rejects(name):
    with pytest.raises(ValueError) as info:
        Genome.from_dict(BAD[name])
    msg = str(info.value)
    assert msg and "\n" not in msg


def test_from_dict_messages_name_the_defect():
    with pytest.raises(ValueError, match="cycle"):
        Genome.from_dict(BAD["cycle"])
    with pytest.raises(ValueError, match="42"):
        Genome.from_dict(BAD["unknown source id"])
    with pytest.raises(ValueError, match="swish"):
        Genome.from_dict(BAD["unknown activation"])
    with pytest.raises(ValueError, match="input or bias"):
        Genome.from_dict(BAD["link into input"])
    with pytest.raises(ValueError, match="innovation"):
        Genome.from_dict(BAD["duplicate innovation"])


# ----------------------------------------------------------------------------- node_depths


def test_node_depths():
    g = Genome.from_dict(_with(conns=[[13, 1, 5, True]]))
    d = node_depths(g)
    assert d[0] == d[1] == d[2] == 0
    assert d[4] == 1 and d[5] == 2  # longest path: 0 -> 4 -> 5 although 1 -> 5 is shorter
    assert d[3] == 3
    # outputs sit past every hidden node even when fed straight from an input only
    g2 = Genome.from_dict(_with(nodes=[[6, "output", "linear"]], conns=[[13, 0, 6, True]]))
    assert node_depths(g2)[6] == node_depths(g2)[3] == 3
    # enabled_only ignores disabled genes
    d3 = base_dict()
    d3["connections"][4][3] = False  # 4 -> 5 disabled
    g3 = Genome.from_dict(d3)
    assert node_depths(g3)[5] == 2
    assert node_depths(g3, enabled_only=True)[5] == 0


# ----------------------------------------------------------------------------- initial genomes


@pytest.mark.parametrize("n_in,n_out", [(1, 1), (5, 1), (3, 4)])
def test_initial_genome_layout(n_in, n_out):
    g = initial_genome(n_in, n_out, 5, 0.5, np.random.default_rng(0))
    validate_genome(g)
    assert g.n_inputs == n_in and g.n_outputs == n_out
    assert g.node_id.tolist() == list(range(n_in + 1 + n_out))
    assert g.node_kind.tolist() == [NodeKind.INPUT] * n_in + [NodeKind.BIAS] + [NodeKind.OUTPUT] * n_out
    assert not np.any(g.node_kind == NodeKind.HIDDEN)
    assert g.node_act.tolist() == [1] * (n_in + 1) + [5] * n_out
    pairs = list(zip(g.conn_src.tolist(), g.conn_dst.tolist()))
    expected = [(s, n_in + 1 + o) for s in range(n_in + 1) for o in range(n_out)]
    assert sorted(pairs) == sorted(expected)
    assert len(pairs) == (n_in + 1) * n_out
    # innovations fixed by layout: source * n_outputs + output
    for inn, s, d in zip(g.conn_innov.tolist(), g.conn_src.tolist(), g.conn_dst.tolist()):
        assert inn == s * n_out + (d - n_in - 1)
    t = initial_tracker(n_in, n_out)
    assert t.next_node_id == n_in + 1 + n_out
    assert t.next_innovation == (n_in + 1) * n_out
    assert t.next_innovation > g.conn_innov.max() and t.next_node_id > g.node_id.max()


def test_initial_genomes_agree_on_innovations():
    rng = np.random.default_rng(0)
    a, b = initial_genome(4, 2, 1, 0.3, rng), initial_genome(4, 2, 1, 0.9, rng)
    np.testing.assert_array_equal(a.conn_innov, b.conn_innov)
    np.testing.assert_array_equal(a.conn_src, b.conn_src)
    np.testing.assert_array_equal(a.conn_dst, b.conn_dst)


@pytest.mark.parametrize("p", [0.05, 0.25, 0.5, 0.8])
def test_initial_enable_fraction(p):
    rng = np.random.default_rng(int(p * 100))
    genomes = [initial_genome(5, 2, 1, p, rng) for _ in range(2000)]
    enabled = np.concatenate([g.conn_enabled for g in genomes])
    assert len(enabled) == 2000 * 12
    assert abs(enabled.mean() - p) < 0.015
    # each connection position on its own as well, not just overall
    per_position = np.mean([g.conn_enabled for g in genomes], axis=0)
    assert np.all(np.abs(per_position - p) < 0.05)
    # genomes differ from each other
    assert len({g.conn_enabled.tobytes() for g in genomes}) > 50


def test_initial_enable_extremes():
    rng = np.random.default_rng(0)
    assert all(initial_genome(3, 2, 1, 1.0, rng).conn_enabled.all() for _ in range(50))
    assert not any(initial_genome(3, 2, 1, 0.0, rng).conn_enabled.any() for _ in range(50))


def test_initial_genome_reproducible_from_seed():
    a = initial_genome(5, 1, 1, 0.5, np.random.default_rng(42))
    b = initial_genome(5, 1, 1, 0.5, np.random.default_rng(42))
    assert a.to_dict() == b.to_dict()
