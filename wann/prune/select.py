"""From scores to masks: ``select(scores, density, scope) -> masks``, and per-layer density distributions.

``density`` is the fraction of weights kept, counted over the prunable layers
(``N`` = their total weight count); a layer keeps ``ceil(d * N)`` weights
(global) or ``ceil(d_l * N_l)`` (per layer). Only weights still alive in the
current masks can be kept (masks never regrow), and a weight is kept when its
score is among the highest; ties are broken by a random order drawn from the
generator passed in (by index without one), so the same seed gives the same
mask. NaN scores rank lowest. ``min_per_layer`` is the keep-at-least guard
(off by default so that layer collapse can be seen and reported).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from wann.errors import UserError
from wann.prune.checks import check_density

SCOPES = ("global", "layer")
STRUCTURES = ("weights", "neurons")
DISTRIBUTIONS = ("uniform", "erk", "snip_ratio")


def keep_count(density: float, n: int) -> int:
    """Weights kept out of ``n`` at ``density``: ``ceil(density * n)`` (float noise ignored)."""
    return min(n, max(0, math.ceil(density * n - 1e-9)))


def _ranked(scores: np.ndarray, eligible: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """Flat indices of the eligible entries, best first; ties in random (rng) or index order."""
    idx = np.flatnonzero(eligible)
    s = np.asarray(scores, dtype=np.float64).ravel()[idx]
    s = np.where(np.isnan(s), -np.inf, s)
    tie = rng.permutation(len(idx)) if rng is not None else np.arange(len(idx))
    return idx[np.lexsort((tie, -s))]


def _defaults(scores: Sequence[np.ndarray], masks, prunable) -> tuple[list[np.ndarray], list[bool]]:
    if masks is None:
        masks = [np.ones(np.shape(s), dtype=bool) for s in scores]
    else:
        if len(masks) != len(scores):
            raise UserError(f"masks: {len(masks)} arrays for {len(scores)} score arrays")
        masks = [np.asarray(m, dtype=bool) for m in masks]
        for s, m in zip(scores, masks):
            if np.shape(s) != m.shape:
                raise UserError(f"mask shape {m.shape} does not match score shape {np.shape(s)}")
    prunable = [True] * len(scores) if prunable is None else [bool(p) for p in prunable]
    if len(prunable) != len(scores):
        raise UserError(f"prunable: {len(prunable)} flags for {len(scores)} layers")
    if not any(prunable):
        raise UserError("prunable: no layer is prunable")
    return masks, prunable


def select(scores: Sequence[np.ndarray], density: float, scope: str = "global",
           masks: Sequence[np.ndarray] | None = None, layer_densities: Sequence[float] | None = None,
           prunable: Sequence[bool] | None = None, min_per_layer: int = 0,
           rng: np.random.Generator | None = None) -> list[np.ndarray]:
    """Masks keeping the highest-scoring weights.

    ``scope="global"`` pools the prunable layers and keeps the top
    ``ceil(density * N)``; ``scope="layer"`` keeps ``ceil(d_l * N_l)`` in each
    layer, with ``d_l`` from ``layer_densities`` (uniform ``density`` when not
    given). Layers marked not ``prunable`` keep their current mask.
    ``min_per_layer`` keeps at least that many weights in every prunable layer
    (the total may then exceed the target by up to that much per layer).
    """
    density = check_density(density)
    if scope not in SCOPES:
        raise UserError(f"scope: {scope!r}: allowed: {', '.join(SCOPES)}")
    masks, prunable = _defaults(scores, masks, prunable)
    out = [m.copy() for m in masks]
    layers = [l for l in range(len(scores)) if prunable[l]]
    if scope == "global":
        ids = [np.flatnonzero(masks[l]) for l in layers]
        pooled = np.concatenate([np.asarray(scores[l], dtype=np.float64).ravel()[i] for l, i in zip(layers, ids)])
        pooled = np.where(np.isnan(pooled), -np.inf, pooled)
        owner = np.concatenate([np.full(len(i), l) for l, i in zip(layers, ids)])
        flat = np.concatenate(ids)
        tie = rng.permutation(len(pooled)) if rng is not None else np.arange(len(pooled))
        k = keep_count(density, sum(masks[l].size for l in layers))
        top = np.lexsort((tie, -pooled))[:k]
        for l in layers:
            out[l] = np.zeros(masks[l].shape, dtype=bool)
            out[l].ravel()[flat[top[owner[top] == l]]] = True
    else:
        if layer_densities is None:
            layer_densities = [density] * len(scores)
        if len(layer_densities) != len(scores):
            raise UserError(f"layer_densities: {len(layer_densities)} values for {len(scores)} layers")
        for l in layers:
            d = check_density(layer_densities[l], f"density of layer {l}")
            out[l] = np.zeros(masks[l].shape, dtype=bool)
            out[l].ravel()[_ranked(scores[l], masks[l], rng)[:keep_count(d, masks[l].size)]] = True
    if min_per_layer > 0:
        for l in layers:
            have = int(out[l].sum())
            if have < min_per_layer:
                out[l].ravel()[_ranked(scores[l], masks[l], rng)[:min_per_layer]] = True
    return out


# ---- structured (neuron-level) selection -------------------------------------


def neuron_scores(scores: Sequence[np.ndarray], masks: Sequence[np.ndarray] | None = None,
                  norm: float = 2.0) -> list[np.ndarray]:
    """Score of each hidden unit: the L_norm of the scores of its incoming weights (row of layer l)."""
    masks = masks or [np.ones(np.shape(s), dtype=bool) for s in scores]
    out = []
    for s, m in zip(scores[:-1], masks[:-1]):
        s = np.where(m, np.nan_to_num(np.asarray(s, dtype=np.float64), nan=0.0, neginf=0.0), 0.0)
        out.append(np.linalg.norm(s, ord=norm, axis=1) if norm != 2.0 else np.sqrt((s * s).sum(axis=1)))
    return out


def _unit_masks(keep_units: Sequence[np.ndarray], masks: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Weight masks from kept hidden units: rows of dropped units and columns they feed are zeroed."""
    out = []
    for l, m in enumerate(masks):
        rows = keep_units[l] if l < len(keep_units) else np.ones(m.shape[0], dtype=bool)
        cols = keep_units[l - 1] if l > 0 else np.ones(m.shape[1], dtype=bool)
        out.append(m & rows[:, None] & cols[None, :])
    return out


