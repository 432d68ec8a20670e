"""MNIST 16x16 (``wann/MNIST16-v0``): the paper's classification task, from the standard IDX files.

Options (``task.kwargs``; the champion file keeps them, so the tools find the data again):

- ``path`` (required): the folder with the four MNIST IDX files
  (``python -m wann.data mnist --path DIR`` checks them, ``--download``
  fetches them; nothing is downloaded here);
- ``batch_size`` (1000): training images per fitness batch;
- ``preprocess`` (``deskew_resize``): deskew at 28x28, then resize to 16x16
  (the paper's description); ``resize_deskew`` is the reference code's order;
  ``resize`` skips deskewing (see :func:`wann.tasks.mnist_data.preprocess`).

Fitness, as the reference: the reward of a (genome, shared weight) is minus
the mean softmax cross-entropy on a batch of ``batch_size`` training images.
The batch of a rollout is drawn from its rollout seed
(:func:`batch_indices`), and every genome of a generation gets the same
rollout seeds, so within a generation every genome is scored on the same
images, and each generation draws a new batch (``rollouts: 1`` as the paper;
``rollouts: k`` averages k batches). A new champion's held-out accuracy on
the 10,000 test images (per weight, mean, best, and the ensemble that
averages the softmax over the shared weights) is stored as ``test_metrics``.
The data are read and preprocessed on first use in each process, never at
import time.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from wann.engine.classify import classify_shard, held_out_metrics
from wann.errors import UserError, closest
from wann.tasks.base import ActionRule, Task
from wann.tasks.mnist_data import PREPROCESS_ORDERS, load_mnist, preprocess
from wann.tasks.registry import register_task

MNIST_TASK_NAME = "wann/MNIST16-v0"
SIZE = 16
N_CLASSES = 10
OPTION_DOCS = {
    "path": "folder with the four MNIST IDX files (required)",
    "batch_size": "training images per fitness batch (default 1000; all of them if fewer)",
    "preprocess": f"one of {', '.join(PREPROCESS_ORDERS)} (default deskew_resize)",
}


@dataclass(frozen=True)
class MnistOptions:
    """The task's options (``task.kwargs``)."""

    path: str  # folder with the IDX files
    batch_size: int = 1000  # training images per fitness batch
    preprocess: str = "deskew_resize"  # see wann.tasks.mnist_data.preprocess


@dataclass(frozen=True)
class MnistData:
    """Preprocessed MNIST: float64 [n, 256] pixels in [0, 1] (C-contiguous), int64 labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def parse_options(kwargs: dict[str, Any]) -> MnistOptions:
    """Check ``task.kwargs`` of the MNIST task; ValueError in one line naming the key."""
    for key in kwargs:
        if key not in OPTION_DOCS:
            raise UserError(f"task.kwargs.{key}: unknown option of {MNIST_TASK_NAME}{closest(key, OPTION_DOCS)}; "
                             f"allowed: {', '.join(OPTION_DOCS)}")
    path = kwargs.get("path")
    if not isinstance(path, str) or not path:
        raise UserError(f"task.kwargs.path: {path!r}: {MNIST_TASK_NAME} needs the folder with the four MNIST IDX "
                         "files (python -m wann.data mnist --path DIR checks or downloads them)")
    batch_size = kwargs.get("batch_size", 1000)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise UserError(f"task.kwargs.batch_size: {batch_size!r}: must be an integer >= 1")
    order = kwargs.get("preprocess", "deskew_resize")
    if order not in PREPROCESS_ORDERS:
        raise UserError(f"task.kwargs.preprocess: {order!r}: allowed: {', '.join(PREPROCESS_ORDERS)}")
    return MnistOptions(path, batch_size, order)


def check_files(path: str) -> None:
    """Read the four files' headers and sizes now (a config with bad data stops before anything is written)."""
    load_mnist(path)


@functools.lru_cache(maxsize=2)
def load_data(path: str, order: str) -> MnistData:
    """The preprocessed data of ``path`` (read and preprocessed once per process)."""
    arrays = load_mnist(path)
    return MnistData(
        x_train=preprocess(arrays.train_images, SIZE, order),
        y_train=np.ascontiguousarray(arrays.train_labels, dtype=np.int64),
        x_test=preprocess(arrays.test_images, SIZE, order),
        y_test=np.ascontiguousarray(arrays.test_labels, dtype=np.int64),
    )


def batch_indices(seed: int, n_train: int, batch_size: int) -> np.ndarray:
    """Sorted indices of the training batch of rollout seed ``seed`` (without replacement)."""
    rng = np.random.default_rng(int(seed))
    return np.sort(rng.choice(n_train, size=min(batch_size, n_train), replace=False))


def mnist_shard_evaluator(task, batch, weights, seeds, max_steps, options: MnistOptions) -> tuple[np.ndarray, int]:
    """Rewards float64[G, n_weights, len(seeds)]: minus the mean cross-entropy on each seed's batch.

    One compiled call per seed scores every network x weight of the shard on
    that batch. The step count is networks x weights x images scored.
    """

    data = load_data(options.path, options.preprocess)
    w = np.ascontiguousarray(weights, dtype=np.float64)
    rewards = np.empty((len(batch), len(w), len(seeds)))
    steps = 0
    for r, seed in enumerate(seeds):
        idx = batch_indices(int(seed), len(data.y_train), options.batch_size)
        loss, _accuracy = classify_shard(*batch.arrays(), np.ascontiguousarray(data.x_train[idx]),
                                         np.ascontiguousarray(data.y_train[idx]), w)
        rewards[:, :, r] = -loss
        steps += len(batch) * len(w) * len(idx)
    return rewards, steps


def mnist_champion_metrics(network, weights, options: MnistOptions) -> dict[str, Any]:
    """Held-out accuracy on the test files: per weight, mean, best and the ensemble over weights."""

    data = load_data(options.path, options.preprocess)
    return {
        **held_out_metrics(network, data.x_test, data.y_test, weights),
        "shared_weights": [float(v) for v in np.asarray(weights, dtype=np.float64)],
        "preprocess": options.preprocess,
    }


def configure_mnist(task: Task, kwargs: dict[str, Any]) -> Task:
    """The task bound to its data (``task.kwargs``); the files are checked here, read on first use."""
    options = parse_options(kwargs)
    check_files(options.path)
    return dataclasses.replace(
        task,
        shard_evaluator=functools.partial(mnist_shard_evaluator, options=options),
        champion_metrics=functools.partial(mnist_champion_metrics, options=options),
    )


def _unconfigured(*_args, **_kwargs):
    raise UserError(f"{MNIST_TASK_NAME} needs task.kwargs.path: the folder with the four MNIST IDX files")


def make_mnist_task() -> Task:
    """The unconfigured :class:`~wann.tasks.Task` ``wann/MNIST16-v0`` (256 inputs, 10 outputs)."""
    return Task(
        name=MNIST_TASK_NAME,
        n_inputs=SIZE * SIZE,
        n_outputs=N_CLASSES,
        input_labels=tuple(f"px_{r}_{c}" for r in range(SIZE) for c in range(SIZE)),
        output_labels=tuple(str(k) for k in range(N_CLASSES)),
        action=ActionRule.argmax(N_CLASSES),  # the predicted class; fitness uses the softmax
        max_steps=1,
        shard_evaluator=_unconfigured,
        configure=configure_mnist,
    )


register_task(make_mnist_task())
