"""Convert champions between our JSON format and the reference code's ``.out`` matrix.

The reference code (google/brain-tokyo-workshop, WANNRelease) saves a
champion as a CSV of N rows x (N + 1) columns: the weight matrix (row =
source, column = destination) over nodes ordered [bias, inputs, hidden
(topologically sorted), outputs], where 0 means no connection and ``nan`` a
disabled connection gene, then one column of activation ids (the same ids
1..10 as ours). Its weight tuner takes the nonzero, non-nan entries in
row-major order as parameters and sets connection weight = param +
weight_bias; its parameter file is the JSON ``[params, score]``.

``python -m wann.convert FILE.out --task TASK -o champion.json`` imports (with
``--tuned PARAMS.json --weight-bias B`` the tuned weights become
``conn_weights``); ``python -m wann.convert CHAMPION.json --to-reference -o
FILE.out`` exports (with ``--tuned-out PARAMS.json`` the tuned weights too).

Imported connection genes get innovation numbers in row-major order of the
matrix, so the reference's parameter order is our innovation order.
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from wann.activations import ACTIVATIONS
from wann.champion import Champion, save_champion
from wann.config import STANDARD_WEIGHTS
from wann.genome import Genome, NodeKind, node_depths, validate_genome
from wann.io import read_json, write_json_atomic, write_text_atomic
from wann.network import compile_genome

REFERENCE_NUMBER_FORMAT = "%1.2e"  # how the reference writes its matrices


# ---- reading ----------------------------------------------------------------------------------


def read_reference_matrix(path: str | Path) -> np.ndarray:
    """The N x (N + 1) matrix of a reference ``.out`` file; ValueError ``<file>: <problem>``."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file") from None
    rows = [line for line in text.splitlines() if line.strip()]
    if not rows:
        raise ValueError(f"{path}: empty file, expected an N x (N + 1) CSV matrix")
    try:
        cells = [[float(x) for x in line.split(",")] for line in rows]
    except ValueError as exc:
        raise ValueError(f"{path}: not a CSV of numbers ({exc})") from None
    widths = sorted({len(r) for r in cells})
    if len(widths) > 1:
        raise ValueError(f"{path}: rows have different lengths {widths}, expected N + 1 = {len(rows) + 1} each")
    matrix = np.array(cells, dtype=np.float64)
    n, cols = matrix.shape
    if cols != n + 1:
        raise ValueError(f"{path}: shape {n} x {cols}, expected N x (N + 1) "
                         "(a square weight matrix plus one column of activation ids)")
    return matrix


def genome_from_reference(matrix: np.ndarray, n_inputs: int, n_outputs: int) -> Genome:
    """Our genome for a reference matrix with ``n_inputs`` inputs and ``n_outputs`` outputs.

    Every nonzero entry is a connection gene (``nan`` = disabled); innovation
    numbers follow row-major order. ValueError names the first defect.
    """
    n = matrix.shape[0]
    if n < 1 + n_inputs + n_outputs:
        raise ValueError(f"{n} nodes, but the task needs at least 1 bias + {n_inputs} inputs + {n_outputs} outputs")
    acts = matrix[:, -1]
    for k, a in enumerate(acts.tolist()):
        if not (math.isfinite(a) and a == int(a) and int(a) in ACTIVATIONS):
            raise ValueError(f"node {k}: activation id {a}, allowed: {min(ACTIVATIONS)}..{max(ACTIVATIONS)}")
    n_hidden = n - 1 - n_inputs - n_outputs
    # reference index -> our node id (ours: inputs 0.., bias n_in, outputs, then hidden)
    ids = np.empty(n, dtype=np.int64)
    ids[0] = n_inputs
    ids[1 : 1 + n_inputs] = np.arange(n_inputs)
    ids[1 + n_inputs : 1 + n_inputs + n_hidden] = n_inputs + n_outputs + 1 + np.arange(n_hidden)
    ids[n - n_outputs :] = n_inputs + 1 + np.arange(n_outputs)
    kinds = np.empty(n, dtype=np.int8)
    kinds[0] = NodeKind.BIAS
    kinds[1 : 1 + n_inputs] = NodeKind.INPUT
    kinds[1 + n_inputs : n - n_outputs] = NodeKind.HIDDEN
    kinds[n - n_outputs :] = NodeKind.OUTPUT
    weights = matrix[:, :-1]
    src, dst = np.nonzero(weights != 0)  # row-major; nan != 0 counts (a disabled gene)
    order = np.argsort(ids, kind="stable")  # store node genes in id order, as the search does
    genome = Genome(
        node_id=ids[order],
        node_kind=kinds[order],
        node_act=acts.astype(np.int8)[order],
        conn_innov=np.arange(len(src), dtype=np.int64),
        conn_src=ids[src],
        conn_dst=ids[dst],
        conn_enabled=~np.isnan(weights[src, dst]),
    )
    validate_genome(genome)
    return genome


