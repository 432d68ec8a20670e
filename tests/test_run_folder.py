"""Run folders that are safe: refusal of existing runs, the lock file, stop signals, temp files, bad --out.

Every case runs the real command line in a subprocess.
"""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, popen_cli, run_cli, run_until
from wann.engine.runfolder import CsvLog, LOG_COLUMNS

pytestmark = pytest.mark.slow  # real searches and tool runs through the command line

SMOKE = "configs/smoke.yaml"
LONG = [SMOKE, "--set", "search.generations=60", "--set", "run.save_every=3"]


def _one_line_exit_2(proc, *needles: str) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def straight_long(tmp_path_factory) -> Path:
    """The uninterrupted 60-generation run every interrupted one must reproduce."""
    out = tmp_path_factory.mktemp("straight") / "run"
    proc = run_cli(*LONG, "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    return out


# ---- bad --out ----------------------------------------------------------------------------


def test_out_that_is_a_file(tmp_path):
    path = tmp_path / "afile"
    path.write_text("keep me\n")
    _one_line_exit_2(run_cli(SMOKE, "--out", str(path)), f"--out {path}: is a file, not a folder")
    assert path.read_text() == "keep me\n"


def test_out_under_a_file(tmp_path):
    path = tmp_path / "afile"
    path.write_text("")
    _one_line_exit_2(run_cli(SMOKE, "--out", str(path / "run")), f"--out {path / 'run'}: cannot create the folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder; /sys is tested below")
def test_out_in_an_unwritable_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        _one_line_exit_2(run_cli(SMOKE, "--out", str(locked / "run")), f"--out {locked / 'run'}", "Permission denied")
        _one_line_exit_2(run_cli(SMOKE, "--out", str(locked)), f"--out {locked}: folder is not writable")
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("out", ["/proc/wann-run", "/sys/wann-run", "/proc/self/wann-run"])
def test_out_under_a_system_folder(out):
    if not Path(out).parent.is_dir():
        pytest.skip(f"no {Path(out).parent} here")
    _one_line_exit_2(run_cli(SMOKE, "--out", out), f"--out {out}: cannot create the folder")


# ---- existing run folders -------------------------------------------------------------------


def test_existing_run_is_refused_unless_resumed_or_overwritten(tmp_path):
    out = tmp_path / "run"
    assert run_cli(SMOKE, "--out", str(out), "--quiet").returncode == 0
    files = lambda: {p.name: p.read_bytes() for p in out.iterdir() if p.name != ".lock"}  # noqa: E731
    before = files()
    line = _one_line_exit_2(run_cli(SMOKE, "--out", str(out), "--seed", "5"), f"--out {out}: already holds a run")
    assert "--resume" in line and "--overwrite" in line
    assert files() == before  # untouched
    (out / "notes.txt").write_text("mine\n")
    proc = run_cli(SMOKE, "--out", str(out), "--seed", "5", "--overwrite", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "champion.json").read_text())["seed"] == 5
    assert (out / "notes.txt").read_text() == "mine\n"  # only the run's own files are replaced
    # an empty folder, e.g. from mktemp, is fine
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli(SMOKE, "--out", str(empty), "--quiet").returncode == 0


