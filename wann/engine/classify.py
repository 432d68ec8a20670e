"""Supervised (classification) scoring of WANNs: a whole shard on a whole data set per call.

The network's linear outputs are turned into class probabilities by a softmax
(the reference code's classification rule). Two entry points:

- :func:`classify_shard` (compiled): every network of a shard x every shared
  weight x every row of a data matrix in ONE call, rows in lockstep through
  :func:`wann.engine.network.forward_lanes`. It returns, per (network, weight), the
  mean cross-entropy of the softmax of the outputs and the accuracy; it never
  holds more than one output vector at a time, so memory does not grow with
  the data set.
- :func:`classification_metrics` (numpy, one network): accuracy at each
  shared weight and of the ensemble over weights (mean of the per-weight
  softmax probabilities, then argmax), for champions and reports.

Conventions shared by both: the predicted class is the first index of the
largest output; a row whose outputs are not all finite counts as wrong, with
a loss of :data:`NONFINITE_LOSS`, and adds nothing to the ensemble mean (a
row that is non-finite at every weight is wrong in the ensemble too).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from numba import njit

from wann.engine.losses import cross_entropy_rows, softmax
from wann.engine.network import ROW_LANES, Network, forward, forward_block, load_rows, max_nodes

# Per-row loss charged when a network's outputs overflow or turn NaN.
NONFINITE_LOSS = 1.0e6


@njit(cache=True)
def softmax_row_loss(outputs, label):
    """(cross-entropy of the softmax of ``outputs`` for class ``label``, first argmax) (compiled).

    A stable log-sum-exp; the loss is not finite when an output is not.
    """
    best = 0
    top = outputs[0]
    for o in range(1, len(outputs)):
        if outputs[o] > top:
            top = outputs[o]
            best = o
    acc = 0.0
    for o in range(len(outputs)):
        acc += math.exp(outputs[o] - top)
    return top + math.log(acc) - outputs[label], best


@njit(cache=True)
def classify_shard(node_offset, act, indptr, src, conn_weight, n_inputs, n_outputs, shared_only, x, y, weights):
    """Mean softmax cross-entropy and accuracy of every network x shared weight on (x, y).

    ``x`` is float64[n, n_inputs] (C-contiguous), ``y`` int64[n] class labels in
    ``0..n_outputs-1``. Returns (loss float64[G, n_weights], accuracy float64[G, n_weights]).
    Rows go through the network :data:`~wann.engine.network.ROW_LANES` at a time in
    lockstep; row losses are summed in row order, as one row at a time would.
    """
    n_net = len(node_offset) - 1
    n_rows = x.shape[0]
    n_w = len(weights)
    total_loss = np.zeros((n_net, n_w))
    n_correct = np.zeros((n_net, n_w), dtype=np.int64)
    n_lanes = max(1, min(n_rows, ROW_LANES))
    values = np.empty((max_nodes(node_offset), n_lanes))
    lane_weight = np.empty(n_lanes)
    outputs = np.empty(n_outputs)
    # Chunks outermost: a chunk's inputs are loaded once for every network and
    # weight (the forward pass never writes the input rows).
    for start in range(0, n_rows, n_lanes):
        n_chunk = min(n_lanes, n_rows - start)
        load_rows(x, start, n_chunk, n_inputs, values)
        for g in range(n_net):
            for w in range(n_w):
                n_nodes = forward_block(node_offset, act, indptr, src, conn_weight, shared_only, n_inputs,
                                        g, weights[w], lane_weight, n_chunk, values)
                first_out = n_nodes - n_outputs
                for lane in range(n_chunk):
                    for o in range(n_outputs):
                        outputs[o] = values[first_out + o, lane]
                    row_loss, best = softmax_row_loss(outputs, y[start + lane])
                    if math.isfinite(row_loss):
                        total_loss[g, w] += row_loss
                        if best == y[start + lane]:
                            n_correct[g, w] += 1
                    else:
                        total_loss[g, w] += NONFINITE_LOSS
    return total_loss / n_rows, n_correct / n_rows


def classification_metrics(
    network: Network, x: np.ndarray, y: np.ndarray, weights: Sequence[float]
) -> dict[str, Any]:
    """Accuracy of one network at each shared weight, their mean and best, and the ensemble.

    The ensemble averages the softmax probabilities over all ``weights`` and
    takes the argmax. Also returns the mean cross-entropy per weight.
    """
    y = np.asarray(y, dtype=np.int64)
    outputs = forward(network, x, weights)  # [W, n, n_outputs]
    finite = np.all(np.isfinite(outputs), axis=-1)  # [W, n]
    safe = np.where(finite[..., None], outputs, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        row_loss = cross_entropy_rows(safe, y)
    ok = finite & np.isfinite(row_loss)  # the kernel's rule: otherwise wrong, NONFINITE_LOSS
    row_loss = np.where(ok, row_loss, NONFINITE_LOSS)
    predicted = np.where(ok, np.argmax(safe, axis=-1), -1)
    per_weight = (predicted == y[None, :]).mean(axis=1)
    probs = np.where(ok[..., None], softmax(safe), 0.0)
    ensemble = np.where(ok.any(axis=0), np.argmax(probs.mean(axis=0), axis=-1), -1)
    return {
        "accuracy_per_weight": [float(a) for a in per_weight],
        "accuracy_mean": float(per_weight.mean()),
        "accuracy_best": float(per_weight.max()),
        "accuracy_ensemble": float(np.mean(ensemble == y)),
        "cross_entropy_per_weight": [float(v) for v in row_loss.mean(axis=1)],
        "n": int(len(y)),
    }


def held_out_metrics(network: Network, x: np.ndarray, y: np.ndarray, weights: Sequence[float]) -> dict[str, Any]:
    """The numbers a classification champion stores for its test set: accuracy per weight, mean, best,
    ensemble, cross-entropy per weight and the number of test rows."""
    test = classification_metrics(network, x, y, weights)
    keys = ("accuracy_per_weight", "accuracy_mean", "accuracy_best", "accuracy_ensemble", "cross_entropy_per_weight")
    return {**{k: test[k] for k in keys}, "n_test": test["n"]}
