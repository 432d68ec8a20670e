"""What a mask costs and keeps: counts, effective connections, compression, speedup, collapse.

Counting conventions (stated once, used everywhere):

- ``nonzero_weights``: surviving weights of all layers; biases are not counted.
- ``effective_connections``: surviving weights on some input-to-output path
  (weight (i, j) of layer l with a live path from an input to unit j and from
  unit i to an output). This is what the WANN plot uses, as WANN genomes are
  counted by enabled connections. A unit without live inputs only sends the
  constant relu(bias) on; its outgoing weights fold into biases and do not count.
- ``compression`` = all weights / surviving weights (weights only, every layer).
- ``theoretical_speedup`` = dense multiply-adds / sparse multiply-adds per
  example (sum over layers of n_in * n_out * d_l; bias adds ignored). For an
  MLP it equals the weight-only compression. It is a count, not wall time:
  dense numpy kernels run no faster on a masked matrix.
- ``collapsed``: no input-to-output path is left (this includes every case of
  a fully pruned layer); then ``effective_connections`` is 0.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from wann.errors import UserError


def nonzero_weights(masks: Sequence[np.ndarray]) -> int:
    """Number of surviving weights (all layers, biases not counted)."""
    return int(sum(np.count_nonzero(m) for m in masks))


def total_weights(masks: Sequence[np.ndarray]) -> int:
    """Number of weights (all layers, biases not counted)."""
    return int(sum(np.size(m) for m in masks))


def layer_densities(masks: Sequence[np.ndarray]) -> list[float]:
    """Fraction of weights kept in each layer."""
    return [float(np.count_nonzero(m) / np.size(m)) for m in masks]


def density(masks: Sequence[np.ndarray]) -> float:
    """Overall fraction of weights kept (all layers)."""
    return nonzero_weights(masks) / total_weights(masks)


def _reach(masks: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Boolean forward reachability of each layer's inputs and backward reachability of its outputs."""
    mats = [np.asarray(m, dtype=np.float32) for m in masks]
    fwd = [np.ones(mats[0].shape[1], dtype=bool)]
    for m in mats:
        fwd.append((m @ fwd[-1].astype(np.float32)) > 0)
    bwd: list[np.ndarray] = [None] * len(mats)  # type: ignore[list-item]
    reach = np.ones(mats[-1].shape[0], dtype=bool)
    for l in range(len(mats) - 1, -1, -1):
        bwd[l] = reach
        reach = (mats[l].T @ reach.astype(np.float32)) > 0
    return fwd, bwd


def effective_masks(masks: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Per layer, the surviving weights that lie on some input-to-output path."""
    fwd, bwd = _reach(masks)
    return [np.asarray(m, dtype=bool) & bwd[l][:, None] & fwd[l][None, :] for l, m in enumerate(masks)]


def effective_connections(masks: Sequence[np.ndarray]) -> int:
    """Surviving weights on some input-to-output path (the count comparable with a WANN's connections)."""
    return int(sum(np.count_nonzero(m) for m in effective_masks(masks)))


def path_count(masks: Sequence[np.ndarray]) -> float:
    """Number of input-to-output paths, ``1^T (M_L ... M_1) 1`` (float64)."""
    a = np.ones(np.shape(masks[0])[1], dtype=np.float64)
    for m in masks:
        a = np.asarray(m, dtype=np.float64) @ a
    return float(a.sum())


def collapsed(masks: Sequence[np.ndarray]) -> bool:
    """True when no input-to-output path survives (e.g. a layer was pruned away)."""
    return effective_connections(masks) == 0


def empty_layers(masks: Sequence[np.ndarray]) -> list[int]:
    """Indices of layers with no surviving weight at all."""
    return [l for l, m in enumerate(masks) if not np.any(m)]


def compression_ratio(masks: Sequence[np.ndarray], n_biases: int = 0) -> float:
    """(weights + n_biases) / (surviving weights + n_biases); ``n_biases=0`` counts weights only. inf if nothing survives."""
    kept = nonzero_weights(masks) + n_biases
    return float("inf") if kept == 0 else (total_weights(masks) + n_biases) / kept


def theoretical_speedup(masks: Sequence[np.ndarray]) -> float:
    """Dense / sparse multiply-adds per example (bias adds ignored); inf if nothing survives."""
    sparse = sum(np.size(m) * (np.count_nonzero(m) / np.size(m)) for m in masks)
    return float("inf") if sparse == 0 else total_weights(masks) / sparse


def fraction_to_keep(compression: float, n_total: int, n_prunable: int) -> float:
    """Fraction of the prunable parameters to keep so that all parameters compress ``compression``-fold (ShrinkBench).

    ``f = (n_total / compression - n_unprunable) / n_prunable`` with
    ``n_unprunable = n_total - n_prunable``; UserError unless 0 < f <= 1.
    """
    if compression <= 0:
        raise UserError(f"compression: {compression!r}: must be > 0")
    n_unprunable = n_total - n_prunable
    f = (n_total / compression - n_unprunable) / n_prunable
    if not 0.0 < f <= 1.0:
        raise UserError(
            f"compression: {compression!r}: unreachable: it needs keeping {f:.4g} of the prunable parameters "
            f"(must lie in (0, 1]; {n_unprunable} of {n_total} parameters cannot be pruned)"
        )
    return float(f)


def summary(masks: Sequence[np.ndarray]) -> dict[str, object]:
    """All mask metrics in one dict (the CSV's mask columns)."""
    return {
        "density": density(masks),
        "compression": compression_ratio(masks),
        "nonzero_weights": nonzero_weights(masks),
        "effective_connections": effective_connections(masks),
        "theoretical_speedup": theoretical_speedup(masks),
        "layer_densities": layer_densities(masks),
        "collapsed": collapsed(masks),
    }


def check_masks(masks: Sequence[np.ndarray], shapes: Sequence[tuple[int, int]]) -> None:
    """UserError unless ``masks`` match ``shapes`` layer by layer."""
    if len(masks) != len(shapes) or any(np.shape(m) != tuple(s) for m, s in zip(masks, shapes)):
        raise UserError(f"masks of shapes {[np.shape(m) for m in masks]} do not match the network's {list(shapes)}")
