"""Evaluate a champion: reward at fixed shared weights, and the paper's four conditions.

``python -m wann.evaluate CHAMPION`` runs this module's :func:`main`.

Every rollout goes through the engine's :func:`wann.engine.evaluator.run_rollouts`
(the compiled path when the task has one), so a number printed here equals
what :class:`wann.engine.evaluator.Evaluator` gives for the same network, weight and
seed. Many weight vectors are evaluated as one batch of copies of the network
that differ only in ``conn_weight``, with the shared weight set to 1.0: a node
then computes ``act(sum_k cw_k * v_k)``.

Seeds: every condition of a table runs on the same ``episodes`` evaluation
seeds (drawn from ``--seed``); the tuned shared weight is selected on a
separate set of seeds, so its row is an honest re-evaluation.
"""
from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import yaml

from wann.engine.champion import Champion, champion_task
from wann.engine.config import STANDARD_WEIGHTS
from wann.engine.network import compile_genome
from wann.engine.seeds import RANDOM_INDIVIDUAL_STREAM, RANDOM_SHARED_STREAM, SELECT_STREAM, evaluation_seeds, make_rng
from wann.errors import UserError
from wann.tasks import resolve_task
from wann.tools.runner import RolloutRunner, Stats, with_conn_weights
from wann.tools.tune import tune_shared

# The paper's numbers for the swing-up WANN (REFERENCE.md section 5), printed for comparison.
PAPER_SWINGUP = {
    "random individual weights": (57.0, 121.0),
    "random shared weight": (515.0, 58.0),
    "tuned shared weight": (723.0, 16.0),
    "tuned individual weights": (932.0, 6.0),
}
CONDITIONS = tuple(PAPER_SWINGUP)
# ... and for the biped WANN (gym's BipedalWalker-v2 in the paper; printed for either version).
PAPER_BIPED = {
    "random individual weights": (-46.0, 54.0),
    "random shared weight": (51.0, 108.0),
    "tuned shared weight": (261.0, 58.0),
    "tuned individual weights": (332.0, 1.0),
}
PAPER_ROWS = {
    "wann/CartPoleSwingUp-v1": ("swing-up", PAPER_SWINGUP),
    "BipedalWalker-v2": ("biped", PAPER_BIPED),
    "BipedalWalker-v3": ("biped", PAPER_BIPED),
}


# ---- results -----------------------------------------------------------------------


@dataclass
class WeightTable:
    """Rewards of one network at each fixed shared weight."""

    weights: np.ndarray  # float64[W]
    rewards: np.ndarray  # float64[W, episodes]
    seeds: np.ndarray  # int64[episodes]

    def rows(self) -> list[dict[str, float]]:
        """One dict per weight: weight, mean, std, min, max."""
        out = []
        for w, r in zip(self.weights, self.rewards):
            st = Stats.of(r)
            out.append({"weight": float(w), "mean": st.mean, "std": st.std, "min": st.min, "max": st.max})
        return out


