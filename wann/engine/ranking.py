"""NSGA-II non-dominated sorting with crowding distance (all objectives maximised)."""
from __future__ import annotations

import numpy as np
from numba import njit


def nondominated_fronts(objectives: np.ndarray) -> list[np.ndarray]:
    """Indices of each Pareto front, best first, for an [n, m] array to maximise.

    a dominates b when a >= b in every objective and a > b in at least one.
    Indices within a front are ascending.
    """
    obj = np.ascontiguousarray(objectives, dtype=np.float64)
    if obj.ndim != 2:
        raise ValueError(f"objectives must be an [n, m] array, got shape {obj.shape}")
    front_of = _front_numbers(obj)
    if len(front_of) == 0:
        return []
    order = np.argsort(front_of, kind="stable")  # by front, ascending index within one
    bounds = np.searchsorted(front_of[order], np.arange(front_of.max() + 2))
    return [order[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]


@njit(cache=True)
def _front_numbers(obj):
    """Front number of every point (0 = non-dominated), peeling fronts off one by one (compiled)."""
    n, m = obj.shape
    dominates = np.zeros((n, n), dtype=np.bool_)
    dominated_count = np.zeros(n, dtype=np.int64)
    for i in range(n):
        for j in range(n):
            all_ge = True
            any_gt = False
            for k in range(m):
                if obj[i, k] < obj[j, k] or obj[i, k] != obj[i, k] or obj[j, k] != obj[j, k]:
                    all_ge = False  # a NaN compares false, as numpy's >= does
                    break
                if obj[i, k] > obj[j, k]:
                    any_gt = True
            if all_ge and any_gt:
                dominates[i, j] = True
                dominated_count[j] += 1
    front_of = np.full(n, -1, dtype=np.int64)
    current = np.flatnonzero(dominated_count == 0)
    front = 0
    while len(current):
        for i in current:
            front_of[i] = front
        for i in current:
            for j in range(n):
                if dominates[i, j]:
                    dominated_count[j] -= 1
        nxt = []
        for j in range(n):
            if front_of[j] < 0 and dominated_count[j] == 0:
                nxt.append(j)
        current = np.array(nxt, dtype=np.int64)
        front += 1
    return front_of


CROWDING_RULES = ("standard", "reference")


def crowding_distance(objectives: np.ndarray, rule: str = "standard") -> np.ndarray:
    """Crowding distance of each point of one front (boundary points get inf).

    ``standard``: each objective's gap is divided by that objective's range
    over the front (NSGA-II). ``reference``: the gap is multiplied by
    ``|1/max - min|`` as the reference code's misparenthesised
    ``crowd *= abs((1/max-min))`` does, so an objective with large values
    (mean reward) outweighs one in (0, 1] (1/connections) by orders of magnitude.
    """
    if rule not in CROWDING_RULES:
        raise ValueError(f"crowding rule {rule!r}: allowed: {', '.join(CROWDING_RULES)}")
    obj = np.asarray(objectives, dtype=float)
    n, m = obj.shape
    distance = np.zeros(n)
    if n <= 2:
        distance[:] = np.inf
        return distance
    for k in range(m):
        order = np.argsort(obj[:, k], kind="stable")
        values = obj[order, k]
        span = values[-1] - values[0]
        distance[order[0]] = distance[order[-1]] = np.inf
        if span > 0:
            gaps = values[2:] - values[:-2]
            if rule == "reference":
                with np.errstate(divide="ignore", invalid="ignore"):
                    distance[order[1:-1]] += gaps * abs(1.0 / values[-1] - values[0])
            else:
                distance[order[1:-1]] += gaps / span
    return distance


OBJECTIVE_RULES = ("wann", "pretty_neat")


def generation_objectives(mean: np.ndarray, best: np.ndarray, connections: np.ndarray,
                          drew_first: bool, rule: str = "wann") -> np.ndarray:
    """The [n, m] objectives one generation ranks on (all maximised).

    ``drew_first`` is the generation's draw (True with probability
    ``prob_connection_objective``). ``wann`` (the reference's WANN/ code):
    (mean, 1/connections) when drawn, otherwise (mean, max). ``pretty_neat``
    (its prettyNeatWann/ code, whose WANN class falls back to NEAT's rule
    because its own method is indented out of the class): mean alone when
    drawn, otherwise (mean, 1/connections). A network with no connections
    counts as one, as in the reference.
    """
    inverse_size = 1.0 / np.maximum(np.asarray(connections, dtype=float), 1.0)
    if rule == "wann":
        return np.column_stack([mean, inverse_size] if drew_first else [mean, best])
    if rule == "pretty_neat":
        return np.column_stack([mean] if drew_first else [mean, inverse_size])
    raise ValueError(f"objective rule {rule!r}: allowed: {', '.join(OBJECTIVE_RULES)}")


TIE_ORDERS = ("index", "random")


def shuffled_nsga_order(objectives: np.ndarray, crowding: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """:func:`nsga_order` with ties broken in a random order (one permutation drawn from ``rng``).

    The reference code's ``np.argsort`` calls are introsorts, stable only on
    arrays of 16 or fewer, so on larger fronts (clones and no-op mutants
    pile up in them) its ties fall in no fixed order; ranking a shuffled
    population models that instead of always favouring lower indices.
    """
    perm = rng.permutation(len(objectives))
    order, front_of = nsga_order(np.asarray(objectives)[perm], crowding)
    fronts = np.empty_like(front_of)
    fronts[perm] = front_of
    return perm[order], fronts


def nsga_order(objectives: np.ndarray, crowding: str = "standard") -> tuple[np.ndarray, np.ndarray]:
    """Indices best first (front, then larger crowding distance), and each point's front.

    ``crowding`` is the :func:`crowding_distance` rule. Ties keep the
    original index order, so the ranking is deterministic.
    """
    obj = np.asarray(objectives, dtype=float)
    front_of = np.empty(len(obj), dtype=np.int64)
    order = []
    for f, front in enumerate(nondominated_fronts(obj)):
        front_of[front] = f
        crowd = crowding_distance(obj[front], crowding)
        order.extend(front[np.lexsort((front, -crowd))].tolist())
    return np.array(order, dtype=np.int64), front_of
