"""WANN genomes: node genes and connection genes, and the id counters.

A genome is plain data (numpy arrays in a dataclass) so that it serialises to
JSON exactly and copies cheaply. The shared weight is never stored here: it
belongs to the evaluation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Iterable

import numpy as np

from wann.engine import filecheck as fc
from wann.engine.activations import ACTIVATIONS, activation_id
from wann.errors import UserError


class NodeKind(IntEnum):
    """Kind of a node gene."""

    INPUT = 0
    BIAS = 1
    HIDDEN = 2
    OUTPUT = 3


@dataclass
class Genome:
    """Node genes and connection genes of one network (no weights).

    Node ids are fixed by layout: inputs ``0..n_in-1``, bias ``n_in``, outputs
    ``n_in+1..n_in+n_out``, hidden nodes from ``n_in+n_out+1`` upward.
    """

    node_id: np.ndarray  # int64, one per node gene
    node_kind: np.ndarray  # int8, NodeKind values
    node_act: np.ndarray  # int8, activation ids (1..10)
    conn_innov: np.ndarray  # int64 innovation numbers
    conn_src: np.ndarray  # int64 source node ids
    conn_dst: np.ndarray  # int64 destination node ids
    conn_enabled: np.ndarray  # bool
    conn_kept: np.ndarray | None = None  # bool; None -> all False (see below)

    def __post_init__(self) -> None:
        # ``conn_kept`` marks enabled genes that the mutations treat as
        # disabled: the reference code's disabled-but-conducting split links
        # (``search.add_node_rule: reference``). The network ignores it.
        if self.conn_kept is None:
            self.conn_kept = np.zeros(len(self.conn_innov), dtype=bool)

    @property
    def n_inputs(self) -> int:
        """Number of input nodes (the bias not included)."""
        return int(np.count_nonzero(self.node_kind == NodeKind.INPUT))

    @property
    def n_outputs(self) -> int:
        """Number of output nodes."""
        return int(np.count_nonzero(self.node_kind == NodeKind.OUTPUT))

    @property
    def n_enabled(self) -> int:
        """Number of enabled connection genes (dead ones included)."""
        return int(np.count_nonzero(self.conn_enabled))

    def copy(self) -> "Genome":
        """Return a deep copy."""
        return Genome(*(getattr(self, f).copy() for f in _FIELDS))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (lists of ints/bools)."""
        data: dict[str, Any] = {
            "nodes": [
                [int(i), _KIND_NAMES[int(k)], ACTIVATIONS[int(a)]]
                for i, k, a in zip(self.node_id, self.node_kind, self.node_act)
            ],
            "connections": [
                [int(n), int(s), int(d), bool(e)]
                for n, s, d, e in zip(
                    self.conn_innov, self.conn_src, self.conn_dst, self.conn_enabled
                )
            ],
        }
        if self.conn_kept.any():  # only reference add-node runs have any
            data["kept"] = [int(n) for n in self.conn_innov[self.conn_kept]]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "genome") -> "Genome":
        """Build a genome from :meth:`to_dict` output; UserError ``<where>.<key>: ...`` if malformed.

        Checks the type and range of every id, kind and activation, and that
        the enabled-or-not connection graph is acyclic, so a hand-edited file
        fails here with a clear message rather than deep inside numpy or the
        compiled kernel.
        """
        nodes = fc.array(fc.key(data, "nodes", where), f"{where}.nodes", min_len=1)
        conns = fc.array(fc.key(data, "connections", where), f"{where}.connections")
        ids, kinds, acts = [], [], []
        for i, node in enumerate(nodes):
            at = f"{where}.nodes[{i}]"
            node_id, kind, act = fc.array(node, at, length=3)
            ids.append(fc.integer(node_id, f"{at}[0]"))
            try:
                kinds.append(_kind_from_name(fc.text(kind, f"{at}[1]")))
                acts.append(activation_id(fc.text(act, f"{at}[2]")))
            except UserError as exc:
                raise UserError(f"{at}: {exc}") from None
        innov, src, dst, enabled = [], [], [], []
        for i, conn in enumerate(conns):
            at = f"{where}.connections[{i}]"
            n, s, d, e = fc.array(conn, at, length=4)
            innov.append(fc.integer(n, f"{at}[0]"))
            src.append(fc.integer(s, f"{at}[1]"))
            dst.append(fc.integer(d, f"{at}[2]"))
            enabled.append(fc.boolean(e, f"{at}[3]"))
        kept_innov = [fc.integer(n, f"{where}.kept[{i}]")
                      for i, n in enumerate(fc.array(data.get("kept", []), f"{where}.kept"))]
        unknown = set(kept_innov) - set(innov)
        if unknown:
            raise UserError(f"{where}.kept: innovation {min(unknown)} names no connection")
        genome = cls(
            np.array(ids, dtype=np.int64), np.array(kinds, dtype=np.int8), np.array(acts, dtype=np.int8),
            np.array(innov, dtype=np.int64), np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64),
            np.array(enabled, dtype=bool), np.isin(np.array(innov, dtype=np.int64), kept_innov),
        )
        try:
            validate_genome(genome)
        except UserError as exc:
            raise UserError(f"{where}: {exc}") from None
        return genome


