"""The dask backend: same results as the process pool, a killed worker costs a retry, a lost scheduler a checkpoint."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from tests.helpers import ROOT, popen_cli, run_cli  # noqa: E402
from wann.engine.config import load_config  # noqa: E402
from wann.engine.dask_backend import DaskBackend, run_job  # noqa: E402
from wann.engine.evaluator import Evaluator, SerialBackend  # noqa: E402
from wann.engine.search import WannSearch  # noqa: E402

pytestmark = pytest.mark.slow  # real searches and tool runs through the command line

SMOKE = "configs/smoke.yaml"


def test_local_cluster_search_equals_processes(tmp_path):
    procs, dask = tmp_path / "processes", tmp_path / "dask"
    assert run_cli(SMOKE, "--out", str(procs), "--workers", "2", "--quiet").returncode == 0
    proc = run_cli(SMOKE, "--out", str(dask), "--scheduler", "local", "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    assert "dask dashboard: http" in proc.stdout and "(2 workers)" in proc.stdout
    assert proc.stderr == ""
    assert (dask / "log.csv").read_text() == (procs / "log.csv").read_text()
    assert (dask / "champion.json").read_text() == (procs / "champion.json").read_text()
    assert json.loads((dask / "checkpoint.json").read_text())["ranked"] == \
        json.loads((procs / "checkpoint.json").read_text())["ranked"]


class _KillOnce(DaskBackend):
    """Runs the real task body, except that the first shard after ``armed`` appears kills its own worker."""

    def __init__(self, marker_dir: Path, n_workers: int) -> None:
        super().__init__("local", n_workers)
        armed, done = str(marker_dir / "armed"), str(marker_dir / "killed")

        def die_once_then_run(job, plugin_name):  # pickled by value: the workers need not import the tests
            if os.path.exists(armed):
                try:
                    fd = os.open(done, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                except FileExistsError:
                    pass
                else:
                    os.write(fd, str(os.getpid()).encode())
                    os.close(fd)
                    os.kill(os.getpid(), signal.SIGKILL)  # mid-shard, mid-generation
            return run_job(job, plugin_name)

        self.task_function = die_once_then_run


def test_a_worker_killed_mid_generation_costs_a_retry_not_the_run(tmp_path):
    config = load_config(ROOT / SMOKE, ["search.generations=5"])
    task = WannSearch(config).task
    with Evaluator(task, config.evaluation.shared_weights, SerialBackend()) as ev:
        expected = WannSearch(config)
        expected_rows = []
        expected.run(ev, [lambda s, m: expected_rows.append((m["best_mean"], m["champion_mean"]))])

    backend = _KillOnce(tmp_path, 2)
    search = WannSearch(config)
    rows = []

    def report(s, metrics):
        rows.append((metrics["best_mean"], metrics["champion_mean"]))
        if s.generation == 2:
            (tmp_path / "armed").write_text("")

    with Evaluator(task, config.evaluation.shared_weights, backend) as ev:
        ev.start()
        pids_before = set(backend._client.run(os.getpid).values())
        search.run(ev, [report])
        pids_after = set(backend._client.run(os.getpid).values())
    killed = int((tmp_path / "killed").read_text())
    assert killed in pids_before and killed not in pids_after  # a worker really died mid-generation 2
    assert rows == expected_rows
    assert search.champion.to_dict() == expected.champion.to_dict()
    assert [g.to_dict() for g in search.ranked] == [g.to_dict() for g in expected.ranked]


def test_unreachable_scheduler_is_one_line_and_leaves_no_folder(tmp_path):
    out = tmp_path / "run"
    proc = run_cli(SMOKE, "--out", str(out), "--scheduler", "tcp://127.0.0.1:9", "--quiet")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "evaluation.scheduler: 'tcp://127.0.0.1:9': cannot connect" in lines[0], lines
    assert not out.exists()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_scheduler_that_goes_away_gives_a_checkpoint_and_exit_3(tmp_path):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask_cli = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    scheduler = subprocess.Popen([*dask_cli, "--port", str(port), "--no-dashboard"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "2",
                               "--nthreads", "1", "--no-dashboard"], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = tmp_path / "run"
    search = None
    try:
        search = popen_cli(SMOKE, "--set", "search.generations=100000", "--out", str(out), "--scheduler", address)
        for line in search.stdout:
            if line.startswith("gen     5"):
                break
        scheduler.kill()
        stdout, stderr = search.communicate(timeout=120)
    finally:
        for proc in (search, scheduler, worker):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    assert search.returncode == 3, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: lost the dask scheduler {address}"), stderr
    state = json.loads((out / "checkpoint.json").read_text())
    assert state["generation"] >= 6
    assert f"checkpoint of generation {state['generation']} written" in lines[0]
    assert len((out / "log.csv").read_text().splitlines()) == state["generation"] + 1  # nothing lost


def test_champion_tools_take_the_dask_backend(tmp_path):
    run = tmp_path / "run"
    assert run_cli(SMOKE, "--out", str(run), "--quiet").returncode == 0
    args = [str(run / "champion.json"), "--episodes", "6", "--json"]
    local = run_cli(*args, str(tmp_path / "local.json"), module="wann.evaluate")
    dask = run_cli(*args, str(tmp_path / "dask.json"), "--scheduler", "local", "--workers", "2",
                   module="wann.evaluate")
    assert local.returncode == 0 and dask.returncode == 0, dask.stderr
    assert "dask dashboard: http" in dask.stderr
    assert json.loads((tmp_path / "local.json").read_text())["weights"] == \
        json.loads((tmp_path / "dask.json").read_text())["weights"]
    tune = ["--mode", "shared", "--grid-points", "5", "--episodes", "4", "--validation-episodes", "4"]
    local = run_cli(str(run / "champion.json"), *tune, "-o", str(tmp_path / "t1.json"), module="wann.tune")
    dask = run_cli(str(run / "champion.json"), *tune, "-o", str(tmp_path / "t2.json"), "--scheduler", "local",
                   "--workers", "2", module="wann.tune")
    assert local.returncode == 0 and dask.returncode == 0, dask.stderr
    t1, t2 = (json.loads((tmp_path / n).read_text()) for n in ("t1.json", "t2.json"))
    assert t1["tuned_shared_weight"] == t2["tuned_shared_weight"]
    assert t1["tuned_shared"]["mean"] == t2["tuned_shared"]["mean"]


def test_stop_signal_with_a_local_cluster_is_quiet_and_resumes(tmp_path):
    args = [SMOKE, "--set", "search.generations=24", "--set", "run.save_every=4"]
    straight = tmp_path / "straight"
    assert run_cli(*args, "--out", str(straight), "--quiet").returncode == 0
    out = tmp_path / "run"
    # its own session, so Ctrl-C can go to the whole group as from a terminal
    proc = subprocess.Popen([sys.executable, "-u", "-m", "wann.search", *args, "--out", str(out), "--scheduler",
                             "local", "--workers", "2"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    for line in proc.stdout:
        if line.startswith("gen     5"):
            break
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0 and stderr == "", stderr
    assert "interrupted: checkpoint of generation" in stdout
    time.sleep(0.5)
    resumed = run_cli("--resume", str(out), "--scheduler", "local", "--workers", "2", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert (out / "log.csv").read_text() == (straight / "log.csv").read_text()
    assert (out / "champion.json").read_text() == (straight / "champion.json").read_text()
