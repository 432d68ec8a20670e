"""The bridge to WANN: judge a pruned mask weight-agnostically, and read WANN champions.

Shared-weight evaluation, like a WANN: every surviving weight is set to one
shared value ``w`` times a sign (from the trained weights or from the initial
ones), every bias is zero, and ``w`` is swept over the WANN values
(-2, -1, -0.5, 0.5, 1, 2). Reported: accuracy at each ``w``, their mean, the
best, and the ensemble (accuracy of the softmax averaged over the ``w``).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from wann.engine.config import STANDARD_WEIGHTS
from wann.engine.losses import softmax
from wann.errors import UserError
from wann.prune.dense import MLP

SIGN_SOURCES = ("trained", "init")


def signs_of(weights: Sequence[np.ndarray], masks: Sequence[np.ndarray]) -> list[np.ndarray]:
    """+1 / -1 per surviving weight (zero counts as +1), 0 where pruned."""
    return [np.where(np.asarray(w) >= 0, 1.0, -1.0) * m for w, m in zip(weights, masks)]


def shared_weight_eval(net: MLP, masks: Sequence[np.ndarray], signs: Sequence[np.ndarray],
                       x: np.ndarray, y: np.ndarray,
                       shared_weights: Sequence[float] = STANDARD_WEIGHTS) -> dict[str, object]:
    """Accuracy of the mask with every survivor = w * sign, biases zero, for each shared ``w``.

    Returns ``{"per_weight": [...], "mean": ..., "best": ..., "ensemble": ...}``;
    the network's own weights are not touched (only its sizes and activations are used).
    """
    if len(shared_weights) == 0:
        raise UserError("shared weights: empty list")
    biases = [np.zeros(m.shape[0], dtype=net.dtype) for m in masks]
    base = [(np.asarray(s) * m).astype(net.dtype) for s, m in zip(signs, masks)]
    per_weight, probs = [], np.zeros((len(y), net.sizes[-1]), dtype=np.float64)
    for w in shared_weights:
        logits, _ = net.forward(x, weights=[net.dtype.type(w) * b for b in base], biases=biases)
        per_weight.append(float(np.mean(np.argmax(logits, axis=1) == y)))
        probs += softmax(logits.astype(np.float64))
    return {
        "per_weight": per_weight,
        "mean": float(np.mean(per_weight)),
        "best": float(np.max(per_weight)),
        "ensemble": float(np.mean(np.argmax(probs, axis=1) == y)),
    }


@dataclass(frozen=True)
class ChampionPoint:
    """What the plot needs from one WANN champion file."""

    path: str
    task: str
    connections: int
    accuracy_mean: float  # mean over the shared weights
    accuracy_best: float
    accuracy_ensemble: float  # mean softmax over the shared weights
    accuracy_tuned: float | None  # after tuning the weights, if the engine did that

    @property
    def label(self) -> str:
        return f"WANN {Path(self.path).parent.name or Path(self.path).stem} ({self.task})"


def read_champion(path: str | Path) -> ChampionPoint:
    """Read a WANN champion JSON defensively; UserError naming the file and the missing piece."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise UserError(f"{path}: cannot read champion file: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: champion file is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: champion file must hold a JSON object")
    task = data.get("task")
    if not isinstance(task, str):
        raise UserError(f'{path}: champion has no "task" string')
    conns = data.get("connections")
    if isinstance(conns, bool) or not isinstance(conns, int) or conns < 0:
        raise UserError(f'{path}: champion has no "connections" count (got {conns!r})')
    metrics = data.get("test_metrics")
    if not isinstance(metrics, dict):
        raise UserError(
            f'{path}: champion of task {task!r} has no "test_metrics"; only classification champions '
            "evaluated on a test set can go on the accuracy plot"
        )

    def acc(key: str, required: bool = True) -> float | None:
        value = metrics.get(key)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise UserError(f'{path}: champion "test_metrics" has no numeric "{key}" (got {value!r})')
        if not 0.0 <= value <= 1.0:
            raise UserError(f'{path}: champion "test_metrics.{key}" is {value!r}: accuracies are fractions in [0, 1]')
        return float(value)

    return ChampionPoint(
        path=str(path), task=task, connections=conns,
        accuracy_mean=acc("accuracy_mean"), accuracy_best=acc("accuracy_best"),  # type: ignore[arg-type]
        accuracy_ensemble=acc("accuracy_ensemble"), accuracy_tuned=acc("accuracy_tuned", required=False),  # type: ignore[arg-type]
    )
