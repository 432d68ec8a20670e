"""NSGA-II sorting against brute force, crowding distance on hand examples."""
from __future__ import annotations

import math

import numpy as np
import pytest

from wann.engine import ranking
from wann.engine.ranking import (
    crowding_distance,
    generation_objectives,
    introsort_argsort,
    nondominated_fronts,
    nsga_order,
    reference_crowding,
    reference_fronts,
    reference_nsga_order,
    shuffled_nsga_order,
)


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a >= b) and np.any(a > b))


def brute_fronts(obj: np.ndarray) -> list[set[int]]:
    """Peel off the non-dominated set repeatedly."""
    left = set(range(len(obj)))
    fronts = []
    while left:
        front = {i for i in left if not any(dominates(obj[j], obj[i]) for j in left)}
        fronts.append(front)
        left -= front
    return fronts


def random_points(rng: np.random.Generator, n: int, m: int, kind: str) -> np.ndarray:
    if kind == "ties":
        return rng.integers(0, 4, size=(n, m)).astype(float)
    if kind == "duplicates":
        base = rng.normal(size=(max(1, n // 3), m))
        return base[rng.integers(len(base), size=n)]
    return rng.normal(size=(n, m))


CASES = [(n, m, kind) for n in (1, 2, 7, 30, 80) for m in (1, 2, 3) for kind in ("ties", "duplicates", "real")]


@pytest.mark.parametrize("n,m,kind", CASES)
def test_fronts_match_brute_force(n, m, kind):
    rng = np.random.default_rng(n * 100 + m * 10 + len(kind))
    for _ in range(5):
        obj = random_points(rng, n, m, kind)
        fronts = nondominated_fronts(obj)
        # a partition of all indices, no empty front
        flat = np.concatenate(fronts)
        assert sorted(flat.tolist()) == list(range(n))
        assert all(len(f) > 0 for f in fronts)
        assert [set(f.tolist()) for f in fronts] == brute_fronts(obj)
        for k, front in enumerate(fronts):
            later = np.concatenate(fronts[k:])
            for i in front:
                # dominated by none in fronts >= k
                assert not any(dominates(obj[j], obj[i]) for j in later)
                # dominated by some point of front k - 1
                if k > 0:
                    assert any(dominates(obj[j], obj[i]) for j in fronts[k - 1])


def test_fronts_hand_example():
    obj = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 1.0], [1.0, 3.0], [2.0, 2.0], [0.0, 0.0], [1.0, 1.0]])
    fronts = [sorted(f.tolist()) for f in nondominated_fronts(obj)]
    assert fronts == [[1, 2, 3, 4], [0, 6], [5]]


def test_fronts_all_identical_points_form_one_front():
    obj = np.ones((6, 3))
    fronts = nondominated_fronts(obj)
    assert len(fronts) == 1 and sorted(fronts[0].tolist()) == list(range(6))


def test_fronts_total_order_chain():
    obj = np.array([[3.0, 3.0], [1.0, 1.0], [4.0, 4.0], [2.0, 2.0]])
    assert [f.tolist() for f in nondominated_fronts(obj)] == [[2], [0], [3], [1]]


# ----------------------------------------------------------------------------- crowding


def test_crowding_hand_example():
    obj = np.array([[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0]])
    d = crowding_distance(obj)
    # obj 0 (range 4): point 1 gap (3-0)/4, point 2 gap (4-1)/4
    # obj 1 (range 4): point 1 gap (4-1)/4, point 2 gap (2-0)/4
    assert d[0] == math.inf and d[3] == math.inf
    assert d[1] == pytest.approx(0.75 + 0.75)
    assert d[2] == pytest.approx(0.75 + 0.5)


def test_crowding_is_normalised_per_objective():
    obj = np.array([[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0]])
    scaled = obj * np.array([1000.0, 0.001]) + np.array([-5.0, 7.0])
    np.testing.assert_allclose(crowding_distance(scaled), crowding_distance(obj), rtol=1e-12)


