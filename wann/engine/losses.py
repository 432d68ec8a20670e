"""Softmax and softmax cross-entropy in numpy, shared by the WANN classification tasks and the dense nets.

Both keep the input's dtype (the dense nets train in float32) and use the
max-shifted form, so they never overflow.
"""
from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis; a row with a non-finite value becomes all zeros."""
    z = np.asarray(logits)
    finite = np.all(np.isfinite(z), axis=-1, keepdims=True)
    z = np.where(finite, z, 0)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return np.where(finite, e / e.sum(axis=-1, keepdims=True), 0)


def cross_entropy_rows(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Softmax cross-entropy of every row for integer labels ``y`` (shape ``logits.shape[:-1]``).

    ``logits`` is [..., n_rows, n_classes]; ``y`` holds n_rows labels.
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=-1))
    index = np.broadcast_to(np.asarray(y)[:, None], shifted.shape[:-1] + (1,))
    return log_z - np.take_along_axis(shifted, index, axis=-1)[..., 0]


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> float:
    """Mean softmax cross-entropy of integer labels ``y`` over the rows of [n_rows, n_classes] ``logits``."""
    return float(np.mean(cross_entropy_rows(logits, y)))
