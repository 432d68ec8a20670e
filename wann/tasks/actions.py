"""Action rules: network outputs -> actions, written once as compiled functions.

Every rule has the same signature,
``rule(values, first_out, n_outputs, lane, low, high, actions)``: it reads the
outputs ``values[first_out:first_out + n_outputs, lane]`` and writes the
action into ``actions[:, lane]`` (an integer action is stored as a float).
The fused kernel calls the rule once per lane and step; the gymnasium path
and the tools call the same function on a one-lane array, so both paths turn
outputs into actions with the same arithmetic.
"""
from __future__ import annotations

import math

from numba import njit


@njit(cache=True, inline="always")
def clip_action(values, first_out, n_outputs, lane, low, high, actions):
    """Each output clipped to [low[k], high[k]]; a NaN output means 0 (no force)."""
    for k in range(n_outputs):
        a = values[first_out + k, lane]
        if a != a:
            a = 0.0
        actions[k, lane] = min(max(a, low[k]), high[k])


@njit(cache=True, inline="always")
def tanh_action(values, first_out, n_outputs, lane, low, high, actions):
    """Each output squashed into its bounds: low + (tanh(o) + 1) / 2 * (high - low); NaN -> the middle."""
    for k in range(n_outputs):
        a = values[first_out + k, lane]
        if a != a:
            a = 0.0
        actions[k, lane] = low[k] + (math.tanh(a) + 1.0) * 0.5 * (high[k] - low[k])


@njit(cache=True, inline="always")
def argmax_action(values, first_out, n_outputs, lane, low, high, actions):
    """Index of the largest output (the first on ties; NaN never wins; all NaN -> 0)."""
    best = 0
    best_value = -math.inf
    for k in range(n_outputs):
        v = values[first_out + k, lane]
        if v > best_value:
            best = k
            best_value = v
    actions[0, lane] = best


@njit(cache=True, inline="always")
def threshold_action(values, first_out, n_outputs, lane, low, high, actions):
    """1 if the single output is > 0, else 0 (NaN -> 0)."""
    actions[0, lane] = 1.0 if values[first_out, lane] > 0.0 else 0.0


_RULES = {
    "clip": clip_action,
    "tanh": tanh_action,
    "argmax": argmax_action,
    "threshold": threshold_action,
}
ACTION_KINDS = tuple(_RULES)
DISCRETE_KINDS = ("argmax", "threshold")


def action_function(kind: str):
    """The compiled rule called ``kind``."""
    return _RULES[kind]
