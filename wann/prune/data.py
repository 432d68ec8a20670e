"""Data sets for the pruning companion: scikit-learn's bundled digits, and MNIST from IDX files.

Nothing is downloaded at run time. ``digits`` (1797 8x8 images, 10 classes)
ships inside scikit-learn (the optional extra ``[datasets]``); MNIST is read
from the four standard IDX files in a folder the user gives. Pixels are scaled
to [0, 1]; features are float32, labels int64.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wann.errors import UserError
from wann.tasks.builtin.digits import (
    INSTALL_HINT,
    SPLIT_SEED,
    TEST_FRACTION,
    MissingDatasetError,
    load_digits_arrays,
    stratified_split,
)
from wann.tasks.mnist_data import read_idx

DATASETS = ("digits", "mnist")

# IDX type codes (third byte of the magic number) -> big-endian numpy dtype

MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class Dataset:
    """A train/test split of a classification data set (flat float32 features)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])


# One digits loader and one split for the whole project: the pruned nets and
# the WANN task wann/Digits-v0 are scored on the same 450 test images.
DIGITS_TEST_FRACTION = TEST_FRACTION
DIGITS_SPLIT_SEED = SPLIT_SEED


def load_digits(test_fraction: float = DIGITS_TEST_FRACTION, split_seed: int = DIGITS_SPLIT_SEED) -> Dataset:
    """scikit-learn's bundled 8x8 digits, pixels / 16, with a seeded stratified split.

    The defaults give the split of the WANN digits task, so pruned networks and
    WANN champions are scored on the same 450 test images.
    """
    if not 0.0 < test_fraction < 1.0:
        raise UserError(f"test_fraction: {test_fraction!r}: must lie in (0, 1)")
    try:
        x, y = load_digits_arrays()
    except MissingDatasetError:
        raise UserError(f"the digits data set comes with scikit-learn, which is not installed: {INSTALL_HINT}") from None
    train, test = stratified_split(y, test_fraction, split_seed)
    x = x.astype(np.float32)
    return Dataset("digits", x[train], y[train], x[test], y[test], n_classes=10)


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise UserError(f"{folder}: no {stem} (or {stem}.gz) found; give the folder that holds the four MNIST IDX files")


def load_mnist(folder: str | Path, max_train: int = 0) -> Dataset:
    """MNIST from the four standard IDX files in ``folder`` (flattened, pixels / 255).

    ``max_train`` > 0 keeps the first that many training images (a quick run).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder; data.path must name the folder that holds the MNIST IDX files")
    arrays = {key: read_idx(_find(folder, stem)) for key, stem in MNIST_FILES.items()}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1:
            raise UserError(f"{folder}: {split} images must be 3-D and labels 1-D IDX arrays, got {x.ndim}-D and {y.ndim}-D")
        if len(x) != len(y):
            raise UserError(f"{folder}: {split} has {len(x)} images but {len(y)} labels")
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise UserError(f"{folder}: train images are {arrays['x_train'].shape[1:]} but test images {arrays['x_test'].shape[1:]}")
    n_classes = int(max(arrays["y_train"].max(initial=0), arrays["y_test"].max(initial=0))) + 1
    x_train, y_train = arrays["x_train"], arrays["y_train"]
    if max_train > 0:
        x_train, y_train = x_train[:max_train], y_train[:max_train]

    def flat(x: np.ndarray) -> np.ndarray:
        scale = 255.0 if x.dtype == np.uint8 else max(float(np.abs(x).max(initial=1.0)), 1e-12)
        return (x.reshape(len(x), -1).astype(np.float64) / scale).astype(np.float32)

    return Dataset("mnist", flat(x_train), y_train.astype(np.int64), flat(arrays["x_test"]),
                   arrays["y_test"].astype(np.int64), n_classes=max(n_classes, 2))


def load_dataset(name: str, path: str = "", test_fraction: float = DIGITS_TEST_FRACTION,
                 split_seed: int = DIGITS_SPLIT_SEED,
                 max_train: int = 0) -> Dataset:
    """Load ``digits`` or ``mnist`` (from ``path``); UserError with the fix on failure."""
    if name == "digits":
        return load_digits(test_fraction, split_seed)
    if name == "mnist":
        if not path:
            raise UserError("mnist: data.path is empty: give the folder that holds the four MNIST IDX files (no downloads)")
        return load_mnist(path, max_train)
    raise UserError(f"data set {name!r}: allowed: {', '.join(DATASETS)}")


def balanced_batch(y: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of ``per_class`` random samples of every class (all of a class if it has fewer)."""
    picks = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        picks.append(rng.choice(idx, size=min(per_class, len(idx)), replace=False))
    return np.sort(np.concatenate(picks))
