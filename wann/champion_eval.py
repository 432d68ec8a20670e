"""Evaluate a champion: reward at fixed shared weights, and the paper's four conditions.

``python -m wann.evaluate CHAMPION`` runs this module's :func:`main`.

Every rollout goes through the engine's :func:`wann.evaluate.run_rollouts`
(the compiled path when the task has one), so a number printed here equals
what :class:`wann.evaluate.Evaluator` gives for the same network, weight and
seed. Many weight vectors are evaluated as one batch of copies of the network
that differ only in ``conn_weight``, with the shared weight set to 1.0: a node
then computes ``act(sum_k cw_k * v_k)``.

Seeds: every condition of a table runs on the same ``episodes`` evaluation
seeds (drawn from ``--seed``); the tuned shared weight is selected on a
separate set of seeds, so its row is an honest re-evaluation.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from wann.champion import Champion, champion_task
from wann.config import STANDARD_WEIGHTS
from wann.network import compile_genome
from wann.runner import (  # noqa: F401  (re-exported: the tools' rollout runner lives in wann.runner)
    RolloutRunner,
    Stats,
    evaluation_seeds,
    with_conn_weights,
)

# Seed streams derived from --seed (see cli_common.make_rng); stream 0 (evaluation episodes) is wann.runner's EVAL_STREAM.
RANDOM_INDIVIDUAL_STREAM = 1  # per-episode random connection weights
RANDOM_SHARED_STREAM = 2  # per-episode random shared weight
SELECT_STREAM = 3  # episodes used to pick the tuned shared weight

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
    skip_tuned_shared: bool = False,
) -> list[ConditionRow]:
    """The paper's four conditions for ``champion``, each over the same ``episodes`` seeds.

    ``skip_tuned_shared`` leaves out row 3, whose weight search costs about
    100 x ``episodes`` episodes (the other rows are unchanged by it).

    1. random individual weights: every connection drawn from U(-2, 2) per episode,
       shared weight 1.0;
    2. random shared weight: one draw from U(-2, 2) per episode;
    3. tuned shared weight: best of a ``grid_points`` grid over [-2, 2] then a
       refinement (:func:`wann.tune.tune_shared`), picked on ``select_episodes``
       separate seeds and re-evaluated on the evaluation seeds;
    4. tuned individual weights: the champion's ``conn_weights`` at shared
       weight 1.0, when it has them (else the row has no numbers).
    """
    from wann.cli_common import make_rng
    from wann.tune import tune_shared

    say = say or (lambda _msg: None)
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

        shared = make_rng(seed, RANDOM_SHARED_STREAM).uniform(-2.0, 2.0, episodes)
        r = runner.paired([network], shared, seeds)
        rows.append(ConditionRow(CONDITIONS[1], Stats.of(r), "one w ~ U(-2, 2) per episode", rewards=r))
        say(f"  {CONDITIONS[1]}: {rows[-1].stats.mean:.2f}")

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

        if champion.conn_weights:
            tuned_net = compile_genome(champion.genome, champion.conn_weights)
            r = runner.grid([tuned_net], [1.0], seeds)[0, 0]
            rows.append(ConditionRow(CONDITIONS[3], Stats.of(r), "champion's conn_weights, shared weight 1", rewards=r))
            say(f"  {CONDITIONS[3]}: {rows[-1].stats.mean:.2f}")
        else:
            rows.append(ConditionRow(CONDITIONS[3], None, "not tuned: run python -m wann.tune CHAMPION --mode individual"))
    finally:
        if own:
            runner.close()
    return rows


TASK_KEYS = ("name", "kwargs", "wrappers", "action", "max_steps", "input_labels", "output_labels", "path")


def on_other_task(champion: Champion, task_arg: str) -> Champion:
    """``champion`` to be scored on another task: an id, or a task section as YAML (``{name: ..., wrappers: ...}``).

    ToolError in one line unless the task resolves and its inputs and outputs match the champion's.
    """
    import yaml

    from wann.cli_common import ToolError
    from wann.tasks import resolve_task

    spec: object = task_arg
    if task_arg.lstrip().startswith("{"):
        try:
            spec = yaml.safe_load(task_arg)
        except yaml.YAMLError as exc:
            raise ToolError(f"--task: {task_arg!r}: not a YAML mapping ({type(exc).__name__})") from None
        if not isinstance(spec, dict) or any(k not in TASK_KEYS for k in spec) or not isinstance(spec.get("name"), str):
            raise ToolError(f"--task: {task_arg!r}: needs a name; allowed keys: {', '.join(TASK_KEYS)}")
    try:
        task = resolve_task(spec)
    except ValueError as exc:
        raise ToolError(f"--task: {exc}") from None
    genome = champion.genome
    if (genome.n_inputs, genome.n_outputs) != (task.n_inputs, task.n_outputs):
        raise ToolError(f"--task: {task.name!r} has {task.n_inputs} inputs / {task.n_outputs} outputs, "
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


def _csv_text(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: ("" if row.get(c) is None else row.get(c)) for c in columns})
    return buffer.getvalue()


# ---- command line ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m wann.evaluate``."""
    parser = argparse.ArgumentParser(
        prog="python -m wann.evaluate",
        description="Evaluate a champion at fixed shared weights, or print the paper's four-condition table.",
    )
    parser.add_argument("champion", help="champion.json written by python -m wann.search (or wann.tune)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--weights", type=float, nargs="+", metavar="W",
                       help="shared weights to evaluate (default: -2 -1 -0.5 0.5 1 2)")
    which.add_argument("--sweep", type=float, nargs=2, metavar=("LO", "HI"),
                       help="evaluate --points weights evenly spaced from LO to HI")
    which.add_argument("--table", action="store_true",
                       help="print the paper's four rows: random individual, random shared, tuned shared, tuned weights")
    parser.add_argument("--points", type=int, default=41, help="number of weights for --sweep (default 41)")
    parser.add_argument("--tuned", action="store_true",
                        help="apply the champion's tuned conn_weights on top of each shared weight")
    parser.add_argument("--episodes", type=int, default=100, help="episodes per weight or per row (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the episodes and random draws (default 0)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes, 0 = all cores (default 1; results do not depend on it)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--csv", metavar="PATH", help="also write the results as CSV")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--task", metavar="TASK",
                        help="score on this task instead of the champion's own (same inputs and outputs): an id, "
                             "e.g. BipedalWalker-v3, or a task section as YAML, e.g. "
                             "'{name: BipedalWalker-v3, wrappers: [{name: NoFallPenalty}]}'")
    parser.add_argument("--skip-tuned-shared", action="store_true",
                        help="--table: leave out the tuned-shared-weight row (its weight search costs ~100x --episodes episodes)")
    from wann.cli_common import add_task_module_option

    add_task_module_option(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m wann.evaluate``; exit 2 with one line on bad input."""
    from wann.cli_common import run_tool

    args = build_parser().parse_args(argv)
    return run_tool(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from wann.cli_common import ToolError, check_positive, check_workers, read_champion, import_task_modules

    import_task_modules(args.task_modules)

    check_positive("--episodes", args.episodes)
    check_workers(args.workers)
    if args.sweep is not None:
        check_positive("--points", args.points)
        if args.points < 2 and args.sweep[0] != args.sweep[1]:
            raise ToolError(f"--points: {args.points}: a sweep needs at least 2 points")
    champion = read_champion(args.champion)
    if args.task:
        champion = on_other_task(champion, args.task)
    if args.tuned and not champion.conn_weights:
        raise ToolError(f"{args.champion}: --tuned: the champion has no tuned conn_weights (run python -m wann.tune)")
    task = champion_task(champion)
    say = (lambda _m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    t0 = time.perf_counter()
    header = (f"champion {args.champion}: {task.name}, {champion.connections} connections, "
              f"{args.episodes} episodes per {'row' if args.table else 'weight'}, seed {args.seed}")
    result: dict[str, Any] = {
        "format": "wann-evaluation", "champion": str(args.champion), "task": task.name,
        "episodes": args.episodes, "seed": args.seed,
    }
    with RolloutRunner(task, args.workers) as runner:
        if args.table:
            say("evaluating the four conditions ...")
            rows = four_conditions(champion, args.episodes, args.seed, runner=runner, say=say,
                                   skip_tuned_shared=args.skip_tuned_shared)
            print(header)
            print(format_conditions(rows, task.name))
            result["table"] = [r.to_dict() for r in rows]
            csv_rows = result["table"]
            columns: Sequence[str] = ("condition", "mean", "std", "min", "max", "episodes", "weight", "note")
        else:
            if args.sweep is not None:
                weights = np.linspace(args.sweep[0], args.sweep[1], args.points)
            else:
                weights = np.asarray(args.weights if args.weights else STANDARD_WEIGHTS, dtype=np.float64)
            table = evaluate_weights(champion, weights, args.episodes, args.seed, runner=runner, tuned=args.tuned)
            print(header + (" (tuned conn_weights applied)" if args.tuned else ""))
            print(format_weight_table(table))
            result["tuned"] = bool(args.tuned)
            result["weights"] = table.rows()
            csv_rows = result["weights"]
            columns = ("weight", "mean", "std", "min", "max")
        steps = runner.steps
    seconds = time.perf_counter() - t0
    say(f"{steps:,} env steps in {seconds:.1f}s")
    if args.json:
        from wann.io import write_json_atomic

        write_json_atomic(args.json, result)
        say(f"wrote {args.json}")
    if args.csv:
        from wann.io import write_text_atomic

        write_text_atomic(args.csv, _csv_text(csv_rows, columns))
        say(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
