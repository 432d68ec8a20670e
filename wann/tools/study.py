"""Replicate study: one search per seed, then every champion judged the same way.

Each seed's search runs as its own ``python -m wann.search`` process in
``OUT/seed<k>`` (so it keeps the search's run-folder guarantees: checkpoints,
exact resume); a finished seed is not rerun and an interrupted one resumes.
Each champion is then scored on the paper's four conditions and on its
reward-versus-weight curve over a fixed 41-point grid; those numbers are
cached next to the run (``study_eval.json``), so a second study call only
adds what is missing.
"""
from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from wann.engine.champion import Champion, champion_task, load_champion
from wann.engine.jsonio import read_json, write_json_atomic
from wann.errors import UserError
from wann.tools.evaluate import CONDITIONS, evaluate_weights, four_conditions
from wann.tools.plot import read_log
from wann.tools.runner import RolloutRunner

CURVE_POINTS = 41  # reward-versus-weight grid over [-2, 2]
PROGRESS_MARKS = (64, 128, 256, 512, 1024)  # generations at which the search's progress is tabulated
PROGRESS_WINDOW = 16  # generations averaged at each mark (the generation-best mean is noisy)
# The reference code's published sample run (laptop settings: pop 64, elite 0.05, tournament 4), swing-up,
# its prettyNeatWann/log/sample_stats.out (made by its WANN/ code, see configs/cartpole_laptop.yaml):
# generation -> (generation-best mean fitness, median connections), each averaged over the file's rows
# mark-15..mark (its fit_max and conn_med columns) as ours are over PROGRESS_WINDOW generations. Its single
# rows at the marks read 435 (17), 435 (27), 554 (62), 601 (136), 629 (290).
REFERENCE_SAMPLE_RUN = {64: (6656 / 16, 267.5 / 16), 128: (7152 / 16, 414 / 16), 256: (8732 / 16, 969.5 / 16),
                        512: (9431 / 16, 2098 / 16), 1024: (9947 / 16, 4594 / 16)}
SMALL_WEIGHT = 0.25  # |w| below this is left out of the curve score (no network works at w = 0)


@dataclass
class SeedResult:
    """What the study reports for one seed's champion."""

    seed: int
    connections: int
    generation: int
    confirmed_mean: float  # the search's own confirmed score
    conditions: dict[str, float | None]  # mean reward per condition of the paper's table (None: not tuned)
    condition_std: dict[str, float | None]
    curve_weights: list[float]
    curve_means: list[float]
    curve_score: float  # mean reward over the grid points with |w| >= SMALL_WEIGHT (the weight-agnostic score)
    curve_held: float  # fraction of those points whose reward is >= 50% of the curve's best
    wall_seconds: float | None = None  # the search's elapsed time (timing.csv)
    extra: dict[str, Any] = field(default_factory=dict)


def curve_summary(weights: np.ndarray, means: np.ndarray) -> tuple[float, float]:
    """(mean over |w| >= 0.25, fraction of those points at >= 50% of the best) of a reward-versus-weight curve."""
    keep = np.abs(weights) >= SMALL_WEIGHT - 1e-12
    kept = means[keep]
    best = float(kept.max())
    held = float(np.mean(kept >= 0.5 * best)) if best > 0 else 0.0
    return float(kept.mean()), held


