"""The four structural mutations of WANN, and the roulette that picks one per child.

Each operator returns a new genome, or ``None`` when it cannot apply to this
genome (no legal link, nothing to split, nothing disabled, no hidden node).
The roulette then draws again among the operators that can apply, in
proportion to their probabilities, so an inapplicable operator never turns
into a silent "no change".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wann.genome import Genome, InnovationTracker, NodeKind, node_depths


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
    src, dst = int(ids[si]), int(ids[di])
    child = genome.copy()
    child.conn_innov = np.append(child.conn_innov, tracker.link(src, dst))
    child.conn_src = np.append(child.conn_src, src)
    child.conn_dst = np.append(child.conn_dst, dst)
    child.conn_enabled = np.append(child.conn_enabled, True)
    return child


def add_node(
    genome: Genome,
    rng: np.random.Generator,
    tracker: InnovationTracker,
    hidden_activations: np.ndarray,
) -> Genome | None:
    """Split an enabled connection s->d into s->new->d; None if none is enabled."""
    enabled = np.flatnonzero(genome.conn_enabled)
    if len(enabled) == 0:
        return None
    k = enabled[rng.integers(len(enabled))]
    src, dst = int(genome.conn_src[k]), int(genome.conn_dst[k])
    node, innov_in, innov_out = tracker.split(src, dst)
    act = hidden_activations[rng.integers(len(hidden_activations))]
    child = genome.copy()
    child.conn_enabled[k] = False
    child.node_id = np.append(child.node_id, node)
    child.node_kind = np.append(child.node_kind, np.int8(NodeKind.HIDDEN))
    child.node_act = np.append(child.node_act, np.int8(act))
    child.conn_innov = np.append(child.conn_innov, [innov_in, innov_out])
    child.conn_src = np.append(child.conn_src, [src, node])
    child.conn_dst = np.append(child.conn_dst, [node, dst])
    child.conn_enabled = np.append(child.conn_enabled, [True, True])
    return child


def enable_connection(genome: Genome, rng: np.random.Generator) -> Genome | None:
    """Re-enable one disabled connection; None if all are enabled."""
    disabled = np.flatnonzero(~genome.conn_enabled)
    if len(disabled) == 0:
        return None
    child = genome.copy()
    child.conn_enabled[disabled[rng.integers(len(disabled))]] = True
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
) -> Genome:
    """Apply exactly one structural change chosen by roulette among applicable ones.

    Returns an unchanged copy only when no operator can apply at all.
    """
    operators = {
        "add_connection": lambda: add_connection(genome, rng, tracker),
        "add_node": lambda: add_node(genome, rng, tracker, hidden_activations),
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
        names.pop(pick)
        weights = np.delete(weights, pick)
    return genome.copy()
