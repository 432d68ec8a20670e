"""Pruning scores: one array per layer, same shape as the weights; higher means keep.

Each criterion is a pure function of the network's current (masked) weights,
and for data-driven criteria of a batch; none changes the network.

- ``magnitude``: |w|.
- ``random``: uniform draws from the generator passed in.
- ``grad_weight``: |g * w| with g the gradient of the mean loss on the batch
  (first-order Taylor estimate of the loss change when w is removed).
- ``snip``: SNIP (Lee et al. 2019), |g * w| normalised to sum to one over all
  layers; use it at initialisation on a class-balanced batch.
- ``synflow``: SynFlow (Tanaka et al. 2020), data-free, closed form for an MLP
  with biases left out: S(W_l[i,j]) = b_l[i] * |W_l[i,j]| * a_{l-1}[j]. In
  float64, or as log-scores (same order) when ``log_domain``.
- ``obd``: Optimal Brain Damage saliency 1/2 * h * w^2 with h the empirical
  Fisher diagonal, mean over samples of (d loss_n / d w)^2.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from wann.errors import UserError
from wann.prune.dense import MLP

CRITERIA = ("magnitude", "random", "grad_weight", "snip", "synflow", "obd")
DATA_CRITERIA = ("grad_weight", "snip", "obd")


def magnitude_scores(weights: Sequence[np.ndarray]) -> list[np.ndarray]:
    """|w| per layer (float64)."""
    return [np.abs(np.asarray(w, dtype=np.float64)) for w in weights]


def random_scores(shapes: Sequence[tuple[int, ...]], rng: np.random.Generator) -> list[np.ndarray]:
    """Independent uniform [0, 1) scores per layer, drawn from ``rng``."""
    return [rng.random(shape) for shape in shapes]


def _batched_gradients(net: MLP, x: np.ndarray, y: np.ndarray, chunk: int = 1024) -> list[np.ndarray]:
    """Gradient of the mean loss over all of (x, y), in chunks (float64)."""
    total = [np.zeros(s, dtype=np.float64) for s in net.shapes]
    for start in range(0, len(y), chunk):
        xs, ys = x[start:start + chunk], y[start:start + chunk]
        _, gw, _ = net.gradients(xs, ys)
        for t, g in zip(total, gw):
            t += g.astype(np.float64) * (len(ys) / len(y))
    return total


def grad_weight_scores(net: MLP, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """|g * w| per layer, g the gradient of the mean loss on (x, y)."""
    grads = _batched_gradients(net, x, y)
    return [np.abs(g * w.astype(np.float64)) for g, w in zip(grads, net.weights)]


def snip_scores(net: MLP, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """SNIP connection sensitivity |dL/dc| = |g * w| at gates c = 1, normalised to sum to one over all layers."""
    raw = grad_weight_scores(net, x, y)
    total = sum(float(s.sum()) for s in raw)
    if total <= 0 or not np.isfinite(total):
        raise UserError("snip: all connection sensitivities are zero (dead network or empty batch)")
    return [s / total for s in raw]


def synflow_flows(abs_weights: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Forward flows a_0..a_L (a_0 = 1, a_l = |W_l| a_{l-1}) and backward flows b_1..b_L (b_L = 1, b_{l-1} = |W_l|^T b_l).

    With 0-based layers: ``a[l]`` is the flow into the inputs of layer ``l`` (``a[0]`` = ones,
    ``a[L]`` the network's output flow) and ``b[l]`` the backward flow at the outputs of layer ``l``.
    """
    a = [np.ones(abs_weights[0].shape[1], dtype=np.float64)]
    for w in abs_weights:
        a.append(w @ a[-1])
    b: list[np.ndarray] = [None] * len(abs_weights)  # type: ignore[list-item]
    flow = np.ones(abs_weights[-1].shape[0], dtype=np.float64)
    for l in range(len(abs_weights) - 1, -1, -1):
        b[l] = flow
        flow = abs_weights[l].T @ flow
    return a, b