def read_reference_params(path: str | Path) -> tuple[np.ndarray, float | None]:
    """Parameters and reported score of a reference tuner file ``[params, score]``."""
    path = Path(path)
    data = read_json(path, "tuner parameters")
    params = data[0] if isinstance(data, list) and data and isinstance(data[0], list) else None
    if params is None:
        raise ValueError(f"{path}: expected the reference tuner's JSON [params, score], a list whose first item is a list")
    try:
        values = np.array([float(p) for p in params], dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{path}: params must all be numbers") from None
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{path}: params must be finite numbers")
    score = data[1] if len(data) > 1 and isinstance(data[1], (int, float)) else None
    return values, None if score is None else float(score)


def conn_weights_from_params(genome: Genome, params: np.ndarray, weight_bias: float) -> dict[int, float]:
    """Tuned weights {innovation: param + weight_bias} for the enabled genes in innovation order."""
    enabled = np.sort(genome.conn_innov[genome.conn_enabled])
    if len(params) != len(enabled):
        raise ValueError(f"{len(params)} params, but the topology has {len(enabled)} enabled connections")
    return {int(i): float(p) + float(weight_bias) for i, p in zip(enabled.tolist(), params.tolist())}


# ---- writing ----------------------------------------------------------------------------------


def reference_order(genome: Genome) -> list[int]:
    """Our node ids in the reference's order: bias, inputs, hidden (topologically sorted), outputs."""
    depth = node_depths(genome)
    by_kind = {kind: genome.node_id[genome.node_kind == kind].tolist() for kind in NodeKind}
    hidden = sorted(by_kind[NodeKind.HIDDEN], key=lambda n: (depth[n], n))
    return by_kind[NodeKind.BIAS] + sorted(by_kind[NodeKind.INPUT]) + hidden + sorted(by_kind[NodeKind.OUTPUT])


def reference_matrix(genome: Genome) -> np.ndarray:
    """The reference's N x (N + 1) matrix of ``genome``: 1 per enabled gene, nan per disabled one."""
    order = reference_order(genome)
    index = {node: k for k, node in enumerate(order)}
    n = len(order)
    matrix = np.zeros((n, n + 1), dtype=np.float64)
    for s, d, on in zip(genome.conn_src.tolist(), genome.conn_dst.tolist(), genome.conn_enabled.tolist()):
        matrix[index[s], index[d]] = 1.0 if on else np.nan
    act_of = dict(zip(genome.node_id.tolist(), genome.node_act.tolist()))
    matrix[:, -1] = [act_of[node] for node in order]
    return matrix


def reference_params(genome: Genome, conn_weights: dict[int, float], weight_bias: float) -> np.ndarray:
    """Tuner parameters (weight - weight_bias) in the matrix's row-major order of enabled genes.

    Enabled genes without a tuned weight (dead ones) carry weight 1.0, as in
    :func:`wann.network.compile_genome`.
    """
    order = reference_order(genome)
    index = {node: k for k, node in enumerate(order)}
    enabled = np.flatnonzero(genome.conn_enabled)
    rows = [index[int(genome.conn_src[i])] for i in enabled]
    cols = [index[int(genome.conn_dst[i])] for i in enabled]
    row_major = enabled[np.lexsort((cols, rows))]
    weights = [conn_weights.get(int(genome.conn_innov[i]), 1.0) for i in row_major]
    return np.asarray(weights, dtype=np.float64) - float(weight_bias)


def format_reference_matrix(matrix: np.ndarray) -> str:
    """The matrix as the reference writes it (CSV, ``%1.2e``)."""
    return "\n".join(",".join(REFERENCE_NUMBER_FORMAT % v for v in row) for row in matrix) + "\n"


# ---- champions ---------------------------------------------------------------------------------


def champion_from_reference(
    matrix: np.ndarray,
    task_name: str,
    params: np.ndarray | None = None,
    weight_bias: float = 0.0,
    episodes: int = 20,
    seed: int = 0,
    workers: int = 1,
    source: dict[str, Any] | None = None,
) -> Champion:
    """A champion for ``task_name`` from a reference matrix (and tuned ``params``).

    With ``episodes`` > 0 the champion is scored like a search's confirmation:
    ``episodes`` rollouts at each of the six standard shared weights.
    """
    from wann.tasks import get_task

    task = get_task(task_name)
    genome = genome_from_reference(matrix, task.n_inputs, task.n_outputs)
    conn_weights = None if params is None else conn_weights_from_params(genome, params, weight_bias)
    return scored_champion(genome, task.name, conn_weights, episodes, seed, workers, source)


def scored_champion(
    genome: Genome,
    task_name: str,
    conn_weights: dict[int, float] | None,
    episodes: int = 20,
    seed: int = 0,
    workers: int = 1,
    source: dict[str, Any] | None = None,
) -> Champion:
    """A champion of an imported ``genome``, scored at the six standard weights (none if ``episodes`` is 0)."""
    from wann.runner import RolloutRunner, evaluation_seeds
    from wann.tasks import get_task

    network = compile_genome(genome)
    per_weight: list[float] = []
    if episodes > 0:
        with RolloutRunner(get_task(task_name), workers) as runner:
            rewards = runner.grid([network], STANDARD_WEIGHTS, evaluation_seeds(seed, episodes))[0]
        per_weight = [float(r) for r in rewards.mean(axis=1)]
    return Champion(
        genome=genome, task=task_name, shared_weights=list(STANDARD_WEIGHTS) if per_weight else [],
        reward_per_weight=per_weight, confirmed_mean=float(np.mean(per_weight)) if per_weight else 0.0,
        confirmed_rollouts=int(episodes), connections=network.n_connections, generation=0, seed=int(seed),
        conn_weights=conn_weights, extra={"converted_from": dict(source or {})},
    )


# ---- command line ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m wann.convert``."""
    parser = argparse.ArgumentParser(
        prog="python -m wann.convert",
        description="Import a reference-code champion (.out matrix, optional tuned parameters) as a champion.json, "
                    "or export a champion.json to the reference format (--to-reference).",
    )
    parser.add_argument("source", help="reference .out file to import, or champion.json with --to-reference")
    parser.add_argument("-o", "--out", required=True, help="file to write (champion.json, or .out with --to-reference)")
    parser.add_argument("--task", help="import: task id of the champion, e.g. wann/CartPoleSwingUp-v1")
    parser.add_argument("--tuned", metavar="PARAMS.json",
                        help="import: the reference tuner's [params, score] file; params + weight bias become conn_weights")
    parser.add_argument("--weight-bias", type=float,
                        help="weight = param + B in the reference tuner (it used -1.5 for swing-up, -1.87 for the biped); "
                             "required with --tuned or --tuned-out")
    parser.add_argument("--episodes", type=int, default=20,
                        help="import: rollouts per standard shared weight to score the champion (0 = do not score; default 20)")
    parser.add_argument("--seed", type=int, default=0, help="import: seed of the scoring episodes (default 0)")
    parser.add_argument("--workers", type=int, default=1, help="import: worker processes for scoring, 0 = all cores")
    parser.add_argument("--to-reference", action="store_true", help="export SOURCE (a champion.json) as a reference .out")
    parser.add_argument("--tuned-out", metavar="PARAMS.json",
                        help="export: also write the champion's conn_weights as a reference [params, score] file")
    from wann.cli_common import add_task_module_option

    add_task_module_option(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m wann.convert``; exit 2 with one line on bad input."""
    from wann.cli_common import run_tool

    args = build_parser().parse_args(argv)
    return run_tool(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from wann.cli_common import ToolError, check_workers, import_task_modules

    import_task_modules(args.task_modules)

    needs_bias = args.tuned if not args.to_reference else args.tuned_out
    if needs_bias and (args.weight_bias is None or not math.isfinite(args.weight_bias)):
        flag = "--tuned" if not args.to_reference else "--tuned-out"
        raise ToolError(f"{flag} needs --weight-bias B, a finite number (the reference used -1.5 for swing-up, -1.87 for the biped)")
    if Path(args.out).resolve() == Path(args.source).resolve():
        raise ToolError(f"{args.out}: refusing to overwrite the input; choose another -o")
    if args.to_reference:
        return _export(args)
    if args.tuned_out:
        raise ToolError("--tuned-out: only with --to-reference")
    if not args.task:
        raise ToolError("--task: required when importing a .out file (e.g. --task wann/CartPoleSwingUp-v1)")
    if args.episodes < 0:
        raise ToolError(f"--episodes: {args.episodes}: must be >= 0")
    check_workers(args.workers)
    from wann.tasks import get_task

    task = get_task(args.task)  # an unknown task fails here, before any work
    t0 = time.perf_counter()
    matrix = read_reference_matrix(args.source)
    params, score = (None, None) if not args.tuned else read_reference_params(args.tuned)
    source: dict[str, Any] = {"format": "reference .out", "file": str(args.source)}
    if args.tuned:
        source.update({"tuned": str(args.tuned), "weight_bias": args.weight_bias, "reported_score": score})
    try:
        genome = genome_from_reference(matrix, task.n_inputs, task.n_outputs)
    except ValueError as exc:
        raise ToolError(f"{args.source}: {exc}") from None
    conn_weights = None
    if params is not None:
        try:
            conn_weights = conn_weights_from_params(genome, params, args.weight_bias)
        except ValueError as exc:
            raise ToolError(f"{args.tuned}: {exc} in {args.source}") from None
    champion = scored_champion(genome, task.name, conn_weights, args.episodes, args.seed, args.workers, source)
    save_champion(champion, args.out)
    line = (f"{args.source}: {champion.genome.node_id.size} nodes, {champion.genome.n_enabled} enabled connections "
            f"({champion.connections} live)")
    if champion.conn_weights is not None:
        line += f", {len(champion.conn_weights)} tuned weights"
    if champion.reward_per_weight:
        line += f"; mean {champion.confirmed_mean:.2f} over the six standard weights x {args.episodes} episodes"
    print(f"{line} ({time.perf_counter() - t0:.1f}s) -> {args.out}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from wann.cli_common import ToolError, read_champion

    if args.tuned:
        raise ToolError("--tuned: only when importing; to export tuned weights use --tuned-out")
    champion = read_champion(args.source)
    if args.tuned_out and not champion.conn_weights:
        raise ToolError(f"{args.source}: --tuned-out: the champion has no tuned conn_weights (run python -m wann.tune)")
    matrix = reference_matrix(champion.genome)
    if args.tuned_out:
        params = reference_params(champion.genome, champion.conn_weights or {}, args.weight_bias)
        score = champion.extra.get("tuned_weights", {}).get("mean") if isinstance(champion.extra.get("tuned_weights"), dict) else None
        write_json_atomic(args.tuned_out, [params.tolist(), score], indent=None)
    write_text_atomic(args.out, format_reference_matrix(matrix))
    print(f"{args.source}: {matrix.shape[0]} nodes, {champion.genome.n_enabled} enabled connections -> {args.out}"
          + (f" (+ {args.tuned_out})" if args.tuned_out else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
