"""Command line of ``python -m wann.convert`` (the work is done by :mod:`wann.tools.convert`)."""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from wann.cli.common import add_task_module_option, check_workers
from wann.engine.champion import load_champion, save_champion
from wann.engine.jsonio import write_json_atomic, write_text_atomic
from wann.errors import UserError
from wann.tasks import get_task
from wann.tools.convert import (
    conn_weights_from_params,
    format_reference_matrix,
    genome_from_reference,
    read_reference_matrix,
    read_reference_params,
    reference_matrix,
    reference_params,
    scored_champion,
)


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
    add_task_module_option(parser)
    return parser



def run(args: argparse.Namespace) -> int:
    needs_bias = args.tuned if not args.to_reference else args.tuned_out
    if needs_bias and (args.weight_bias is None or not math.isfinite(args.weight_bias)):
        flag = "--tuned" if not args.to_reference else "--tuned-out"
        raise UserError(f"{flag} needs --weight-bias B, a finite number (the reference used -1.5 for swing-up, -1.87 for the biped)")
    if Path(args.out).resolve() == Path(args.source).resolve():
        raise UserError(f"{args.out}: refusing to overwrite the input; choose another -o")
    if args.to_reference:
        return _export(args)
    if args.tuned_out:
        raise UserError("--tuned-out: only with --to-reference")
    if not args.task:
        raise UserError("--task: required when importing a .out file (e.g. --task wann/CartPoleSwingUp-v1)")
    if args.episodes < 0:
        raise UserError(f"--episodes: {args.episodes}: must be >= 0")
    check_workers(args.workers)
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
        raise UserError(f"{args.source}: {exc}") from None
    conn_weights = None
    if params is not None:
        try:
            conn_weights = conn_weights_from_params(genome, params, args.weight_bias)
        except ValueError as exc:
            raise UserError(f"{args.tuned}: {exc} in {args.source}") from None
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
    if args.tuned:
        raise UserError("--tuned: only when importing; to export tuned weights use --tuned-out")
    champion = load_champion(args.source)
    if args.tuned_out and not champion.conn_weights:
        raise UserError(f"{args.source}: --tuned-out: the champion has no tuned conn_weights (run python -m wann.tune)")
    matrix = reference_matrix(champion.genome)
    if args.tuned_out:
        params = reference_params(champion.genome, champion.conn_weights or {}, args.weight_bias)
        score = champion.extra.get("tuned_weights", {}).get("mean") if isinstance(champion.extra.get("tuned_weights"), dict) else None
        write_json_atomic(args.tuned_out, [params.tolist(), score], indent=None)
    write_text_atomic(args.out, format_reference_matrix(matrix))
    print(f"{args.source}: {matrix.shape[0]} nodes, {champion.genome.n_enabled} enabled connections -> {args.out}"
          + (f" (+ {args.tuned_out})" if args.tuned_out else ""))
    return 0
