"""Shared test helpers: run the CLI in a subprocess, grow random genomes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from wann.engine.genome import Genome, initial_genome, initial_tracker
from wann.engine.mutation import MutationRates, mutate

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, module: str = "wann.search", timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m module args`` from the repo root and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=dict(os.environ),
    )


def popen_cli(*args: str, module: str = "wann.search") -> subprocess.Popen:
    """Start ``python -m module args`` with stdout as a line stream.

    The stdout pipe is shrunk to one page (Linux) so the child blocks a few
    dozen lines ahead of a slow reader: on a loaded machine a test that
    signals "at generation N" then lands near N, not hundreds of generations
    on (and a stop often lands while the child is blocked on its progress line).
    """
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", module, *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )
    try:
        import fcntl

        fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, 4096)
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, or the child already wrote more than a page: keep the default pipe
    return proc


def run_until(proc: subprocess.Popen, generation: int) -> int:
    """Read a search's progress lines until one at ``generation`` or later (a resumed run may start past it).

    Returns that line's generation; fails the test if the run ends first.
    """
    for line in proc.stdout:
        if line.startswith("gen ") and int(line.split()[1]) >= generation:
            return int(line.split()[1])
    raise AssertionError(f"run ended before generation {generation}: {proc.stderr.read()}")


def grow_genome(n_inputs: int, n_outputs: int, mutations: int, rng: np.random.Generator) -> Genome:
    """A genome grown from the minimal one by ``mutations`` random mutations."""
    tracker = initial_tracker(n_inputs, n_outputs)
    genome = initial_genome(n_inputs, n_outputs, 1, 0.5, rng)
    acts = np.arange(1, 11, dtype=np.int8)
    for _ in range(mutations):
        tracker.new_generation()  # one mutation per generation, as in the search
        genome = mutate(genome, rng, tracker, MutationRates(), acts)
    return genome
