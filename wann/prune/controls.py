"""Controls for a pruned mask: is it the mask, the init, or the signs that matter?

- random re-initialisation: same mask, fresh weights from the same init scheme
  (Frankle & Carbin's control for lottery tickets);
- layerwise-shuffled mask: each layer's survivors moved to random positions,
  per-layer density unchanged;
- signed constant (Zhou et al. 2019): every survivor set to
  ``sigma_l * sign(w_init)``, sigma_l the std of layer l's initial weights;
- dynamic weight rescaling: layer l multiplied by ``N_l / nnz(M_l)``.

Pure functions; randomness only from the generator passed in.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from wann.prune.dense import init_weight

CONTROLS = ("none", "reinit", "shuffle", "signed_constant")


def random_reinit(masks: Sequence[np.ndarray], init: str, rng: np.random.Generator,
                  dtype=np.float32) -> list[np.ndarray]:
    """Fresh weights drawn with ``init`` for every layer, pruned by ``masks``."""
    return [init_weight(m.shape, init, rng, dtype) * m for m in masks]


def shuffle_masks(masks: Sequence[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Each layer's mask entries permuted at random (same count per layer)."""
    return [rng.permutation(np.asarray(m, dtype=bool).ravel()).reshape(np.shape(m)) for m in masks]


def signed_constant(weight_init: Sequence[np.ndarray], masks: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Survivors set to ``sigma_l * sign(w_init)`` with sigma_l the std of layer l's initial weights."""
    out = []
    for w0, m in zip(weight_init, masks):
        w0 = np.asarray(w0)
        sign = np.where(w0 >= 0, 1.0, -1.0)
        out.append((float(np.std(w0)) * sign * m).astype(w0.dtype))
    return out


def dynamic_weight_rescaling(weights: Sequence[np.ndarray], masks: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Layer l scaled by ``N_l / nnz(M_l)`` (unchanged if the layer is empty)."""
    out = []
    for w, m in zip(weights, masks):
        nnz = int(np.count_nonzero(m))
        out.append(np.asarray(w) * (m.size / nnz) if nnz else np.asarray(w).copy())
    return out
