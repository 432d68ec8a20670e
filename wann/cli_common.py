"""Helpers shared by the champion tools (evaluate, tune, draw, plot, watch).

Every tool reports bad input the same way: one line ``error: <problem>`` on
stderr and exit status 2, no traceback. Champion files are read through
:func:`read_champion`, which adds checks the tools rely on (tuned weights that
name real connections) to :func:`wann.champion.load_champion`.
"""
from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Callable

import numpy as np

from wann.champion import Champion, load_champion

EXIT_BAD_INPUT = 2


class ToolError(ValueError):
    """Bad input to a tool; the message is one line meant for the user."""


def read_champion(path: str | Path) -> Champion:
    """Load and validate a champion file; ValueError ``<file>: <problem>`` otherwise.

    Besides :func:`load_champion`'s checks (JSON, format, genome structure,
    activations, task), tuned ``conn_weights`` must name innovation numbers of
    the genome and be finite.
    """
    champion = load_champion(path)
    if champion.conn_weights is not None:
        innovations = set(champion.genome.conn_innov.tolist())
        for innov, weight in champion.conn_weights.items():
            if innov not in innovations:
                raise ValueError(f"{path}: conn_weights names innovation {innov}, which is not in the genome")
            if not math.isfinite(weight):
                raise ValueError(f"{path}: conn_weights[{innov}] is {weight}, expected a finite number")
    tuned_shared = champion.extra.get("tuned_shared_weight")
    if tuned_shared is not None and not (isinstance(tuned_shared, (int, float)) and math.isfinite(tuned_shared)):
        raise ValueError(f"{path}: tuned_shared_weight is {tuned_shared!r}, expected a finite number")
    return champion


def add_task_module_option(parser) -> None:
    """``--task-module MODULE`` (repeatable): import a user's task module before anything is looked up."""
    parser.add_argument("--task-module", dest="task_modules", action="append", default=[], metavar="MODULE",
                        help="import this module first (it registers a user task); also WANN_TASK_MODULES=a,b")


def import_task_modules(modules: list[str]) -> None:
    """Import the modules named with ``--task-module``; ValueError in one line if one fails."""
    from wann.tasks import import_task_module

    for module in modules:
        import_task_module(module, "--task-module")


def run_tool(body: Callable[[], int]) -> int:
    """Run a tool's body; bad input becomes ``error: ...`` on stderr and exit 2.

    ValueError (including :class:`ToolError` and the engine's ConfigError)
    and OSError are bad input; Ctrl-C exits 130 without a traceback.
    """
    try:
        return body()
    except ValueError as exc:
        return fail(str(exc))
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return fail(f"{where}{exc.strerror or exc}")
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


def fail(message: str) -> int:
    """Print ``error: <message>`` (first line only) on stderr and return the exit status 2."""
    line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    print(f"error: {line}", file=sys.stderr)
    return EXIT_BAD_INPUT


def make_rng(seed: int, *stream: int) -> np.random.Generator:
    """A generator that depends only on ``seed`` and the stream numbers."""
    return np.random.default_rng([int(seed), *(int(s) for s in stream)])


def draw_seeds(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` rollout seeds (int64 in [0, 2**31 - 1)) from ``rng``."""
    return rng.integers(0, 2**31 - 1, size=int(count), dtype=np.int64)


def check_positive(name: str, value: int | float) -> None:
    """ToolError unless ``value`` > 0 (for counts such as --episodes)."""
    if not value > 0:
        raise ToolError(f"{name}: {value}: must be > 0")


def check_workers(value: int) -> None:
    """ToolError unless ``value`` >= 0 (0 = every core)."""
    if value < 0:
        raise ToolError(f"--workers: {value}: must be >= 0 (0 = all cores)")


def output_path_for(source: str | Path, suffix: str) -> Path:
    """``dir/name.json`` -> ``dir/name<suffix>`` (e.g. ``.tuned.json``)."""
    source = Path(source)
    stem = source.name[:-5] if source.name.endswith(".json") else source.name
    return source.with_name(stem + suffix)


def progress(message: str, quiet: bool = False) -> None:
    """Print one progress line now (flushed), unless ``quiet``."""
    if not quiet:
        print(message, flush=True)
