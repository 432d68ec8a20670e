"""Reading a checkpoint: the whole file is checked before a search is built from it.

A checkpoint (``RUN_DIR/checkpoint.json``, written by
:meth:`wann.engine.search.WannSearch.state_dict`) is plain JSON. Every key is
checked for type and range, the embedded config is validated like a config
file, and the population must match that config (its size, the task's inputs
and outputs, ids below the tracker's counters), so a cut or hand-edited file
stops with one line naming the file and the key instead of resuming as a
different run.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from wann.engine import filecheck as fc
from wann.engine.champion import Champion
from wann.engine.config import Config, config_from_dict
from wann.engine.genome import Genome
from wann.engine.jsonio import read_json
from wann.errors import UserError

FORMAT = "wann-checkpoint"
VERSION = 1
UINT128 = 2**128 - 1


def read_checkpoint(run_dir: str | Path, task_modules: list[str] = ()) -> tuple[dict[str, Any], Config]:
    """Load and validate ``RUN_DIR/checkpoint.json``; returns (state, config).

    ``task_modules``: the user task modules the user named (``--task-module``);
    a module recorded in the checkpoint is never imported on its own.
    """
    path = Path(run_dir) / "checkpoint.json"
    state = read_json(path, "checkpoint")
    try:
        config = check_checkpoint(state, list(task_modules), str(run_dir))
    except UserError as exc:
        raise UserError(f"{path}: {exc}") from None
    return state, config


def check_checkpoint(state: Any, task_modules: list[str], run_dir: str = "RUN_DIR") -> Config:
    """Check a checkpoint's data as a whole; returns its config. UserError ``<key>: ...`` otherwise."""
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise UserError(f"not a wann checkpoint (missing \"format\": \"{FORMAT}\")")
    version = fc.key(state, "version", "")
    if version != VERSION:
        raise UserError(f"version: {fc.shown(version)}: this wann reads checkpoint format version {VERSION}")
    raw_config = fc.key(state, "config", "")
    _check_recorded_module(raw_config, task_modules, run_dir)
    config = config_from_dict(raw_config, "config")
    seed = fc.integer(fc.key(state, "seed", ""), "seed")
    if seed != config.run.seed:
        raise UserError(f"seed: {seed}: differs from config.run.seed {config.run.seed}")
    generation = fc.integer(fc.key(state, "generation", ""), "generation", hi=config.search.generations)
    _check_rng(fc.key(state, "rng", ""))
    tracker = fc.key(state, "tracker", "")
    next_node = fc.integer(fc.key(tracker, "next_node_id", "tracker"), "tracker.next_node_id")
    next_innov = fc.integer(fc.key(tracker, "next_innovation", "tracker"), "tracker.next_innovation")

    from wann.tasks import resolve_task

    task = resolve_task(config.task.spec())
    ranked = fc.array(fc.key(state, "ranked", ""), "ranked")
    expected = config.search.pop_size if generation > 0 else 0
    if len(ranked) != expected:
        raise UserError(f"ranked: {len(ranked)} genomes, but generation {generation} of a run with "
                        f"search.pop_size {config.search.pop_size} needs {expected}")
    for i, data in enumerate(ranked):
        _check_genome(Genome.from_dict(data, f"ranked[{i}]"), f"ranked[{i}]", task, next_node, next_innov)
    champion = fc.key(state, "champion", "")
    if (champion is None) != (generation == 0):
        raise UserError(f"champion: {fc.shown(champion)}: a checkpoint after generation 0 holds a champion, "
                        "and one at generation 0 holds null")
    if champion is not None:
        champ = Champion.from_dict(champion, "champion")
        if champ.task != task.name:
            raise UserError(f"champion.task: {champ.task!r}: differs from the run's task {task.name!r}")
        if champ.generation >= generation:
            raise UserError(f"champion.generation: {champ.generation}: must be < generation {generation}")
        _check_genome(champ.genome, "champion.genome", task, next_node, next_innov)
    return config


def _check_genome(genome: Genome, where: str, task, next_node: int, next_innov: int) -> None:
    if genome.n_inputs != task.n_inputs or genome.n_outputs != task.n_outputs:
        raise UserError(f"{where}: {genome.n_inputs} inputs/{genome.n_outputs} outputs, but task {task.name} "
                        f"has {task.n_inputs}/{task.n_outputs}")
    if len(genome.node_id) and int(genome.node_id.max()) >= next_node:
        raise UserError(f"{where}: node id {int(genome.node_id.max())} is not below tracker.next_node_id {next_node}")
    if len(genome.conn_innov) and int(genome.conn_innov.max()) >= next_innov:
        raise UserError(f"{where}: innovation {int(genome.conn_innov.max())} is not below "
                        f"tracker.next_innovation {next_innov}")


def _check_rng(rng: Any) -> None:
    """A numpy PCG64 state, as ``Generator.bit_generator.state`` gives it."""
    kind = fc.key(rng, "bit_generator", "rng")
    if kind != "PCG64":
        raise UserError(f"rng.bit_generator: {fc.shown(kind)}: expected 'PCG64'")
    inner = fc.key(rng, "state", "rng")
    fc.integer(fc.key(inner, "state", "rng.state"), "rng.state.state", hi=UINT128)
    fc.integer(fc.key(inner, "inc", "rng.state"), "rng.state.inc", hi=UINT128)
    fc.integer(fc.key(rng, "has_uint32", "rng"), "rng.has_uint32", hi=1)
    fc.integer(fc.key(rng, "uinteger", "rng"), "rng.uinteger", hi=2**32 - 1)
    try:
        np.random.default_rng().bit_generator.state = rng
    except (TypeError, ValueError, OverflowError) as exc:
        raise UserError(f"rng: not a valid PCG64 state ({exc})") from None


def _check_recorded_module(raw_config: Any, given: list[str], run_dir: str) -> None:
    """A checkpoint may name a user task module, but only the user may have it imported."""
    from wann.tasks import ENV_MODULES

    task = raw_config.get("task") if isinstance(raw_config, dict) else None
    module = task.get("module") if isinstance(task, dict) else None
    allowed = set(given) | {m.strip() for m in os.environ.get(ENV_MODULES, "").split(",")}
    if module and module not in allowed:
        raise UserError(f"config.task.module: the run's task comes from module {module!r}, which is never "
                        f"imported because a checkpoint names it: pass --task-module {module} "
                        f"(python -m wann.search --resume {run_dir} --task-module {module})")
