"""The README's "Bring your own task" code, run exactly as printed there.

The test copies the README's code block into ``mytasks/point.py`` under a
temporary folder, then checks that the task gets the fused compiled path
(rewards equal a plain Python loop over the same functions), that a search
runs end to end from a config naming ``task.module``, and that the tools and
``--resume`` load the module only when the user names it.
"""
from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import ROOT, grow_genome

pytestmark = pytest.mark.slow  # whole runs through the command line

TASK_NAME = "my/PointMass-v0"


def readme_task_code() -> str:
    """The first python block of the README's "Bring your own task" section."""
    text = (ROOT / "README.md").read_text()
    section = text.split("### Bring your own task", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no python block in the README's Bring your own task section"
    return match.group(1)


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("user_task")
    (root / "mytasks").mkdir()
    (root / "mytasks" / "__init__.py").write_text("")
    code = readme_task_code()
    assert 20 <= len(code.strip().splitlines()) <= 40
    (root / "mytasks" / "point.py").write_text(code)
    return root


@pytest.fixture(scope="module")
def user_task(task_dir):
    sys.path.insert(0, str(task_dir))
    try:
        module = importlib.import_module("mytasks.point")
        from wann.tasks import get_task

        yield module, get_task(TASK_NAME)
    finally:
        sys.path.remove(str(task_dir))


def _env(task_dir: Path, **extra: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(task_dir), str(ROOT), env.get("PYTHONPATH", "")])
    env.pop("WANN_TASK_MODULES", None)
    env.update(extra)
    return env


def _run(task_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=_env(task_dir, **extra))


def test_readme_task_gets_the_fused_path_with_exact_rewards(user_task):
    from wann.engine.evaluator import run_rollouts
    from wann.engine.network import compile_genome, forward_into, stack_networks

    module, task = user_task
    assert task.physics is not None and task.env_factory is None
    rng = np.random.default_rng(0)
    nets = [compile_genome(grow_genome(2, 1, int(rng.integers(3, 30)), rng)) for _ in range(6)]
    batch = stack_networks(nets)
    weights = np.array([-2.0, 0.5, 1.0])
    seeds = np.array([3, 4])
    rewards, steps = run_rollouts(task, batch, weights, seeds, task.max_steps)
    # the same episodes in plain Python: the module's functions un-compiled, one step at a time
    expected = np.zeros_like(rewards)
    expected_steps = 0
    for g, net in enumerate(nets):
        one = stack_networks([net])
        values = np.empty(net.n_nodes)
        for w, weight in enumerate(weights):
            for r, seed in enumerate(seeds):
                state = module.initial_state(int(seed)).reshape(2, 1).copy()
                obs, action = np.zeros((2, 1)), np.zeros((1, 1))
                for _ in range(task.max_steps):
                    module.observe.py_func(state, 0, obs)
                    forward_into(one.act, one.indptr, one.src, one.conn_weight, one.shared_only, 0,
                                 net.n_nodes, 2, obs[:, 0].copy(), float(weight), values)
                    action[0, 0] = task.action_from_outputs(values[net.n_nodes - 1:])[0]
                    reward, done = module.step.py_func(state, 0, action)
                    expected[g, w, r] += reward
                    expected_steps += 1
                    if done:
                        break
    assert np.array_equal(rewards, expected)
    assert steps == expected_steps
    assert len(np.unique(rewards)) > 5


def test_readme_task_search_evaluate_draw_and_resume(task_dir, tmp_path):
    config = tmp_path / "point.yaml"
    config.write_text(f"task:\n  name: {TASK_NAME}\n  module: mytasks.point\n"
                      "search:\n  pop_size: 16\n  generations: 4\n"
                      "evaluation:\n  rollouts: 2\n  best_rollouts: 2\n  workers: 2\nrun:\n  save_every: 2\n")
    run = tmp_path / "run"
    proc = _run(task_dir, "wann.search", str(config), "--out", str(run), "--quiet")
    assert proc.returncode == 0, proc.stderr
    champion = json.loads((run / "champion.json").read_text())
    assert champion["task"] == TASK_NAME and champion["task_spec"]["module"] == "mytasks.point"

    # the tools never import a module because a file names it ...
    proc = _run(task_dir, "wann.evaluate", str(run / "champion.json"), "--episodes", "2")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "--task-module mytasks.point" in proc.stderr
    # ... the user names it: WANN_TASK_MODULES or --task-module
    proc = _run(task_dir, "wann.evaluate", str(run / "champion.json"), "--episodes", "2",
                WANN_TASK_MODULES="mytasks.point")
    assert proc.returncode == 0, proc.stderr
    assert TASK_NAME in proc.stdout
    proc = _run(task_dir, "wann.draw", str(run / "champion.json"), "-o", str(tmp_path / "net.png"),
                "--task-module", "mytasks.point")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "net.png").stat().st_size > 0
    proc = _run(task_dir, "wann.tune", str(run / "champion.json"), "--task-module", "mytasks.point",
                "--iterations", "2", "--popsize", "4", "--episodes", "1", "--validation-episodes", "2",
                "--select-episodes", "2", "--grid-points", "3", "-o", str(tmp_path / "tuned.json"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "tuned.json").read_text())["conn_weights"]

    # resume: the checkpoint names the module, the user must too
    proc = _run(task_dir, "wann.search", "--resume", str(run))
    assert proc.returncode == 2 and "--task-module mytasks.point" in proc.stderr
    proc = _run(task_dir, "wann.search", "--resume", str(run), "--task-module", "mytasks.point")
    assert proc.returncode == 0, proc.stderr


def test_a_task_module_that_fails_to_import_is_one_line_and_writes_nothing(task_dir, tmp_path):
    (task_dir / "broken_task.py").write_text("raise RuntimeError('boom')\n")
    config = tmp_path / "bad.yaml"
    config.write_text("task:\n  name: my/Broken-v0\n  module: broken_task\n")
    run = tmp_path / "run"
    proc = _run(task_dir, "wann.search", str(config), "--out", str(run))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"error: {config}: task.module: 'broken_task': cannot import the task module: "
                                   "RuntimeError: boom")
    assert not run.exists()
