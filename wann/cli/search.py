"""Command line of the search: ``python -m wann.search CONFIG.yaml [options]``.

The search itself is :class:`wann.engine.search.WannSearch`; this module
reads the config, runs the search into a run folder and prints progress.
"""
from __future__ import annotations

import argparse
import signal
import time
from pathlib import Path
from typing import Any

from wann.cli.common import add_task_module_option, say_unless
from wann.engine.config import config_from_dict, load_config
from wann.engine.evaluator import Evaluator, make_backend
from wann.engine.runfolder import RunFolder, default_run_dir, read_checkpoint
from wann.engine.search import WannSearch
from wann.errors import UserError
from wann.tasks import ENV_MODULES


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m wann.search``."""
    parser = argparse.ArgumentParser(
        prog="python -m wann.search",
        description="Evolve a weight agnostic neural network for a task described by a YAML config.",
    )
    parser.add_argument("config", nargs="?", help="YAML config file (see configs/)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override one config value (repeatable), e.g. --set search.pop_size=64")
    parser.add_argument("--seed", type=int, help="run seed (same as --set run.seed=N)")
    parser.add_argument("--workers", type=int, help="worker processes, 0 = all cores (results do not depend on it)")
    parser.add_argument("--out", help="run folder to write (default results/<name>/<date>-<time>-seed<seed>)")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue the run saved in RUN_DIR")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    add_task_module_option(parser)
    return parser


def _console_line(search, metrics: dict[str, Any], started: float) -> str:
    # under grid/random confirmation the champion's number is its weight-agnostic score: show the search mean too
    weight_agnostic = search.config.evaluation.confirm_weights != "search"
    wa = f" wa (search {metrics['champion_search_mean']:7.2f})" if weight_agnostic else ""
    return (
        f"gen {metrics['generation']:5d} | best mean {metrics['best_mean']:8.2f} | "
        f"best max {metrics['best_max']:8.2f} | champion {metrics['champion_mean']:8.2f}{wa} "
        f"({metrics['champion_connections']:3d} conns) | "
        f"{metrics['steps_per_second'] / 1e6:6.2f}M steps/s | {time.perf_counter() - started:7.1f}s"
    )


def _check_recorded_module(state: dict, given: list[str], run_dir: str) -> None:
    """A checkpoint may name a user task module, but only the user may have it imported."""
    import os

    task = state.get("config", {}).get("task") or {}
    module = task.get("module") if isinstance(task, dict) else None
    allowed = set(given) | {m.strip() for m in os.environ.get(ENV_MODULES, "").split(",")}
    if module and module not in allowed:
        raise UserError(f"--resume {run_dir}: the run's task comes from module {module!r}, which is never imported "
                          f"because a checkpoint names it: pass --task-module {module}")


def run(args: argparse.Namespace) -> int:
    """Run or resume a search into its run folder."""
    # A parent (nohup, a background job) may have set SIGINT to "ignore"; the
    # run promises Ctrl-C -> checkpoint and exit 0, so take the signal back.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.resume:
        if args.config or args.overrides or args.seed is not None or args.out:
            raise UserError("--resume: takes only --workers, --task-module and --quiet; the run's own config is reused")
        state = read_checkpoint(args.resume)
        _check_recorded_module(state, args.task_modules, args.resume)
        config = config_from_dict(state["config"], str(Path(args.resume) / "checkpoint.json"))
        run_dir = Path(args.resume)
    else:
        if not args.config:
            raise UserError("no config given: python -m wann.search CONFIG.yaml (or --resume RUN_DIR)")
        overrides = list(args.overrides)
        if args.seed is not None:
            overrides.append(f"run.seed={args.seed}")
        config = load_config(args.config, overrides)
        state = None
        run_dir = Path(args.out) if args.out else default_run_dir(config.run.out_dir, config.run.name, config.run.seed)
    if args.workers is not None:
        if args.workers < 0:
            raise UserError(f"--workers: {args.workers}: must be >= 0 (0 = all cores)")
        config.evaluation.workers = args.workers

    search = WannSearch(config)
    if state is not None:
        search.load_state_dict(state)
    folder = RunFolder(run_dir, config.to_dict(), resume_generation=search.generation if state else None)
    say = say_unless(args.quiet)
    backend = make_backend(config.evaluation.backend, config.evaluation.workers)
    evaluator = Evaluator(search.task, config.evaluation.shared_weights, backend,
                          max_steps=config.task.max_steps or None)
    verb = f"resuming at generation {search.generation}" if state else "starting"
    say(f"{verb}: {config.run.name}, task {search.task.name}, pop {config.search.pop_size}, "
        f"{config.search.generations} generations, seed {search.seed}, "
        f"{backend.n_workers} worker(s) -> {run_dir}")
    compile_seconds = evaluator.start()
    say(f"compiled kernels in {compile_seconds:.2f}s (first call; loaded from cache when warm)")

    started = time.perf_counter()

    def report(s: WannSearch, metrics: dict[str, Any]) -> None:
        metrics["elapsed_seconds"] = time.perf_counter() - started
        folder.log.append(metrics)
        folder.timing.append(metrics)
        if metrics["champion_changed"]:
            folder.write_champion(s.champion)
        if s.generation % config.run.save_every == 0 or s.generation == config.search.generations:
            folder.write_checkpoint(s.state_dict())
        say(_console_line(s, metrics, started))

    try:
        search.run(evaluator, [report])
    except KeyboardInterrupt:
        evaluator.close()
        folder.write_checkpoint(search.state_dict())
        print(f"\ninterrupted: checkpoint of generation {search.state_dict()['generation']} written; "
              f"continue with: python -m wann.search --resume {run_dir}")
        return 0
    finally:
        evaluator.close()
    folder.write_checkpoint(search.state_dict())
    champ = search.champion
    if champ is not None:
        folder.write_champion(champ)
        print(f"champion: confirmed mean {champ.confirmed_mean:.2f} over {len(champ.shared_weights)} shared weights "
              f"({champ.confirmed_rollouts} rollouts each), {champ.connections} connections, "
              f"found in generation {champ.generation} -> {folder.champion_path}")
    return 0

