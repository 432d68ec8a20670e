"""Compiled networks against hand-computed values and an independent numpy forward pass."""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from wann.engine.activations import ACTIVATION_IDS, apply_activation_numpy
from wann.engine.genome import Genome, InnovationTracker, NodeKind, initial_genome, initial_tracker
from wann.engine.mutation import MutationRates, mutate
from wann.engine.network import compile_genome, forward, forward_batch, live_connections, stack_networks

RTOL = 1e-9
ATOL = 1e-12
WEIGHTS = (-2.0, 0.5, 1.0)
KIND = {"input": NodeKind.INPUT, "bias": NodeKind.BIAS, "hidden": NodeKind.HIDDEN, "output": NodeKind.OUTPUT}


def make_genome(nodes, conns) -> Genome:
    """Genome straight from arrays: nodes (id, kind, act name), conns (innov, src, dst, enabled)."""
    return Genome(
        node_id=np.array([n[0] for n in nodes], dtype=np.int64),
        node_kind=np.array([KIND[n[1]] for n in nodes], dtype=np.int8),
        node_act=np.array([ACTIVATION_IDS[n[2]] for n in nodes], dtype=np.int8),
        conn_innov=np.array([c[0] for c in conns], dtype=np.int64),
        conn_src=np.array([c[1] for c in conns], dtype=np.int64),
        conn_dst=np.array([c[2] for c in conns], dtype=np.int64),
        conn_enabled=np.array([c[3] for c in conns], dtype=bool),
    )


# 2 inputs (0, 1), bias 2, output 3 (linear), hidden 4 (tanh)
BASE_NODES = [(0, "input", "linear"), (1, "input", "linear"), (2, "bias", "linear"),
              (3, "output", "linear"), (4, "hidden", "tanh")]
BASE_CONNS = [
    (0, 0, 4, True),   # x0 -> h
    (1, 1, 4, True),   # x1 -> h
    (2, 2, 4, True),   # bias -> h
    (3, 4, 3, True),   # h -> out
    (4, 0, 3, True),   # skip x0 -> out
]
INPUTS = np.array([[0.3, -0.7], [1.5, 0.25], [-2.0, 0.0], [0.0, 0.0], [0.9, 0.8]])


def base_expected(x: np.ndarray, w: float) -> np.ndarray:
    """out = w * (tanh(w * (x0 + x1 + 1)) + x0)."""
    h = np.tanh(w * (x[:, 0] + x[:, 1] + 1.0))
    return w * (h + x[:, 0])


def test_hand_example_values():
    net = compile_genome(make_genome(BASE_NODES, BASE_CONNS))
    out = forward(net, INPUTS, WEIGHTS)
    assert out.shape == (len(WEIGHTS), len(INPUTS), 1)
    for wi, w in enumerate(WEIGHTS):
        assert_allclose(out[wi, :, 0], base_expected(INPUTS, w), rtol=RTOL, atol=ATOL)
    # one value worked by hand: x = (0.3, -0.7), w = 0.5 -> 0.5 * (tanh(0.3) + 0.3)
    assert out[1, 0, 0] == pytest.approx(0.5 * (0.29131261245159090 + 0.3), rel=1e-12)
    # x = (0, 0), w = -2 -> -2 * tanh(-2)
    assert out[0, 3, 0] == pytest.approx(-2.0 * -0.96402758007581690, rel=1e-12)
    assert net.n_connections == 5
    assert net.n_nodes == 5


def test_single_sample_vector_input_and_bias_is_one():
    # only the bias feeds the output: out = w * 1 whatever the inputs
    g = make_genome(BASE_NODES[:4], [(2, 2, 3, True), (0, 0, 3, False)])
    net = compile_genome(g)
    out = forward(net, np.array([123.0, -7.0]), [-2.0, 0.5])
    assert_array_equal(out[:, 0, 0], [-2.0, 0.5])


def test_disabled_connections_are_ignored():
    conns = BASE_CONNS + [(5, 1, 3, False), (6, 2, 3, False)]
    net = compile_genome(make_genome(BASE_NODES, conns))
    out = forward(net, INPUTS, WEIGHTS)
    for wi, w in enumerate(WEIGHTS):
        assert_allclose(out[wi, :, 0], base_expected(INPUTS, w), rtol=RTOL, atol=ATOL)
    assert net.n_connections == 5
    assert sorted(net.conn_innov.tolist()) == [0, 1, 2, 3, 4]

    # disabling the skip removes its term: out = w * tanh(...)
    conns = [c if c[0] != 4 else (4, 0, 3, False) for c in BASE_CONNS]
    net = compile_genome(make_genome(BASE_NODES, conns))
    out = forward(net, INPUTS, WEIGHTS)
    for wi, w in enumerate(WEIGHTS):
        expected = w * np.tanh(w * (INPUTS[:, 0] + INPUTS[:, 1] + 1.0))
        assert_allclose(out[wi, :, 0], expected, rtol=RTOL, atol=ATOL)
    assert net.n_connections == 4


