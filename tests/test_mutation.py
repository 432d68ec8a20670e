"""Structural mutations: validity, exactly one change per child, innovations, roulette."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from wann.engine.genome import (
    Genome,
    InnovationTracker,
    NodeKind,
    initial_genome,
    initial_tracker,
    node_depths,
    validate_genome,
)
from wann.engine.mutation import (
    MutationRates,
    add_connection,
    add_node,
    change_activation,
    enable_connection,
    mutate,
)
from wann.engine.network import compile_genome
from wann.errors import UserError

ALL_ACTS = np.arange(1, 11, dtype=np.int8)
NO_STEP = np.array([1, 3, 4, 5, 6, 7, 8, 9, 10], dtype=np.int8)
OPS = ("add_connection", "add_node", "enable_connection", "change_activation")


def conn_table(g: Genome) -> dict[int, tuple[int, int, bool]]:
    return {
        int(i): (int(s), int(d), bool(e))
        for i, s, d, e in zip(g.conn_innov, g.conn_src, g.conn_dst, g.conn_enabled)
    }


def node_table(g: Genome) -> dict[int, tuple[int, int]]:
    return {int(i): (int(k), int(a)) for i, k, a in zip(g.node_id, g.node_kind, g.node_act)}


def classify(parent: Genome, child: Genome, hidden_acts: np.ndarray) -> str:
    """Name the one structural change from parent to child; fail if it is not exactly one."""
    pn, cn = node_table(parent), node_table(child)
    pc, cc = conn_table(parent), conn_table(child)
    new_nodes = set(cn) - set(pn)
    new_conns = set(cc) - set(pc)
    assert set(pn) <= set(cn) and set(pc) <= set(cc), "genes were removed"
    changed_acts = [n for n in pn if pn[n] != cn[n]]
    changed_conns = [i for i in pc if pc[i] != cc[i]]
    # an existing gene may only change its enabled flag
    for i in changed_conns:
        assert pc[i][:2] == cc[i][:2]
    for n in changed_acts:
        assert pn[n][0] == cn[n][0] == NodeKind.HIDDEN
    if new_nodes:
        assert len(new_nodes) == 1 and len(new_conns) == 2 and not changed_acts
        (node,) = new_nodes
        assert cn[node][0] == NodeKind.HIDDEN and cn[node][1] in hidden_acts.tolist()
        assert len(changed_conns) == 1
        (split,) = changed_conns
        s, d, _ = pc[split]
        assert pc[split][2] is True and cc[split][2] is False
        assert sorted(cc[i] for i in new_conns) == sorted([(s, node, True), (node, d, True)])
        return "add_node"
    if new_conns:
        assert len(new_conns) == 1 and not changed_conns and not changed_acts
        (inn,) = new_conns
        assert cc[inn][2] is True
        return "add_connection"
    if changed_conns:
        assert len(changed_conns) == 1 and not changed_acts
        (i,) = changed_conns
        assert pc[i][2] is False and cc[i][2] is True
        return "enable_connection"
    assert len(changed_acts) == 1, "no change at all"
    (n,) = changed_acts
    assert cn[n][1] != pn[n][1] and cn[n][1] in hidden_acts.tolist()
    return "change_activation"


def check_valid(g: Genome) -> None:
    validate_genome(g)
    kinds = dict(zip(g.node_id.tolist(), g.node_kind.tolist()))
    pairs = list(zip(g.conn_src.tolist(), g.conn_dst.tolist()))
    assert len(set(pairs)) == len(pairs), "duplicate (src, dst)"
    assert len(set(g.node_id.tolist())) == len(g.node_id)
    assert len(set(g.conn_innov.tolist())) == len(g.conn_innov)
    for s, d in pairs:
        assert kinds[d] not in (NodeKind.INPUT, NodeKind.BIAS), "link into input/bias"
        assert kinds[s] != NodeKind.OUTPUT, "link out of an output"
        assert s != d
    depth = node_depths(g)
    depth_enabled = node_depths(g, enabled_only=True)
    for s, d in pairs:
        assert depth[s] < depth[d]
    assert set(depth_enabled) == set(depth)
    assert g.node_id.dtype == np.int64 and g.conn_innov.dtype == np.int64
    assert g.node_kind.dtype == np.int8 and g.node_act.dtype == np.int8
    assert g.conn_enabled.dtype == bool
    n = len(g.node_id)
    assert len(g.node_kind) == len(g.node_act) == n
    m = len(g.conn_innov)
    assert len(g.conn_src) == len(g.conn_dst) == len(g.conn_enabled) == m


def snapshot(g: Genome) -> dict:
    return {f.name: getattr(g, f.name).copy() for f in dataclasses.fields(g)}


def assert_unchanged(g: Genome, snap: dict) -> None:
    for name, arr in snap.items():
        np.testing.assert_array_equal(getattr(g, name), arr, err_msg=f"parent {name} modified")


# ----------------------------------------------------------------------------- 10,000 mutations


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_ten_thousand_random_mutations_stay_valid(seed):
    """5 seeds x 10 lineages x 200 mutations, one per generation, as the search applies them."""
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(OPS, 0)
    for lineage in range(10):
        n_in, n_out = int(rng.integers(1, 6)), int(rng.integers(1, 4))
        hidden = ALL_ACTS if lineage % 2 else NO_STEP
        rates = MutationRates(*rng.uniform(0.05, 1.0, size=4)) if lineage % 3 == 0 else MutationRates()
        tracker = initial_tracker(n_in, n_out)
        g = initial_genome(n_in, n_out, 1, float(rng.uniform(0.0, 1.0)), rng)
        check_valid(g)
        for _ in range(200):
            tracker.new_generation()
            before = snapshot(g)
            child = mutate(g, rng, tracker, rates, hidden)
            assert_unchanged(g, before)
            check_valid(child)
            counts[classify(g, child, hidden)] += 1
            # new ids come from the tracker and are above everything seen so far
            assert child.node_id.max() < tracker.next_node_id
            assert child.conn_innov.max() < tracker.next_innovation
            g = child
    assert all(c > 0 for c in counts.values()), counts


def test_mutate_population_in_one_generation_is_consistent():
    """Many children of one population in one generation: shared innovations agree across genomes."""
    rng = np.random.default_rng(3)
    tracker = initial_tracker(3, 2)
    pop = [initial_genome(3, 2, 1, 0.5, rng) for _ in range(30)]
    for _ in range(40):
        tracker.new_generation()
        children = [mutate(pop[int(rng.integers(len(pop)))], rng, tracker, MutationRates(), ALL_ACTS)
                    for _ in range(len(pop))]
        meaning: dict[int, tuple[int, int]] = {}
        for c in children:
            check_valid(c)
            for i, s, d in zip(c.conn_innov.tolist(), c.conn_src.tolist(), c.conn_dst.tolist()):
                # an innovation number means one (src, dst) within a generation's population
                assert meaning.setdefault(i, (s, d)) == (s, d)
        pop = children


# ----------------------------------------------------------------------------- operators


def small_genome() -> Genome:
    """inputs 0, bias 1, output 2, hidden 3 (tanh).

    0->3 enabled, 3->2 enabled, 0->2 disabled (split earlier), 1->2 enabled.
    The only legal new link is 1->3.
    """
    return Genome(
        node_id=np.array([0, 1, 2, 3], dtype=np.int64),
        node_kind=np.array([NodeKind.INPUT, NodeKind.BIAS, NodeKind.OUTPUT, NodeKind.HIDDEN], dtype=np.int8),
        node_act=np.array([1, 1, 1, 5], dtype=np.int8),
        conn_innov=np.array([0, 1, 2, 3], dtype=np.int64),
        conn_src=np.array([0, 1, 0, 3], dtype=np.int64),
        conn_dst=np.array([2, 2, 3, 2], dtype=np.int64),
        conn_enabled=np.array([False, True, True, True]),
    )


def test_add_connection_only_legal_pair():
    g = small_genome()
    tracker = InnovationTracker(next_node_id=4, next_innovation=4)
    before = snapshot(g)
    child = add_connection(g, np.random.default_rng(0), tracker)
    assert_unchanged(g, before)
    assert conn_table(child)[4] == (1, 3, True)
    assert classify(g, child, ALL_ACTS) == "add_connection"
    # same link again in the same generation (another genome): same innovation
    again = add_connection(g.copy(), np.random.default_rng(1), tracker)
    assert conn_table(again)[4] == (1, 3, True)
    assert tracker.next_innovation == 5
    # next generation: a new number
    tracker.new_generation()
    third = add_connection(g, np.random.default_rng(2), tracker)
    assert conn_table(third) == {**conn_table(g), 5: (1, 3, True)}
    assert tracker.next_innovation == 6
    # now nothing legal is left
    assert add_connection(child, np.random.default_rng(0), tracker) is None


def test_add_connection_never_links_equal_or_deeper_to_shallower():
    # chain 0 -> 3 -> 4 -> 2 plus 1 -> 2: depths 0:0, 1:0, 3:1, 4:2, 2:3
    g = Genome(
        node_id=np.array([0, 1, 2, 3, 4], dtype=np.int64),
        node_kind=np.array([0, 1, 3, 2, 2], dtype=np.int8),
        node_act=np.array([1, 1, 1, 5, 5], dtype=np.int8),
        conn_innov=np.array([0, 1, 2, 3, 4], dtype=np.int64),
        conn_src=np.array([0, 1, 0, 3, 4], dtype=np.int64),
        conn_dst=np.array([2, 2, 3, 4, 2], dtype=np.int64),
        conn_enabled=np.array([False, True, True, True, True]),
    )
    tracker = InnovationTracker(next_node_id=5, next_innovation=5)
    seen = set()
    for seed in range(200):
        child = add_connection(g, np.random.default_rng(seed), tracker)
        assert classify(g, child, ALL_ACTS) == "add_connection"
        seen.add((int(child.conn_src[-1]), int(child.conn_dst[-1])))
    # legal: 0->4, 1->3, 1->4, 3->2 ; never 4->3 (would close a cycle), never into 0/1
    assert seen == {(0, 4), (1, 3), (1, 4), (3, 2)}


def test_add_connection_respects_disabled_genes_for_depth():
    # 3 -> 4 is disabled: a link 4 -> 3 would close a cycle as soon as 3 -> 4 is re-enabled,
    # so it must never be proposed.
    g = Genome(
        node_id=np.array([0, 1, 2, 3, 4], dtype=np.int64),
        node_kind=np.array([0, 1, 3, 2, 2], dtype=np.int8),
        node_act=np.array([1, 1, 1, 5, 5], dtype=np.int8),
        conn_innov=np.array([0, 1, 2, 3, 4], dtype=np.int64),
        conn_src=np.array([0, 1, 0, 3, 4], dtype=np.int64),
        conn_dst=np.array([2, 2, 3, 4, 2], dtype=np.int64),
        conn_enabled=np.array([True, True, True, False, True]),
    )
    tracker = InnovationTracker(next_node_id=5, next_innovation=5)
    for seed in range(100):
        child = add_connection(g, np.random.default_rng(seed), tracker)
        check_valid(child)
        s, d, _ = conn_table(child)[int(child.conn_innov[-1])]
        assert (s, d) != (4, 3)


def test_add_connection_none_when_fully_connected():
    rng = np.random.default_rng(0)
    tracker = initial_tracker(3, 2)
    for enable in (0.0, 0.5, 1.0):
        g = initial_genome(3, 2, 1, enable, rng)
        assert add_connection(g, rng, tracker) is None
    # with hidden nodes: small_genome plus its only missing link
    full = add_connection(small_genome(), rng, InnovationTracker(4, 4))
    assert add_connection(full, rng, InnovationTracker(4, 5)) is None


def test_add_node_splits_an_enabled_connection():
    g = small_genome()
    tracker = InnovationTracker(next_node_id=4, next_innovation=4)
    splits = set()
    for seed in range(100):
        before = snapshot(g)
        child = add_node(g, np.random.default_rng(seed), tracker, ALL_ACTS)
        assert_unchanged(g, before)
        check_valid(child)
        assert classify(g, child, ALL_ACTS) == "add_node"
        split = [i for i in conn_table(g) if conn_table(g)[i][2] and not conn_table(child)[i][2]]
        splits.add(conn_table(g)[split[0]][:2])
    # only enabled ones: 0->3, 3->2, 1->2 (never the disabled 0->2)
    assert splits == {(0, 3), (3, 2), (1, 2)}


def test_add_node_innovations_shared_within_generation_new_across():
    # one enabled connection, so the split is forced
    g = small_genome()
    g.conn_enabled[:] = [False, False, True, False]  # only 0->3
    tracker = InnovationTracker(next_node_id=4, next_innovation=4)
    a = add_node(g, np.random.default_rng(0), tracker, ALL_ACTS)
    b = add_node(g.copy(), np.random.default_rng(1), tracker, ALL_ACTS)
    assert conn_table(a)[4] == conn_table(b)[4] == (0, 4, True)
    assert conn_table(a)[5] == conn_table(b)[5] == (4, 3, True)
    assert set(a.node_id.tolist()) == set(b.node_id.tolist()) == {0, 1, 2, 3, 4}
    assert (tracker.next_node_id, tracker.next_innovation) == (5, 6)
    tracker.new_generation()
    c = add_node(g, np.random.default_rng(2), tracker, ALL_ACTS)
    assert conn_table(c)[6] == (0, 5, True)
    assert conn_table(c)[7] == (5, 3, True)
    assert 5 in c.node_id.tolist() and 4 not in c.node_id.tolist()
    assert (tracker.next_node_id, tracker.next_innovation) == (6, 8)


def test_tracker_link_and_split_numbers_do_not_collide():
    tracker = InnovationTracker(next_node_id=10, next_innovation=100)
    assert tracker.link(0, 5) == 100
    assert tracker.split(0, 5) == (10, 101, 102)
    assert tracker.link(1, 5) == 103
    assert tracker.link(0, 5) == 100
    assert tracker.split(0, 5) == (10, 101, 102)
    assert tracker.split(1, 5) == (11, 104, 105)
    tracker.new_generation()
    assert tracker.link(0, 5) == 106
    assert tracker.split(0, 5) == (12, 107, 108)
    assert tracker.state() == {"next_node_id": 13, "next_innovation": 109}


def test_add_node_none_without_enabled_connection():
    g = initial_genome(2, 1, 1, 0.0, np.random.default_rng(0))
    assert add_node(g, np.random.default_rng(0), initial_tracker(2, 1), ALL_ACTS) is None


def test_enable_connection():
    g = small_genome()
    child = enable_connection(g, np.random.default_rng(0))
    assert conn_table(child)[0] == (0, 2, True)
    assert classify(g, child, ALL_ACTS) == "enable_connection"
    assert not g.conn_enabled[0]
    assert enable_connection(child, np.random.default_rng(0)) is None


def test_change_activation_always_different_and_allowed():
    g = small_genome()
    allowed = np.array([5, 9, 10], dtype=np.int8)
    got = set()
    for seed in range(200):
        child = change_activation(g, np.random.default_rng(seed), allowed)
        assert child.node_act.tolist()[:3] == [1, 1, 1]
        got.add(int(child.node_act[3]))
    assert got == {9, 10}
    assert change_activation(g, np.random.default_rng(0), np.array([5], dtype=np.int8)) is None
    no_hidden = initial_genome(2, 1, 1, 1.0, np.random.default_rng(0))
    assert change_activation(no_hidden, np.random.default_rng(0), ALL_ACTS) is None


def test_change_activation_with_repeated_allowed_ids():
    """A repeated id in the allowed list (e.g. config hidden_activations: [tanh, tanh]) must not crash.

    With only tanh allowed and the hidden node already tanh there is no different
    activation: the operator must report "cannot apply" (None), and mutate must
    fall back to another operator instead of raising.
    """
    g = small_genome()  # hidden node 3 is tanh (5)
    twice = np.array([5, 5], dtype=np.int8)
    assert change_activation(g, np.random.default_rng(0), twice) is None
    rng = np.random.default_rng(0)
    rates = MutationRates(add_connection=0.0, add_node=0.0, enable_connection=0.01, change_activation=1.0)
    for _ in range(50):
        assert classify(g, mutate(g, rng, InnovationTracker(4, 4), rates, twice), twice) == "enable_connection"
    # repeated ids alongside a different one: always the different one
    for seed in range(20):
        child = change_activation(g, np.random.default_rng(seed), np.array([5, 5, 9], dtype=np.int8))
        assert int(child.node_act[3]) == 9


# ----------------------------------------------------------------------------- roulette


def test_mutate_falls_back_when_add_connection_cannot_apply():
    # fully connected, all enabled, no hidden nodes: only add_node applies
    rng = np.random.default_rng(5)
    g = initial_genome(3, 2, 1, 1.0, rng)
    tracker = initial_tracker(3, 2)
    rates = MutationRates(add_connection=0.97, add_node=0.01, enable_connection=0.01, change_activation=0.01)
    for _ in range(200):
        tracker.new_generation()
        child = mutate(g, rng, tracker, rates, ALL_ACTS)
        assert classify(g, child, ALL_ACTS) == "add_node"


def test_mutate_falls_back_to_enable():
    # fully connected, nothing enabled: add_connection and add_node and change_activation cannot apply
    rng = np.random.default_rng(6)
    g = initial_genome(2, 2, 1, 0.0, rng)
    tracker = initial_tracker(2, 2)
    for _ in range(100):
        child = mutate(g, rng, tracker, MutationRates(), ALL_ACTS)
        assert classify(g, child, ALL_ACTS) == "enable_connection"


def test_mutate_unchanged_copy_only_when_nothing_applies():
    rng = np.random.default_rng(0)
    g = initial_genome(2, 1, 1, 1.0, rng)  # all enabled, complete, no hidden
    rates = MutationRates(add_connection=1.0, add_node=0.0, enable_connection=1.0, change_activation=1.0)
    child = mutate(g, rng, initial_tracker(2, 1), rates, ALL_ACTS)
    assert child is not g
    assert child.to_dict() == g.to_dict()
    child.conn_enabled[0] = False
    assert g.conn_enabled[0]


def roulette_genome() -> Genome:
    """A genome on which all four operators apply (small_genome: 0->2 disabled, 1->3 missing)."""
    return small_genome()


@pytest.mark.parametrize(
    "rates",
    [MutationRates(), MutationRates(0.1, 0.2, 0.3, 0.4), MutationRates(2.0, 1.0, 1.0, 0.0)],
    ids=["default", "custom", "unnormalised"],
)
def test_roulette_frequencies(rates):
    g = roulette_genome()
    assert add_connection(g, np.random.default_rng(0), InnovationTracker(4, 4)) is not None
    assert add_node(g, np.random.default_rng(0), InnovationTracker(4, 4), ALL_ACTS) is not None
    assert enable_connection(g, np.random.default_rng(0)) is not None
    assert change_activation(g, np.random.default_rng(0), ALL_ACTS) is not None
    rng = np.random.default_rng(1234)
    tracker = InnovationTracker(4, 4)
    n = 20_000
    counts = dict.fromkeys(OPS, 0)
    for _ in range(n):
        counts[classify(g, mutate(g, rng, tracker, rates, ALL_ACTS), ALL_ACTS)] += 1
    weights = np.array([getattr(rates, op) for op in OPS])
    expected = weights / weights.sum()
    observed = np.array([counts[op] for op in OPS]) / n
    assert np.all(np.abs(observed - expected) < 0.02), (observed, expected)
    for op, w in zip(OPS, weights):
        if w == 0:
            assert counts[op] == 0


def test_default_rates_are_the_papers():
    r = MutationRates()
    assert (r.add_connection, r.add_node, r.enable_connection, r.change_activation) == (0.20, 0.25, 0.05, 0.50)


# ----------------------------------------------------------------------------- no weights in genomes


def test_shared_weight_never_stored_in_genome():
    names = {f.name for f in dataclasses.fields(Genome)}
    assert names == {"node_id", "node_kind", "node_act", "conn_innov", "conn_src", "conn_dst", "conn_enabled",
                     "conn_kept"}
    assert not any("weight" in n for n in names)
    rng = np.random.default_rng(9)
    tracker = initial_tracker(4, 2)
    g = initial_genome(4, 2, 1, 0.5, rng)
    for _ in range(100):
        tracker.new_generation()
        g = mutate(g, rng, tracker, MutationRates(), ALL_ACTS)
        assert not hasattr(g, "weight") and not hasattr(g, "weights")
        assert not hasattr(g, "conn_weight")
    d = g.to_dict()
    assert set(d) == {"nodes", "connections"}
    assert all(len(n) == 3 for n in d["nodes"])
    assert all(len(c) == 4 and isinstance(c[3], bool) for c in d["connections"])
    assert "weight" not in repr(d)
    # compiling with or without tuned weights leaves the genome as it was
    before = snapshot(g)
    compile_genome(g, conn_weights={int(i): 3.0 for i in g.conn_innov})
    assert_unchanged(g, before)
    assert np.all(compile_genome(g).conn_weight == 1.0)


# ---- the reference code's variants (search.parent_selection, mutation_fallback, add_connection_rule) ----


def hand_genome(nodes: list[tuple[int, int]], conns: list[tuple[int, int, bool]]) -> Genome:
    """Genome from (id, kind) nodes (activation 1) and (src, dst, enabled) links numbered in order."""
    return Genome(
        node_id=np.array([n for n, _ in nodes], dtype=np.int64),
        node_kind=np.array([k for _, k in nodes], dtype=np.int8),
        node_act=np.ones(len(nodes), dtype=np.int8),
        conn_innov=np.arange(len(conns), dtype=np.int64),
        conn_src=np.array([c[0] for c in conns], dtype=np.int64),
        conn_dst=np.array([c[1] for c in conns], dtype=np.int64),
        conn_enabled=np.array([c[2] for c in conns], dtype=bool),
    )


I, B, O, H = NodeKind.INPUT, NodeKind.BIAS, NodeKind.OUTPUT, NodeKind.HIDDEN


def test_reference_layers_count_enabled_genes_only():
    # inputs 0, 1; bias 2; output 3; hidden 4 -> 5 (disabled), 5 -> 6 (enabled)
    g = hand_genome([(0, I), (1, I), (2, B), (3, O), (4, H), (5, H), (6, H)],
                    [(0, 4, True), (4, 5, False), (5, 6, True), (6, 3, True), (1, 5, True)])
    from wann.engine.mutation import reference_layers

    assert reference_layers(g) == {0: 0, 1: 0, 2: 0, 4: 1, 5: 1, 6: 2, 3: 3}
    assert node_depths(g)[5] == 2  # the default rule counts the disabled gene


def test_reference_add_connection_picks_the_source_first():
    from wann.engine.mutation import add_connection_reference

    # inputs 0, 1, bias 2, outputs 3, 4, 5. Linked already: 0->3, 0->4, 2->3, 2->4, 2->5.
    # Legal: 0->5 (source 0 has one target) and 1->3, 1->4, 1->5 (source 1 has three).
    g = hand_genome([(0, I), (1, I), (2, B), (3, O), (4, O), (5, O)],
                    [(0, 3, True), (0, 4, True), (2, 3, True), (2, 4, True), (2, 5, True)])
    rng = np.random.default_rng(0)
    picks = []
    for _ in range(3000):
        child = add_connection_reference(g, rng, InnovationTracker(next_node_id=6, next_innovation=5))
        validate_genome(child)
        picks.append((int(child.conn_src[-1]), int(child.conn_dst[-1])))
    share = picks.count((0, 5)) / len(picks)
    assert set(picks) == {(0, 5), (1, 3), (1, 4), (1, 5)}
    assert 0.46 < share < 0.54  # each source with a target is equally likely; uniform pairs would give 1/4
    uniform = [add_connection(g, rng, InnovationTracker(next_node_id=6, next_innovation=5)) for _ in range(3000)]
    share = sum(int(c.conn_src[-1]) == 0 for c in uniform) / len(uniform)
    assert 0.21 < share < 0.29


def test_reference_add_connection_never_closes_a_cycle_through_a_disabled_gene():
    from wann.engine.mutation import add_connection_reference, reference_layers

    # input 0, bias 1, output 2, hidden 4, 5, 6: 0->6->4 enabled puts 4 at layer 2; 4->5 is disabled,
    # so 5 is layer 1 and 5->4 is legal by layers, but it would close 5->4->5 if 4->5 were re-enabled.
    g = hand_genome([(0, I), (1, B), (2, O), (4, H), (5, H), (6, H)],
                    [(0, 6, True), (6, 4, True), (4, 5, False), (0, 5, True), (5, 2, True), (4, 2, True)])
    layers = reference_layers(g)
    assert layers[5] < layers[4]
    rng = np.random.default_rng(1)
    picked = set()
    for _ in range(500):
        child = add_connection_reference(g, rng, InnovationTracker(next_node_id=7, next_innovation=6))
        validate_genome(child)  # acyclic over every gene
        picked.add((int(child.conn_src[-1]), int(child.conn_dst[-1])))
    assert (5, 4) not in picked
    assert (1, 4) in picked and (6, 2) in picked  # other links to deeper layers are made


def test_reference_add_node_keeps_a_split_hidden_link_enabled():
    # input 0, bias 1, output 2, hidden 3 -> 4: only the link to split is enabled in the first genome
    nodes = [(0, I), (1, B), (2, O), (3, H), (4, H)]
    hidden_link = hand_genome(nodes, [(0, 3, False), (3, 4, True), (4, 2, False)])
    outer_link = hand_genome(nodes, [(0, 3, True), (3, 4, False), (4, 2, False)])
    acts = np.array([1, 5], dtype=np.int8)
    for genome, keep_expected in ((hidden_link, True), (outer_link, False)):
        for keep in (False, True):
            tracker = InnovationTracker(next_node_id=5, next_innovation=3)
            child = add_node(genome, np.random.default_rng(0), tracker, acts, keep_hidden_links=keep)
            validate_genome(child)
            split = int(np.flatnonzero(genome.conn_enabled)[0])
            assert bool(child.conn_enabled[split]) == (keep and keep_expected)
            assert child.node_id[-1] == 5 and child.node_kind[-1] == H
            src, dst = int(genome.conn_src[split]), int(genome.conn_dst[split])
            assert [(int(a), int(b)) for a, b in zip(child.conn_src[-2:], child.conn_dst[-2:])] == [(src, 5), (5, dst)]
            assert child.conn_enabled[-2:].all()
    # through the roulette: only add_node is drawn
    rates = MutationRates(add_connection=0.0, add_node=1.0, enable_connection=0.0, change_activation=0.0)
    tracker = InnovationTracker(next_node_id=5, next_innovation=3)
    child = mutate(hidden_link, np.random.default_rng(0), tracker, rates, acts, node_rule="reference")
    assert int(child.conn_enabled.sum()) == 3  # 3->4 kept, plus 3->5 and 5->4
    tracker = InnovationTracker(next_node_id=5, next_innovation=3)
    child = mutate(hidden_link, np.random.default_rng(0), tracker, rates, acts)
    assert int(child.conn_enabled.sum()) == 2


def test_reference_add_node_keeps_a_split_link_out_of_splits_until_enable_draws_it():
    from wann.engine.mutation import enable_connection, kept_split_links

    # input 0, bias 1, output 2, hidden 3 -> 4 split into 3 -> 5 -> 4 with 3 -> 4 kept (the reference's
    # disabled-but-live gene); 0 -> 3 and 4 -> 2 are live, nothing is disabled.
    nodes = [(0, I), (1, B), (2, O), (3, H), (4, H)]
    before = hand_genome(nodes, [(0, 3, True), (3, 4, True), (4, 2, True)])
    assert kept_split_links(before) == set()
    tracker = InnovationTracker(next_node_id=5, next_innovation=3)
    rng = np.random.default_rng(0)
    acts = np.array([1, 5], dtype=np.int8)
    split = None
    while split is None:  # split 3 -> 4 (the second gene)
        child = add_node(before, rng, InnovationTracker(next_node_id=5, next_innovation=3), acts, keep_hidden_links=True)
        split = child if (int(child.conn_src[-2]), int(child.conn_dst[-1])) == (3, 4) else None
    assert kept_split_links(split) == {(3, 4)} and split.conn_enabled.all()
    assert split.conn_kept.tolist() == [False, True, False, False, False]
    # the flag survives a file round trip (a checkpoint) and a file may not flag a link it cannot keep
    assert Genome.from_dict(json.loads(json.dumps(split.to_dict()))).conn_kept.tolist() == split.conn_kept.tolist()
    assert "kept" not in before.to_dict()
    for bad in ([0], [99]):  # 0 -> 3 leaves an input; 99 names no connection
        with pytest.raises(UserError):
            Genome.from_dict({**split.to_dict(), "kept": bad})
    picked = set()
    for _ in range(400):
        grand = add_node(split, rng, tracker, acts, keep_hidden_links=True)
        picked.add((int(grand.conn_src[-2]), int(grand.conn_dst[-1])))
    assert picked == {(0, 3), (3, 5), (5, 4), (4, 2)}  # every live link but the kept 3 -> 4
    # enable: nothing is disabled, so it draws the kept link: the network stays, the flag goes
    same = enable_connection(split, rng)
    assert same is not None and same is not split
    assert conn_table(same) == conn_table(split) and not same.conn_kept.any()
    assert np.array_equal(compile_genome(same).src, compile_genome(split).src)
    again = {(int(g.conn_src[-2]), int(g.conn_dst[-1])) for g in (add_node(same, rng, tracker, acts, keep_hidden_links=True)
                                                                  for _ in range(400))}
    assert (3, 4) in again
    resplit = next(g for g in (add_node(same, rng, tracker, acts, keep_hidden_links=True) for _ in range(400))
                   if (int(g.conn_src[-2]), int(g.conn_dst[-1])) == (3, 4))
    assert kept_split_links(resplit) == {(3, 4)}  # kept again by its new split
    assert enable_connection(before, rng) is None  # nothing disabled, nothing kept
    # one disabled gene beside the kept link: each is drawn about half the time
    off = split.copy()
    off.conn_enabled[0] = False
    drawn = [enable_connection(off, rng) for _ in range(2000)]
    assert 0.45 < np.mean([bool(g.conn_enabled[0]) for g in drawn]) < 0.55
    assert all(bool(g.conn_enabled[0]) == bool(g.conn_kept[1]) for g in drawn)  # exactly one of the two changed


def test_clone_fallback_keeps_an_unchanged_child_when_the_drawn_mutation_cannot_apply():
    # every input feeds the output, no hidden node, nothing disabled: only add_node can apply
    g = hand_genome([(0, I), (1, I), (2, B), (3, O)], [(0, 3, True), (1, 3, True), (2, 3, True)])
    rates = MutationRates(add_connection=0.0, add_node=0.5, enable_connection=0.0, change_activation=0.5)
    rng = np.random.default_rng(2)
    fresh = lambda: InnovationTracker(next_node_id=4, next_innovation=3)  # noqa: E731
    redraw = [mutate(g, rng, fresh(), rates, ALL_ACTS) for _ in range(400)]
    assert all(len(c.node_id) == 5 for c in redraw)  # the roulette falls through to add_node
    clone = [mutate(g, rng, fresh(), rates, ALL_ACTS, fallback="clone") for _ in range(400)]
    unchanged = [c for c in clone if len(c.node_id) == 4]
    assert all(conn_table(c) == conn_table(g) for c in unchanged)
    assert 0.42 < len(unchanged) / len(clone) < 0.58
    assert all(len(c.node_id) == 5 for c in clone if len(c.node_id) != 4)


def test_best_of_two_is_a_tournament_twice_as_large():
    from wann.engine.search import tournament_winners

    draws = 200_000
    pool = 10

    def histogram(rule: str, size: int, seed: int) -> np.ndarray:
        winners = tournament_winners(np.random.default_rng(seed), pool, draws, size, rule)
        return np.bincount(winners, minlength=pool) / draws

    twice = histogram("best_of_two", 2, 0)
    assert np.abs(twice - histogram("tournament", 4, 1)).max() < 0.01
    assert np.abs(twice - histogram("tournament", 2, 2)).max() > 0.1
    # the law of the minimum of 4 uniform draws over 10 ranks
    exact = ((pool - np.arange(pool)) / pool) ** 4 - ((pool - np.arange(pool) - 1) / pool) ** 4
    assert np.abs(twice - exact).max() < 0.01

