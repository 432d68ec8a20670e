"""Pruning schedules: how the density moves from 1 to its target.

- one-shot: the target at once.
- IMP (iterative magnitude pruning, Frankle & Carbin 2019): each level prunes
  the fraction ``p_l`` of the weights still alive in layer ``l``, so after
  level ``k`` layer ``l`` has density ``(1 - p_l)^k``; a reported density
  between two levels is reached by one last, smaller (fractional) level.
- AGP (Zhu & Gupta 2017): cubic sparsity ramp
  ``s_t = s_f + (s_i - s_f) * (1 - (t - t_0) / (n * dt))^3``.
- SynFlow iterations: ``d_k = D^(k/n)`` (exponential) or ``1 - (1 - D) k/n`` (linear).

All functions are pure; densities are fractions in (0, 1].
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from wann.errors import UserError
from wann.prune.checks import check_density

SYNFLOW_SCHEDULES = ("exponential", "linear")


def one_shot(progress: float, density: float) -> float:
    """One-shot schedule: the target density at any progress."""
    return check_density(density)


def agp_sparsity(t: float, s_initial: float, s_final: float, t0: float, n: int, dt: float) -> float:
    """Sparsity at step ``t`` of AGP: the cubic ramp from ``s_initial`` at ``t0`` to ``s_final`` at ``t0 + n*dt``."""
    if not 0.0 <= s_initial <= 1.0 or not 0.0 <= s_final < 1.0:
        raise UserError(f"agp: sparsities ({s_initial}, {s_final}): initial must lie in [0, 1], final in [0, 1)")
    if n < 1 or dt <= 0:
        raise UserError(f"agp: n={n}, dt={dt}: need n >= 1 and dt > 0")
    progress = min(max((t - t0) / (n * dt), 0.0), 1.0)
    return s_final + (s_initial - s_final) * (1.0 - progress) ** 3


def polynomial_density(progress: float, final_density: float, initial_density: float = 1.0, power: float = 3.0) -> float:
    """AGP on training progress in [0, 1] (clipped), as a density: ``d_f + (d_i - d_f) (1 - progress)^power``."""
    final_density = check_density(final_density, "final density")
    progress = min(max(float(progress), 0.0), 1.0)
    return final_density + (initial_density - final_density) * (1.0 - progress) ** power


def synflow_densities(density: float, iterations: int, kind: str = "exponential") -> list[float]:
    """Densities after pruning steps k = 1..n of SynFlow's iterative schedule."""
    density = check_density(density)
    if iterations < 1:
        raise UserError(f"iterations: {iterations}: must be >= 1")
    k = np.arange(1, iterations + 1) / iterations
    if kind == "exponential":
        return [float(d) for d in density ** k]
    if kind == "linear":
        return [float(d) for d in 1.0 - (1.0 - density) * k]
    raise UserError(f"synflow schedule: {kind!r}: allowed: {', '.join(SYNFLOW_SCHEDULES)}")


def imp_layer_densities(level: float, rates: Sequence[float]) -> list[float]:
    """Per-layer densities ``(1 - p_l)^level`` after ``level`` IMP levels with per-level rates ``p_l``."""
    for p in rates:
        if not 0.0 <= p < 1.0:
            raise UserError(f"imp rate: {p!r}: must lie in [0, 1) (the fraction of remaining weights pruned per level)")
    return [float((1.0 - p) ** level) for p in rates]


def imp_density(level: float, rates: Sequence[float], sizes: Sequence[int]) -> float:
    """Overall density (weights kept / weights) after ``level`` levels; ``sizes`` are the layers' weight counts."""
    d = imp_layer_densities(level, rates)
    return float(sum(di * n for di, n in zip(d, sizes)) / sum(sizes))


def imp_level_for(density: float, rates: Sequence[float], sizes: Sequence[int]) -> float:
    """The (fractional) level at which IMP with per-level ``rates`` reaches overall ``density`` (bisection)."""
    density = check_density(density)
    if density >= 1.0:
        return 0.0
    if max(rates) <= 0:
        raise UserError("imp rates: all zero: nothing would ever be pruned")
    hi = 1.0
    while imp_density(hi, rates, sizes) > density:
        hi *= 2.0
    lo = 0.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if imp_density(mid, rates, sizes) > density:
            lo = mid
        else:
            hi = mid
    return hi


def imp_plan(rates: Sequence[float], sizes: Sequence[int], targets: Sequence[float],
             tol: float = 1e-9) -> tuple[int, dict[float, tuple[int, float]]]:
    """Levels IMP runs to report at ``targets``: ``(chain_length, {target: (branch_level, target_level)})``.

    The main chain runs whole levels 1..chain_length (each prunes ``p_l`` of
    what is left in layer l). The ticket at a target density branches off the
    last whole level above it and prunes once more, to the target's fractional
    level exactly, so its mask does not depend on which other targets were asked for.
    """
    plan: dict[float, tuple[int, float]] = {}
    chain = 0
    for target in sorted({check_density(t, "target density") for t in targets}, reverse=True):
        level = imp_level_for(target, rates, sizes)
        branch = max(0, int(np.ceil(level - tol)) - 1)
        plan[target] = (branch, level)
        chain = max(chain, branch)
    return chain, plan