def test_dead_nodes_and_connections_are_dropped():
    nodes = BASE_NODES + [
        (5, "hidden", "tanh"),      # its only input is disabled; feeds the output
        (6, "hidden", "gaussian"),  # fed by x1, feeds nothing
        (7, "hidden", "gaussian"),  # fed by 6 only, feeds nothing
        (8, "hidden", "relu"),      # fed only by dead 5, feeds the output
    ]
    conns = BASE_CONNS + [
        (10, 0, 5, False),
        (11, 5, 3, True),
        (12, 1, 6, True),
        (13, 6, 7, True),
        (14, 5, 8, True),
        (15, 8, 3, True),
    ]
    g = make_genome(nodes, conns)
    net = compile_genome(g)
    assert net.n_connections == 5
    assert sorted(net.conn_innov.tolist()) == [0, 1, 2, 3, 4]
    assert sorted(net.node_ids.tolist()) == [0, 1, 2, 3, 4]
    live = live_connections(g)
    assert live.tolist() == [True] * 5 + [False] * 6
    out = forward(net, INPUTS, WEIGHTS)
    for wi, w in enumerate(WEIGHTS):
        assert_allclose(out[wi, :, 0], base_expected(INPUTS, w), rtol=RTOL, atol=ATOL)


def test_network_without_live_connections():
    g = make_genome(BASE_NODES, [(c[0], c[1], c[2], False) for c in BASE_CONNS])
    net = compile_genome(g)
    assert net.n_connections == 0
    assert sorted(net.node_ids.tolist()) == [0, 1, 2, 3]  # inputs, bias, output stay
    out = forward(net, INPUTS, WEIGHTS)
    assert_array_equal(out, 0.0)  # linear(w * 0)


def test_hidden_nodes_ordered_by_longest_path_depth():
    # ids deliberately out of order: 9 (depth 1) -> 5 (depth 2) -> 7 (depth 3);
    # 7 is also fed straight from x0 (shortest path 1, longest path 3)
    nodes = [(0, "input", "linear"), (1, "input", "linear"), (2, "bias", "linear"),
             (3, "output", "linear"),
             (7, "hidden", "sin"), (5, "hidden", "tanh"), (9, "hidden", "relu")]
    conns = [
        (20, 7, 3, True),
        (21, 5, 7, True),
        (22, 0, 7, True),
        (23, 9, 5, True),
        (24, 1, 9, True),
        (25, 2, 9, True),
        (26, 9, 3, True),
    ]
    net = compile_genome(make_genome(nodes, conns))
    assert net.node_ids.tolist() == [0, 1, 2, 9, 5, 7, 3]
    assert net.n_connections == 7
    x = INPUTS
    out = forward(net, x, WEIGHTS)
    for wi, w in enumerate(WEIGHTS):
        h9 = np.maximum(w * (x[:, 1] + 1.0), 0.0)
        h5 = np.tanh(w * h9)
        h7 = np.sin(np.pi * w * (h5 + x[:, 0]))
        assert_allclose(out[wi, :, 0], w * (h7 + h9), rtol=RTOL, atol=ATOL)


