"""The four structural mutations of WANN, and the roulette that picks one per child.

Each operator returns a new genome, or ``None`` when it cannot apply to this
genome (no legal link, nothing to split, nothing disabled, no hidden node).
By default the roulette then draws again among the operators that can
apply, in proportion to their probabilities, so an inapplicable operator
never turns into a silent "no change". Two options reproduce the reference
code instead (``search.mutation_fallback: clone``: the child is an unchanged
copy; ``search.add_connection_rule: reference``: :func:`add_connection_reference`;
``search.add_node_rule: reference``: :func:`add_node` with ``keep_hidden_links``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wann.engine.genome import Genome, InnovationTracker, NodeKind, node_depths


@dataclass(frozen=True)
class MutationRates:
    """Roulette weights of the four structural mutations (normalised on use)."""

    add_connection: float = 0.20
    add_node: float = 0.25
    enable_connection: float = 0.05
    change_activation: float = 0.50


def add_connection(
    genome: Genome, rng: np.random.Generator, tracker: InnovationTracker
) -> Genome | None:
    """Link two unlinked nodes, from a shallower to a deeper layer; None if no legal pair.

    Sources are inputs, bias or hidden nodes; destinations hidden or output
    nodes. Depth counts every connection gene (enabled or not), so the new
    link can close no cycle now or after a later re-enable.
    """
    depth = node_depths(genome)
    ids = genome.node_id
    depths = np.array([depth[i] for i in ids.tolist()])
    is_src = genome.node_kind != NodeKind.OUTPUT
    is_dst = genome.node_kind >= NodeKind.HIDDEN
    legal = is_src[:, None] & is_dst[None, :] & (depths[:, None] < depths[None, :])
    index_of = {node: k for k, node in enumerate(ids.tolist())}
    for s, d in zip(genome.conn_src.tolist(), genome.conn_dst.tolist()):
        legal[index_of[s], index_of[d]] = False
    candidates = np.argwhere(legal)
    if len(candidates) == 0:
        return None
    si, di = candidates[rng.integers(len(candidates))]
    return _with_link(genome, int(ids[si]), int(ids[di]), tracker)


def _with_link(genome: Genome, src: int, dst: int, tracker: InnovationTracker) -> Genome:
    """A copy of ``genome`` with a new enabled link src->dst."""
    child = genome.copy()
    child.conn_innov = np.append(child.conn_innov, tracker.link(src, dst))
    child.conn_src = np.append(child.conn_src, src)
    child.conn_dst = np.append(child.conn_dst, dst)
    child.conn_enabled = np.append(child.conn_enabled, True)
    child.conn_kept = np.append(child.conn_kept, False)
    return child


def reference_layers(genome: Genome) -> dict[int, int]:
    """Layers as the reference code's add-connection computes them, from enabled genes only.

    Inputs and bias are layer 0; a hidden node is 1 + the largest layer of its
    enabled hidden sources (1 without any); outputs are one past the deepest
    hidden layer (1 without hidden nodes).
    """
    kind = dict(zip(genome.node_id.tolist(), genome.node_kind.tolist()))
    hidden = [n for n, k in kind.items() if k == NodeKind.HIDDEN]
    sources: dict[int, list[int]] = {n: [] for n in hidden}
    for s, d, on in zip(genome.conn_src.tolist(), genome.conn_dst.tolist(), genome.conn_enabled.tolist()):
        if on and kind[s] == NodeKind.HIDDEN and kind[d] == NodeKind.HIDDEN:
            sources[d].append(s)
    layer: dict[int, int] = {}

    def hidden_layer(node: int) -> int:
        if node not in layer:  # the genome is acyclic, so this recursion ends
            layer[node] = 1 + max((hidden_layer(p) for p in sources[node]), default=0)
        return layer[node]

    for node in hidden:
        hidden_layer(node)
    last = max(layer.values(), default=0) + 1
    return {n: (0 if k <= NodeKind.BIAS else last if k == NodeKind.OUTPUT else layer[n]) for n, k in kind.items()}


def add_connection_reference(
    genome: Genome, rng: np.random.Generator, tracker: InnovationTracker
) -> Genome | None:
    """Add a link as the reference code does: a random source first, then a random target.

    Sources are visited in random order; the first with a legal target gets
    a link to one of them, drawn uniformly. Legal: a deeper layer by
    :func:`reference_layers` (enabled genes only) and no gene yet from that
    source. Unlike the reference, a target that reaches the source through
    any gene (a disabled one included) is skipped, so re-enabling a gene can
    never close a cycle. None if no source has a legal target.
    """
    layer = reference_layers(genome)
    ids = genome.node_id.tolist()
    src_all, dst_all = genome.conn_src.tolist(), genome.conn_dst.tolist()
    parents: dict[int, list[int]] = {n: [] for n in ids}
    for s, d in zip(src_all, dst_all):
        parents[d].append(s)
    for k in rng.permutation(len(ids)):
        src = ids[int(k)]
        linked = {d for s, d in zip(src_all, dst_all) if s == src}
        ancestors = _reach_back(src, parents)
        targets = [d for d in ids if layer[d] > layer[src] and d not in linked and d not in ancestors]
        if targets:
            return _with_link(genome, src, targets[int(rng.integers(len(targets)))], tracker)
    return None


def _reach_back(node: int, parents: dict[int, list[int]]) -> set[int]:
    """Every node with a path (through any gene) to ``node``."""
    seen: set[int] = set()
    stack = list(parents[node])
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(parents[n])
    return seen


def kept_split_links(genome: Genome) -> set[tuple[int, int]]:
    """The (src, dst) links of the genes flagged ``conn_kept`` (``add_node_rule: reference``).

    In the reference code such a link is a disabled gene that still
    conducts: add-node does not split it, and the enable mutation may draw
    it, which changes nothing in the network but makes it an ordinary
    enabled gene, splittable again.
    """
    return set(zip(genome.conn_src[genome.conn_kept].tolist(), genome.conn_dst[genome.conn_kept].tolist()))


def add_node(
    genome: Genome,
    rng: np.random.Generator,
    tracker: InnovationTracker,
    hidden_activations: np.ndarray,
    keep_hidden_links: bool = False,
) -> Genome | None:
    """Split an enabled connection s->d into s->new->d; None if none can be split.

    The split link is disabled, except with ``keep_hidden_links`` when both
    its ends are hidden nodes: the reference code's getNodeOrder marks
    disabled hidden-to-hidden genes live (it sets the hidden block of the
    weight matrix to 1 in place, NaN included), so there such a split adds
    a parallel path and one more connection instead of replacing the link.
    Such a kept link is flagged (``conn_kept``) and counts as disabled for
    later splits until the enable mutation draws it, as in the reference
    (:func:`kept_split_links`).
    """
    enabled = np.flatnonzero(genome.conn_enabled & ~genome.conn_kept)
    if len(enabled) == 0:
        return None
    k = enabled[rng.integers(len(enabled))]
    src, dst = int(genome.conn_src[k]), int(genome.conn_dst[k])
    node, innov_in, innov_out = tracker.split(src, dst)
    act = hidden_activations[rng.integers(len(hidden_activations))]
    child = genome.copy()
    keep = keep_hidden_links and all(genome.node_kind[genome.node_id == n][0] == NodeKind.HIDDEN for n in (src, dst))
    if keep:
        child.conn_kept[k] = True
    else:
        child.conn_enabled[k] = False
    child.node_id = np.append(child.node_id, node)
    child.node_kind = np.append(child.node_kind, np.int8(NodeKind.HIDDEN))
    child.node_act = np.append(child.node_act, np.int8(act))
    child.conn_innov = np.append(child.conn_innov, [innov_in, innov_out])
    child.conn_src = np.append(child.conn_src, [src, node])
    child.conn_dst = np.append(child.conn_dst, [node, dst])
    child.conn_enabled = np.append(child.conn_enabled, [True, True])
    child.conn_kept = np.append(child.conn_kept, [False, False])
    return child


def enable_connection(genome: Genome, rng: np.random.Generator) -> Genome | None:
    """Re-enable one disabled connection or clear one kept flag; None if no gene is disabled or kept.

    The draw also covers the kept split links of :func:`kept_split_links`
    (disabled genes in the reference code). Drawing one leaves the network
    unchanged, as re-enabling a live gene does there, but clears its flag,
    so add-node may split it again.
    """
    candidates = np.concatenate([np.flatnonzero(~genome.conn_enabled), np.flatnonzero(genome.conn_kept)])
    if len(candidates) == 0:
        return None
    k = candidates[rng.integers(len(candidates))]
    child = genome.copy()
    child.conn_enabled[k] = True
    child.conn_kept[k] = False
    return child


def change_activation(
    genome: Genome, rng: np.random.Generator, hidden_activations: np.ndarray
) -> Genome | None:
    """Give one hidden node a different activation; None if impossible."""
    hidden = np.flatnonzero(genome.node_kind == NodeKind.HIDDEN)
    if len(hidden) == 0 or len(hidden_activations) < 2:
        return None
    k = hidden[rng.integers(len(hidden))]
    choices = np.unique(hidden_activations[hidden_activations != genome.node_act[k]])
    if len(choices) == 0:
        return None
    child = genome.copy()
    child.node_act[k] = choices[rng.integers(len(choices))]
    return child


def mutate(
    genome: Genome,
    rng: np.random.Generator,
    tracker: InnovationTracker,
    rates: MutationRates,
    hidden_activations: np.ndarray,
    fallback: str = "redraw",
    connection_rule: str = "uniform",
    node_rule: str = "standard",
) -> Genome:
    """Apply exactly one structural change chosen by roulette.

    ``fallback`` "redraw": an operator that cannot apply is dropped and the
    roulette draws again, so the result is an unchanged copy only when no
    operator can apply at all; "clone": the child is an unchanged copy, as
    in the reference code. ``connection_rule`` "uniform" uses
    :func:`add_connection`, "reference" :func:`add_connection_reference`;
    ``node_rule`` "reference" keeps a split hidden-to-hidden link enabled
    but, as the reference's disabled-yet-live gene, out of later splits
    until the enable mutation draws it (:func:`add_node`,
    :func:`enable_connection`).
    """
    link = add_connection if connection_rule == "uniform" else add_connection_reference
    operators = {
        "add_connection": lambda: link(genome, rng, tracker),
        "add_node": lambda: add_node(genome, rng, tracker, hidden_activations, node_rule == "reference"),
        "enable_connection": lambda: enable_connection(genome, rng),
        "change_activation": lambda: change_activation(genome, rng, hidden_activations),
    }
    names = [name for name in operators if getattr(rates, name) > 0]
    weights = np.array([getattr(rates, name) for name in names], dtype=float)
    while names:
        pick = rng.choice(len(names), p=weights / weights.sum())
        child = operators[names[pick]]()
        if child is not None:
            return child
        if fallback == "clone":
            break
        names.pop(pick)
        weights = np.delete(weights, pick)
    return genome.copy()
