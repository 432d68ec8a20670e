"""Type and range checks for the JSON data of files users share (champions, checkpoints).

Each check returns the value or raises :class:`~wann.errors.UserError` with
one line ``<key>: <value>: <what is allowed>``; the caller adds the file
name. Numbers are checked before numpy sees them, so a node id of 10**30 or
a generation of 1e400 is a message, not an OverflowError.
"""
from __future__ import annotations

import math
from typing import Any

from wann.errors import UserError

INT64_MAX = 2**63 - 1


def shown(value: Any) -> str:
    """A short rendering of ``value`` for a message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def key(data: Any, name: str, where: str) -> Any:
    """``data[name]``; UserError if ``data`` is not a mapping or lacks ``name``."""
    if not isinstance(data, dict):
        raise UserError(f"{where or 'top level'}: {shown(data)}: expected a JSON object")
    if name not in data:
        raise UserError(f"{where}{'.' if where else ''}{name}: missing")
    return data[name]


def integer(value: Any, where: str, lo: int = 0, hi: int = INT64_MAX) -> int:
    """An int (not a bool, not a float) in [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        bound = "2**63 - 1" if hi == INT64_MAX else str(hi)
        raise UserError(f"{where}: {shown(value)}: expected an integer in [{lo}, {bound}]")
    return value


def number(value: Any, where: str) -> float:
    """A finite int or float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UserError(f"{where}: {shown(value)}: expected a finite number")
    return float(value)


def text(value: Any, where: str) -> str:
    """A string."""
    if not isinstance(value, str):
        raise UserError(f"{where}: {shown(value)}: expected a string")
    return value


def boolean(value: Any, where: str) -> bool:
    """true or false (0 and 1 are accepted, as older files wrote them)."""
    if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
        return bool(value)
    raise UserError(f"{where}: {shown(value)}: expected true or false")


def array(value: Any, where: str, length: int | None = None, min_len: int = 0) -> list:
    """A list (of exactly ``length`` items, or at least ``min_len``)."""
    if not isinstance(value, list):
        raise UserError(f"{where}: {shown(value)}: expected a list")
    if length is not None and len(value) != length:
        raise UserError(f"{where}: {shown(value)}: expected a list of {length} items")
    if len(value) < min_len:
        raise UserError(f"{where}: expected at least {min_len} item{'s' if min_len > 1 else ''}, got {len(value)}")
    return value


def numbers(value: Any, where: str, min_len: int = 0) -> list[float]:
    """A list of finite numbers."""
    return [number(v, f"{where}[{i}]") for i, v in enumerate(array(value, where, min_len=min_len))]