def _log_matvec(log_w: np.ndarray, log_v: np.ndarray) -> np.ndarray:
    """log(W v) from log W and log v, rows of -inf giving -inf."""
    t = log_w + log_v[None, :]
    m = t.max(axis=1)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.exp(t - safe[:, None]).sum(axis=1))


def synflow_scores(weights: Sequence[np.ndarray], masks: Sequence[np.ndarray] | None = None,
                   log_domain: bool = False) -> list[np.ndarray]:
    """SynFlow scores S = (dR/dW) * W of R = 1^T |W_L| ... |W_1| 1 (biases left out), per layer.

    Float64 closed form; with ``log_domain`` the natural logs of the scores
    (-inf for pruned weights), which never overflow and rank identically.
    Every layer's scores sum to R (the conservation law).
    """
    absw = [np.abs(np.asarray(w, dtype=np.float64)) for w in weights]
    if masks is not None:
        absw = [w * m for w, m in zip(absw, masks)]
    if not log_domain:
        a, b = synflow_flows(absw)
        return [b[l][:, None] * absw[l] * a[l][None, :] for l in range(len(absw))]
    with np.errstate(divide="ignore"):
        logw = [np.log(w) for w in absw]
    log_a = [np.zeros(absw[0].shape[1])]
    for lw in logw:
        log_a.append(_log_matvec(lw, log_a[-1]))
    log_b: list[np.ndarray] = [None] * len(logw)  # type: ignore[list-item]
    flow = np.zeros(absw[-1].shape[0])
    for l in range(len(logw) - 1, -1, -1):
        log_b[l] = flow
        flow = _log_matvec(logw[l].T, flow)
    return [log_b[l][:, None] + logw[l] + log_a[l][None, :] for l in range(len(logw))]


def synflow_objective(weights: Sequence[np.ndarray]) -> float:
    """R_SF = 1^T |W_L| ... |W_1| 1 (float64)."""
    a, _ = synflow_flows([np.abs(np.asarray(w, dtype=np.float64)) for w in weights])
    return float(a[-1].sum())


def fisher_diagonal(net: MLP, x: np.ndarray, y: np.ndarray, chunk: int = 512) -> list[np.ndarray]:
    """Empirical Fisher diagonal per weight: mean over samples of (d loss_n / d w)^2 = (delta^2)^T (x^2) / N."""
    total = [np.zeros(s, dtype=np.float64) for s in net.shapes]
    for start in range(0, len(y), chunk):
        _, errs = net.errors(x[start:start + chunk], y[start:start + chunk], per_sample=True)
        for t, (a_in, delta) in zip(total, errs):
            d = delta.astype(np.float64)
            a = a_in.astype(np.float64)
            t += (d * d).T @ (a * a)
    return [t / len(y) for t in total]


def obd_scores(net: MLP, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """OBD saliency 1/2 * h_kk * w_k^2 with h the empirical Fisher diagonal on (x, y)."""
    fisher = fisher_diagonal(net, x, y)
    return [0.5 * h * np.square(w.astype(np.float64)) for h, w in zip(fisher, net.weights)]


def compute_scores(criterion: str, net: MLP, x: np.ndarray | None = None, y: np.ndarray | None = None,
                   rng: np.random.Generator | None = None, log_domain: bool = False) -> list[np.ndarray]:
    """Scores of ``criterion`` for ``net`` (data ``x``, ``y`` for the data-driven ones, ``rng`` for random)."""
    if criterion == "magnitude":
        return magnitude_scores(net.weights)
    if criterion == "random":
        if rng is None:
            raise UserError("random scores need a numpy Generator (rng)")
        return random_scores(net.shapes, rng)
    if criterion == "synflow":
        return synflow_scores(net.weights, net.masks, log_domain=log_domain)
    if criterion in DATA_CRITERIA:
        if x is None or y is None or len(y) == 0:
            raise UserError(f"{criterion} scores need a non-empty batch of data")
        if criterion == "grad_weight":
            return grad_weight_scores(net, x, y)
        if criterion == "snip":
            return snip_scores(net, x, y)
        return obd_scores(net, x, y)
    raise UserError(f"criterion {criterion!r}: allowed: {', '.join(CRITERIA)}")