def run_seed(config: str | Path, seed: int, run_dir: Path, generations: int, overrides: Sequence[str] = (),
             workers: int | None = None, task_modules: Sequence[str] = (), say: Callable[[str], None] = print,
             backend_args: Sequence[str] = ()) -> None:
    """Run (or resume, or skip when finished) the search of one seed in ``run_dir``.

    ``backend_args`` (e.g. ``--backend dask --scheduler tcp://...``) go to the search as they are.
    """
    checkpoint = run_dir / "checkpoint.json"
    extra = [*(["--workers", str(workers)] if workers is not None else []), *backend_args,
             *[arg for m in task_modules for arg in ("--task-module", m)]]
    if checkpoint.exists():
        done = read_json(checkpoint, "checkpoint").get("generation")
        if done == generations and (run_dir / "champion.json").exists():
            say(f"seed {seed}: finished ({generations} generations) in {run_dir}")
            return
        say(f"seed {seed}: resuming {run_dir} at generation {done}")
        command = [sys.executable, "-m", "wann.search", "--resume", str(run_dir), *extra]
    else:
        say(f"seed {seed}: starting -> {run_dir}")
        command = [sys.executable, "-m", "wann.search", str(config), "--seed", str(seed), "--out", str(run_dir),
                   *[arg for o in overrides for arg in ("--set", o)], *extra]
    status = subprocess.run(command).returncode
    if status != 0:
        raise UserError(f"seed {seed}: the search exited with status {status} ({' '.join(command[1:])})")
    if read_json(checkpoint, "checkpoint").get("generation") != generations:
        raise KeyboardInterrupt  # the search was interrupted: it checkpointed and exited 0


def evaluate_seed(run_dir: Path, seed: int, episodes: int, curve_episodes: int, workers: int,
                  say: Callable[[str], None] = print, backend: str = "processes",
                  scheduler: str = "local") -> SeedResult:
    """Score one seed's champion (cached in ``run_dir/study_eval.json`` for the same champion and settings)."""
    champion = load_champion(run_dir / "champion.json")
    key = {"generation": champion.generation, "connections": champion.connections, "episodes": episodes,
           "curve_episodes": curve_episodes, "tuned": bool(champion.conn_weights)}
    cache = run_dir / "study_eval.json"
    if cache.exists():
        stored = read_json(cache, "study evaluation")
        if stored.get("key") == key:
            return SeedResult(**stored["result"])
    say(f"seed {seed}: evaluating the champion ({champion.connections} connections) ...")
    result = judge(champion, seed, episodes, curve_episodes, workers, backend, scheduler)
    result.wall_seconds = _wall_seconds(run_dir)
    write_json_atomic(cache, {"key": key, "result": asdict(result)})
    return result


def judge(champion: Champion, seed: int, episodes: int, curve_episodes: int, workers: int,
          backend: str = "processes", scheduler: str = "local") -> SeedResult:
    """The four conditions and the reward-versus-weight curve of one champion (results never depend on the backend)."""
    weights = np.linspace(-2.0, 2.0, CURVE_POINTS)
    with RolloutRunner(champion_task(champion), workers, backend=backend, scheduler=scheduler) as runner:
        rows = four_conditions(champion, episodes, seed=0, runner=runner)
        curve = evaluate_weights(champion, weights, curve_episodes, seed=0, runner=runner).rewards.mean(axis=1)
    score, held = curve_summary(weights, curve)
    return SeedResult(
        seed=seed, connections=champion.connections, generation=champion.generation,
        confirmed_mean=champion.confirmed_mean,
        conditions={r.condition: (r.stats.mean if r.stats else None) for r in rows},
        condition_std={r.condition: (r.stats.std if r.stats else None) for r in rows},
        curve_weights=weights.tolist(), curve_means=curve.tolist(), curve_score=score, curve_held=held,
    )


def _wall_seconds(run_dir: Path) -> float | None:
    timing = run_dir / "timing.csv"
    if not timing.exists():
        return None
    lines = timing.read_text().strip().splitlines()
    try:
        return float(lines[-1].split(",")[-1]) if len(lines) > 1 else None
    except ValueError:
        return None


def search_progress(run_dir: Path, marks: Sequence[int] = PROGRESS_MARKS,
                    window: int = PROGRESS_WINDOW) -> dict[int, tuple[float, float]]:
    """Generation -> (mean of the generation-best mean, mean of the median connections) over the
    ``window`` generations before it, for every mark the run's ``log.csv`` reaches."""
    log = read_log(run_dir)
    best, conns = log["best_mean"], log["median_connections"]
    return {g: (float(best[g - window:g].mean()), float(conns[g - window:g].mean()))
            for g in marks if window <= g <= len(best)}


