"""What every command shares: the exit-status contract, common options and argument checks.

Bad input (:class:`wann.errors.UserError`, or a file the OS cannot read or
write) prints one line ``error: <problem>`` on stderr and exits 2. Any other
exception is a bug: its traceback is printed and the exit status is 1.
Ctrl-C exits 130 without a traceback (the search handles it itself: it
checkpoints and exits 0).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

from wann import __version__
from wann.engine.champion import Champion
from wann.errors import UserError
from wann.tasks import import_task_module

EXIT_BAD_INPUT = 2


def run_command(parser: argparse.ArgumentParser, body: Callable[[argparse.Namespace], int],
                argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` with ``parser`` (plus ``--version``) and run ``body(args)`` under :func:`run_tool`.

    The ``--task-module`` modules (when the parser has the option) are imported first.
    """
    parser.add_argument("--version", action="version", version=f"wann {__version__}")
    args = parser.parse_args(argv)

    def run() -> int:
        import_task_modules(getattr(args, "task_modules", []))  # before any task is looked up
        return body(args)

    return run_tool(run)


def run_tool(body: Callable[[], int]) -> int:
    """Run a command's body; user errors become ``error: ...`` on stderr and exit 2."""
    try:
        return body()
    except UserError as exc:
        return fail(str(exc))
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:
        if exc.filename is None:  # not about a file the user named: a bug or the machine, keep the traceback
            raise
        return fail(f"{exc.filename}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


def fail(message: str) -> int:
    """Print ``error: <message>`` (first line only) on stderr and return the exit status 2."""
    line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    print(f"error: {line}", file=sys.stderr)
    return EXIT_BAD_INPUT


def add_task_module_option(parser: argparse.ArgumentParser) -> None:
    """``--task-module MODULE`` (repeatable): import a user's task module before anything is looked up."""
    parser.add_argument("--task-module", dest="task_modules", action="append", default=[], metavar="MODULE",
                        help="import this module first (it registers a user task); also WANN_TASK_MODULES=a,b")


def import_task_modules(modules: list[str]) -> None:
    """Import the modules named with ``--task-module``; UserError in one line if one fails."""
    for module in modules:
        import_task_module(module, "--task-module")


def say_unless(quiet: bool, stream=None) -> Callable[[str], None]:
    """A ``say(message)`` that prints one flushed line (on ``stream``, default stdout), or nothing when ``quiet``."""
    if quiet:
        return lambda _message: None
    return lambda message: print(message, file=stream or sys.stdout, flush=True)


def check_positive(name: str, value: int | float) -> None:
    """UserError unless ``value`` > 0 and finite (for counts such as --episodes)."""
    if not (value > 0 and value != float("inf")):
        raise UserError(f"{name}: {value}: must be > 0")


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """``--backend`` and ``--scheduler``: where the rollouts run (results never depend on it)."""
    from wann.engine.evaluator import BACKENDS

    parser.add_argument("--backend", choices=BACKENDS, help="where rollouts run (default processes; "
                        "dask with --scheduler)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run on a dask cluster: 'local' (a LocalCluster of --workers processes) or the "
                             "address of a running scheduler, e.g. tcp://host:8786 (implies --backend dask)")


def backend_choice(args: argparse.Namespace, default: str = "processes") -> tuple[str, str]:
    """(backend, scheduler) from ``--backend`` / ``--scheduler``; UserError if they disagree."""
    if args.scheduler:
        if args.backend not in (None, "dask"):
            raise UserError(f"--scheduler: {args.scheduler}: needs --backend dask (got --backend {args.backend})")
        return "dask", args.scheduler
    return args.backend or default, "local"


def check_finite(name: str, *values: float | None) -> None:
    """UserError unless every given value (None = not given) is a finite number (no nan, no inf)."""
    import math

    for value in values:
        if value is not None and not math.isfinite(value):
            raise UserError(f"{name}: {value}: must be a finite number")


def check_workers(value: int) -> None:
    """UserError unless ``value`` >= 0 (0 = every core)."""
    if value < 0:
        raise UserError(f"--workers: {value}: must be >= 0 (0 = all cores)")


def output_file(out: str | None, source: str | Path, suffix: str, formats: Sequence[str], kind: str) -> Path:
    """``out``, or ``source`` with ``suffix`` when not given; UserError unless its suffix is one of ``formats``."""
    path = Path(out) if out else output_path_for(source, suffix)
    if path.suffix.lower() not in formats:
        raise UserError(f"{path}: unknown {kind} type {path.suffix!r}; allowed: {', '.join(formats)}")
    return path


def require_tuned(champion: Champion, path: str | Path, flag: str) -> None:
    """UserError when ``flag`` needs tuned ``conn_weights`` and the champion at ``path`` has none."""
    if not champion.conn_weights:
        raise UserError(f"{path}: {flag}: the champion has no tuned conn_weights "
                        "(run python -m wann.tune --mode individual)")


def output_path_for(source: str | Path, suffix: str) -> Path:
    """``dir/name.json`` -> ``dir/name<suffix>`` (e.g. ``.tuned.json``)."""
    source = Path(source)
    stem = source.name[:-5] if source.name.endswith(".json") else source.name
    return source.with_name(stem + suffix)
