"""Write a champion as a dependency-free Python module (numpy only).

The module holds the live network as lists (activation per node, CSR
sources, connection weights) and the task's action rule, and defines
``forward(observation, weight)`` and ``act(observation, weight)``. It repeats
the engine's arithmetic operation for operation (sum the sources in order,
times the shared weight, then the activation), so its outputs equal the
engine's.
"""
from __future__ import annotations

import inspect
import math
from typing import Any

from wann import __version__
from wann.engine.activations import apply_activation
from wann.engine.champion import Champion, champion_task
from wann.errors import UserError

_TEMPLATE = '''"""{task} champion exported by wann {version}: {connections} connections, shared weight {weight!r}.

Needs only numpy. ``act(observation)`` returns the env action, ``forward(observation)``
the output values; both take an optional shared ``weight`` (default {weight!r}).
"""
import math

import numpy as np

TASK = {task!r}
N_INPUTS = {n_inputs}
N_OUTPUTS = {n_outputs}
WEIGHT = {weight!r}
ONE_HOT_OBSERVATION = {one_hot}
ACTION = {action!r}  # clip, tanh, argmax or threshold
LOW = {low}
HIGH = {high}
# node i (inputs, bias, hidden in order, outputs last) = activation ACT[i] of
# WEIGHT * sum(value[SRC[k]] * CONN_WEIGHT[k] for k in INDPTR[i]..INDPTR[i+1]-1)
ACT = {act!r}
INDPTR = {indptr!r}
SRC = {src!r}
CONN_WEIGHT = {conn_weight!r}


{activation_source}


def forward(observation, weight=WEIGHT):
    """Output values for one observation: a float64 array of N_OUTPUTS."""
    if ONE_HOT_OBSERVATION:
        x = np.zeros(N_INPUTS)
        x[int(observation)] = 1.0
    else:
        x = np.asarray(observation, dtype=np.float64).reshape(-1)
    if x.shape[0] != N_INPUTS:
        raise ValueError(f"observation has {{x.shape[0]}} values, expected {{N_INPUTS}}")
    values = [0.0] * len(ACT)
    values[:N_INPUTS] = [float(v) for v in x]
    values[N_INPUTS] = 1.0
    for i in range(N_INPUTS + 1, len(ACT)):
        lo, hi = INDPTR[i], INDPTR[i + 1]
        total = values[SRC[lo]] * CONN_WEIGHT[lo] if hi > lo else 0.0
        for k in range(lo + 1, hi):
            total += values[SRC[k]] * CONN_WEIGHT[k]
        values[i] = apply_activation(ACT[i], weight * total)
    return np.array(values[len(ACT) - N_OUTPUTS:])


def act(observation, weight=WEIGHT):
    """The env action for one observation."""
    out = forward(observation, weight)
    if ACTION == "argmax":
        best, best_value = 0, -math.inf
        for k, v in enumerate(out):
            if v > best_value:
                best, best_value = k, v
        return best
    if ACTION == "threshold":
        return 1 if out[0] > 0.0 else 0
    out = np.where(np.isnan(out), 0.0, out)
    if ACTION == "tanh":
        return np.asarray(LOW) + (np.tanh(out) + 1.0) * 0.5 * (np.asarray(HIGH) - np.asarray(LOW))
    return np.minimum(np.maximum(out, LOW), HIGH)
'''


def _float_list(values: Any) -> str:
    """Python source of a list of floats (infinite bounds as math.inf)."""
    def one(v: float) -> str:
        return repr(float(v)) if math.isfinite(v) else ("math.inf" if v > 0 else "-math.inf")
    return "[" + ", ".join(one(v) for v in values) + "]"


def export_source(champion: Champion, weight: float | None = None, tuned: bool = True) -> str:
    """Python source of a module that runs ``champion`` (see the module docstring).

    ``weight``: the default shared weight written into the module (default:
    :meth:`Champion.default_weight`); ``tuned``: apply tuned ``conn_weights``.
    """
    task = champion_task(champion)
    network = champion.network(tuned=tuned)
    w = champion.default_weight(tuned) if weight is None else float(weight)
    if not math.isfinite(w):
        raise UserError(f"--weight: {w}: must be a finite number")
    rule = task.action
    bounded = rule.kind in ("clip", "tanh")
    source = _TEMPLATE.format(
        task=task.name, version=__version__, connections=network.n_connections, weight=w,
        n_inputs=network.n_inputs, n_outputs=network.n_outputs, one_hot=bool(task.one_hot_observation),
        action=rule.kind, low=_float_list(rule.low if bounded else ()), high=_float_list(rule.high if bounded else ()),
        act=[int(a) for a in network.act], indptr=[int(i) for i in network.indptr],
        src=[int(s) for s in network.src], conn_weight=[float(c) for c in network.conn_weight],
        activation_source=_activation_source(),
    )
    return source


def _activation_source() -> str:
    """The engine's scalar activation function as plain Python (its Numba decorator dropped)."""
    lines = inspect.getsource(apply_activation.py_func).splitlines()
    return "\n".join(line for line in lines if not line.startswith("@"))
