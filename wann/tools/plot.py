"""Plot a search run from its folder: rewards, size, and reward versus shared weight.

``python -m wann.plot RUN_DIR`` reads ``RUN_DIR/log.csv`` (written by
``python -m wann.search``) and ``RUN_DIR/champion.json`` and writes three
PNGs into ``RUN_DIR/plots/`` (or ``--out``), or one sheet with ``--sheet``:

- ``rewards.png``: best mean, best max and the confirmed champion mean per generation;
- ``connections.png``: champion connections (and the population median) per generation;
- ``weight_sweep.png``: the final champion's reward over a sweep of shared
  weights (the paper's reward-versus-weight figure), evaluated here.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from wann.engine.champion import Champion, load_champion
from wann.engine.runfolder import LOG_COLUMNS, OPTIONAL_LOG_COLUMNS
from wann.errors import UserError
from wann.tools.evaluate import evaluate_weights


def read_log(run_dir: str | Path) -> dict[str, np.ndarray]:
    """Columns of ``RUN_DIR/log.csv`` as float arrays; ValueError naming the file otherwise."""
    path = Path(run_dir) / "log.csv"
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            required = [c for c in LOG_COLUMNS if c not in OPTIONAL_LOG_COLUMNS]
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise UserError(f"{path}: missing column(s) {', '.join(missing)}; is this a wann run folder?")
            rows = list(reader)
    except OSError as exc:
        raise UserError(f"{path}: cannot read the run log: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start}); is this a wann run folder?") from None
    if not rows:
        raise UserError(f"{path}: no generations logged yet")
    try:
        columns = {c: np.array([float(r[c]) for r in rows]) for c in required}
    except (TypeError, ValueError):
        raise UserError(f"{path}: a row has a missing or non-numeric value (truncated file?)") from None
    for c in OPTIONAL_LOG_COLUMNS:
        columns[c] = np.array([float(r.get(c) or "nan") for r in rows])
    return columns


def plot_rewards(ax: Axes, log: dict[str, np.ndarray]) -> None:
    """Best mean, best max and confirmed champion mean over generations."""
    gen = log["generation"]
    ax.plot(gen, log["best_max"], color="#9ecae1", lw=1.0, label="best max over weights")
    ax.plot(gen, log["best_mean"], color="#3182bd", lw=1.2, label="best mean over weights")
    ax.step(gen, log["champion_mean"], where="post", color="#e6550d", lw=2.0, label="confirmed champion mean")
    ax.set_xlabel("generation")
    ax.set_ylabel("reward")
    ax.set_title("reward over generations")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")


def plot_connections(ax: Axes, log: dict[str, np.ndarray]) -> None:
    """Champion connections (and the population's median) over generations."""
    gen = log["generation"]
    ax.step(gen, log["champion_connections"], where="post", color="#31a354", lw=2.0, label="champion")
    ax.plot(gen, log["median_connections"], color="#a1d99b", lw=1.0, label="population median")
    ax.set_xlabel("generation")
    ax.set_ylabel("connections")
    ax.set_title("network size over generations")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")


def plot_weight_sweep(ax: Axes, champion: Champion, weights: np.ndarray, rewards: np.ndarray) -> None:
    """Reward (mean and +-1 std over episodes) at each shared weight; search's own numbers as dots."""
    mean, std = rewards.mean(axis=1), rewards.std(axis=1)
    ax.fill_between(weights, mean - std, mean + std, color="#fdae6b", alpha=0.4, lw=0)
    ax.plot(weights, mean, color="#e6550d", lw=2.0, label=f"mean +- std over {rewards.shape[1]} episodes")
    ax.plot(champion.shared_weights, champion.reward_per_weight, "o", color="#3182bd", ms=6,
            label=f"search's confirmation ({champion.confirmed_rollouts} rollouts)")
    tuned = champion.extra.get("tuned_shared_weight")
    if tuned is not None:
        ax.axvline(float(tuned), color="#636363", ls="--", lw=1.0, label=f"tuned shared weight {float(tuned):+.2f}")
    ax.axvline(0.0, color="#bdbdbd", lw=0.8)
    ax.set_xlabel("shared weight")
    ax.set_ylabel("episode reward")
    ax.set_title(f"champion of generation {champion.generation}: reward vs shared weight")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")


def sweep_champion(
    champion: Champion, points: int = 41, episodes: int = 20, seed: int = 0, workers: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(weights, rewards[points, episodes]) of ``champion`` over linspace(-2, 2, points)."""
    weights = np.linspace(-2.0, 2.0, points)
    table = evaluate_weights(champion, weights, episodes, seed, workers)
    return table.weights, table.rewards


def plot_run(
    run_dir: str | Path,
    out_dir: str | Path | None = None,
    sheet: bool = False,
    sweep: bool = True,
    points: int = 41,
    episodes: int = 20,
    seed: int = 0,
    workers: int = 1,
    dpi: int = 110,
) -> list[Path]:

    """Write the run's figures (see module docstring); returns the paths written.

    Without ``sweep``, or when the run has no champion.json yet, the
    reward-versus-weight figure is left out.
    """
    run_dir = Path(run_dir)
    log = read_log(run_dir)
    out = Path(out_dir) if out_dir is not None else run_dir / "plots"
    out.mkdir(parents=True, exist_ok=True)
    champion = None
    if sweep and (run_dir / "champion.json").exists():
        champion = load_champion(run_dir / "champion.json")
        weights, rewards = sweep_champion(champion, points, episodes, seed, workers)
    panels = ["rewards", "connections"] + (["weight_sweep"] if champion is not None else [])

    def draw(name: str, ax: Axes) -> None:
        if name == "rewards":
            plot_rewards(ax, log)
        elif name == "connections":
            plot_connections(ax, log)
        else:
            plot_weight_sweep(ax, champion, weights, rewards)

    written: list[Path] = []
    if sheet:
        fig = Figure(figsize=(6.0 * len(panels), 4.5), layout="constrained")
        axes = fig.subplots(1, len(panels))
        for name, ax in zip(panels, np.atleast_1d(axes)):
            draw(name, ax)
        fig.suptitle(f"run {run_dir.name}")
        path = out / "run_sheet.png"
        fig.savefig(path, dpi=dpi)
        written.append(path)
    else:
        for name in panels:
            fig = Figure(figsize=(6.4, 4.5), layout="constrained")
            draw(name, fig.add_subplot())
            path = out / f"{name}.png"
            fig.savefig(path, dpi=dpi)
            written.append(path)
    return written
