"""The ten node activation functions of the WANN reference code (ids 1..10).

Ids and names follow the reference implementation so champions stay
comparable; the compiled kernel switches on the id.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from wann.errors import UserError

ACTIVATIONS: dict[int, str] = {
    1: "linear",
    2: "step",
    3: "sin",
    4: "gaussian",
    5: "tanh",
    6: "sigmoid",
    7: "inverse",
    8: "abs",
    9: "relu",
    10: "cos",
}
ACTIVATION_IDS: dict[str, int] = {name: act_id for act_id, name in ACTIVATIONS.items()}
LINEAR = 1
ALL_ACTIVATIONS: tuple[str, ...] = tuple(ACTIVATIONS.values())


def activation_id(name: str) -> int:
    """Return the reference id of the activation called ``name``."""
    try:
        return ACTIVATION_IDS[name]
    except KeyError:
        raise UserError(
            f"unknown activation {name!r}; allowed: {', '.join(ALL_ACTIVATIONS)}"
        ) from None


@njit(cache=True, inline="always")
def apply_activation(act_id: int, x: float) -> float:
    """Apply activation ``act_id`` to the scalar ``x`` (compiled)."""
    if act_id == 1:
        return x
    elif act_id == 2:
        return 1.0 if x > 0.0 else 0.0
    elif act_id == 3:
        return math.sin(math.pi * x)
    elif act_id == 4:
        return math.exp(-(x * x) / 2.0)
    elif act_id == 5:
        return math.tanh(x)
    elif act_id == 6:
        return (math.tanh(x / 2.0) + 1.0) / 2.0
    elif act_id == 7:
        return -x
    elif act_id == 8:
        return abs(x)
    elif act_id == 9:
        return x if x > 0.0 else 0.0
    else:
        return math.cos(math.pi * x)


@njit(cache=True)
def activate_lanes(act_id, values, row, source, scale, lane_weight, n_lanes):
    """``values[row, l] = act(lane_weight[l] * (values[source, l] * scale))`` for every lane (compiled).

    ``source`` is ``row`` itself once a node's inputs are summed there, or a
    node's only source (then ``scale`` is its connection weight, 1.0 under a
    shared weight; multiplying by 1.0 changes no value). ``act_id`` is the
    same for every lane, so the switch is perfectly predicted (measured as
    fast as one loop per activation), and every lane gets exactly the
    scalar function's result.
    """
    for lane in range(n_lanes):
        values[row, lane] = apply_activation(act_id, lane_weight[lane] * (values[source, lane] * scale))


def apply_activation_numpy(act_id: int, x: np.ndarray) -> np.ndarray:
    """Plain-numpy version of :func:`apply_activation`, used as a test reference."""
    table = {
        1: lambda v: v,
        2: lambda v: (v > 0).astype(float),
        3: lambda v: np.sin(np.pi * v),
        4: lambda v: np.exp(-(v * v) / 2.0),
        5: np.tanh,
        6: lambda v: (np.tanh(v / 2.0) + 1.0) / 2.0,
        7: lambda v: -v,
        8: np.abs,
        9: lambda v: np.where(v > 0, v, 0.0),
        10: lambda v: np.cos(np.pi * v),
    }
    return table[int(act_id)](np.asarray(x, dtype=float))