_FIELDS = (
    "node_id",
    "node_kind",
    "node_act",
    "conn_innov",
    "conn_src",
    "conn_dst",
    "conn_enabled",
    "conn_kept",
)
_KIND_NAMES = {0: "input", 1: "bias", 2: "hidden", 3: "output"}


def _kind_from_name(name: str) -> int:
    for value, kind_name in _KIND_NAMES.items():
        if kind_name == name:
            return value
    raise UserError(f"unknown node kind {name!r}; allowed: {', '.join(_KIND_NAMES.values())}")


def validate_genome(genome: Genome) -> None:
    """Raise ValueError naming the first structural defect of ``genome``."""
    ids = genome.node_id
    if len(np.unique(ids)) != len(ids):
        raise UserError("duplicate node id")
    if len(np.unique(genome.conn_innov)) != len(genome.conn_innov):
        raise UserError("duplicate innovation number")
    kind_of = dict(zip(ids.tolist(), genome.node_kind.tolist()))
    pairs = set()
    for s, d in zip(genome.conn_src.tolist(), genome.conn_dst.tolist()):
        if s not in kind_of or d not in kind_of:
            raise UserError(f"connection {s}->{d} names an unknown node id")
        if kind_of[d] in (NodeKind.INPUT, NodeKind.BIAS):
            raise UserError(f"connection {s}->{d} leads into an input or bias node")
        if kind_of[s] == NodeKind.OUTPUT:
            raise UserError(f"connection {s}->{d} leaves an output node")
        if (s, d) in pairs:
            raise UserError(f"duplicate connection {s}->{d}")
        pairs.add((s, d))
    if len(genome.conn_kept) != len(genome.conn_innov):
        raise UserError("kept flags do not match the connections")
    for s, d in zip(genome.conn_src[genome.conn_kept].tolist(), genome.conn_dst[genome.conn_kept].tolist()):
        if kind_of[s] != NodeKind.HIDDEN or kind_of[d] != NodeKind.HIDDEN:
            raise UserError(f"kept connection {s}->{d} is not between two hidden nodes")
    if np.any(genome.conn_kept & ~genome.conn_enabled):
        raise UserError("a kept connection is disabled")
    n_in = genome.n_inputs
    kinds = genome.node_kind
    if (
        np.count_nonzero(kinds == NodeKind.BIAS) != 1
        or np.any(kinds[:n_in] != NodeKind.INPUT)
        or kinds[n_in] != NodeKind.BIAS
    ):
        raise UserError("nodes must list the inputs first, then exactly one bias")
    node_depths(genome)  # raises on a cycle


def longest_path_depths(
    nodes: Iterable[int], edges: Iterable[tuple[int, int]], sources: Iterable[int] | None = None,
    last: Iterable[int] = (),
) -> dict[int, int]:
    """Depth of every node: one past its deepest parent; a node without parents at 0.

    With ``sources`` given, only those start at 0 and a parentless other node
    sits at 1 (a dead hidden node drawn in the first hidden column).

    Nodes in ``last`` (outputs) are then placed one column past every other
    node. The one depth routine of the package: the genome's cycle check, the
    network's evaluation order and the drawing's columns all use it. A cycle
    raises :class:`~wann.errors.UserError`.
    """
    nodes = list(nodes)
    root = set(nodes) if sources is None else set(sources)
    indegree = {n: 0 for n in nodes}
    children: dict[int, list[int]] = {n: [] for n in nodes}
    for s, d in edges:
        indegree[d] += 1
        children[s].append(d)
    depth = {n: 0 if n in root else 1 for n in nodes}
    ready = [n for n in nodes if indegree[n] == 0]
    seen = 0
    while ready:
        node = ready.pop()
        seen += 1
        for child in children[node]:
            depth[child] = max(depth[child], depth[node] + 1)
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    if seen != len(nodes):
        raise UserError("connections form a cycle")
    last = set(last)
    if last:
        beyond = max((d for n, d in depth.items() if n not in last), default=0) + 1
        depth.update({n: beyond for n in last})
    return depth


