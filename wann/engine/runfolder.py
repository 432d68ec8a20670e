"""The run folder: resolved config, per-generation logs, champion and checkpoint.

Layout of ``results/<name>/<run-id>/``:
``config.yaml`` (resolved config), ``log.csv`` (deterministic per-generation
numbers), ``timing.csv`` (wall-clock numbers, which differ between runs),
``champion.json`` and ``checkpoint.json``. Every JSON file is written
atomically.
"""
from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import yaml

from wann.engine.champion import save_champion
from wann.engine.jsonio import read_json, write_json_atomic, write_text_atomic
from wann.errors import UserError

LOG_COLUMNS = (
    "generation", "best_mean", "best_max", "champion_mean", "champion_connections",
    "env_steps", "front_size", "n_fronts", "median_connections", "champion_search_mean",
)
OPTIONAL_LOG_COLUMNS = ("champion_search_mean",)  # absent from logs written before it existed
TIMING_COLUMNS = ("generation", "eval_seconds", "steps_per_second", "generation_seconds", "elapsed_seconds")


def default_run_dir(out_dir: str, name: str, seed: int) -> Path:
    """``out_dir/name/<date>-<time>-seed<seed>``, made unique if it already exists."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(out_dir) / name / f"{stamp}-seed{seed}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


class CsvLog:
    """Append-only CSV with a header; on resume, rows past the checkpoint are dropped."""

    def __init__(self, path: Path, columns: tuple[str, ...], keep_before: int | None = None) -> None:
        self.path = path
        self.columns = columns
        rows: list[dict[str, str]] = []
        if keep_before is not None and path.exists():
            with path.open(newline="") as handle:
                rows = [r for r in csv.DictReader(handle) if int(r["generation"]) < keep_before]
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


def read_checkpoint(run_dir: str | Path) -> dict[str, Any]:
    """Load RUN_DIR/checkpoint.json; ValueError with a one-line reason otherwise."""
    path = Path(run_dir) / "checkpoint.json"
    state = read_json(path, "checkpoint")
    if not isinstance(state, dict) or state.get("format") != "wann-checkpoint":
        raise UserError(f"{path}: not a wann checkpoint")
    return state