def progress_table(progress: dict[int, dict[int, tuple[float, float]]],
                   reference: dict[int, tuple[float, float]] | None = None) -> str:
    """Markdown table of the search's progress per seed (best mean, median connections), their median,
    and, when given, the reference's run and the ratio of our median to it."""
    marks = sorted({g for per_seed in progress.values() for g in per_seed})
    if not marks:
        return ""
    lines = [f"generation-best mean (average of {PROGRESS_WINDOW} generations) and median connections",
             "", "| generation | " + " | ".join(str(g) for g in marks) + " |", "|" + "---|" * (len(marks) + 1)]

    def row(label: str, cells: dict[int, tuple[float, float]]) -> str:
        return f"| {label} | " + " | ".join(
            f"{cells[g][0]:.0f} ({cells[g][1]:.0f})" if g in cells else "-" for g in marks) + " |"

    if reference:
        lines.append(row("reference sample run (laptop settings: pop 64)", reference))
    for seed, cells in progress.items():
        lines.append(row(f"seed {seed}", cells))
    median = {g: (float(np.median([c[g][0] for c in progress.values() if g in c])),
                  float(np.median([c[g][1] for c in progress.values() if g in c]))) for g in marks}
    lines.append(row("median", median))
    if reference:
        lines.append("| median / reference | " + " | ".join(
            f"{median[g][0] / reference[g][0]:.3f}" if g in reference else "-" for g in marks) + " |")
    return "\n".join(lines)


# ---- the report ------------------------------------------------------------------------

COLUMNS = [(c, c) for c in CONDITIONS] + [("curve_score", "weight-agnostic score"), ("curve_held", "curve held"),
                                          ("connections", "connections"), ("wall_seconds", "search seconds")]


def _value(result: SeedResult, column: str) -> float | None:
    if column in result.conditions:
        return result.conditions[column]
    return getattr(result, column)


def summary_rows(results: list[SeedResult]) -> list[tuple[str, list[float | None]]]:
    """Rows ``(label, values per column)``: one per seed, then median and interquartile range over seeds."""
    rows = [(f"seed {r.seed}", [_value(r, c) for c, _ in COLUMNS]) for r in results]
    median, iqr = [], []
    for k in range(len(COLUMNS)):
        values = [v[k] for _, v in rows if v[k] is not None and math.isfinite(v[k])]
        median.append(float(np.median(values)) if values else None)
        iqr.append(float(np.subtract(*np.percentile(values, [75, 25]))) if values else None)
    return rows + [("median", median), ("IQR", iqr)]


def markdown_table(results: list[SeedResult], paper: dict[str, float] | None = None) -> str:
    """The study table in Markdown (with the paper's row when given)."""
    header = "| | " + " | ".join(label for _, label in COLUMNS) + " |"
    lines = [header, "|" + "---|" * (len(COLUMNS) + 1)]
    if paper:
        lines.append("| paper | " + " | ".join(_fmt(paper.get(c)) for c, _ in COLUMNS) + " |")
    for label, values in summary_rows(results):
        lines.append(f"| {label} | " + " | ".join(_fmt(v) for v in values) + " |")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.0f}"


def plot_curves(results: list[SeedResult], path: Path, reference: tuple[np.ndarray, np.ndarray] | None = None,
                title: str = "") -> Path:
    """Every champion's reward-versus-weight curve on one axis (the reference champion's dashed)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    for r in results:
        ax.plot(r.curve_weights, r.curve_means, lw=1.6, label=f"seed {r.seed} ({r.connections} conns)")
    if reference is not None:
        ax.plot(reference[0], reference[1], "k--", lw=1.6, label="reference champion")
    ax.axvspan(-SMALL_WEIGHT, SMALL_WEIGHT, color="#eeeeee", zorder=0)
    ax.set_xlabel("shared weight")
    ax.set_ylabel("mean episode reward")
    ax.set_title(title or "reward versus shared weight, one curve per seed")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path