def test_crowding_unsorted_input_and_three_objectives():
    # same five points shuffled; interior sums are independent of the input order
    obj = np.array([[2.0, 0.0, 5.0], [0.0, 10.0, 1.0], [1.0, 4.0, 2.0], [4.0, 1.0, 0.0], [3.0, 2.0, 3.0]])
    d = crowding_distance(obj)
    # obj 0 sorted 0,1,2,3,4 (rows 1,2,0,4,3), range 4: row2 (2-0)/4, row0 (3-1)/4, row4 (4-2)/4
    # obj 1 sorted 0,1,2,4,10 (rows 0,3,4,2,1), range 10: row3 (2-0)/10, row4 (4-1)/10, row2 (10-2)/10
    # obj 2 sorted 0,1,2,3,5 (rows 3,1,2,4,0), range 5: row1 (2-0)/5, row2 (3-1)/5, row4 (5-2)/5
    # boundaries: rows 1, 3 (obj 0), 0, 1 (obj 1), 3, 0 (obj 2): rows 0, 1, 3 are inf
    assert d[0] == d[1] == d[3] == math.inf
    assert d[2] == pytest.approx(0.5 + 0.8 + 0.4)
    assert d[4] == pytest.approx(0.5 + 0.3 + 0.6)


def test_crowding_constant_objective_contributes_nothing():
    obj = np.array([[0.0, 5.0], [1.0, 5.0], [3.0, 5.0], [4.0, 5.0]])
    d = crowding_distance(obj)
    assert np.isinf(d[0]) and np.isinf(d[3])
    assert d[1] == pytest.approx(3 / 4) and d[2] == pytest.approx(3 / 4)
    assert np.all(np.isfinite(d[1:3]))


# a front of (mean reward, 1/connections): a (100, 1), b (150, 0.5), c (300, 0.25), d (400, 0.2)
FRONT = np.array([[100.0, 1.0], [150.0, 0.5], [300.0, 0.25], [400.0, 0.2]])


def test_reference_crowding_multiplies_gaps_by_the_misparenthesised_factor():
    d = crowding_distance(FRONT, "reference")
    # mean: factor |1/400 - 100| = 99.9975; b gap 300 - 100, c gap 400 - 150
    # 1/conn: factor |1/1 - 0.2| = 0.8; b gap 1 - 0.25, c gap 0.5 - 0.2
    assert np.isinf(d[0]) and np.isinf(d[3])
    assert d[1] == pytest.approx(200 * 99.9975 + 0.75 * 0.8, rel=1e-12)
    assert d[2] == pytest.approx(250 * 99.9975 + 0.3 * 0.8, rel=1e-12)
    standard = crowding_distance(FRONT)
    assert standard[1] == pytest.approx(200 / 300 + 0.75 / 0.8) and standard[2] == pytest.approx(250 / 300 + 0.3 / 0.8)


def test_reference_crowding_reorders_the_front_by_mean_gaps():
    # standard NSGA-II puts b (larger normalised gaps) before c; the reference's factor puts c first
    assert nsga_order(FRONT)[0].tolist() == [0, 3, 1, 2]
    assert nsga_order(FRONT, "reference")[0].tolist() == [0, 3, 2, 1]
    with pytest.raises(ValueError, match="crowding rule"):
        crowding_distance(FRONT, "nsga3")


@pytest.mark.parametrize("n", [1, 2])
def test_crowding_tiny_fronts_are_all_boundary(n):
    assert np.all(np.isinf(crowding_distance(np.arange(2.0 * n).reshape(n, 2))))


def brute_crowding(obj: np.ndarray) -> np.ndarray:
    n, m = obj.shape
    d = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for k in range(m):
        col = obj[:, k]
        lo, hi = col.min(), col.max()
        for i in range(n):
            if col[i] == lo or col[i] == hi:
                d[i] = np.inf
                continue
            below = col[col < col[i]].max()
            above = col[col > col[i]].min()
            d[i] += (above - below) / (hi - lo)
    return d


def test_crowding_matches_brute_force_without_ties():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n, m = int(rng.integers(3, 25)), int(rng.integers(1, 4))
        obj = rng.normal(size=(n, m)) * rng.uniform(0.01, 100, size=m)
        np.testing.assert_allclose(crowding_distance(obj), brute_crowding(obj), rtol=1e-12)


# ----------------------------------------------------------------------------- nsga_order


@pytest.mark.parametrize("kind", ["ties", "duplicates", "real"])
def test_nsga_order_sorts_by_front_then_crowding(kind):
    rng = np.random.default_rng(len(kind))
    for _ in range(20):
        obj = random_points(rng, int(rng.integers(1, 60)), 2, kind)
        order, front_of = nsga_order(obj)
        n = len(obj)
        assert sorted(order.tolist()) == list(range(n))
        fronts = nondominated_fronts(obj)
        for f, front in enumerate(fronts):
            assert np.all(front_of[front] == f)
        crowd = np.empty(n)
        for front in fronts:
            crowd[front] = crowding_distance(obj[front])
        expected = sorted(range(n), key=lambda i: (front_of[i], -crowd[i], i))
        assert order.tolist() == expected
        # fronts appear in order, crowding non-increasing within each front
        assert np.all(np.diff(front_of[order]) >= 0)
        for f in range(len(fronts)):
            c = crowd[order[front_of[order] == f]]
            assert np.all(c[:-1] >= c[1:])
        # deterministic
        order2, front_of2 = nsga_order(obj.copy())
        assert order2.tolist() == order.tolist() and front_of2.tolist() == front_of.tolist()


