"""The two errors of the pruning companion; both carry one line meant for the user.

``python -m wann.prune`` prints ``error: <message>`` on stderr and exits with
status 2 for either; library functions raise them (they are ``ValueError``
subclasses, so callers that catch ``ValueError`` keep working).
"""
from __future__ import annotations

from wann.configkit import ConfigError  # one config error type for the whole project

__all__ = ["ConfigError", "InputError", "check_density"]


class InputError(ValueError):
    """Bad input data or arguments: a density outside (0, 1], a broken IDX file, a champion file without test metrics."""


def check_density(density: float, what: str = "density") -> float:
    """Return ``density`` as a float if it lies in (0, 1]; InputError otherwise."""
    try:
        value = float(density)
    except (TypeError, ValueError):
        raise InputError(f"{what}: {density!r}: must be a number in (0, 1] (the fraction of weights kept)") from None
    if not 0.0 < value <= 1.0:
        raise InputError(f"{what}: {density!r}: must lie in (0, 1] (the fraction of weights kept, not a percentage)")
    return value
