"""The run folder: resolved config, per-generation logs, champion and checkpoint.

Layout of ``results/<name>/<run-id>/``:
``config.yaml`` (resolved config), ``log.csv`` (deterministic per-generation
numbers), ``timing.csv`` (wall-clock numbers, which differ between runs),
``champion.json`` and ``checkpoint.json``. Every JSON file is written
atomically.

A run folder is claimed before anything is written (:func:`claim_run_dir`):
an existing run is refused unless it is resumed or explicitly overwritten,
and a lock file (``.lock``, holding the owner's pid) keeps a second process
out while the run is alive. The lock is an ``flock``, so the kernel releases
it when its holder dies, even by ``kill -9``; temp files left by a killed
atomic write are removed when the folder is next claimed.
"""
from __future__ import annotations

import csv
import errno
import io
import os
import time
from pathlib import Path
from typing import Any, Literal

import yaml

from wann.engine.champion import save_champion
from wann.engine.jsonio import write_json_atomic, write_text_atomic
from wann.errors import UserError

LOG_COLUMNS = (
    "generation", "best_mean", "best_max", "champion_mean", "champion_connections",
    "env_steps", "front_size", "n_fronts", "median_connections", "champion_search_mean",
)
OPTIONAL_LOG_COLUMNS = ("champion_search_mean",)  # absent from logs written before it existed
TIMING_COLUMNS = ("generation", "eval_seconds", "steps_per_second", "generation_seconds", "elapsed_seconds")
RUN_FILES = ("config.yaml", "log.csv", "timing.csv", "champion.json", "checkpoint.json")
LOCK_NAME = ".lock"


def default_run_dir(out_dir: str, name: str, seed: int) -> Path:
    """``out_dir/name/<date>-<time>-seed<seed>``, made unique if it already exists."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(out_dir) / name / f"{stamp}-seed{seed}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


class RunLock:
    """An exclusive ``flock`` on ``RUN_DIR/.lock``; the file holds the holder's pid.

    Worker processes forked while the lock is held close their copy of the
    descriptor, so a lingering worker never keeps a dead run's folder locked.
    """

    def __init__(self, run_dir: Path) -> None:
        import fcntl

        self.path = run_dir / LOCK_NAME
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = _read_pid(self.path)
            who = f"process {holder}" if holder else "another process"
            raise UserError(f"{run_dir}: run folder is in use by {who} (lock file {self.path}); "
                            f"wait for it to finish or stop it first") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd: int | None = fd
        self._owner = os.getpid()
        self.created = False  # set by claim_run_dir when it made the folder
        os.register_at_fork(after_in_child=self._close_in_child)

    def _close_in_child(self) -> None:
        if self._fd is not None and os.getpid() != self._owner:
            os.close(self._fd)  # the parent's lock stays: it belongs to the open file, which the parent keeps
            self._fd = None

    def release(self) -> None:
        """Unlock (the file stays: removing it would let two later runs lock different files)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def abandon(self) -> None:
        """Unlock after a failed start; a folder this run created and left empty is removed."""
        folder = self.path.parent
        if self.created and self._fd is not None and [p.name for p in folder.iterdir()] == [LOCK_NAME]:
            self.path.unlink()
            self.release()
            folder.rmdir()
        self.release()


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def claim_run_dir(path: str | Path, mode: Literal["new", "resume", "overwrite"], option: str = "--out") -> RunLock:
    """Create (unless resuming) and lock the run folder ``path``; one-line :class:`UserError` if it cannot be used.

    ``new`` refuses a folder that already holds a run; ``overwrite`` deletes
    that run's files first (nothing else in the folder); ``resume`` needs the
    folder to exist. Stale temp files of killed atomic writes are removed.
    """
    path = Path(path)
    where = f"{option} {path}"
    if path.exists() and not path.is_dir():
        raise UserError(f"{where}: is a file, not a folder")
    created = not path.exists()
    if mode == "resume":
        if created:
            raise UserError(f"{where}: cannot read checkpoint: no such folder")
    else:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except FileExistsError as exc:  # a parent is a file
            raise UserError(f"{where}: cannot create the folder: {exc.filename} is a file") from None
        except NotADirectoryError:
            raise UserError(f"{where}: cannot create the folder: a parent is a file, not a folder") from None
        except OSError as exc:
            raise UserError(f"{where}: cannot create the folder: {exc.strerror}") from None
    try:
        lock = RunLock(path)
    except PermissionError:
        raise UserError(f"{where}: folder is not writable") from None
    except OSError as exc:
        raise UserError(f"{where}: cannot write in the folder: {exc.strerror}") from None
    lock.created = created
    try:
        for stale in path.glob(".*.tmp"):
            stale.unlink()
        existing = [name for name in RUN_FILES if (path / name).exists()]
        if mode == "new" and existing:
            raise UserError(f"{where}: already holds a run ({', '.join(existing)}); continue it with "
                            f"--resume {path}, or replace it with --overwrite")
        if mode == "overwrite":
            for name in existing:
                (path / name).unlink()
    except BaseException:
        lock.release()
        raise
    return lock


class CsvLog:
    """Append-only CSV with a header; on resume, rows past the checkpoint are dropped.

    On resume only the leading rows 0, 1, 2, ... below ``keep_before`` with
    every column filled are kept, so a row cut by a kill cannot survive.
    """

    def __init__(self, path: Path, columns: tuple[str, ...], keep_before: int | None = None) -> None:
        self.path = path
        self.columns = columns
        rows: list[dict[str, str]] = []
        if keep_before is not None and path.exists():
            with path.open(newline="") as handle:
                for row in csv.DictReader(handle):
                    if len(rows) >= keep_before or row.get("generation") != str(len(rows)) or None in row or None in row.values():
                        break
                    rows.append(row)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomic(path, buffer.getvalue())

    def append(self, metrics: dict[str, Any]) -> None:
        """Write one row (floats with repr precision, so equal runs give equal files)."""
        with self.path.open("a", newline="") as handle:
            csv.DictWriter(handle, fieldnames=self.columns, lineterminator="\n").writerow(
                {c: _fmt(metrics[c]) for c in self.columns}
            )
            handle.flush()


def _fmt(value: Any) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


class RunFolder:
    """Writes everything a run leaves behind; one instance per run directory."""

    def __init__(self, path: Path, config_dict: dict, resume_generation: int | None = None) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        if resume_generation is None:
            write_text_atomic(self.config_path, yaml.safe_dump(config_dict, sort_keys=False))
        self.log = CsvLog(self.path / "log.csv", LOG_COLUMNS, resume_generation)
        self.timing = CsvLog(self.path / "timing.csv", TIMING_COLUMNS, resume_generation)

    @property
    def config_path(self) -> Path:
        return self.path / "config.yaml"

    @property
    def champion_path(self) -> Path:
        return self.path / "champion.json"

    @property
    def checkpoint_path(self) -> Path:
        return self.path / "checkpoint.json"

    def write_checkpoint(self, state: dict[str, Any]) -> None:
        """Write the search state atomically."""
        write_json_atomic(self.checkpoint_path, state, indent=None)  # compact: written every few generations

    def write_champion(self, champion) -> None:
        """Write champion.json atomically."""
        save_champion(champion, self.champion_path)
