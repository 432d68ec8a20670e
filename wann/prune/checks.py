"""Checks of the pruning companion's numeric inputs (one-line :class:`wann.errors.UserError`)."""
from __future__ import annotations

from wann.errors import UserError


def check_density(density: float, what: str = "density") -> float:
    """Return ``density`` as a float if it lies in (0, 1]; UserError otherwise."""
    try:
        value = float(density)
    except (TypeError, ValueError):
        raise UserError(f"{what}: {density!r}: must be a number in (0, 1] (the fraction of weights kept)") from None
    if not 0.0 < value <= 1.0:
        raise UserError(f"{what}: {density!r}: must lie in (0, 1] (the fraction of weights kept, not a percentage)")
    return value
