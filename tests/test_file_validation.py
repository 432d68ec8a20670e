"""Every file the tools read (config, checkpoint, champion) is checked as a whole before use.

Each case is one line on stderr naming the file and the key, exit status 2,
through the real command line.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import run_cli
from wann.engine.genome import initial_genome
from wann.engine.network import compile_genome, forward
from wann.errors import UserError

pytestmark = pytest.mark.slow  # real searches and tool runs through the command line

SMOKE = "configs/smoke.yaml"


@pytest.fixture(scope="module")
def base_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("base") / "run"
    proc = run_cli(SMOKE, "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    return out


def _one_line(proc, path: Path, *needles: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: {path}: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]


# ---- checkpoints ----------------------------------------------------------------------------


def _edit_checkpoint(state: dict, case: str) -> None:
    if case.startswith("del:"):
        del state[case[4:]]
    elif case == "rng_not_object":
        state["rng"] = [1, 2]
    elif case == "rng_state_text":
        state["rng"]["state"]["state"] = "x"
    elif case == "rng_missing_inc":
        del state["rng"]["state"]["inc"]
    elif case == "population_cut":
        state["ranked"] = state["ranked"][:-1]
    elif case == "generation_text":
        state["generation"] = "x"
    elif case == "generation_past_end":
        state["generation"] = 99
    elif case == "pop_size_changed":
        state["config"]["search"]["pop_size"] = 20
    elif case == "config_bad_value":
        state["config"]["evaluation"]["shared_weights"] = []
    elif case == "genome_huge_id":
        state["ranked"][3]["nodes"][0][0] = 10**30
    elif case == "tracker_behind":
        state["tracker"]["next_innovation"] = 3
    elif case == "champion_null":
        state["champion"] = None
    elif case == "seed_differs":
        state["seed"] = 7
    else:
        raise AssertionError(case)


CHECKPOINT_CASES = {
    "del:rng": "rng: missing",
    "del:ranked": "ranked: missing",
    "del:config": "config: missing",
    "del:generation": "generation: missing",
    "del:tracker": "tracker: missing",
    "rng_not_object": "rng: [1, 2]: expected a JSON object",
    "rng_state_text": "rng.state.state: 'x': expected an integer",
    "rng_missing_inc": "rng.state.inc: missing",
    "population_cut": "ranked: 15 genomes, but generation 4 of a run with search.pop_size 16 needs 16",
    "generation_text": "generation: 'x': expected an integer in [0, 4]",
    "generation_past_end": "generation: 99: expected an integer in [0, 4]",
    "pop_size_changed": "ranked: 16 genomes, but generation 4 of a run with search.pop_size 20 needs 20",
    "config_bad_value": "config: evaluation.shared_weights: []: expected at least 1 value",
    "genome_huge_id": "ranked[3].nodes[0][0]: 1000000000000000000000000000000: expected an integer",
    "tracker_behind": "is not below tracker.next_innovation 3",
    "champion_null": "champion: None:",
    "seed_differs": "seed: 7: differs from config.run.seed 1",
}


@pytest.mark.parametrize("case", sorted(CHECKPOINT_CASES))
def test_bad_checkpoint_is_one_line_naming_file_and_key(tmp_path, base_run, case):
    run = tmp_path / "run"
    shutil.copytree(base_run, run)
    path = run / "checkpoint.json"
    state = json.loads(path.read_text())
    _edit_checkpoint(state, case)
    path.write_text(json.dumps(state))
    before = (run / "log.csv").read_text()
    _one_line(run_cli("--resume", str(run)), path, CHECKPOINT_CASES[case])
    assert (run / "log.csv").read_text() == before  # nothing was touched


def test_checkpoint_that_is_not_json_or_not_utf8(tmp_path, base_run):
    run = tmp_path / "run"
    shutil.copytree(base_run, run)
    path = run / "checkpoint.json"
    path.write_bytes(path.read_bytes()[:200])
    _one_line(run_cli("--resume", str(run)), path, "not valid JSON")
    path.write_bytes(b'{"format": "\xff\xfe"}')
    _one_line(run_cli("--resume", str(run)), path, "not UTF-8")


def test_the_unedited_checkpoint_resumes(tmp_path, base_run):
    run = tmp_path / "run"
    shutil.copytree(base_run, run)
    proc = run_cli("--resume", str(run), "--quiet")
    assert proc.returncode == 0, proc.stderr


# ---- champions ------------------------------------------------------------------------------


def _champion_with(base_run: Path, tmp_path: Path, edit, name: str = "champ.json") -> Path:
    data = json.loads((base_run / "champion.json").read_text())
    edit(data)
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("module, extra", [("wann.evaluate", ["--episodes", "2"]), ("wann.draw", []),
                                            ("wann.watch", ["--max-steps", "5"])])
def test_champion_with_a_huge_node_id(tmp_path, base_run, module, extra):
    def edit(data):
        data["genome"]["nodes"][-1][0] = 10**30

    path = _champion_with(base_run, tmp_path, edit)
    _one_line(run_cli(str(path), *extra, module=module), path,
              "genome.nodes[", "1000000000000000000000000000000: expected an integer in [0, 2**63 - 1]")


@pytest.mark.parametrize("module", ["wann.evaluate", "wann.draw", "wann.watch"])
def test_champion_with_an_infinite_generation(tmp_path, base_run, module):
    text = (base_run / "champion.json").read_text()
    data = json.loads(text)
    path = tmp_path / "champ.json"
    path.write_text(text.replace(f'"generation": {data["generation"]}', '"generation": 1e400'))
    assert "1e400" in path.read_text()
    _one_line(run_cli(str(path), module=module), path, "generation: inf: expected an integer")


@pytest.mark.parametrize("key, value, needle", [
    ("confirmed_mean", "NaN", "confirmed_mean: nan: expected a finite number"),
    ("shared_weights", [], "shared_weights: expected at least 1 item"),
    ("reward_per_weight", [1.0], "reward_per_weight: 1 values for 6 shared weights"),
    ("seed", -1, "seed: -1: expected an integer in [0,"),
    ("connections", True, "connections: True: expected an integer"),
    ("task", 5, "task: 5: expected a string"),
])
def test_champion_wrong_types_and_ranges(tmp_path, base_run, key, value, needle):
    def edit(data):
        data[key] = float("nan") if value == "NaN" else value

    path = _champion_with(base_run, tmp_path, edit)
    _one_line(run_cli(str(path), "--episodes", "2", module="wann.evaluate"), path, needle)


def test_champion_missing_key(tmp_path, base_run):
    path = _champion_with(base_run, tmp_path, lambda data: data.pop("genome"))
    _one_line(run_cli(str(path), module="wann.evaluate"), path, "genome: missing")


def test_non_utf8_files_are_named(tmp_path):
    champ = tmp_path / "champ.json"
    champ.write_bytes(b'{"format": "wann-champion", "task": "\xe9t\xe9"}')
    _one_line(run_cli(str(champ), module="wann.evaluate"), champ, "not UTF-8")
    config = tmp_path / "config.yaml"
    config.write_bytes(b"search:\n  pop_size: \xff\xfe\n")
    _one_line(run_cli(str(config), "--out", str(tmp_path / "run")), config, "not UTF-8")
    assert not (tmp_path / "run").exists()


# ---- configs and command-line numbers ------------------------------------------------------


@pytest.mark.parametrize("text, needle", [
    ("evaluation:\n  shared_weights: []\n", "evaluation.shared_weights: []: expected at least 1 value"),
    ("evaluation:\n  shared_weights: [1.0, .nan]\n", "evaluation.shared_weights"),
    ("evaluation:\n  backend: dask\n  scheduler: 5\n", "evaluation.scheduler: 5: expected a string"),
    ("run:\n  seed: x\n", "run.seed: 'x': expected an integer"),
])
def test_bad_config_values(tmp_path, text, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    _one_line(run_cli(str(path), "--out", str(tmp_path / "run")), path, needle)
    assert not (tmp_path / "run").exists()  # nothing half-written


@pytest.mark.parametrize("module, args, needle", [
    ("wann.evaluate", ["--weights", "1", "nan"], "--weights: nan: must be a finite number"),
    ("wann.evaluate", ["--sweep", "0", "inf"], "--sweep: inf: must be a finite number"),
    ("wann.watch", ["--weight", "nan"], "--weight: nan: must be a finite number"),
    ("wann.tune", ["--start-weight", "inf"], "--start-weight: inf: must be a finite number"),
    ("wann.tune", ["--method", "pepg", "--popsize", "7"], "--popsize: 7: must be even with --method pepg (antithetic pairs)"),
    ("wann.export", ["--weight", "nan", "-o", "/tmp/never-written.py"], "--weight: nan: must be a finite number"),
])
def test_bad_numbers_on_the_command_line(base_run, module, args, needle):
    proc = run_cli(str(base_run / "champion.json"), *args, module=module)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [f"error: {needle}"]


def test_forward_refuses_a_short_observation():
    net = compile_genome(initial_genome(5, 1, 1, 1.0, np.random.default_rng(0)))
    assert forward(net, np.ones(5), [1.0]).shape == (1, 1, 1)
    with pytest.raises(UserError, match=r"shape \(3,\): the network reads 5 values per row"):
        forward(net, np.ones(3), [1.0])
    with pytest.raises(UserError, match="reads 5 values"):
        forward(net, np.ones((4, 6)), [1.0])
