"""Command line of the search: ``python -m wann.search CONFIG.yaml [options]``.

The search itself is :class:`wann.engine.search.WannSearch`; this module
reads the config, runs the search into a run folder and prints progress.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from wann.cli.common import add_task_module_option
from wann.cli.stopping import GracefulStop, Stopped
from wann.engine.config import load_config
from wann.engine.evaluator import BACKENDS, make_backend
from wann.engine.search import WannSearch
from wann.errors import UserError


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
    parser.add_argument("--backend", choices=BACKENDS, help="where rollouts run (default: the config's evaluation.backend)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run on a dask cluster: 'local' (a LocalCluster of --workers processes) or a "
                             "scheduler address such as tcp://host:8786 (implies --backend dask)")
    parser.add_argument("--out", help="run folder to write (default results/<name>/<date>-<time>-seed<seed>)")
    parser.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
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


def run(args: argparse.Namespace) -> int:
    """Run or resume a search into its run folder.

    SIGINT, SIGTERM and SIGHUP write a checkpoint and exit 0; a cluster that
    goes away writes a checkpoint and exits 3.
    """
    with GracefulStop() as stop:
        return _run(args, stop)


def _run(args: argparse.Namespace, stop: GracefulStop) -> int:
    from wann.engine.checkpoint import read_checkpoint
    from wann.engine.runfolder import claim_run_dir, default_run_dir

    if args.workers is not None and args.workers < 0:
        raise UserError(f"--workers: {args.workers}: must be >= 0 (0 = all cores)")
    if args.resume:
        if args.config or args.overrides or args.seed is not None or args.out or args.overwrite:
            raise UserError("--resume: takes only --workers, --backend, --scheduler, --task-module and --quiet; "
                            "the run's own config is reused")
        run_dir = Path(args.resume)
        lock = claim_run_dir(run_dir, "resume", "--resume")
        try:
            state, config = read_checkpoint(run_dir, args.task_modules)
            _apply_backend_options(config, args)
        except BaseException:
            lock.release()
            raise
    else:
        if not args.config:
            raise UserError("no config given: python -m wann.search CONFIG.yaml (or --resume RUN_DIR)")
        overrides = list(args.overrides)
        if args.seed is not None:
            overrides.append(f"run.seed={args.seed}")
        config = load_config(args.config, overrides)
        state = None
        run_dir = Path(args.out) if args.out else default_run_dir(config.run.out_dir, config.run.name, config.run.seed)
        _apply_backend_options(config, args)
        lock = claim_run_dir(run_dir, "overwrite" if args.overwrite else "new", "--out" if args.out else "run.out_dir")
    try:
        return _search(config, state, run_dir, args.quiet, stop)
    except (UserError, Stopped):
        lock.abandon()  # a folder made for this run and still empty goes again
        raise
    finally:
        lock.release()


def _apply_backend_options(config, args: argparse.Namespace) -> None:
    """--workers, --backend and --scheduler override the config (results never depend on them)."""
    ev = config.evaluation
    if args.workers is not None:
        ev.workers = args.workers
    if args.backend:
        ev.backend = args.backend
    if args.scheduler:
        if args.backend not in (None, "dask"):
            raise UserError(f"--scheduler: {args.scheduler}: needs --backend dask (got --backend {args.backend})")
        ev.backend, ev.scheduler = "dask", args.scheduler
    make_backend(ev.backend, ev.workers, ev.scheduler)  # UserError now if the backend cannot be used


def _search(config, state: dict | None, run_dir: Path, quiet: bool, stop: GracefulStop) -> int:
    from wann.engine.evaluator import BackendLost, Evaluator
    from wann.engine.runfolder import RunFolder

    search = WannSearch(config)
    if state is not None:
        search.load_state_dict(state)
    say = _say_unless(quiet)
    backend = make_backend(config.evaluation.backend, config.evaluation.workers, config.evaluation.scheduler)
    evaluator = Evaluator(search.task, config.evaluation.shared_weights, backend,
                          max_steps=config.task.max_steps or None)
    verb = f"resuming at generation {search.generation}" if state else "starting"
    say(f"{verb}: {config.run.name}, task {search.task.name}, pop {config.search.pop_size}, "
        f"{config.search.generations} generations, seed {search.seed}, "
        f"{_describe_backend(config)} -> {run_dir}")
    try:  # workers first: a cluster that cannot be reached leaves no run folder behind
        compile_seconds = evaluator.start()
    except BaseException:
        evaluator.close()
        raise
    say(f"compiled kernels in {compile_seconds:.2f}s (first call; loaded from cache when warm)")
    link = getattr(backend, "dashboard_link", None)
    if link:
        say(f"dask dashboard: {link} ({backend.n_workers} workers)")
    with stop.critical():
        folder = RunFolder(run_dir, config.to_dict(), resume_generation=search.generation if state else None)
    started = time.perf_counter()
    # The state log.csv ends with. A stop can land after step() commits a generation and before
    # its row is logged; checkpointing search.state_dict() then would skip that row on resume.
    logged = search.snapshot()

    def report(s: WannSearch, metrics: dict[str, Any]) -> None:
        nonlocal logged
        metrics["elapsed_seconds"] = time.perf_counter() - started
        with stop.critical():  # a stop signal waits until the row and checkpoint are whole
            folder.log.append(metrics)
            folder.timing.append(metrics)
            if metrics["champion_changed"]:
                folder.write_champion(s.champion)
            logged = s.snapshot()
            if s.generation % config.run.save_every == 0 or s.generation == config.search.generations:
                folder.write_checkpoint(s.state_dict(logged))
        say(_console_line(s, metrics, started))

    def checkpoint_now() -> int:
        evaluator.close()  # workers stop first (quietly), then the state of the last logged generation is saved
        state_now = search.state_dict(logged)
        folder.write_checkpoint(state_now)
        return state_now["generation"]

    try:
        search.run(evaluator, [report])
    except Stopped as exc:
        generation = checkpoint_now()
        say(f"\n{_stopped_by(exc)}: checkpoint of generation {generation} written; "
            f"continue with: python -m wann.search --resume {run_dir}", always=True)
        return 0
    except BackendLost as exc:
        generation = checkpoint_now()
        say(f"error: {exc}; checkpoint of generation {generation} written; "
            f"continue with: python -m wann.search --resume {run_dir}", always=True, stream=sys.stderr)
        return EXIT_BACKEND_LOST
    finally:
        evaluator.close()
    champ = search.champion
    try:
        with stop.critical():
            folder.write_checkpoint(search.state_dict())
            if champ is not None:
                folder.write_champion(champ)
    except Stopped:
        pass  # the run had finished and its files are whole: nothing is left to stop
    if champ is not None:
        say(f"champion: confirmed mean {champ.confirmed_mean:.2f} over {len(champ.shared_weights)} shared weights "
            f"({champ.confirmed_rollouts} rollouts each), {champ.connections} connections, "
            f"found in generation {champ.generation} -> {folder.champion_path}", always=True)
    return 0


EXIT_BACKEND_LOST = 3  # the cluster went away; a checkpoint was written


def _stopped_by(exc: Stopped) -> str:
    return "interrupted" if exc.signame == "SIGINT" else f"stopped by {exc.signame}"


def _describe_backend(config) -> str:
    ev = config.evaluation
    if ev.backend == "dask":
        return f"dask scheduler {ev.scheduler}" + (f" ({ev.workers} workers)" if ev.scheduler == "local" else "")
    if ev.backend == "serial":
        return "1 worker (serial)"
    return f"{make_backend(ev.backend, ev.workers).n_workers} worker(s)"


def _say_unless(quiet: bool):
    """Progress printer; a terminal closed under us (SIGHUP) must not turn a clean stop into a traceback."""

    def say(message: str, always: bool = False, stream=None) -> None:
        if quiet and not always:
            return
        try:
            print(message, file=stream or sys.stdout, flush=True)
        except OSError:
            pass  # stdout is gone (hung-up terminal, closed pipe): the run folder still has everything

    return say