def node_depths(genome: Genome, enabled_only: bool = False) -> dict[int, int]:
    """Longest-path depth of every node id from the inputs (cycle -> UserError).

    With ``enabled_only`` False every connection gene counts, so a link added
    from a shallower to a deeper node can never close a cycle, even after a
    disabled gene is re-enabled. Outputs get a depth past every hidden node.
    """
    mask = genome.conn_enabled if enabled_only else np.ones(len(genome.conn_src), bool)
    kinds = genome.node_kind
    return longest_path_depths(
        genome.node_id.tolist(),
        zip(genome.conn_src[mask].tolist(), genome.conn_dst[mask].tolist()),
        last=genome.node_id[kinds == NodeKind.OUTPUT].tolist(),
    )


@dataclass
class InnovationTracker:
    """Node-id and innovation counters, plus this generation's reuse tables.

    The counters are the only part saved in a checkpoint: the tables are
    cleared at the start of every generation, and checkpoints are taken
    between generations.
    """

    next_node_id: int
    next_innovation: int
    _links: dict[tuple[int, int], int] = field(default_factory=dict, repr=False)
    _splits: dict[tuple[int, int], tuple[int, int, int]] = field(default_factory=dict, repr=False)

    def new_generation(self) -> None:
        """Forget this generation's reuse tables."""
        self._links.clear()
        self._splits.clear()

    def link(self, src: int, dst: int) -> int:
        """Innovation number for a new link src->dst (shared within a generation)."""
        key = (src, dst)
        if key not in self._links:
            self._links[key] = self.next_innovation
            self.next_innovation += 1
        return self._links[key]

    def split(self, src: int, dst: int) -> tuple[int, int, int]:
        """(new node id, innovation in, innovation out) for splitting src->dst."""
        key = (src, dst)
        if key not in self._splits:
            self._splits[key] = (self.next_node_id, self.next_innovation, self.next_innovation + 1)
            self.next_node_id += 1
            self.next_innovation += 2
        return self._splits[key]

    def state(self) -> dict[str, int]:
        """The counters as plain data, for checkpoints."""
        return {"next_node_id": self.next_node_id, "next_innovation": self.next_innovation}


def initial_genome(
    n_inputs: int,
    n_outputs: int,
    output_activation: int,
    init_enable: float,
    rng: np.random.Generator,
) -> Genome:

    """Inputs + bias linked to every output, each link enabled with prob ``init_enable``.

    Innovation numbers of the initial links are fixed by layout
    (``source * n_outputs + output``) so every genome of a run agrees on them.
    """
    n_fixed = n_inputs + 1 + n_outputs
    node_id = np.arange(n_fixed, dtype=np.int64)
    kinds = np.array(
        [NodeKind.INPUT] * n_inputs + [NodeKind.BIAS] + [NodeKind.OUTPUT] * n_outputs,
        dtype=np.int8,
    )
    acts = np.ones(n_fixed, dtype=np.int8)
    acts[n_inputs + 1 :] = output_activation
    src = np.repeat(np.arange(n_inputs + 1, dtype=np.int64), n_outputs)
    dst = np.tile(np.arange(n_inputs + 1, n_fixed, dtype=np.int64), n_inputs + 1)
    innov = np.arange(len(src), dtype=np.int64)
    enabled = rng.random(len(src)) < init_enable
    return Genome(node_id, kinds, acts, innov, src, dst, enabled)


def initial_tracker(n_inputs: int, n_outputs: int) -> InnovationTracker:
    """Counters that continue after the ids used by :func:`initial_genome`."""
    return InnovationTracker(
        next_node_id=n_inputs + 1 + n_outputs,
        next_innovation=(n_inputs + 1) * n_outputs,
    )
