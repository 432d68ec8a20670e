"""File reading with one-line errors (bytes, text, JSON), and atomic file writes: a crash leaves the old file or the new one, never half of one."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from wann.errors import UserError


def read_bytes(path: str | Path, what: str) -> bytes:
    """The bytes of the file at ``path``; UserError ``<path>: cannot read <what>: <reason>``."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read {what}: {exc.strerror}") from None


def read_text(path: str | Path, what: str) -> str:
    """The UTF-8 text of the file at ``path``; UserError naming the file when it cannot be read or decoded."""
    try:
        return read_bytes(path, what).decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: {what} is not UTF-8 text") from None


def read_json(path: str | Path, what: str) -> Any:
    """The parsed JSON file at ``path``; UserError ``<path>: <problem>`` naming ``what`` it should hold."""
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON (truncated?): {exc.msg} at line {exc.lineno}") from None


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to a temp file in the same folder, fsync it, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json_atomic(path: str | Path, data: Any, indent: int | None = 1) -> None:
    """Write ``data`` as JSON (indented unless ``indent`` is None), atomically.

    ``indent=None`` writes compact JSON through the standard library's C
    encoder, several times faster for large files such as checkpoints.
    """
    separators = (",", ":") if indent is None else None
    write_text_atomic(path, json.dumps(data, indent=indent, separators=separators) + "\n")