def test_nsga_order_hand_example():
    # front 0: 0, 1, 2, 3 (crowding inf, 1.5, 1.25, inf); front 1: 4 (dominated by 1)
    obj = np.array([[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0], [0.5, 1.5]])
    order, front_of = nsga_order(obj)
    assert front_of.tolist() == [0, 0, 0, 0, 1]
    assert order.tolist() == [0, 3, 1, 2, 4]


def test_nsga_order_maximises():
    obj = np.array([[1.0, 1.0], [5.0, 5.0], [3.0, 3.0]])
    order, front_of = nsga_order(obj)
    assert order.tolist() == [1, 2, 0]
    assert front_of.tolist() == [2, 0, 1]


# Four genomes: mean reward, best reward over the weights, connections.
MEAN = np.array([300.0, 500.0, 400.0, 100.0])
BEST = np.array([900.0, 600.0, 700.0, 800.0])
CONNS = np.array([2.0, 40.0, 10.0, 0.0])


def test_wann_objective_rule_pairs_mean_with_size_or_best():
    drawn = generation_objectives(MEAN, BEST, CONNS, True, "wann")
    assert drawn.tolist() == [[300, 0.5], [500, 1 / 40], [400, 0.1], [100, 1.0]]  # 0 connections count as 1
    assert generation_objectives(MEAN, BEST, CONNS, False, "wann").tolist() == np.column_stack([MEAN, BEST]).tolist()
    # (mean, 1/connections): 1, 2, 0 and 3 are all non-dominated
    assert nsga_order(drawn)[1].tolist() == [0, 0, 0, 0]


def test_pretty_neat_objective_rule_ranks_on_mean_alone_when_drawn():
    drawn = generation_objectives(MEAN, BEST, CONNS, True, "pretty_neat")
    assert drawn.shape == (4, 1)
    order, front_of = nsga_order(drawn)
    assert order.tolist() == [1, 2, 0, 3]  # the biggest network first: size does not count
    assert front_of.tolist() == [2, 0, 1, 3]
    other = generation_objectives(MEAN, BEST, CONNS, False, "pretty_neat")
    assert other.tolist() == generation_objectives(MEAN, BEST, CONNS, True, "wann").tolist()


def test_unknown_objective_rule_is_refused():
    with pytest.raises(ValueError, match="pretty_neat"):
        generation_objectives(MEAN, BEST, CONNS, True, "neat")


def test_shuffled_order_breaks_ties_at_random_and_keeps_the_ranking_otherwise():
    # 0 and 3 are identical and dominate everything else; 1 is dominated by them; 2 and 4 are identical and last
    obj = np.array([[5.0, 0.5], [4.0, 0.5], [1.0, 0.1], [5.0, 0.5], [1.0, 0.1]])
    index_order, fronts = nsga_order(obj, "reference")
    assert index_order.tolist() == [0, 3, 1, 2, 4]  # index ties: the lower index first
    firsts, lasts = [], []
    rng = np.random.default_rng(0)
    for _ in range(400):
        order, shuffled_fronts = shuffled_nsga_order(obj, "reference", rng)
        assert np.array_equal(shuffled_fronts, fronts)  # fronts are per point, whatever the shuffle
        assert set(order[:2].tolist()) == {0, 3} and order[2] == 1 and set(order[3:].tolist()) == {2, 4}
        firsts.append(int(order[0]))
        lasts.append(int(order[-1]))
    assert 0.4 < firsts.count(3) / 400 < 0.6 and 0.4 < lasts.count(2) / 400 < 0.6
    # a pure function of the generator's state
    a = shuffled_nsga_order(obj, "standard", np.random.default_rng(7))[0]
    b = shuffled_nsga_order(obj, "standard", np.random.default_rng(7))[0]
    assert np.array_equal(a, b)
    # on random objectives the fronts match brute force and each front's members stay together
    for seed in range(20):
        pts = random_points(np.random.default_rng(seed), 30, 2, "ties")
        order, front_of = shuffled_nsga_order(pts, "reference", np.random.default_rng(seed))
        assert sorted(order.tolist()) == list(range(30))
        assert np.all(np.diff(front_of[order]) >= 0)
        assert [set(np.flatnonzero(front_of == f).tolist()) for f in range(front_of.max() + 1)] == brute_fronts(pts)


