"""The search loop and its command line, end to end."""
from __future__ import annotations

import json
import signal

import numpy as np
import pytest
import yaml

from tests.helpers import ROOT, popen_cli, run_cli, run_until
from wann.engine.config import config_from_dict, load_config, reference_markdown
from wann.engine.evaluator import Evaluator, SerialBackend
from wann.engine.genome import validate_genome
from wann.engine.search import WannSearch

SMOKE = "configs/smoke.yaml"


def _small_config(evaluation: dict | None = None, **search):
    return config_from_dict({
        "task": {"name": "wann/CartPoleSwingUpHard-v1"},
        "search": {"pop_size": 12, "generations": 6, **search},
        "evaluation": {"rollouts": 2, "best_rollouts": 2, "backend": "serial", **(evaluation or {})},
        "run": {"seed": 4},
    })


@pytest.mark.slow
def test_smoke_run_through_cli_writes_run_folder(tmp_path):
    out = tmp_path / "run"
    proc = run_cli(SMOKE, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "compiled kernels in" in proc.stdout
    assert proc.stdout.count("gen ") == 4
    for name in ("config.yaml", "log.csv", "timing.csv", "champion.json", "checkpoint.json"):
        assert (out / name).exists(), name
    rows = (out / "log.csv").read_text().splitlines()
    assert len(rows) == 5 and rows[0].startswith("generation,best_mean")
    champion = json.loads((out / "champion.json").read_text())
    assert champion["task"] == "wann/CartPoleSwingUpHard-v1"
    assert champion["confirmed_rollouts"] == 3
    assert len(champion["reward_per_weight"]) == 6
    assert champion["confirmed_mean"] == pytest.approx(np.mean(champion["reward_per_weight"]))
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["search"]["pop_size"] == 16 and resolved["run"]["name"] == "smoke"
    assert not list(out.glob(".*tmp"))  # atomic writes leave no temp files


@pytest.mark.slow
def test_same_seed_same_log_and_champion_across_worker_counts(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert run_cli(SMOKE, "--out", str(a), "--workers", "2").returncode == 0
    assert run_cli(SMOKE, "--out", str(b), "--workers", "2").returncode == 0
    assert run_cli(SMOKE, "--out", str(c), "--workers", "1").returncode == 0
    for other in (b, c):
        assert (a / "log.csv").read_text() == (other / "log.csv").read_text()
        assert (a / "champion.json").read_text() == (other / "champion.json").read_text()
    d = tmp_path / "d"
    assert run_cli(SMOKE, "--out", str(d), "--seed", "2").returncode == 0
    assert (a / "log.csv").read_text() != (d / "log.csv").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("how", ["kill9", "ctrl_c"])
def test_interrupted_run_resumes_to_the_same_champion(tmp_path, how):
    # long enough that the signal always lands mid-run
    args = [SMOKE, "--set", "search.generations=60", "--set", "run.save_every=3"]
    straight = tmp_path / "straight"
    assert run_cli(*args, "--out", str(straight)).returncode == 0
    cut = tmp_path / "cut"
    proc = popen_cli(*args, "--out", str(cut))
    run_until(proc, 6)
    if how == "kill9":
        proc.kill()
        proc.wait()
    else:
        proc.send_signal(signal.SIGINT)
        proc.stdout.read()
        assert proc.wait() == 0
    state = json.loads((cut / "checkpoint.json").read_text())
    assert 3 <= state["generation"] < 60
    resumed = run_cli("--resume", str(cut))
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming at generation {state['generation']}" in resumed.stdout
    assert (straight / "champion.json").read_text() == (cut / "champion.json").read_text()
    assert (straight / "log.csv").read_text() == (cut / "log.csv").read_text()


def test_checkpointing_changes_nothing_in_process():
    config = _small_config()
    with Evaluator(WannSearch(config).task, config.evaluation.shared_weights, SerialBackend()) as ev:
        straight = WannSearch(config)
        straight.run(ev)
        first = WannSearch(config)
        first.run(ev, generations=3)
        state = json.loads(json.dumps(first.state_dict()))  # through JSON, as on disk
        assert first.state_dict() == state  # taking it twice changes nothing
        second = WannSearch(config)
        second.load_state_dict(state)
        second.run(ev)
    assert second.generation == straight.generation == 6
    assert second.champion.to_dict() == straight.champion.to_dict()
    assert [g.to_dict() for g in second.ranked] == [g.to_dict() for g in straight.ranked]


def test_ask_tell_grow_minimal_topologies_and_keep_elites():
    config = _small_config(elite_ratio=0.25)
    search = WannSearch(config)
    first = search.ask()
    assert len(first) == 12
    assert all(g.n_inputs == 5 and not np.any(g.node_kind == 2) for g in first)  # no hidden nodes
    rewards = np.random.default_rng(0).random((12, 6, 2))
    metrics = search.tell(rewards)
    assert metrics["generation"] == 0
    assert metrics["best_mean"] == pytest.approx(rewards.mean(axis=2).mean(axis=1).max())
    second = search.ask()
    n_elite = int((12 - int(12 * 0.2)) * 0.25)
    assert [g.to_dict() for g in second[:n_elite]] == [g.to_dict() for g in search.ranked[:n_elite]]
    # every operator changes the structure, so no child equals any parent
    parents = [g.to_dict() for g in first]
    for child in second[n_elite:]:
        assert child.to_dict() not in parents


def test_tell_rejects_wrong_shape():
    search = WannSearch(_small_config())
    search.ask()
    with pytest.raises(ValueError, match="expected 12"):
        search.tell(np.zeros((3, 6, 2)))


@pytest.mark.parametrize(
    "yaml_text, needle",
    [
        ("search:\n  pop_sise: 5\n", "search.pop_sise: unknown key (did you mean 'pop_size'?)"),
        ("search:\n  init_enable: 1.5\n", "search.init_enable: 1.5: must be <= 1"),
        ("evaluation:\n  backend: mpi\n", "evaluation.backend: 'mpi'"),
        ("task:\n  name: wann/CartPoleSwingup-v1\n", "did you mean 'wann/CartPoleSwingUp-v1'"),
        ("search: [1, 2\n", "not valid YAML"),
        ("- just a list\n", "top level must be a mapping"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(tmp_path, yaml_text, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    proc = run_cli(str(path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {path}: ")  # every case here is in the file, none from --set
    assert needle in lines[0]


@pytest.mark.parametrize(
    "args, needle",
    [
        (["no/such.yaml"], "no/such.yaml: cannot read config"),
        ([SMOKE, "--set", "search.pop_size=0"], "--set: search.pop_size: 0: must be >= 2"),
        ([SMOKE, "--set", "nonsense"], "expected section.key=value"),
        (["--resume", "no/such/run"], "cannot read checkpoint"),
        ([SMOKE, "--workers", "-1"], "--workers: -1"),
    ],
)
def test_bad_command_line_is_one_line_and_exit_2(args, needle):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert needle in proc.stderr


def test_readme_config_reference_is_current():
    assert reference_markdown() in (ROOT / "README.md").read_text()


def test_shipped_configs_load():
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        if path.name.startswith("prune"):
            continue  # the pruning companion's own format
        if path.name.startswith("mnist"):
            continue  # needs the data folder: tests/test_mnist.py loads them on small IDX files
        load_config(path)


@pytest.mark.slow
@pytest.mark.parametrize("objective_rule, tie_order", [("wann", "random"), ("pretty_neat", "random"),
                                                       ("wann", "reference"), ("pretty_neat", "reference")])
def test_reference_parity_options_run_and_resume_exactly(objective_rule, tie_order):
    parity = {"parent_selection": "best_of_two", "mutation_fallback": "clone", "add_connection_rule": "reference",
              "add_node_rule": "reference", "crowding": "reference", "objective_rule": objective_rule,
              "tie_order": tie_order}
    pool = {"seed_pool": 7}
    config = _small_config(pool, generations=8, **parity)
    with Evaluator(WannSearch(config).task, config.evaluation.shared_weights, SerialBackend()) as ev:
        straight = WannSearch(config)
        straight.run(ev)
        first = WannSearch(config)
        first.run(ev, generations=4)
        second = WannSearch(config)
        second.load_state_dict(json.loads(json.dumps(first.state_dict())))
        second.run(ev)
        default = WannSearch(_small_config(generations=8))
        default.run(ev)
    assert [g.to_dict() for g in second.ranked] == [g.to_dict() for g in straight.ranked]
    assert [g.to_dict() for g in default.ranked] != [g.to_dict() for g in straight.ranked]
    for genome in straight.ranked:
        validate_genome(genome)