@dataclass
class ConditionRow:
    """One row of the paper's four-condition table; ``stats`` is None when not available."""

    condition: str
    stats: Stats | None
    note: str = ""
    weight: float | None = None  # the tuned shared weight, for that row
    rewards: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (rewards left out)."""
        d: dict[str, Any] = {"condition": self.condition, "note": self.note, "weight": self.weight}
        d.update(dataclasses.asdict(self.stats) if self.stats else {"mean": None, "std": None, "min": None, "max": None, "episodes": 0})
        return d


# ---- the Python API ------------------------------------------------------------------


def evaluate_weights(
    champion: Champion,
    weights: Sequence[float] = STANDARD_WEIGHTS,
    episodes: int = 100,
    seed: int = 0,
    workers: int = 1,
    runner: RolloutRunner | None = None,
    tuned: bool = False,
) -> WeightTable:
    """Reward of ``champion`` at each fixed shared weight over ``episodes`` seeded episodes.

    All weights use the same episode seeds (``evaluation_seeds(seed, episodes)``).
    With ``tuned`` the champion's tuned connection weights are applied too
    (node input = shared weight * sum of tuned weight * source).
    """
    task = champion_task(champion)
    conn = champion.conn_weights if tuned else None
    network = compile_genome(champion.genome, conn)
    seeds = evaluation_seeds(seed, episodes)
    own = runner is None
    runner = runner or RolloutRunner(task, workers)
    try:
        rewards = runner.grid([network], weights, seeds)[0]
    finally:
        if own:
            runner.close()
    return WeightTable(np.asarray(weights, dtype=np.float64), rewards, seeds)


def four_conditions(
    champion: Champion,
    episodes: int = 100,
    seed: int = 0,
    workers: int = 1,
    grid_points: int = 81,
    select_episodes: int | None = None,
    runner: RolloutRunner | None = None,
    say: Callable[[str], None] | None = None,
    tick: Callable[[int, int], None] | None = None,
    skip_tuned_shared: bool = False,
) -> list[ConditionRow]:

    """The paper's four conditions for ``champion``, each over the same ``episodes`` seeds.

    ``skip_tuned_shared`` leaves out row 3, whose weight search costs about
    100 x ``episodes`` episodes (the other rows are unchanged by it).

    1. random individual weights: every connection drawn from U(-2, 2) per episode,
       shared weight 1.0;
    2. random shared weight: one draw from U(-2, 2) per episode;
    3. tuned shared weight: best of a ``grid_points`` grid over [-2, 2] then a
       refinement (:func:`wann.tools.tune.tune_shared`), picked on ``select_episodes``
       separate seeds and re-evaluated on the evaluation seeds;
    4. tuned individual weights: the champion's ``conn_weights`` at shared
       weight 1.0, when it has them (else the row has no numbers).
    """
    say = say or (lambda _msg: None)
    tick = tick or (lambda _done, _total: None)
    task = champion_task(champion)
    network = compile_genome(champion.genome)
    seeds = evaluation_seeds(seed, episodes)
    own = runner is None
    runner = runner or RolloutRunner(task, workers)
    rows: list[ConditionRow] = []
    try:
        rng = make_rng(seed, RANDOM_INDIVIDUAL_STREAM)
        random_nets = [
            with_conn_weights(network, rng.uniform(-2.0, 2.0, network.n_connections)) for _ in range(episodes)
        ]
        r = runner.paired(random_nets, np.ones(episodes), seeds)
        rows.append(ConditionRow(CONDITIONS[0], Stats.of(r), "each connection ~ U(-2, 2) per episode", rewards=r))
        say(f"  {CONDITIONS[0]}: {rows[-1].stats.mean:.2f}")
        tick(1, len(CONDITIONS))

        shared = make_rng(seed, RANDOM_SHARED_STREAM).uniform(-2.0, 2.0, episodes)
        r = runner.paired([network], shared, seeds)
        rows.append(ConditionRow(CONDITIONS[1], Stats.of(r), "one w ~ U(-2, 2) per episode", rewards=r))
        say(f"  {CONDITIONS[1]}: {rows[-1].stats.mean:.2f}")
        tick(2, len(CONDITIONS))

        if skip_tuned_shared:
            rows.append(ConditionRow(CONDITIONS[2], None, "skipped (--skip-tuned-shared)"))
        else:
            n_select = select_episodes or episodes
            best = tune_shared(network, task, episodes=n_select, seed=seed, grid_points=grid_points,
                               runner=runner, seed_stream=SELECT_STREAM)
            r = runner.grid([network], [best.weight], seeds)[0, 0]
            rows.append(ConditionRow(
                CONDITIONS[2], Stats.of(r),
                f"w = {best.weight:+.3f} (grid {grid_points} + refine on {n_select} other seeds)",
                weight=best.weight, rewards=r,
            ))
            say(f"  {CONDITIONS[2]}: {rows[-1].stats.mean:.2f} at w = {best.weight:+.3f}")
        tick(3, len(CONDITIONS))

        if champion.conn_weights:
            tuned_net = compile_genome(champion.genome, champion.conn_weights)
            r = runner.grid([tuned_net], [1.0], seeds)[0, 0]
            rows.append(ConditionRow(CONDITIONS[3], Stats.of(r), "champion's conn_weights, shared weight 1", rewards=r))
            say(f"  {CONDITIONS[3]}: {rows[-1].stats.mean:.2f}")
            tick(4, len(CONDITIONS))
        else:
            rows.append(ConditionRow(CONDITIONS[3], None, "not tuned: run python -m wann.tune CHAMPION --mode individual"))
            tick(4, len(CONDITIONS))
    finally:
        if own:
            runner.close()
    return rows


TASK_KEYS = ("name", "kwargs", "wrappers", "action", "max_steps", "input_labels", "output_labels", "path")


def on_other_task(champion: Champion, task_arg: str) -> Champion:
    """``champion`` to be scored on another task: an id, or a task section as YAML (``{name: ..., wrappers: ...}``).

    UserError in one line unless the task resolves and its inputs and outputs match the champion's.
    """
    spec: object = task_arg
    if task_arg.lstrip().startswith("{"):
        try:
            spec = yaml.safe_load(task_arg)
        except yaml.YAMLError as exc:
            raise UserError(f"--task: {task_arg!r}: not a YAML mapping ({type(exc).__name__})") from None
        if not isinstance(spec, dict) or any(k not in TASK_KEYS for k in spec) or not isinstance(spec.get("name"), str):
            raise UserError(f"--task: {task_arg!r}: needs a name; allowed keys: {', '.join(TASK_KEYS)}")
    try:
        task = resolve_task(spec)
    except UserError as exc:
        raise UserError(f"--task: {exc}") from None
    genome = champion.genome
    if (genome.n_inputs, genome.n_outputs) != (task.n_inputs, task.n_outputs):
        raise UserError(f"--task: {task.name!r} has {task.n_inputs} inputs / {task.n_outputs} outputs, "
                        f"the champion {genome.n_inputs} / {genome.n_outputs}")
    return dataclasses.replace(champion, task=task.name, task_spec=dict(spec) if isinstance(spec, dict) else None)


# ---- formatting -------------------------------------------------------------------------


def format_weight_table(table: WeightTable) -> str:
    """The per-weight table as aligned text."""
    lines = [f"{'weight':>8} {'mean':>10} {'std':>10} {'min':>10} {'max':>10}"]
    for row in table.rows():
        lines.append(
            f"{row['weight']:8.3f} {row['mean']:10.2f} {row['std']:10.2f} {row['min']:10.2f} {row['max']:10.2f}"
        )
    means = table.rewards.mean(axis=1)
    lines.append(f"{'all':>8} {means.mean():10.2f}   (mean over weights; best {table.weights[int(np.argmax(means))]:.3f})")
    return "\n".join(lines)


def format_conditions(rows: list[ConditionRow], task_name: str) -> str:
    """The four-condition table as aligned text, with the paper's row for swing-up."""
    width = max(len(r.condition) for r in rows)
    lines = [f"{'condition':<{width}}  {'mean +- std':>18} {'min':>9} {'max':>9}  note"]
    for row in rows:
        if row.stats is None:
            lines.append(f"{row.condition:<{width}}  {'-':>18} {'-':>9} {'-':>9}  {row.note}")
            continue
        st = row.stats
        pm = f"{st.mean:.1f} +- {st.std:.1f}"
        lines.append(f"{row.condition:<{width}}  {pm:>18} {st.min:9.1f} {st.max:9.1f}  {row.note}")
    if task_name in PAPER_ROWS:
        label, numbers = PAPER_ROWS[task_name]
        paper = " | ".join(f"{m:.0f} +- {s:.0f}" for m, s in numbers.values())
        lines.append(f"paper, {label} WANN (same four rows): {paper}")
    return "\n".join(lines)


def csv_text(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: ("" if row.get(c) is None else row.get(c)) for c in columns})
    return buffer.getvalue()
