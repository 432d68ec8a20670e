"""Compile genomes into flat arrays, and evaluate them with Numba kernels.

A compiled network orders its nodes as: inputs, bias, live hidden nodes by
depth (longest path from the inputs), outputs. Incoming connections are kept
per node in CSR form (``indptr``/``src``). Nodes and connections on no
input-to-output path are dropped, so ``n_connections`` is the complexity
objective. Many networks concatenate into one :class:`NetworkBatch` so a
single compiled call can serve a whole shard of the population.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from numba import njit

from wann.engine.activations import activate_lanes
from wann.engine.genome import Genome, NodeKind, longest_path_depths
from wann.errors import UserError


@dataclass
class Network:
    """One genome decoded into flat arrays (see module docstring for the layout)."""

    n_inputs: int  # input nodes, bias not included
    n_outputs: int
    act: np.ndarray  # int64 activation id per node
    indptr: np.ndarray  # int64[n_nodes + 1]: node i reads src[indptr[i]:indptr[i+1]]
    src: np.ndarray  # int64 node index of each live connection's source
    conn_weight: np.ndarray  # float64 per live connection (1.0 unless tuned)
    node_ids: np.ndarray  # int64 genome node id per node index
    conn_innov: np.ndarray  # int64 genome innovation per live connection

    @property
    def n_nodes(self) -> int:
        """Number of live nodes, inputs, bias and outputs included."""
        return len(self.act)

    @property
    def n_connections(self) -> int:
        """Number of enabled connections on some input-to-output path."""
        return len(self.src)

    @property
    def has_conn_weights(self) -> bool:
        """True when some connection carries an individual (tuned) weight."""
        return bool(np.any(self.conn_weight != 1.0))


def live_connections(genome: Genome) -> np.ndarray:
    """Boolean mask of enabled connection genes on some input-to-output path."""
    enabled = genome.conn_enabled
    src = genome.conn_src[enabled].tolist()
    dst = genome.conn_dst[enabled].tolist()
    kinds = dict(zip(genome.node_id.tolist(), genome.node_kind.tolist()))
    forward: dict[int, list[int]] = {}
    backward: dict[int, list[int]] = {}
    for s, d in zip(src, dst):
        forward.setdefault(s, []).append(d)
        backward.setdefault(d, []).append(s)
    from_inputs = _reach([n for n, k in kinds.items() if k <= NodeKind.BIAS], forward)
    to_outputs = _reach([n for n, k in kinds.items() if k == NodeKind.OUTPUT], backward)
    live = np.zeros(len(genome.conn_src), dtype=bool)
    live[enabled] = [s in from_inputs and d in to_outputs for s, d in zip(src, dst)]
    return live


def _reach(starts: list[int], edges: dict[int, list[int]]) -> set[int]:
    seen = set(starts)
    stack = list(starts)
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def compile_genome(
    genome: Genome, conn_weights: Mapping[int, float] | None = None
) -> Network:
    """Decode ``genome`` into a :class:`Network` (dead parts dropped).

    ``conn_weights`` maps innovation numbers to individual weights (from
    tuning); missing ones are 1.0, so the shared weight alone applies.
    """
    live = live_connections(genome)
    src_ids = genome.conn_src[live]
    dst_ids = genome.conn_dst[live]
    innovs = genome.conn_innov[live]
    kinds = genome.node_kind
    ids = genome.node_id
    fixed_in = ids[kinds <= NodeKind.BIAS]  # inputs then bias, in gene order
    outputs = ids[kinds == NodeKind.OUTPUT]
    hidden_live = set(dst_ids.tolist()) - set(outputs.tolist())
    depth = longest_path_depths(
        fixed_in.tolist() + sorted(hidden_live),
        [(a, b) for a, b in zip(src_ids.tolist(), dst_ids.tolist()) if b in hidden_live],
    )
    hidden = sorted(hidden_live, key=lambda n: (depth[n], n))
    order = np.concatenate([fixed_in, np.array(hidden, dtype=np.int64), outputs])
    index_of = {n: k for k, n in enumerate(order.tolist())}
    act_of = dict(zip(ids.tolist(), genome.node_act.tolist()))

    dst_index = np.array([index_of[d] for d in dst_ids.tolist()], dtype=np.int64)
    src_index = np.array([index_of[s] for s in src_ids.tolist()], dtype=np.int64)
    by_target = np.lexsort((innovs, dst_index))  # stable: summation order is fixed
    counts = np.bincount(dst_index, minlength=len(order))
    indptr = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    weights = np.ones(len(by_target), dtype=np.float64)
    if conn_weights:
        weights = np.array(
            [float(conn_weights.get(int(i), 1.0)) for i in innovs[by_target]], dtype=np.float64
        )
    return Network(
        n_inputs=int(np.count_nonzero(kinds == NodeKind.INPUT)),
        n_outputs=len(outputs),
        act=np.array([act_of[n] for n in order.tolist()], dtype=np.int64),
        indptr=indptr,
        src=src_index[by_target],
        conn_weight=weights,
        node_ids=order.astype(np.int64),
        conn_innov=innovs[by_target].astype(np.int64),
    )


def same_topology(a: Genome, b: Genome) -> bool:
    """True when ``a`` and ``b`` have the same nodes and connection genes (activations may differ)."""
    return (
        np.array_equal(a.node_id, b.node_id)
        and np.array_equal(a.node_kind, b.node_kind)
        and np.array_equal(a.conn_innov, b.conn_innov)
        and np.array_equal(a.conn_src, b.conn_src)
        and np.array_equal(a.conn_dst, b.conn_dst)
        and np.array_equal(a.conn_enabled, b.conn_enabled)
    )


def compile_from_parent(genome: Genome, parent: Genome | None, parent_network: Network | None) -> Network:
    """:func:`compile_genome` of ``genome``, reusing its parent's network when the topology is the same.

    Most children of a search differ from their parent only in one node's
    activation (or not at all, for elites); their network is the parent's
    with the activation ids looked up again, which gives exactly what
    :func:`compile_genome` would. Anything else is compiled from scratch.
    """
    if parent is None or parent_network is None or not same_topology(genome, parent):
        return compile_genome(genome)
    if np.array_equal(genome.node_act, parent.node_act):
        return parent_network  # networks are never modified in place
    act_of = dict(zip(genome.node_id.tolist(), genome.node_act.tolist()))
    return dataclasses.replace(
        parent_network,
        act=np.array([act_of[n] for n in parent_network.node_ids.tolist()], dtype=np.int64),
    )


@dataclass
class NetworkBatch:
    """Several networks concatenated; network g owns nodes node_offset[g]:node_offset[g+1].

    ``indptr`` is global (into ``src``); ``src`` holds node indices local to
    each network. All networks share input and output counts.
    """

    n_inputs: int
    n_outputs: int
    node_offset: np.ndarray  # int64[G + 1]
    act: np.ndarray
    indptr: np.ndarray
    src: np.ndarray
    conn_weight: np.ndarray
    shared_only: bool  # True when every conn_weight is 1.0 (fast path)

    def __len__(self) -> int:
        return len(self.node_offset) - 1

    def arrays(self) -> tuple:
        """The tuple of arrays the compiled kernels take, in their order."""
        return (
            self.node_offset,
            self.act,
            self.indptr,
            self.src,
            self.conn_weight,
            self.n_inputs,
            self.n_outputs,
            self.shared_only,
        )


def stack_networks(networks: Sequence[Network]) -> NetworkBatch:
    """Concatenate networks (same input/output sizes) into one batch."""
    if not networks:
        raise ValueError("stack_networks needs at least one network")
    n_in, n_out = networks[0].n_inputs, networks[0].n_outputs
    for net in networks:
        if (net.n_inputs, net.n_outputs) != (n_in, n_out):
            raise ValueError(
                f"cannot stack a {net.n_inputs}-in/{net.n_outputs}-out network with "
                f"{n_in}-in/{n_out}-out ones"
            )
    node_offset = np.zeros(len(networks) + 1, dtype=np.int64)
    np.cumsum([net.n_nodes for net in networks], out=node_offset[1:])
    conn_offset = np.cumsum([0] + [net.n_connections for net in networks])
    indptr = np.concatenate(
        [net.indptr[:-1] + base for net, base in zip(networks, conn_offset[:-1])]
        + [np.array([conn_offset[-1]], dtype=np.int64)]
    )
    conn_weight = np.concatenate([net.conn_weight for net in networks])
    return NetworkBatch(
        n_inputs=n_in,
        n_outputs=n_out,
        node_offset=node_offset,
        act=np.concatenate([net.act for net in networks]),
        indptr=indptr.astype(np.int64),
        src=np.concatenate([net.src for net in networks]).astype(np.int64),
        conn_weight=conn_weight,
        shared_only=bool(np.all(conn_weight == 1.0)),
    )


@njit(cache=True)
def forward_lanes(act, indptr, src, conn_weight, shared_only, base, n_nodes, n_inputs, lane_weight, n_lanes, values):
    """One forward pass of the network at ``base`` for ``n_lanes`` input vectors at once (compiled).

    ``values`` is float64[>= n_nodes, >= n_lanes], lanes contiguous: the
    caller writes lane l's inputs into ``values[:n_inputs, l]``; this writes
    every other node's value, so the outputs are rows ``n_nodes - n_outputs``
    to ``n_nodes - 1``. Lane l runs at shared weight ``lane_weight[l]``.

    A node's value is act(w * sum of its sources). Each lane performs exactly
    the floating-point operations of a one-vector pass, in the same order
    (sum from 0.0 over the sources in CSR order, times w, then the
    activation), so lanes are bit-identical to running the vectors one by
    one; the lockstep form only moves the activation switch, the CSR reads
    and the loop overhead out of the per-vector loop.
    """
    for lane in range(n_lanes):
        values[n_inputs, lane] = 1.0
    for i in range(n_inputs + 1, n_nodes):
        lo = indptr[base + i]
        hi = indptr[base + i + 1]
        if hi - lo == 1:  # one source: weight it and activate in one pass
            scale = 1.0 if shared_only else conn_weight[lo]
            activate_lanes(act[base + i], values, i, src[lo], scale, lane_weight, n_lanes)
            continue
        # Sum the sources in CSR order. The first is copied rather than added
        # to 0.0: the same value up to the sign of a zero, which no later
        # operation can tell apart.
        if lo == hi:
            for lane in range(n_lanes):
                values[i, lane] = 0.0
        elif shared_only:
            s = src[lo]
            for lane in range(n_lanes):
                values[i, lane] = values[s, lane]
            for k in range(lo + 1, hi):
                s = src[k]
                for lane in range(n_lanes):
                    values[i, lane] += values[s, lane]
        else:
            s = src[lo]
            cw = conn_weight[lo]
            for lane in range(n_lanes):
                values[i, lane] = values[s, lane] * cw
            for k in range(lo + 1, hi):
                s = src[k]
                cw = conn_weight[k]
                for lane in range(n_lanes):
                    values[i, lane] += values[s, lane] * cw
        activate_lanes(act[base + i], values, i, i, 1.0, lane_weight, n_lanes)


@njit(cache=True)
def forward_into(act, indptr, src, conn_weight, shared_only, base, n_nodes, n_inputs, obs, weight, values):
    """One forward pass for one input vector at one shared weight (compiled).

    ``values`` is float64[>= n_nodes]; the outputs end up in its last
    ``n_outputs`` live entries. Used once per env step by the gymnasium
    path; it is :func:`forward_lanes` with a single lane.
    """
    column = values.reshape((values.shape[0], 1))
    for j in range(n_inputs):
        column[j, 0] = obs[j]
    lane_weight = np.full(1, weight)
    forward_lanes(act, indptr, src, conn_weight, shared_only, base, n_nodes, n_inputs, lane_weight, 1, column)


@njit(cache=True)
def max_nodes(node_offset):
    """Node count of the largest network in a batch (compiled)."""
    largest = 0
    for g in range(len(node_offset) - 1):
        largest = max(largest, node_offset[g + 1] - node_offset[g])
    return largest


# Data rows evaluated together in one lockstep pass (forward_batch, classify_shard).
ROW_LANES = 256


@njit(cache=True)
def load_rows(inputs, start, n_rows, n_inputs, values):
    """Write rows ``start:start + n_rows`` of ``inputs`` into lanes 0..n_rows-1 of ``values``."""
    for j in range(n_inputs):
        row = values[j]
        for lane in range(n_rows):
            row[lane] = inputs[start + lane, j]


@njit(cache=True)
def forward_block(node_offset, act, indptr, src, conn_weight, shared_only, n_inputs, g, weight, lane_weight, n_rows, values):
    """Network ``g`` of a batch at shared ``weight`` on the ``n_rows`` rows loaded by :func:`load_rows`.

    Returns the network's node count; its outputs are the last ``n_outputs``
    of ``values``' first ``n_nodes`` rows. ``lane_weight`` is scratch.
    """
    base = node_offset[g]
    n_nodes = node_offset[g + 1] - base
    lane_weight[:n_rows] = weight
    forward_lanes(act, indptr, src, conn_weight, shared_only, base, n_nodes, n_inputs, lane_weight, n_rows, values)
    return n_nodes


@njit(cache=True)
def forward_batch(node_offset, act, indptr, src, conn_weight, n_inputs, n_outputs, shared_only, inputs, weights):
    """Outputs of every network for every input row and shared weight (compiled).

    Returns float64[G, n_weights, n_samples, n_outputs]. Rows go through the
    network :data:`ROW_LANES` at a time in lockstep.
    """
    n_net = len(node_offset) - 1
    n_samples = inputs.shape[0]
    out = np.empty((n_net, len(weights), n_samples, n_outputs))
    n_lanes = max(1, min(n_samples, ROW_LANES))
    values = np.empty((max_nodes(node_offset), n_lanes))
    lane_weight = np.empty(n_lanes)
    # Blocks of rows outermost: a block's inputs are loaded once for every
    # network and weight (the forward pass never writes the input rows).
    for start in range(0, n_samples, n_lanes):
        n_rows = min(n_lanes, n_samples - start)
        load_rows(inputs, start, n_rows, n_inputs, values)
        for g in range(n_net):
            for w in range(len(weights)):
                n_nodes = forward_block(node_offset, act, indptr, src, conn_weight, shared_only, n_inputs,
                                        g, weights[w], lane_weight, n_rows, values)
                for o in range(n_outputs):
                    for lane in range(n_rows):
                        out[g, w, start + lane, o] = values[n_nodes - n_outputs + o, lane]
    return out


def forward(network: Network, inputs: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Outputs of one network: float64[n_weights, n_samples, n_outputs].

    ``inputs``: one vector of ``n_inputs`` values, or rows of them.
    """
    batch = stack_networks([network])
    x = np.ascontiguousarray(np.atleast_2d(inputs), dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != batch.n_inputs:
        raise UserError(f"inputs: shape {np.shape(inputs)}: the network reads {batch.n_inputs} values per row")
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    return forward_batch(*batch.arrays(), x, w)[0]