def select_neurons(scores: Sequence[np.ndarray], density: float, scope: str = "layer",
                   masks: Sequence[np.ndarray] | None = None, norm: float = 2.0,
                   rng: np.random.Generator | None = None) -> list[np.ndarray]:
    """Structured pruning: remove whole hidden units until about ``density`` of the weights remain.

    Units are ranked by :func:`neuron_scores`. ``scope="layer"`` keeps the
    same fraction ``q`` of every hidden layer, ``scope="global"`` ranks the
    hidden units of all layers together; both choose the fewest units whose
    weights reach ``ceil(density * N)``, and every hidden layer keeps at least
    one unit. Inputs and outputs are never removed. Returns weight masks.
    """
    density = check_density(density)
    if scope not in SCOPES:
        raise UserError(f"scope: {scope!r}: allowed: {', '.join(SCOPES)}")
    masks, _ = _defaults(scores, masks, None)
    if len(masks) < 2:
        raise UserError("neuron-level pruning needs at least one hidden layer")
    target = keep_count(density, sum(m.size for m in masks))
    units = neuron_scores(scores, masks, norm)
    ranked = [_ranked(u, np.ones(len(u), dtype=bool), rng) for u in units]

    def count(keep: list[np.ndarray]) -> int:
        return int(sum(m.sum() for m in _unit_masks(keep, masks)))

    def keep_layerwise(q: float) -> list[np.ndarray]:
        keep = []
        for r in ranked:
            k = max(1, math.ceil(q * len(r) - 1e-9))
            mask = np.zeros(len(r), dtype=bool)
            mask[r[:k]] = True
            keep.append(mask)
        return keep

    if scope == "layer":
        lo, hi = 0.0, 1.0
        if count(keep_layerwise(hi)) <= target:
            return _unit_masks(keep_layerwise(hi), masks)
        for _ in range(60):
            mid = (lo + hi) / 2
            if count(keep_layerwise(mid)) >= target:
                hi = mid
            else:
                lo = mid
        return _unit_masks(keep_layerwise(hi), masks)

    # global: one ranking over all hidden units, best unit of each layer always kept
    flat_s = np.concatenate([units[l][ranked[l]] for l in range(len(units))])
    layer_of = np.concatenate([np.full(len(u), l) for l, u in enumerate(units)])
    unit_of = np.concatenate(ranked)
    first = np.concatenate([np.arange(len(u)) == 0 for u in units])
    tie = rng.permutation(len(flat_s)) if rng is not None else np.arange(len(flat_s))
    order = np.lexsort((tie, -np.where(first, np.inf, flat_s)))

    def keep_prefix(k: int) -> list[np.ndarray]:
        keep = [np.zeros(len(u), dtype=bool) for u in units]
        for i in order[:k]:
            keep[layer_of[i]][unit_of[i]] = True
        return keep

    lo, hi = len(units), len(order)
    if count(keep_prefix(lo)) >= target:
        return _unit_masks(keep_prefix(lo), masks)
    while lo < hi:
        mid = (lo + hi) // 2
        if count(keep_prefix(mid)) >= target:
            hi = mid
        else:
            lo = mid + 1
    return _unit_masks(keep_prefix(hi), masks)