def test_multiple_outputs_in_gene_order_and_all_activations():
    # one hidden node per activation, each fed by x0 and the bias, each feeding output 3;
    # output 4 gets x1 only
    acts = ["linear", "step", "sin", "gaussian", "tanh", "sigmoid", "inverse", "abs", "relu", "cos"]
    nodes = [(0, "input", "linear"), (1, "input", "linear"), (2, "bias", "linear"),
             (3, "output", "linear"), (4, "output", "linear")]
    conns = [(0, 1, 4, True)]
    for k, a in enumerate(acts):
        nid = 10 + k
        nodes.append((nid, "hidden", a))
        conns += [(100 + 3 * k, 0, nid, True), (101 + 3 * k, 2, nid, True), (102 + 3 * k, nid, 3, True)]
    net = compile_genome(make_genome(nodes, conns))
    funcs = {
        "linear": lambda v: v, "step": lambda v: (v > 0) * 1.0, "sin": lambda v: np.sin(np.pi * v),
        "gaussian": lambda v: np.exp(-v * v / 2), "tanh": np.tanh,
        "sigmoid": lambda v: (np.tanh(v / 2) + 1) / 2, "inverse": lambda v: -v, "abs": np.abs,
        "relu": lambda v: np.maximum(v, 0.0), "cos": lambda v: np.cos(np.pi * v),
    }
    x = np.array([[0.3, 0.1], [-1.7, 2.0], [-1.0, 0.5], [0.45, -0.2]])
    out = forward(net, x, WEIGHTS)
    for wi, w in enumerate(WEIGHTS):
        pre = w * (x[:, 0] + 1.0)
        total = sum(funcs[a](pre) for a in acts)
        assert_allclose(out[wi, :, 0], w * total, rtol=RTOL, atol=ATOL)
        assert_allclose(out[wi, :, 1], w * x[:, 1], rtol=RTOL, atol=ATOL)


def test_per_connection_weights_multiply():
    g = make_genome(BASE_NODES, BASE_CONNS)
    cw = {0: 0.5, 1: -1.5, 2: 2.0, 4: 3.0}  # innovation 3 (h -> out) left at 1.0
    net = compile_genome(g, conn_weights=cw)
    assert net.has_conn_weights
    assert not compile_genome(g).has_conn_weights
    out = forward(net, INPUTS, WEIGHTS)
    for wi, w in enumerate(WEIGHTS):
        h = np.tanh(w * (0.5 * INPUTS[:, 0] - 1.5 * INPUTS[:, 1] + 2.0 * 1.0))
        expected = w * (1.0 * h + 3.0 * INPUTS[:, 0])
        assert_allclose(out[wi, :, 0], expected, rtol=RTOL, atol=ATOL)
    # weights for dead/disabled/unknown innovations are ignored
    conns = BASE_CONNS + [(5, 1, 3, False)]
    net2 = compile_genome(make_genome(BASE_NODES, conns), conn_weights={**cw, 5: 100.0, 999: 7.0})
    assert_allclose(forward(net2, INPUTS, WEIGHTS), out, rtol=RTOL, atol=ATOL)


def test_batch_mixing_weighted_and_shared_networks():
    g = make_genome(BASE_NODES, BASE_CONNS)
    plain = compile_genome(g)
    tuned = compile_genome(g, conn_weights={0: 0.5, 4: -2.0})
    batch = stack_networks([plain, tuned, plain])
    assert not batch.shared_only
    assert stack_networks([plain, plain]).shared_only
    out = forward_batch(*batch.arrays(), INPUTS, np.array(WEIGHTS))
    assert_array_equal(out[0], forward(plain, INPUTS, WEIGHTS))
    assert_array_equal(out[1], forward(tuned, INPUTS, WEIGHTS))
    assert_array_equal(out[2], forward(plain, INPUTS, WEIGHTS))
    assert not np.allclose(out[0], out[1])


@pytest.mark.parametrize(
    "data,expected",
    [
        # bias gene listed before the input gene; bias -> output only: out = w * 1
        ({"nodes": [[1, "bias", "linear"], [0, "input", "linear"], [2, "output", "linear"]],
          "connections": [[0, 1, 2, True]]}, 1.0),
        # two bias genes, both -> output: out = w * (1 + 1)
        ({"nodes": [[0, "input", "linear"], [1, "bias", "linear"], [2, "bias", "linear"],
                    [3, "output", "linear"]],
          "connections": [[0, 1, 3, True], [1, 2, 3, True]]}, 2.0),
    ],
    ids=["bias-first", "two-biases"],
)
def test_genome_with_unusual_bias_layout_is_rejected_or_exact(data, expected):
    """from_dict must reject a genome whose bias is not the one node right after the inputs,
    or else the network must still give every bias node the value 1.

    The compiled layout (and ``forward_into``) assumes node index ``n_inputs`` is the
    bias; a genome that passes validation with another layout gets the wrong values.
    """
    try:
        g = Genome.from_dict(data)
    except ValueError:
        return
    out = forward(compile_genome(g), np.array([[5.0]]), [1.0])
    assert out[0, 0, 0] == expected


