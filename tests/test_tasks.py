"""The task layer: registry, any gymnasium id from a config, action rules, bad input, import graph."""
from __future__ import annotations

import json
import subprocess
import sys

import gymnasium
import numpy as np
import pytest

from tests.helpers import ROOT, grow_genome, run_cli
from wann.engine.evaluator import Evaluator, ProcessBackend, gym_rollouts
from wann.engine.network import compile_genome, stack_networks
from wann.tasks import ActionRule, get_task, resolve_task
from wann.tasks.actions import action_function

# ---- registry -------------------------------------------------------------------------


def test_register_task_first_keeps_the_builtin_tasks():
    """A user's register_task before any lookup must not hide the built-ins (a fresh process)."""
    code = (
        "from wann.tasks import ActionRule, Task, register_task, task_names, get_task\n"
        "register_task(Task(name='my/First-v0', n_inputs=1, n_outputs=1, action=ActionRule.clip(-1, 1), max_steps=5))\n"
        "print(','.join(task_names())); print(get_task('my/First-v0').input_labels)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    names = out.splitlines()[0].split(",")
    assert "my/First-v0" in names
    for builtin in ("wann/CartPoleSwingUp-v1", "CartPole-v1", "Pendulum-v1", "Acrobot-v1", "MountainCarContinuous-v0"):
        assert builtin in names
    assert out.splitlines()[1] == "('0',)"  # labels default to indices


def test_compiled_tasks_are_selected_for_plain_gymnasium_ids_only():
    assert get_task("Pendulum-v1").physics is not None
    assert resolve_task({"name": "Pendulum-v1", "kwargs": {"g": 9.81}}).physics is None
    assert resolve_task({"name": "Pendulum-v1", "path": "gymnasium"}).physics is None
    tanh = resolve_task({"name": "Pendulum-v1", "action": "tanh"})
    assert tanh.physics is not None and tanh.action == ActionRule.tanh(-2.0, 2.0)
    with pytest.raises(ValueError, match="task.path: 'fused'"):
        resolve_task({"name": "MountainCar-v0", "path": "fused"})


# ---- spaces -> inputs and outputs ---------------------------------------------------------


def test_discrete_observation_is_one_hot_and_discrete_action_is_argmax():
    task = get_task("FrozenLake-v1")
    assert (task.n_inputs, task.n_outputs) == (16, 4) and task.physics is None
    assert task.action == ActionRule.argmax(4)
    x = task.inputs_from_observation(np.int64(5))
    assert x.shape == (16,) and x[5] == 1.0 and x.sum() == 1.0


def test_box_actions_take_one_output_per_dimension_with_the_space_bounds():
    task = resolve_task({"name": "LunarLander-v3", "kwargs": {"continuous": True}})
    space = gymnasium.make("LunarLander-v3", continuous=True).action_space
    assert task.n_outputs == 2 and task.n_inputs == 8
    assert task.action.kind == "clip" and task.action.low == tuple(space.low.astype(float))
    out = task.action_from_outputs(np.array([5.0, -0.25]))
    assert out.shape == (2,) and out.tolist() == [1.0, -0.25]


def test_threshold_and_argmax_for_two_actions():
    threshold = resolve_task({"name": "CartPole-v1", "path": "gymnasium"})
    assert threshold.action == ActionRule.argmax(2) and threshold.n_outputs == 2
    assert get_task("CartPole-v1").action == ActionRule.threshold()
    assert resolve_task({"name": "CartPole-v1", "action": "argmax"}).n_outputs == 2
    with pytest.raises(ValueError, match="'threshold': needs Discrete\\(2\\)"):
        resolve_task({"name": "MountainCar-v0", "action": "threshold"})


def test_wrappers_apply_in_order_and_set_the_episode_length():
    task = resolve_task({"name": "Blackjack-v1", "wrappers": [{"name": "FlattenObservation"}]})
    assert task.n_inputs == 32 + 11 + 2  # Tuple of Discretes flattened to one-hot blocks
    limited = resolve_task({"name": "Pendulum-v1", "wrappers": [
        {"name": "TimeLimit", "kwargs": {"max_episode_steps": 30}}, {"name": "ClipAction"}]})
    assert limited.max_steps == 30 and limited.physics is None
    env = limited.make_env()
    assert type(env).__name__ == "ClipAction" and type(env.env).__name__ == "TimeLimit"
    env.close()


def test_labels_override_and_are_checked():
    task = resolve_task({"name": "MountainCar-v0", "input_labels": ["pos", "vel"], "output_labels": ["l", "n", "r"]})
    assert task.input_labels == ("pos", "vel") and task.output_labels == ("l", "n", "r")
    with pytest.raises(ValueError, match="task.output_labels: 2 labels given"):
        resolve_task({"name": "Acrobot-v1", "output_labels": ["a", "b"]})


# ---- action rules by hand -------------------------------------------------------------------


def _rule(kind, outputs, low=(), high=()):
    values = np.array(outputs, dtype=np.float64).reshape(-1, 1)
    actions = np.full((len(outputs), 1), -7.0)
    action_function(kind)(values, 0, len(outputs), 0, np.array(low, float), np.array(high, float), actions)
    return actions[:, 0]


def test_action_rules_by_hand():
    assert _rule("clip", [3.0, np.nan, -0.5], (-1, -1, -1), (1, 1, 2)).tolist() == [1.0, 0.0, -0.5]
    tanh = _rule("tanh", [0.0, 100.0, np.nan], (-2, 0, 1), (2, 4, 3))
    assert tanh.tolist() == [0.0, 4.0, 2.0]
    assert _rule("argmax", [0.1, 0.7, 0.7, np.nan])[0] == 1.0  # first of the ties, NaN never wins
    assert _rule("argmax", [np.nan, np.nan])[0] == 0.0
    assert _rule("threshold", [0.0])[0] == 0.0 and _rule("threshold", [1e-9])[0] == 1.0
    assert _rule("threshold", [np.nan])[0] == 0.0


# ---- the gymnasium path in the workers ------------------------------------------------------------


def test_gymnasium_path_on_workers_equals_one_process():
    task = resolve_task({"name": "MountainCar-v0", "max_steps": 60})
    rng = np.random.default_rng(1)
    nets = [compile_genome(grow_genome(task.n_inputs, task.n_outputs, int(rng.integers(2, 20)), rng)) for _ in range(5)]
    seeds = [11, 12]
    with Evaluator(task, [-1.0, 0.5, 2.0], ProcessBackend(2)) as ev:
        parallel = ev.evaluate(nets, seeds)
        local = ev.evaluate_local(nets, seeds)
        confirm = ev.evaluate(nets[:1], list(range(5)))  # one network: split over workers by rollout
    assert np.array_equal(parallel.rewards, local.rewards) and parallel.steps == local.steps
    assert parallel.steps <= 5 * 3 * 2 * 60
    env = task.make_env()
    alone, _ = gym_rollouts(task, stack_networks(nets[:1]), np.array([-1.0, 0.5, 2.0]), np.arange(5), 60, env_source=lambda: env)
    env.close()
    assert np.array_equal(confirm.rewards, alone)


@pytest.mark.slow
def test_fused_and_gymnasium_paths_give_the_same_search(tmp_path):
    """A short Pendulum search through either path writes the same log and champion."""
    common = ["configs/pendulum.yaml", "--set", "search.pop_size=8", "--set", "search.generations=2",
              "--set", "evaluation.best_rollouts=2", "--workers", "2", "--quiet"]
    for path in ("fused", "gymnasium"):
        proc = run_cli(*common, "--set", f"task.path={path}", "--out", str(tmp_path / path))
        assert proc.returncode == 0, proc.stderr
    fused_log = (tmp_path / "fused" / "log.csv").read_text().splitlines()
    gym_log = (tmp_path / "gymnasium" / "log.csv").read_text().splitlines()
    assert len(fused_log) == len(gym_log) == 3
    for a, b in zip(fused_log[1:], gym_log[1:]):  # same numbers to float printing
        np.testing.assert_allclose([float(v) for v in a.split(",")], [float(v) for v in b.split(",")], rtol=1e-9)
    fused = json.loads((tmp_path / "fused" / "champion.json").read_text())
    gym = json.loads((tmp_path / "gymnasium" / "champion.json").read_text())
    assert fused["genome"] == gym["genome"]
    assert gym["task_spec"] == {"name": "Pendulum-v1", "path": "gymnasium"}


# ---- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("task_yaml, message", [
    ("{name: Pendulm-v1}", "task.name: 'Pendulm-v1': unknown task or gymnasium id (did you mean 'Pendulum-v1'?)"),
    ("{name: Blackjack-v1}", "cannot be mapped to inputs; add {name: FlattenObservation} to task.wrappers"),
    ("{name: Pendulum-v1, wrappers: [{name: TimeLimt}]}",
     "task.wrappers[0].name: 'TimeLimt': not a gymnasium wrapper (did you mean 'TimeLimit'?)"),
    ("{name: Pendulum-v1, wrappers: [{name: TimeLimit, kwargs: {max_steps: 5}}]}",
     "task.wrappers[0].kwargs: 'max_steps': not an argument of TimeLimit; allowed: max_episode_steps"),
    ("{name: Pendulum-v1, kwargs: {gravity: 3}}", "task.kwargs / task.wrappers: {'gravity': 3}: rejected by Pendulum-v1"),
    ("{name: Pendulum-v1, action: argmax}", "task.action: 'argmax': task Pendulum-v1 has continuous actions; allowed: clip, tanh"),
    ("{name: my/Task-v0, module: no_such_pkg.tasks}",
     "task.module: 'no_such_pkg.tasks': cannot import the task module: ModuleNotFoundError"),
])
def test_bad_task_is_one_line_exit_2_and_nothing_written(tmp_path, task_yaml, message):
    config = tmp_path / "bad.yaml"
    config.write_text(f"task: {task_yaml}\n")
    out = tmp_path / "run"
    proc = run_cli(str(config), "--out", str(out))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {config}: ") and proc.stderr.count("\n") == 1
    assert message in proc.stderr
    assert not out.exists()


