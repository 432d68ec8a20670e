"""BipedalWalker: the NoFallPenalty wrapper against the env's own reward, the biped configs, bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("Box2D")

import gymnasium  # noqa: E402
from helpers import ROOT, run_cli  # noqa: E402

from wann.tools.evaluate import ConditionRow, format_conditions  # noqa: E402
from wann.engine.config import load_config  # noqa: E402
from wann.tools.runner import Stats  # noqa: E402
from wann.tasks import resolve_task  # noqa: E402
from wann.tasks.wrappers import NoFallPenalty  # noqa: E402

pytestmark = pytest.mark.slow  # real searches and tool runs through the command line

SCALE, MOTORS_TORQUE = 30.0, 80.0  # gymnasium's bipedal_walker constants


def shaping(env) -> float:
    """The env's potential: 130 * hull x / SCALE - 5 * |hull angle| (its reward is the change of this)."""
    hull = env.unwrapped.hull
    return 130.0 * hull.position[0] / SCALE - 5.0 * abs(hull.angle)


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_no_fall_penalty_changes_only_the_fall_step(seed):
    plain, wrapped = gymnasium.make("BipedalWalker-v3"), NoFallPenalty(gymnasium.make("BipedalWalker-v3"))
    plain.reset(seed=seed)
    wrapped.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for step in range(1600):
        action = rng.uniform(-1.0, 1.0, 4)
        before = shaping(wrapped)
        obs_p, r_p, term_p, trunc_p, _ = plain.step(action)
        obs_w, r_w, term_w, trunc_w, info = wrapped.step(action)
        np.testing.assert_array_equal(obs_p, obs_w)
        assert (term_p, trunc_p) == (term_w, trunc_w)
        if term_p:
            break
        assert r_w == r_p  # every other step: the env's reward, bit for bit
    assert term_p and step < 200  # these seeds fall
    assert r_p == -100
    assert info["fall_penalty_removed"]
    # the fall step pays the shaping progress minus the torque cost, as every other step does
    torque = sum(0.00035 * MOTORS_TORQUE * min(abs(a), 1.0) for a in action)
    assert r_w == pytest.approx(shaping(wrapped) - before - torque, abs=1e-9)
    assert r_w > -10


def test_no_fall_penalty_on_other_envs_is_one_line(tmp_path):
    config = tmp_path / "x.yaml"
    config.write_text("task: {name: Pendulum-v1, wrappers: [{name: NoFallPenalty}]}\n")
    proc = run_cli(str(config), "--out", str(tmp_path / "run"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"error: {config}: task 'Pendulum-v1': cannot make the env: "
                                   "NoFallPenalty applies to BipedalWalker envs only, not PendulumEnv")
    assert not (tmp_path / "run").exists()


def test_biped_configs_hold_the_paper_settings():
    paper = load_config(ROOT / "configs" / "biped.yaml")
    s, e = paper.search, paper.evaluation
    assert (s.pop_size, s.generations, s.tournament_size, s.init_enable, e.rollouts) == (480, 2048, 16, 0.25, 4)
    assert paper.task.max_steps == 1600 and paper.task.wrappers == [{"name": "NoFallPenalty"}]
    task = resolve_task(paper.task.spec())
    assert (task.n_inputs, task.n_outputs, task.max_steps) == (24, 4, 1600)
    assert not task.reusable_env  # Box2D: a fresh env per episode
    small = load_config(ROOT / "configs" / "biped_small.yaml")
    assert small.task.wrappers == paper.task.wrappers and small.task.name == "BipedalWalker-v3"


def test_biped_config_with_a_wrong_output_count_stops_before_writing(tmp_path):
    config = tmp_path / "biped3.yaml"
    text = (ROOT / "configs" / "biped_small.yaml").read_text()
    config.write_text(text.replace("output_labels: [hip_1, knee_1, hip_2, knee_2]", "output_labels: [hip_1, knee_1, hip_2]"))
    proc = run_cli(str(config), "--out", str(tmp_path / "run"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {config}: task.output_labels: 3 labels given, task BipedalWalker-v3 has 4"
    assert not (tmp_path / "run").exists()


def test_biped_search_in_workers_then_scored_on_the_standard_reward(tmp_path):
    run = tmp_path / "run"
    proc = run_cli("configs/biped_small.yaml", "--set", "search.pop_size=4", "--set", "search.generations=1",
                   "--set", "task.max_steps=60", "--set", "evaluation.best_rollouts=1", "--workers", "2",
                   "--out", str(run), "--quiet")
    assert proc.returncode == 0, proc.stderr
    champion = json.loads((run / "champion.json").read_text())
    assert champion["task"] == "BipedalWalker-v3"
    assert champion["task_spec"]["wrappers"] == [{"name": "NoFallPenalty"}]
    # scored on another task: the standard reward and episode length
    proc = run_cli(str(run / "champion.json"), "--weights", "1.0", "--episodes", "1", "--task", "BipedalWalker-v3",
                   module="wann.evaluate")
    assert proc.returncode == 0, proc.stderr
    assert "BipedalWalker-v3" in proc.stdout
    # a task section as YAML: the search's reward and a short episode; the cheap rows of the table
    proc = run_cli(str(run / "champion.json"), "--table", "--skip-tuned-shared", "--episodes", "2", "--task",
                   "{name: BipedalWalker-v3, max_steps: 50, wrappers: [{name: NoFallPenalty}]}", module="wann.evaluate")
    assert proc.returncode == 0, proc.stderr
    assert "skipped (--skip-tuned-shared)" in proc.stdout and "paper, biped WANN" in proc.stdout
    proc = run_cli(str(run / "champion.json"), "--task", "{name: BipedalWalker-v3, wrapper: []}", module="wann.evaluate")
    assert proc.returncode == 2 and "allowed keys: name, kwargs, wrappers" in proc.stderr
    proc = run_cli(str(run / "champion.json"), "--task", "Pendulum-v1", module="wann.evaluate")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: --task: 'Pendulum-v1' has 3 inputs / 1 outputs, the champion 24 / 4"


def test_table_prints_the_papers_biped_row():
    rows = [ConditionRow(name, Stats.of(np.array([1.0, 2.0]))) for name in
            ("random individual weights", "random shared weight", "tuned shared weight", "tuned individual weights")]
    text = format_conditions(rows, "BipedalWalker-v3")
    assert text.splitlines()[-1] == "paper, biped WANN (same four rows): -46 +- 54 | 51 +- 108 | 261 +- 58 | 332 +- 1"
