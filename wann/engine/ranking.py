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
def _dominance(obj):
    """[n, n] matrix: True where point i dominates point j (compiled)."""
    n, m = obj.shape
    dominates = np.zeros((n, n), dtype=np.bool_)
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
            dominates[i, j] = all_ge and any_gt
    return dominates


@njit(cache=True)
def _front_numbers(obj):
    """Front number of every point (0 = non-dominated), peeling fronts off one by one (compiled)."""
    n = obj.shape[0]
    dominates = _dominance(obj)
    dominated_count = np.zeros(n, dtype=np.int64)
    for i in range(n):
        for j in range(n):
            if dominates[i, j]:
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


TIE_ORDERS = ("index", "random", "reference")


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


def _less(a: float, b: float) -> bool:
    """numpy's float ``<`` for sorting: NaN sorts after every number."""
    return a < b or (b != b and a == a)


def introsort_argsort(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values)`` exactly as numpy's default (quicksort) kind ordered it before SIMD sorts, ties included.

    An introsort (numpy 1.12 on; checked equal to numpy 1.23.5): median-of-
    three quicksort partitions while a slice holds more than 16 items,
    insertion sort below that (so it is stable only on 16 or fewer),
    heapsort past a depth of 2 log2(n). The reference code ran on numpy of
    2019; newer numpy may dispatch to SIMD sorts that order ties
    differently, so its ``np.argsort`` cannot stand in here.
    """
    v = np.asarray(values, dtype=np.float64).tolist()
    idx = list(range(len(v)))
    stack: list[tuple[int, int, int]] = []
    lo, hi = 0, len(v) - 1
    depth = 2 * (len(v).bit_length() - 1) if v else 0
    while True:
        if depth < 0:
            _heapsort_slice(v, idx, lo, hi)
        else:
            while hi - lo > 15:
                mid = lo + ((hi - lo) >> 1)
                if _less(v[idx[mid]], v[idx[lo]]):
                    idx[mid], idx[lo] = idx[lo], idx[mid]
                if _less(v[idx[hi]], v[idx[mid]]):
                    idx[hi], idx[mid] = idx[mid], idx[hi]
                if _less(v[idx[mid]], v[idx[lo]]):
                    idx[mid], idx[lo] = idx[lo], idx[mid]
                pivot = v[idx[mid]]
                i, j = lo, hi - 1
                idx[mid], idx[j] = idx[j], idx[mid]
                while True:
                    i += 1
                    while _less(v[idx[i]], pivot):
                        i += 1
                    j -= 1
                    while _less(pivot, v[idx[j]]):
                        j -= 1
                    if i >= j:
                        break
                    idx[i], idx[j] = idx[j], idx[i]
                idx[i], idx[hi - 1] = idx[hi - 1], idx[i]
                depth -= 1
                if i - lo < hi - i:  # the larger side waits on the stack
                    stack.append((i + 1, hi, depth))
                    hi = i - 1
                else:
                    stack.append((lo, i - 1, depth))
                    lo = i + 1
            for i in range(lo + 1, hi + 1):
                item = idx[i]
                j = i
                while j > lo and _less(v[item], v[idx[j - 1]]):
                    idx[j] = idx[j - 1]
                    j -= 1
                idx[j] = item
        if not stack:
            return np.array(idx, dtype=np.int64)
        lo, hi, depth = stack.pop()


def _heapsort_slice(v: list[float], idx: list[int], lo: int, hi: int) -> None:
    """numpy's index heapsort of ``idx[lo:hi+1]`` by ``v`` (introsort's fallback)."""
    n = hi - lo + 1
    for top in range(n >> 1, 0, -1):
        _sift_down(v, idx, lo, idx[lo + top - 1], top, n)
    while n > 1:
        item = idx[lo + n - 1]
        idx[lo + n - 1] = idx[lo]
        n -= 1
        _sift_down(v, idx, lo, item, 1, n)


def _sift_down(v: list[float], idx: list[int], lo: int, item: int, i: int, n: int) -> None:
    """Place ``item`` at 1-based heap position ``i`` of the ``n``-item heap at ``idx[lo:]``."""
    j = i << 1
    while j <= n:
        if j < n and _less(v[idx[lo + j - 1]], v[idx[lo + j]]):
            j += 1
        if not _less(v[item], v[idx[lo + j - 1]]):
            break
        idx[lo + i - 1] = idx[lo + j - 1]
        i, j = j, j + j
    idx[lo + i - 1] = item


def reference_fronts(objectives: np.ndarray) -> list[list[int]]:
    """Pareto fronts in the order the reference code's ``getFronts`` lists them.

    The first front in index order; each later one in the order its members
    were freed while walking the previous front (each member's dominated
    points in index order), not sorted.
    """
    obj = np.ascontiguousarray(objectives, dtype=np.float64)
    n = len(obj)
    dominates = _dominance(obj)
    beaten_by = dominates.sum(axis=0).tolist()
    fronts = [[p for p in range(n) if beaten_by[p] == 0]]
    while fronts[-1]:
        freed: list[int] = []
        for p in fronts[-1]:
            for q in np.flatnonzero(dominates[p]).tolist():
                beaten_by[q] -= 1
                if beaten_by[q] == 0:
                    freed.append(q)
        fronts.append(freed)
    return fronts[:-1]


def reference_crowding(values: np.ndarray, rule: str) -> np.ndarray:
    """One objective's crowding term as the reference's ``getCrowdingDist`` computes it.

    Sorted by :func:`introsort_argsort` (so which of several tied extremes
    gets the infinite distance follows its order), each point's distance is
    the sum of its gaps to both neighbours; ``reference`` multiplies by
    ``|1/max - min|``, ``standard`` divides by ``max - min``.
    """
    key = introsort_argsort(values)
    ordered = np.asarray(values, dtype=float)[key]
    padded = np.r_[np.inf, ordered, np.inf]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        crowd = np.abs(ordered - padded[:-2]) + np.abs(ordered - padded[2:])
        span = ordered[-1] - ordered[0]
        if span > 0:
            crowd = crowd * abs(1.0 / ordered[-1] - ordered[0]) if rule == "reference" else crowd / span
    distance = np.empty(len(key))
    distance[key] = crowd
    return distance


def reference_nsga_order(objectives: np.ndarray, crowding: str = "reference") -> tuple[np.ndarray, np.ndarray]:
    """:func:`nsga_order` step for step as the reference's ``nsga_sort``, ties included.

    Fronts in :func:`reference_fronts` order, crowding by
    :func:`reference_crowding` summed over objectives, and each front
    ordered by :func:`introsort_argsort` of the negated crowding. A single
    objective (``objective_rule: pretty_neat``'s mean-only generations) is
    ranked as prettyNeatWann's ``rankArray`` does: by
    :func:`introsort_argsort` of its negation.
    """
    obj = np.asarray(objectives, dtype=float)
    front_of = np.empty(len(obj), dtype=np.int64)
    if obj.shape[1] == 1:
        for f, front in enumerate(nondominated_fronts(obj)):
            front_of[front] = f
        return introsort_argsort(-obj[:, 0]), front_of
    order: list[int] = []
    for f, front in enumerate(reference_fronts(obj)):
        members = np.array(front, dtype=np.int64)
        front_of[members] = f
        crowd = sum(reference_crowding(obj[members, k], crowding) for k in range(obj.shape[1]))
        order.extend(members[introsort_argsort(-crowd)].tolist())
    return np.array(order, dtype=np.int64), front_of