def test_introsort_argsort_orders_ties_as_numpy_quicksort_before_simd(monkeypatch):
    # 20 equal values, by hand: median of three keeps 0, 9, 19; the pivot (9) goes to 18; the scans stop at
    # every equal item, so 1..8 swap with 17..10 and meet at 9, which swaps back with 18; both sides (9 and
    # 10 items) are then insertion sorted (stable, no moves)
    assert introsort_argsort(np.zeros(20)).tolist() == [0, *range(17, 0, -1), 18, 19]
    rng = np.random.default_rng(0)
    for n in (0, 1, 5, 16):  # up to 16 items it is an insertion sort: stable
        x = rng.integers(0, 3, size=n).astype(float)
        assert introsort_argsort(x).tolist() == np.argsort(x, kind="stable").tolist()
    for n in (17, 64, 300):  # a permutation that sorts, NaN last
        x = rng.integers(0, 5, size=n).astype(float)
        x[rng.choice(n, size=3, replace=False)] = np.nan
        k = introsort_argsort(x)
        assert sorted(k.tolist()) == list(range(n))
        assert np.all(np.diff(x[k][:-3]) >= 0) and np.isnan(x[k][-3:]).all()
    # an organ pipe of 257 exhausts introsort's depth, so part of it is heapsorted; recorded from
    # numpy 1.23.5's np.argsort (the last numpy without SIMD sorts here); the rest matches it too
    pipe = np.r_[np.arange(129), np.arange(127, -1, -1)].astype(float)
    heapsorted = []
    heapsort = ranking._heapsort_slice
    monkeypatch.setattr(ranking, "_heapsort_slice", lambda *a: heapsorted.append(a[2:]) or heapsort(*a))
    k = introsort_argsort(pipe)
    assert heapsorted  # the fallback ran
    assert k[:16].tolist() == [0, 256, 1, 255, 2, 254, 3, 253, 4, 252, 251, 5, 6, 250, 249, 7]
    assert k[-8:].tolist() == [124, 131, 125, 126, 130, 129, 127, 128]
    assert np.all(np.diff(pipe[k]) >= 0)


def test_reference_fronts_list_later_fronts_in_the_order_they_are_freed():
    # front 0: rows 0 and 1; row 3 is dominated by row 0 only, row 2 by row 1 only, so walking row 0 first
    # frees row 3 first; row 4 is dominated by everything
    obj = np.array([[3.0, 1.0], [1.0, 3.0], [0.5, 2.0], [2.0, 0.5], [0.0, 0.0]])
    assert reference_fronts(obj) == [[0, 1], [3, 2], [4]]
    order, fronts = reference_nsga_order(obj)
    # two-point fronts are all boundary (inf): order within a front is the front's own order
    assert order.tolist() == [0, 1, 3, 2, 4] and fronts.tolist() == [0, 0, 1, 1, 2]
    assert nsga_order(obj, "reference")[0].tolist() == [0, 1, 2, 3, 4]  # index ties
    # one objective (prettyNeatWann's mean-only generations): its rankArray, an introsort of the negation
    mean = np.zeros((20, 1))
    mean[5] = 1.0
    order, fronts = reference_nsga_order(mean)
    assert order.tolist() == introsort_argsort(-mean[:, 0]).tolist() and order[0] == 5
    assert order.tolist() != [5, *range(5), *range(6, 20)]  # 19 ties: not in index order
    assert fronts.tolist() == [1] * 5 + [0] + [1] * 14


def test_reference_crowding_sums_both_gaps_and_scales_as_the_reference():
    x = np.array([4.0, 1.0, 2.0, 8.0])
    # sorted 1, 2, 4, 8: interior 2 -> (2-1)+(4-2) = 3, 4 -> (4-2)+(8-4) = 6; factor |1/8 - 1| = 0.875
    assert reference_crowding(x, "reference").tolist() == [6 * 0.875, np.inf, 3 * 0.875, np.inf]
    assert reference_crowding(x, "standard").tolist() == [6 / 7, np.inf, 3 / 7, np.inf]
    # tied extremes: the introsort's order decides which tied point is the boundary (first 0 and last 3 here)
    d = reference_crowding(np.array([0.0, 0.0, 3.0, 3.0]), "standard")
    assert np.isinf(d[0]) and np.isinf(d[3]) and d[1] == d[2] == 1.0
