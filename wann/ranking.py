"""NSGA-II non-dominated sorting with crowding distance (all objectives maximised)."""
from __future__ import annotations

import numpy as np


def nondominated_fronts(objectives: np.ndarray) -> list[np.ndarray]:
    """Indices of each Pareto front, best first, for an [n, m] array to maximise.

    a dominates b when a >= b in every objective and a > b in at least one.
    """
    obj = np.asarray(objectives, dtype=float)
    n = len(obj)
    ge = np.all(obj[:, None, :] >= obj[None, :, :], axis=2)
    gt = np.any(obj[:, None, :] > obj[None, :, :], axis=2)
    dominates = ge & gt  # dominates[i, j]: i dominates j
    dominated_count = dominates.sum(axis=0)
    fronts = []
    remaining = np.ones(n, dtype=bool)
    current = np.flatnonzero(dominated_count == 0)
    while len(current):
        fronts.append(current)
        remaining[current] = False
        dominated_count = dominated_count - dominates[current].sum(axis=0)
        current = np.flatnonzero(remaining & (dominated_count == 0))
    return fronts


def crowding_distance(objectives: np.ndarray) -> np.ndarray:
    """Crowding distance of each point of one front (boundary points get inf).

    Each objective's gap is divided by that objective's range over the front
    (the reference code multiplies by a misparenthesised factor instead).
    """
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
            distance[order[1:-1]] += (values[2:] - values[:-2]) / span
    return distance


def nsga_order(objectives: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices best first (front, then larger crowding distance), and each point's front.

    Ties keep the original index order, so the ranking is deterministic.
    """
    obj = np.asarray(objectives, dtype=float)
    front_of = np.empty(len(obj), dtype=np.int64)
    order = []
    for f, front in enumerate(nondominated_fronts(obj)):
        front_of[front] = f
        crowd = crowding_distance(obj[front])
        order.extend(front[np.lexsort((front, -crowd))].tolist())
    return np.array(order, dtype=np.int64), front_of
