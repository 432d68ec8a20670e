"""Every shipped gymnasium config runs end to end, and the tools work on its champion.

Each config runs for one short generation (small population, episodes capped
at 100 steps) through ``python -m wann.search``; then ``wann.evaluate``,
``wann.tools.draw`` and ``wann.tools.watch`` run on the champion it wrote.
"""
from __future__ import annotations

import json

import pytest

from tests.helpers import run_cli

pytestmark = pytest.mark.slow  # whole runs through the command line

pytest.importorskip("Box2D")
pytest.importorskip("pygame")

CONFIGS = {
    "pendulum": ("Pendulum-v1", 3, 1),
    "acrobot": ("Acrobot-v1", 6, 3),
    "mountain_car_continuous": ("MountainCarContinuous-v0", 2, 1),
    "mountain_car": ("MountainCar-v0", 2, 3),
    "lunar_lander": ("LunarLander-v3", 8, 4),
    "lunar_lander_continuous": ("LunarLander-v3", 8, 2),
    "bipedal_walker": ("BipedalWalker-v3", 24, 4),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_config_runs_and_tools_work_on_its_champion(tmp_path, name):
    task, n_inputs, n_outputs = CONFIGS[name]
    run = tmp_path / "run"
    proc = run_cli(f"configs/{name}.yaml", "--out", str(run), "--quiet", "--set", "search.pop_size=4",
                   "--set", "search.generations=1", "--set", "evaluation.rollouts=1",
                   "--set", "evaluation.best_rollouts=1", "--set", "task.max_steps=100")
    assert proc.returncode == 0, proc.stderr
    champion_path = run / "champion.json"
    champion = json.loads(champion_path.read_text())
    assert champion["task"] == task
    kinds = [kind for _, kind, _ in champion["genome"]["nodes"]]
    assert (kinds.count("input"), kinds.count("output")) == (n_inputs, n_outputs)
    if name == "lunar_lander_continuous":
        assert champion["task_spec"]["kwargs"] == {"continuous": True}

    proc = run_cli(str(champion_path), "--episodes", "2", "--weights", "1.0", module="wann.evaluate")
    assert proc.returncode == 0, proc.stderr
    assert task in proc.stdout
    proc = run_cli(str(champion_path), "-o", str(tmp_path / "net.png"), module="wann.draw")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "net.png").stat().st_size > 1000
    proc = run_cli(str(champion_path), "-o", str(tmp_path / "w.gif"), "--max-steps", "6", "--every", "3",
                   "--scale", "0.25", module="wann.watch")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "w.gif").read_bytes()[:3] == b"GIF"