def test_a_failed_start_leaves_no_folder(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("evaluation:\n  shared_weights: []\n")
    _one_line_exit_2(run_cli(str(bad), "--out", str(tmp_path / "run")), "evaluation.shared_weights")
    assert not (tmp_path / "run").exists()


def test_second_search_into_a_running_folder_is_refused(tmp_path, straight_long):
    out = tmp_path / "run"
    first = popen_cli(*LONG, "--out", str(out))
    try:
        run_until(first, 2)
        first.send_signal(signal.SIGSTOP)  # hold it mid-run (its lock with it) while the others try
        for extra in ([], ["--overwrite"]):
            line = _one_line_exit_2(run_cli(*LONG, "--out", str(out), *extra), f"in use by process {first.pid}")
            assert str(out) in line
        _one_line_exit_2(run_cli("--resume", str(out)), f"in use by process {first.pid}")
        first.send_signal(signal.SIGCONT)
        first.stdout.read()
        assert first.wait() == 0, first.stderr.read()
    finally:
        first.kill()
    # the first run's files are intact: exactly the uninterrupted run
    for name in ("log.csv", "champion.json", "config.yaml"):
        assert (out / name).read_text() == (straight_long / name).read_text(), name


# ---- stop signals ---------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_stop_signal_checkpoints_exits_0_and_resumes_exactly(tmp_path, straight_long, signum):
    out = tmp_path / "run"
    proc = popen_cli(*LONG, "--out", str(out))
    run_until(proc, 7)
    proc.send_signal(signum)  # the parent only: its workers must stay quiet
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "Error" not in stderr, stderr
    assert stderr == ""
    state = json.loads((out / "checkpoint.json").read_text())
    logged = (out / "log.csv").read_text().splitlines()
    assert state["generation"] == len(logged) - 1  # no generation lost: every logged one is in the checkpoint
    assert state["generation"] >= 8
    assert f"checkpoint of generation {state['generation']} written" in stdout
    resumed = run_cli("--resume", str(out), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert (out / "log.csv").read_text() == (straight_long / "log.csv").read_text()
    assert (out / "champion.json").read_text() == (straight_long / "champion.json").read_text()


def _search_in_process(run_dir: Path, monkeypatch, step_wrapper) -> tuple[int, list[int]]:
    """A 6-generation smoke search in this process with WannSearch.step wrapped, resumed and compared
    with a straight run; returns the stopped run's checkpoint generation and its logged generations."""
    from wann.cli.main import run_module_command
    from wann.engine.search import WannSearch

    monkeypatch.setattr(WannSearch, "step", step_wrapper(WannSearch.step))
    args = [str(ROOT / SMOKE), "--set", "search.generations=6", "--backend", "serial", "--quiet"]
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        assert run_module_command("search", [*args, "--out", str(run_dir)]) == 0
    finally:
        for signum, handler in handlers.items():  # a stopped command leaves further signals ignored
            signal.signal(signum, handler)
    checkpoint = json.loads((run_dir / "checkpoint.json").read_text())
    logged = [int(row.split(",")[0]) for row in (run_dir / "log.csv").read_text().splitlines()[1:]]
    monkeypatch.undo()
    assert run_module_command("search", ["--resume", str(run_dir), "--quiet"]) == 0
    straight = run_dir.parent / "straight"
    assert run_module_command("search", [*args, "--out", str(straight)]) == 0
    for name in ("log.csv", "champion.json"):
        assert (run_dir / name).read_text() == (straight / name).read_text(), name
    return checkpoint["generation"], logged


def _sigterm_to_self() -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)  # the handler raises Stopped in here
    raise AssertionError("SIGTERM did not raise Stopped")


def test_a_stop_after_a_generation_ends_and_before_its_log_row_checkpoints_the_logged_one(tmp_path, monkeypatch):
    """The gap between step() committing generation 3 and the reporter logging it: the checkpoint says 2."""
    def wrap(step):
        def step_then_stop(self, evaluator):
            metrics = step(self, evaluator)  # generation committed: state_dict() is now at its end
            if self.generation == 3:
                _sigterm_to_self()
            return metrics
        return step_then_stop

    generation, logged = _search_in_process(tmp_path / "run", monkeypatch, wrap)
    assert (generation, logged) == (2, [0, 1])


def test_a_stop_whose_exception_is_swallowed_still_stops_after_that_generation(tmp_path, monkeypatch):
    """C code that clears every error (numpy's attribute lookups through an enum's __getattr__) can eat
    the handler's Stopped: the run must still stop, at the end of that generation."""
    from wann.cli.stopping import Stopped

    def wrap(step):
        def step_swallowing_a_stop(self, evaluator):
            if self.generation == 3:
                try:
                    _sigterm_to_self()
                except Stopped:
                    pass  # lost, as inside numpy
            return step(self, evaluator)
        return step_swallowing_a_stop

    generation, logged = _search_in_process(tmp_path / "run", monkeypatch, wrap)
    assert (generation, logged) == (4, [0, 1, 2, 3])


def test_repeated_interrupts_leave_no_traceback_and_no_broken_file(tmp_path, straight_long):
    out = tmp_path / "run"
    start = 0  # each attempt stops a few generations after the previous checkpoint, far from the run's end
    for attempt in range(3):
        proc = popen_cli(*(["--resume", str(out)] if attempt else [*LONG, "--out", str(out)]))
        run_until(proc, start + 5)
        for k in range(30):  # a volley: Ctrl-C, SIGTERM, SIGHUP while the checkpoint is written
            proc.send_signal((signal.SIGINT, signal.SIGTERM, signal.SIGHUP)[k % 3])
            time.sleep(0.002)
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
        assert "Traceback" not in stderr, stderr
        state = json.loads((out / "checkpoint.json").read_text())  # whole
        assert f"checkpoint of generation {state['generation']} written" in stdout  # the volley stopped it
        assert len((out / "log.csv").read_text().splitlines()) == state["generation"] + 1
        assert not list(out.glob(".*.tmp"))
        start = state["generation"]
    assert run_cli("--resume", str(out), "--quiet").returncode == 0
    assert (out / "log.csv").read_text() == (straight_long / "log.csv").read_text()
    assert (out / "champion.json").read_text() == (straight_long / "champion.json").read_text()


def test_stale_temp_files_are_cleaned_at_the_next_start(tmp_path):
    out = tmp_path / "run"
    assert run_cli(SMOKE, "--out", str(out), "--set", "search.generations=2", "--quiet").returncode == 0
    stale = [out / ".checkpoint.json.k1ll3d.tmp", out / ".champion.json.x.tmp"]
    for path in stale:
        path.write_text('{"half": ')
    (out / "checkpoint.json").write_text((out / "checkpoint.json").read_text())
    assert run_cli("--resume", str(out), "--quiet").returncode == 0
    assert not any(p.exists() for p in stale)


def test_a_cut_log_row_is_dropped_on_resume(tmp_path):
    path = tmp_path / "log.csv"
    full = ",".join(["1.5"] * (len(LOG_COLUMNS) - 1))
    path.write_text(",".join(LOG_COLUMNS) + "\n" + "".join(f"{g},{full}\n" for g in range(3)) + "1")  # "1" of "12,..."
    CsvLog(path, LOG_COLUMNS, keep_before=5)
    assert [r.split(",")[0] for r in path.read_text().splitlines()[1:]] == ["0", "1", "2"]
    path.write_text(",".join(LOG_COLUMNS) + "\n" + "".join(f"{g},{full}\n" for g in range(3)) + "3,1.5\n")
    CsvLog(path, LOG_COLUMNS, keep_before=5)
    assert len(path.read_text().splitlines()) == 4  # header + rows 0-2: row 3 had missing columns


def test_a_stop_signal_inside_a_write_waits_for_its_end_and_later_ones_are_ignored():
    from wann.cli.stopping import GracefulStop, Stopped

    written = []
    with pytest.raises(Stopped, match="SIGTERM"):
        with GracefulStop() as stop:
            with stop.critical():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)  # the handler has run by now, and must not have raised
                written.append("row")
            written.append("never")  # Stopped is raised as the write ends
    assert written == ["row"]
    with GracefulStop() as stop:
        with pytest.raises(Stopped):
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)  # stopping already: ignored
        time.sleep(0.05)
        assert stop.signame == "SIGHUP"
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # the exiting process ignores the rest of a volley
    with GracefulStop() as stop:
        stop.check()  # no signal yet
        with pytest.raises(Stopped):
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
            except Stopped:
                pass  # swallowed (as C code that clears errors does)
            with stop.critical():
                written.append("whole")
        with pytest.raises(Stopped, match="SIGTERM"):
            stop.check()
    assert written == ["row", "whole"]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
