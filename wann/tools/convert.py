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

import math
from pathlib import Path
from typing import Any

import numpy as np

from wann.engine.activations import ACTIVATIONS
from wann.engine.champion import Champion
from wann.engine.config import STANDARD_WEIGHTS
from wann.engine.genome import Genome, NodeKind, node_depths, validate_genome
from wann.engine.jsonio import read_json, read_text
from wann.engine.network import compile_genome
from wann.engine.seeds import evaluation_seeds
from wann.errors import UserError
from wann.tasks import get_task
from wann.tools.runner import RolloutRunner

REFERENCE_NUMBER_FORMAT = "%1.2e"  # how the reference writes its matrices


# ---- reading ----------------------------------------------------------------------------------


def read_reference_matrix(path: str | Path) -> np.ndarray:
    """The N x (N + 1) matrix of a reference ``.out`` file; ValueError ``<file>: <problem>``."""
    path = Path(path)
    text = read_text(path, "reference matrix")
    rows = [line for line in text.splitlines() if line.strip()]
    if not rows:
        raise UserError(f"{path}: empty file, expected an N x (N + 1) CSV matrix")
    try:
        cells = [[float(x) for x in line.split(",")] for line in rows]
    except ValueError as exc:
        raise UserError(f"{path}: not a CSV of numbers ({exc})") from None
    widths = sorted({len(r) for r in cells})
    if len(widths) > 1:
        raise UserError(f"{path}: rows have different lengths {widths}, expected N + 1 = {len(rows) + 1} each")
    matrix = np.array(cells, dtype=np.float64)
    n, cols = matrix.shape
    if cols != n + 1:
        raise UserError(f"{path}: shape {n} x {cols}, expected N x (N + 1) "
                         "(a square weight matrix plus one column of activation ids)")
    return matrix


def genome_from_reference(matrix: np.ndarray, n_inputs: int, n_outputs: int) -> Genome:
    """Our genome for a reference matrix with ``n_inputs`` inputs and ``n_outputs`` outputs.

    Every nonzero entry is a connection gene (``nan`` = disabled); innovation
    numbers follow row-major order. ValueError names the first defect.
    """
    n = matrix.shape[0]
    if n < 1 + n_inputs + n_outputs:
        raise UserError(f"{n} nodes, but the task needs at least 1 bias + {n_inputs} inputs + {n_outputs} outputs")
    acts = matrix[:, -1]
    for k, a in enumerate(acts.tolist()):
        if not (math.isfinite(a) and a == int(a) and int(a) in ACTIVATIONS):
            raise UserError(f"node {k}: activation id {a}, allowed: {min(ACTIVATIONS)}..{max(ACTIVATIONS)}")
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
        raise UserError(f"{path}: expected the reference tuner's JSON [params, score], a list whose first item is a list")
    try:
        values = np.array([float(p) for p in params], dtype=np.float64)
    except (TypeError, ValueError):
        raise UserError(f"{path}: params must all be numbers") from None
    if not np.all(np.isfinite(values)):
        raise UserError(f"{path}: params must be finite numbers")
    score = data[1] if len(data) > 1 and isinstance(data[1], (int, float)) else None
    return values, None if score is None else float(score)


def conn_weights_from_params(genome: Genome, params: np.ndarray, weight_bias: float) -> dict[int, float]:
    """Tuned weights {innovation: param + weight_bias} for the enabled genes in innovation order."""
    enabled = np.sort(genome.conn_innov[genome.conn_enabled])
    if len(params) != len(enabled):
        raise UserError(f"{len(params)} params, but the topology has {len(enabled)} enabled connections")
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
    :func:`wann.engine.network.compile_genome`.
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
