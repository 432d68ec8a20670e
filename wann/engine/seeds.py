"""Every random stream of wann, in one place.

A stream is a NumPy generator seeded with ``[seed, *numbers]``, so each draw
is a pure function of the run (or tool) seed and the stream's numbers: runs
are reproducible whatever the number of workers, and streams never share
draws. The numbers below are part of the file formats' meaning (the same
seed must give the same champion and the same tables): never renumber them.
"""
from __future__ import annotations

import numpy as np

# ---- the search: default_rng([run seed, generation, stream]) -------------------------
POPULATION_SEEDS = 1  # rollouts of a generation's population
CONFIRM_SEEDS = 2  # fresh rollouts that confirm a champion
WEIGHT_DRAWS = 3  # the generation's shared weights (evaluation.weight_sampling: stratified)
CONFIRM_WEIGHT_DRAWS = 4  # the weights of a champion's confirmation (evaluation.confirm_weights: random)

# ---- the champion tools: default_rng([--seed, stream]) ------------------------------
EVAL_STREAM = 0  # evaluation episodes, shared by every row and weight
RANDOM_INDIVIDUAL_STREAM = 1  # evaluate --table: per-episode random connection weights
RANDOM_SHARED_STREAM = 2  # evaluate --table: per-episode random shared weight
SELECT_STREAM = 3  # evaluate --table: episodes that pick the tuned shared weight
SHARED_STREAM = 10  # tune: episodes that pick the shared weight
ES_NOISE_STREAM = 11  # tune: optimizer perturbations
ES_EPISODE_STREAM = 12  # tune: fresh episodes of every iteration
VALIDATION_STREAM = 13  # tune: fresh episodes that report the result
SELECTION_STREAM = 14  # tune: fixed episodes that pick the best mean seen during the run
PLAN_STREAM = 15  # tune --warm-start openloop: the start states that are planned
PLAN_NOISE_STREAM = 16  # tune --warm-start openloop: the planner's perturbations
HOLD_STREAM = 17  # tune --warm-start openloop: the start policy's episodes that give hold pairs
DISTILL_NOISE_STREAM = 18  # tune --warm-start openloop: the distillation's perturbations

SEED_HIGH = 2**31 - 1  # rollout seeds are int64 in [0, SEED_HIGH)


def make_rng(seed: int, *stream: int) -> np.random.Generator:
    """A generator that depends only on ``seed`` and the stream numbers."""
    return np.random.default_rng([int(seed), *(int(s) for s in stream)])


def draw_seeds(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` rollout seeds (int64 in [0, 2**31 - 1)) from ``rng``."""
    return rng.integers(0, SEED_HIGH, size=int(count), dtype=np.int64)


def generation_seeds(run_seed: int, generation: int, count: int, stream: int = POPULATION_SEEDS) -> np.ndarray:
    """Seeds of ``count`` rollouts of one search generation, a pure function of (run seed, generation, stream)."""
    return draw_seeds(make_rng(run_seed, generation, stream), count)


def pooled_seeds(run_seed: int, generation: int, count: int, pool: int) -> np.ndarray:
    """Seeds b, b+1, ..., b+count-1 for one draw b in [0, pool): the reference code's per-generation seeds.

    A pure function of (run seed, generation), drawn from the population
    stream, so start states recur across generations as they do there.
    """
    base = int(make_rng(run_seed, generation, POPULATION_SEEDS).integers(pool))
    return base + np.arange(int(count), dtype=np.int64)


def stratified_weights(rng: np.random.Generator, count: int, low: float, high: float) -> np.ndarray:
    """``count`` shared weights, one uniform draw per stratum of [-high, -low] and [low, high], sorted.

    Half the strata (rounded down) are negative, the rest positive; each side
    splits its magnitude range into equal strata, so every draw covers the
    range as evenly as a grid while landing anywhere in it.
    """
    n_neg = count // 2
    sides = []
    for n, sign in ((n_neg, -1.0), (count - n_neg, 1.0)):
        edges = np.linspace(low, high, n + 1)
        sides.append(sign * rng.uniform(edges[:-1], edges[1:]))
    return np.sort(np.concatenate(sides))


def evaluation_seeds(seed: int, episodes: int, stream: int = EVAL_STREAM) -> np.ndarray:
    """The rollout seeds of ``episodes`` tool episodes for ``--seed seed``."""
    return draw_seeds(make_rng(seed, stream), episodes)