def test_engine_has_no_task_switch():
    """The rollout kernel and the evaluator name no concrete task and no task code."""
    names = ["CartPole", "SwingUp", "Pendulum", "Acrobot", "MountainCar", "Digits", "SWINGUP", "task_code"]
    for module in ("rollout.py", "evaluator.py", "search.py"):
        source = (ROOT / "wann" / "engine" / module).read_text()
        assert not [n for n in names if n in source], module


def test_envs_whose_reset_keeps_history_get_a_fresh_env_per_episode():
    """BipedalWalker keeps its Box2D world across resets: episodes must not depend on earlier ones."""
    pytest.importorskip("Box2D")
    walker = resolve_task({"name": "BipedalWalker-v3", "max_steps": 150})
    assert not walker.reusable_env
    assert get_task("LunarLander-v3").reusable_env and get_task("MountainCar-v0").reusable_env
    rng = np.random.default_rng(2)
    nets = [compile_genome(grow_genome(24, 4, 15, rng)) for _ in range(3)]
    weights = np.array([-1.0, 1.5])
    env = walker.make_env()
    first, _ = gym_rollouts(walker, stack_networks(nets), weights, np.array([4, 5, 6]), 150, env_source=lambda: env)
    again, _ = gym_rollouts(walker, stack_networks(nets[::-1]), weights[::-1], np.array([6, 5, 4]), 150, env_source=lambda: env)
    env.close()
    assert np.array_equal(first, again[::-1, ::-1, ::-1])