def test_stack_networks_rejects_mismatched_sizes():
    """Networks with different input or output counts cannot share one batch: refuse, don't mix."""
    a = compile_genome(initial_genome(2, 1, 1, 1.0, np.random.default_rng(0)))
    b = compile_genome(initial_genome(3, 1, 1, 1.0, np.random.default_rng(0)))
    c = compile_genome(initial_genome(2, 2, 1, 1.0, np.random.default_rng(0)))
    with pytest.raises(ValueError):
        stack_networks([a, b])
    with pytest.raises(ValueError):
        stack_networks([a, c])
    with pytest.raises(ValueError):
        stack_networks([])
    assert len(stack_networks([a, a])) == 2


# ----------------------------------------------------------------------------- random genomes


def grow_genome(rng: np.random.Generator, n_in: int, n_out: int, n_mut: int,
                tracker: InnovationTracker | None = None, hidden=None, rates=None) -> Genome:
    """A genome grown by ``n_mut`` mutations (one per generation) from an initial genome."""
    if tracker is None:
        tracker = initial_tracker(n_in, n_out)
    if hidden is None:
        hidden = np.arange(1, 11, dtype=np.int8)
    rates = rates or MutationRates()
    g = initial_genome(n_in, n_out, 1, float(rng.uniform(0.2, 1.0)), rng)
    for _ in range(n_mut):
        tracker.new_generation()
        g = mutate(g, rng, tracker, rates, hidden)
    return g


def reference_forward(g: Genome, x: np.ndarray, w: float, conn_weights=None) -> np.ndarray:
    """Plain numpy forward pass straight from the genes: [n_samples, n_outputs].

    Kahn topological order over the enabled connections; each node's incoming
    values are summed in innovation order.
    """
    ids = g.node_id.tolist()
    kinds = g.node_kind.tolist()
    acts = dict(zip(ids, g.node_act.tolist()))
    conn_weights = conn_weights or {}
    enabled = [
        (inn, s, d)
        for inn, s, d, e in zip(g.conn_innov.tolist(), g.conn_src.tolist(), g.conn_dst.tolist(),
                                g.conn_enabled.tolist())
        if e
    ]
    incoming = {i: [] for i in ids}
    indeg = {i: 0 for i in ids}
    children = {i: [] for i in ids}
    for inn, s, d in sorted(enabled):
        incoming[d].append((s, conn_weights.get(inn, 1.0)))
        indeg[d] += 1
        children[s].append(d)
    values: dict[int, np.ndarray] = {}
    inputs = [i for i, k in zip(ids, kinds) if k == NodeKind.INPUT]
    for j, i in enumerate(inputs):
        values[i] = x[:, j].astype(float)
    for i, k in zip(ids, kinds):
        if k == NodeKind.BIAS:
            values[i] = np.ones(len(x))
    ready = [i for i in ids if indeg[i] == 0]
    order = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for c in children[node]:
            indeg[c] -= 1
            if indeg[c] == 0:
                ready.append(c)
    assert len(order) == len(ids), "cycle"
    for node in order:
        if node in values:
            continue
        total = np.zeros(len(x))
        for s, cw in incoming[node]:
            total = total + values[s] * cw if conn_weights else total + values[s]
        values[node] = apply_activation_numpy(acts[node], w * total)
    outputs = [i for i, k in zip(ids, kinds) if k == NodeKind.OUTPUT]
    return np.stack([values[o] for o in outputs], axis=1)


SIZES = [(1, 1), (2, 1), (3, 2), (4, 1), (5, 1), (5, 3)]
N_RANDOM = 1000


@pytest.fixture(scope="module")
def random_genomes():
    """1,000 grown genomes in groups by (n_inputs, n_outputs)."""
    rng = np.random.default_rng(20240601)
    groups: dict[tuple[int, int], list[Genome]] = {s: [] for s in SIZES}
    for k in range(N_RANDOM):
        n_in, n_out = SIZES[k % len(SIZES)]
        n_mut = int(rng.integers(0, 60))
        groups[(n_in, n_out)].append(grow_genome(rng, n_in, n_out, n_mut))
    return groups


def test_random_genomes_are_varied(random_genomes):
    all_g = [g for gs in random_genomes.values() for g in gs]
    assert len(all_g) == N_RANDOM
    n_hidden = [int(np.count_nonzero(g.node_kind == NodeKind.HIDDEN)) for g in all_g]
    assert max(n_hidden) >= 10
    assert min(n_hidden) == 0
    acts = set(np.concatenate([g.node_act[g.node_kind == NodeKind.HIDDEN] for g in all_g]).tolist())
    assert acts == set(range(1, 11))


