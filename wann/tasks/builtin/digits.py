"""scikit-learn's bundled 8x8 digits as a WANN classification task: ``wann/Digits-v0``.

64 inputs (pixels / 16, row-major, labelled ``px_<row>_<col>``), 10 linear
outputs (labelled ``"0"`` .. ``"9"``) turned into class probabilities by a
softmax. There is no gymnasium env: the task scores a whole shard itself
(:func:`digits_shard_evaluator`) and reports held-out accuracy for every new
champion (:func:`digits_champion_metrics`).

Data: the 1797 images are split once, stratified per class, with a fixed
seed (:data:`SPLIT_SEED`): ``round(0.25 * n_c)`` images of every class c go
to the test set (450 in all), the other 1347 to the training set. The data
are loaded on first use, never at import time; scikit-learn is an optional
extra (``pip install -e ".[datasets]"``).

Fitness: the reward of a (genome, shared weight) is the NEGATIVE MEAN
CROSS-ENTROPY of the softmax of the outputs over the WHOLE training set. It is
smooth where accuracy is a step function (many genomes tie on accuracy, and a
useful new hidden node often moves the loss before it moves the argmax), and
it is what the reference code's classification task uses. Rollout seeds are
ignored: every generation sees the same full training set, evaluated in one
compiled call per shard, so the reward is repeated over the rollout axis and
``rollouts: 1`` / ``best_rollouts: 1`` lose nothing.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from wann.engine.classify import classification_metrics, classify_shard, held_out_metrics
from wann.errors import UserError
from wann.tasks.base import ActionRule, Task
from wann.tasks.registry import register_task

DIGITS_TASK_NAME = "wann/Digits-v0"
N_PIXELS = 64
N_CLASSES = 10
TEST_FRACTION = 0.25
SPLIT_SEED = 2019
INSTALL_HINT = 'pip install -e ".[datasets]"'

DIGITS_INPUT_LABELS = tuple(f"px_{r}_{c}" for r in range(8) for c in range(8))
DIGITS_OUTPUT_LABELS = tuple(str(k) for k in range(N_CLASSES))


class MissingDatasetError(UserError, ImportError):
    """scikit-learn (which ships the digits) is not installed.

    Also a ValueError, so the command line reports it in one line (exit 2).
    """


@dataclass(frozen=True)
class DigitsSplit:
    """The fixed train/test split: float64 pixels in [0, 1] (C-contiguous), int64 labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def stratified_split(
    y: np.ndarray, test_fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED
) -> tuple[np.ndarray, np.ndarray]:

    """Sorted index arrays (train, test): ``round(test_fraction * n_c)`` of each class c go to test."""
    if not 0.0 < test_fraction < 1.0:
        raise UserError(f"test_fraction {test_fraction!r} must lie in (0, 1)")
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(len(idx))]
        n_test = int(round(test_fraction * len(idx)))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 images as (float64[1797, 64] pixels / 16, int64[1797] labels)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise MissingDatasetError(
            f"task {DIGITS_TASK_NAME} needs scikit-learn's bundled digits data, "
            f"but scikit-learn is not installed: {INSTALL_HINT}"
        ) from None
    bunch = load_digits()
    x = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    return x, y


@functools.lru_cache(maxsize=1)
def load_digits_split() -> DigitsSplit:
    """The task's fixed stratified split (loaded once per process)."""
    x, y = load_digits_arrays()
    train, test = stratified_split(y)
    return DigitsSplit(
        x_train=np.ascontiguousarray(x[train]),
        y_train=np.ascontiguousarray(y[train]),
        x_test=np.ascontiguousarray(x[test]),
        y_test=np.ascontiguousarray(y[test]),
    )


def digits_shard_evaluator(task, batch, weights, seeds, max_steps, kernel=None) -> tuple[np.ndarray, int]:
    """Rewards float64[G, n_weights, len(seeds)]: minus the mean training cross-entropy.

    ``seeds`` only set the size of the rollout axis and ``max_steps`` is
    ignored (see the module docstring). The step count is the number of
    forward passes: networks x weights x training images. ``kernel``
    replaces :func:`wann.engine.classify.classify_shard` (benchmarks pass the old
    per-row kernel).
    """
    data = load_digits_split()
    w = np.ascontiguousarray(weights, dtype=np.float64)
    loss, _accuracy = (kernel or classify_shard)(*batch.arrays(), data.x_train, data.y_train, w)
    rewards = np.repeat((-loss)[:, :, None], len(seeds), axis=2)
    return rewards, int(len(batch) * len(w) * len(data.y_train))


def digits_champion_metrics(network, weights) -> dict[str, Any]:
    """Held-out (and training) accuracy of a champion per weight, mean, best and ensemble."""
    data = load_digits_split()
    train = classification_metrics(network, data.x_train, data.y_train, weights)
    metrics: dict[str, Any] = {
        **held_out_metrics(network, data.x_test, data.y_test, weights),
        "train_accuracy_per_weight": train["accuracy_per_weight"],
        "train_accuracy_mean": train["accuracy_mean"],
        "train_accuracy_best": train["accuracy_best"],
        "train_accuracy_ensemble": train["accuracy_ensemble"],
        "n_train": train["n"],
        "shared_weights": [float(v) for v in np.asarray(weights, dtype=np.float64)],
        "split": {"test_fraction": TEST_FRACTION, "seed": SPLIT_SEED, "stratified": True},
    }
    return metrics


def make_digits_task() -> Task:
    """The :class:`~wann.tasks.Task` ``wann/Digits-v0`` (no data is loaded here)."""
    return Task(
        name=DIGITS_TASK_NAME,
        n_inputs=N_PIXELS,
        n_outputs=N_CLASSES,
        input_labels=DIGITS_INPUT_LABELS,
        output_labels=DIGITS_OUTPUT_LABELS,
        action=ActionRule.argmax(N_CLASSES),  # the predicted class; fitness uses the softmax
        max_steps=1,
        shard_evaluator=digits_shard_evaluator,
        champion_metrics=digits_champion_metrics,
    )


register_task(make_digits_task())