# ---- per-layer density distributions -------------------------------------------


def uniform_densities(shapes: Sequence[tuple[int, ...]], density: float) -> list[float]:
    """Every layer at ``density``."""
    density = check_density(density)
    return [density] * len(shapes)


def erk_densities(shapes: Sequence[tuple[int, ...]], density: float, power: float = 1.0,
                  fixed: dict[int, float] | None = None) -> list[float]:
    """Erdos-Renyi-Kernel densities (Evci et al. 2020): d_l = eps * (sum(dims)/prod(dims))^power.

    ``eps`` is solved so that the overall density is ``density``; a layer whose
    ``d_l`` would exceed 1 is made dense and the rest re-solved. Layers in
    ``fixed`` (index -> density) keep that density and are left out of the solve.
    For dense layers this is ER, ``(n_in + n_out) / (n_in * n_out)``.
    """
    density = check_density(density)
    fixed = dict(fixed or {})
    sizes = [int(np.prod(s)) for s in shapes]
    raw = [(sum(s) / np.prod(s)) ** power for s in shapes]
    dense: set[int] = set()
    while True:
        rhs = density * sum(sizes)
        divisor = 0.0
        for l, n in enumerate(sizes):
            if l in fixed:
                rhs -= fixed[l] * n
            elif l in dense:
                rhs -= n
            else:
                divisor += raw[l] * n
        free = [l for l in range(len(sizes)) if l not in fixed and l not in dense]
        if not free:
            break
        if rhs <= 0:
            raise UserError(f"density: {density!r}: too low for the fixed and dense layers of this ERK solve")
        eps = rhs / divisor
        worst = max(free, key=lambda l: raw[l])
        if eps * raw[worst] > 1.0:
            dense.update(l for l in free if raw[l] == raw[worst])
            continue
        break
    out = []
    for l in range(len(sizes)):
        if l in fixed:
            out.append(float(fixed[l]))
        elif l in dense:
            out.append(1.0)
        else:
            out.append(float(eps * raw[l]))
    return out


def snip_ratio_densities(snip: Sequence[np.ndarray], density: float,
                         rng: np.random.Generator | None = None) -> list[float]:
    """Per-layer densities of a global SNIP selection at ``density`` (the SNIP-ratio distribution)."""
    masks = select(snip, density, scope="global", rng=rng)
    return [float(m.mean()) for m in masks]


def layer_densities(distribution: str, shapes: Sequence[tuple[int, ...]], density: float,
                    snip: Sequence[np.ndarray] | None = None, power: float = 1.0,
                    rng: np.random.Generator | None = None) -> list[float]:
    """Per-layer densities for ``uniform``, ``erk`` or ``snip_ratio`` (which needs SNIP scores)."""
    if distribution == "uniform":
        return uniform_densities(shapes, density)
    if distribution == "erk":
        return erk_densities(shapes, density, power)
    if distribution == "snip_ratio":
        if snip is None:
            raise UserError("the snip_ratio distribution needs SNIP scores")
        return snip_ratio_densities(snip, density, rng)
    raise UserError(f"distribution: {distribution!r}: allowed: {', '.join(DISTRIBUTIONS)}")