def test_random_genomes_match_reference_forward(random_genomes):
    rng = np.random.default_rng(7)
    weights = np.array([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 1.37])
    for (n_in, n_out), genomes in random_genomes.items():
        x = rng.normal(0.0, 1.5, size=(5, n_in))
        nets = [compile_genome(g) for g in genomes]
        batch_out = forward_batch(*stack_networks(nets).arrays(), x, weights)
        assert batch_out.shape == (len(nets), len(weights), 5, n_out)
        for g, net, b_out in zip(genomes, nets, batch_out):
            single = forward(net, x, weights)
            assert_array_equal(b_out, single)
            # complexity objective: live enabled connections only
            assert net.n_connections == int(live_connections(g).sum())
            assert net.n_connections <= g.n_enabled
            for wi, w in enumerate(weights):
                expected = reference_forward(g, x, w)
                assert_allclose(single[wi], expected, rtol=RTOL, atol=ATOL,
                                err_msg=f"{g.to_dict()} w={w}")


def test_random_genomes_with_connection_weights(random_genomes):
    rng = np.random.default_rng(11)
    weights = np.array([-1.0, 0.5, 2.0])
    for (n_in, n_out), genomes in random_genomes.items():
        genomes = genomes[:40]
        x = rng.normal(0.0, 1.0, size=(4, n_in))
        cws = [
            {int(i): float(rng.uniform(-2, 2)) for i in g.conn_innov if rng.random() < 0.7}
            for g in genomes
        ]
        nets = [compile_genome(g, conn_weights=cw) for g, cw in zip(genomes, cws)]
        batch_out = forward_batch(*stack_networks(nets).arrays(), x, weights)
        for g, cw, net, b_out in zip(genomes, cws, nets, batch_out):
            assert_array_equal(b_out, forward(net, x, weights))
            for wi, w in enumerate(weights):
                expected = reference_forward(g, x, w, conn_weights=cw)
                assert_allclose(b_out[wi], expected, rtol=RTOL, atol=ATOL)


def test_compiled_layout_invariants(random_genomes):
    for genomes in random_genomes.values():
        for g in genomes[:80]:
            net = compile_genome(g)
            n_in, n_out = g.n_inputs, g.n_outputs
            kinds = dict(zip(g.node_id.tolist(), g.node_kind.tolist()))
            order = net.node_ids.tolist()
            assert [kinds[i] for i in order[:n_in]] == [NodeKind.INPUT] * n_in
            assert kinds[order[n_in]] == NodeKind.BIAS
            assert [kinds[i] for i in order[len(order) - n_out:]] == [NodeKind.OUTPUT] * n_out
            # every connection reads an earlier node: a valid evaluation order
            for i in range(net.n_nodes):
                srcs = net.src[net.indptr[i]:net.indptr[i + 1]]
                assert np.all(srcs < i)
                if i <= n_in:
                    assert len(srcs) == 0
            assert net.indptr[-1] == net.n_connections
            assert len(net.conn_weight) == net.n_connections
            assert np.all(net.conn_weight == 1.0)


def test_compile_from_parent_equals_compile_genome():
    """Children that only change an activation (or nothing) reuse the parent's network exactly."""
    from wann.engine.genome import initial_genome, initial_tracker
    from wann.engine.mutation import MutationRates, mutate
    from wann.engine.network import compile_from_parent

    rng = np.random.default_rng(12)
    tracker = initial_tracker(4, 2)
    acts = np.arange(1, 11, dtype=np.int8)
    parent = initial_genome(4, 2, 1, 0.5, rng)
    parent_net = compile_genome(parent)
    reused = 0
    for _ in range(300):
        tracker.new_generation()
        child = mutate(parent, rng, tracker, MutationRates(), acts)
        fast = compile_from_parent(child, parent, parent_net)
        slow = compile_genome(child)
        for field in ("act", "indptr", "src", "conn_weight", "node_ids", "conn_innov"):
            assert np.array_equal(getattr(fast, field), getattr(slow, field)), field
            assert getattr(fast, field).dtype == getattr(slow, field).dtype, field
        assert (fast.n_inputs, fast.n_outputs) == (slow.n_inputs, slow.n_outputs)
        reused += fast is parent_net or fast.src is parent_net.src
        parent, parent_net = child, fast
    assert reused > 100  # most mutations change an activation: the fast path was exercised
