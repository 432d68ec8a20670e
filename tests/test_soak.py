"""Soak: a search killed (SIGKILL) or stopped (SIGTERM) at 10 random points, resumed after each.

Both end with exactly the ``log.csv`` and champion of an uninterrupted run.
The points are random but seeded: a random generation line, then a random
delay of up to 40 ms, so kills land anywhere in a generation, including
inside log and checkpoint writes.
"""
from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path

import pytest

from tests.helpers import popen_cli, run_cli, run_until

# long enough that 10 interruptions never reach the end (a stopped run keeps every finished generation)
ARGS = ["configs/smoke.yaml", "--set", "search.generations=240", "--set", "run.save_every=3"]
INTERRUPTIONS = 10


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("soak") / "straight"
    proc = run_cli(*ARGS, "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    return out


def _start(out: Path):
    if (out / "checkpoint.json").exists():
        return popen_cli("--resume", str(out))
    # killed before its first checkpoint: nothing to resume, start again
    return popen_cli(*ARGS, "--out", str(out), "--overwrite")


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_interrupted_ten_times_ends_exactly_like_an_uninterrupted_run(tmp_path, straight, signum):
    rng = random.Random(13 + int(signum))
    out = tmp_path / "run"
    interruptions, next_generation = 0, 0
    while interruptions < INTERRUPTIONS:
        proc = _start(out)
        seen = run_until(proc, next_generation + rng.randint(0, 3))  # fails if the run is too short for the soak
        time.sleep(rng.uniform(0.0, 0.04))
        proc.send_signal(signum)
        stdout = proc.stdout.read()
        stderr = proc.stderr.read()
        code = proc.wait(timeout=60)
        interruptions += 1
        if (out / "checkpoint.json").exists():
            state = json.loads((out / "checkpoint.json").read_text())  # always whole
            next_generation = state["generation"]
        if signum == signal.SIGTERM:
            assert code == 0 and "Traceback" not in stderr, stderr
            assert f"checkpoint of generation {state['generation']} written" in stdout
            # no generation lost: every generation that finished is in the checkpoint
            assert state["generation"] >= seen + 1
            assert len((out / "log.csv").read_text().splitlines()) == state["generation"] + 1
        else:
            assert code == -signal.SIGKILL
    final = run_cli("--resume", str(out), "--quiet")
    assert final.returncode == 0, final.stderr
    assert (out / "log.csv").read_text() == (straight / "log.csv").read_text()
    assert (out / "champion.json").read_text() == (straight / "champion.json").read_text()
    assert not list(out.glob(".*.tmp"))
