"""``wann.tune --warm-start openloop``: planned open-loop approaches distilled into a champion's weights."""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from test_tools import HARD, champion_dict, run_module

from wann.engine.champion import Champion, load_champion
from wann.engine.genome import initial_genome
from wann.engine.network import compile_genome
from wann.engine.policy import Policy
from wann.engine.seeds import HOLD_STREAM, PLAN_STREAM, draw_seeds, make_rng
from wann.errors import UserError
from wann.tasks import get_task
from wann.tools.tune import make_optimizer, tune_individual
from wann.tools.warmstart import (
    WARM_DEFAULTS,
    _plan_rewards_template,
    _plan_trajectory_template,
    check_warm_start,
    distillation_loss,
    hold_pairs,
    plan_teacher_pairs,
    task_kernel,
)

TINY = dataclasses.replace(WARM_DEFAULTS, starts=2, horizon=60, plan_iterations=6, plan_popsize=8,
                           hold_episodes=2, hold_after=5, hold_every=7, distill_iterations=4, distill_popsize=8)


def _squash(p: float, low: float, high: float) -> float:
    return low + (math.tanh(p) + 1.0) * 0.5 * (high - low)


@pytest.mark.parametrize("task_id", [HARD, "Pendulum-v1"])
def test_a_plan_replays_its_gymnasium_env(task_id):
    """The compiled open-loop plan gives the observations and rewards of the task's gymnasium env, step for step."""
    task = get_task(task_id)
    low, high = task.action.bounds()
    block, horizon = 3, 40
    plan = np.random.default_rng(1).normal(size=-(-horizon // block) * len(low)) * 2.0
    state = np.asarray(task.physics.initial_state(17), dtype=np.float64)
    trace = task_kernel(task, _plan_trajectory_template)
    obs, acts, rewards, steps = trace(task.physics.state_rows, task.n_inputs, state, plan, block, horizon, low, high)
    env = task.make_env()
    o, _ = env.reset(seed=17)
    for t in range(steps):
        assert_allclose(obs[t], np.asarray(o, dtype=np.float64), rtol=1e-6, atol=1e-6)
        action = np.array([_squash(plan[(t // block) * len(low) + j], low[j], high[j]) for j in range(len(low))])
        assert_allclose(acts[t], action)
        o, r, term, trunc, _ = env.step(action.astype(env.action_space.dtype))
        assert rewards[t] == pytest.approx(float(r), rel=1e-6, abs=1e-6)
        if term or trunc:
            assert t + 1 == steps
            break
    assert steps == horizon  # neither env ends this early
    total = task_kernel(task, _plan_rewards_template)(
        task.physics.state_rows, state, np.stack([plan, np.zeros_like(plan)]), block, horizon, low, high)
    assert total[0] == pytest.approx(rewards.sum())
    assert total[1] != total[0]


def test_hold_pairs_are_the_policy_on_its_env():
    """Hold pairs: the start policy's observations and clipped actions from ``hold_after`` on, every ``hold_every``."""
    task = get_task(HARD)
    net = compile_genome(initial_genome(5, 1, 1, 1.0, np.random.default_rng(0)))
    settings = dataclasses.replace(TINY, hold_episodes=2, hold_after=30, hold_every=7)
    obs, acts = hold_pairs(task, net, 0.7, settings, seed=5)
    policy = Policy.from_network(net, task, weight=0.7)
    env = task.make_env()
    expected_obs, expected_act = [], []
    for s in draw_seeds(make_rng(5, HOLD_STREAM), 2):
        o, _ = env.reset(seed=int(s))
        for t in range(task.max_steps):
            if t >= 30 and (t - 30) % 7 == 0:
                expected_obs.append(np.asarray(o, float))
                expected_act.append(np.clip(policy.outputs(o).ravel(), -1, 1))
            o, _, term, trunc, _ = env.step(policy.act(o))
            if term or trunc:
                break
    assert len(obs) == len(expected_obs) > 0
    assert_allclose(obs, np.array(expected_obs), rtol=1e-12)
    assert_allclose(acts, np.array(expected_act), rtol=1e-12)
    none = hold_pairs(task, net, 0.7, dataclasses.replace(settings, hold_episodes=0), seed=5)
    assert none[0].shape == (0, 5) and none[1].shape == (0, 1)


def test_distillation_loss_by_hand():
    """One input wired straight to the output: the loss is the mean squared clipped error, summed over pair sets."""
    task = get_task(HARD)
    genome_dict = {"nodes": [[i, "input", "linear"] for i in range(5)] + [[5, "bias", "linear"], [6, "output", "linear"]],
                   "connections": [[0, 0, 6, True]]}
    net = compile_genome(Champion.from_dict(champion_dict(genome_dict)).genome)
    x = np.array([[0.5, 0, 0, 0, 0], [2.0, 0, 0, 0, 0], [-0.25, 0, 0, 0, 0]])
    y = np.array([[0.0], [1.0], [0.5]])
    hold_x, hold_y = np.array([[1.0, 0, 0, 0, 0]]), np.array([[-1.0]])
    weights = np.array([[1.0], [3.0]])
    loss = distillation_loss(task, net, weights, [(x, y), (hold_x, hold_y), (np.zeros((0, 5)), np.zeros((0, 1)))])
    for k, w in enumerate(weights[:, 0]):
        first = np.mean((np.clip(w * x[:, 0], -1, 1) - y[:, 0]) ** 2)
        second = (min(w, 1.0) + 1.0) ** 2
        assert loss[k] == pytest.approx(first + second)


def test_plans_beat_doing_nothing_and_cut_at_the_goal():
    """The planner's approaches score above the zero-force plan; teacher pairs stop ``cut_margin`` after the cut."""
    task = get_task(HARD)
    settings = dataclasses.replace(TINY, starts=3, horizon=150, plan_iterations=40, plan_popsize=12)
    make = lambda x, rng, size, step: make_optimizer("cma", x, rng, size, step, 0.03)  # noqa: E731
    obs, acts, scores = plan_teacher_pairs(task, settings, seed=0, make_optimizer=make, say=lambda _m: None)
    low, high = task.action.bounds()
    kernel = task_kernel(task, _plan_rewards_template)
    zero = [kernel(task.physics.state_rows, np.asarray(task.physics.initial_state(int(s)), float),
                   np.zeros((1, 30)), 5, 150, low, high)[0] for s in draw_seeds(make_rng(0, PLAN_STREAM), 3)]
    assert np.all(scores > np.array(zero) + 5.0)
    assert obs.shape[1] == 5 and acts.shape == (len(obs), 1)
    assert 3 <= len(obs) <= 3 * 150
    assert np.all(np.abs(acts) <= 1.0)


def test_warm_start_is_deterministic_for_any_worker_count_and_recorded():
    champion = Champion(initial_genome(5, 1, 1, 1.0, np.random.default_rng(0)), HARD, [1.0], [0.0], 0.0, 1, 6, 0, 0)
    runs = [tune_individual(champion, start_weight=0.5, iterations=3, popsize=8, episodes=2, seed=2,
                            validation_episodes=4, workers=workers, method="cma", warm_start="openloop",
                            warm_settings=TINY) for workers in (1, 2)]
    assert runs[0].conn_weights == runs[1].conn_weights
    timeless = [{k: v for k, v in r.warm_start.items() if not k.endswith("seconds")} for r in runs]
    assert timeless[0] == timeless[1]
    record = runs[0].warm_start
    assert record["teacher_pairs"] > 0 and record["hold_pairs"] > 0
    assert record["loss_final"] <= record["loss_start"]
    other = tune_individual(champion, start_weight=0.5, iterations=3, popsize=8, episodes=2, seed=3,
                            validation_episodes=4, method="cma", warm_start="openloop", warm_settings=TINY)
    assert other.warm_start["loss_final"] != record["loss_final"]
    plain = tune_individual(champion, start_weight=0.5, iterations=3, popsize=8, episodes=2, seed=2,
                            validation_episodes=4, method="cma")
    assert plain.warm_start is None and plain.conn_weights != runs[0].conn_weights


def test_warm_start_refuses_tasks_it_cannot_plan():
    check_warm_start(get_task(HARD), "openloop")
    with pytest.raises(UserError, match="planning needs continuous"):
        check_warm_start(get_task("CartPole-v1"), "openloop")
    no_physics = dataclasses.replace(get_task(HARD), physics=None, name="no-physics")
    with pytest.raises(UserError, match="no compiled physics"):
        check_warm_start(no_physics, "openloop")
    with pytest.raises(UserError, match="allowed: none, openloop"):
        check_warm_start(get_task(HARD), "teacher")


@pytest.mark.slow
def test_tune_cli_warm_start(tmp_path):
    path = tmp_path / "hand.json"
    path.write_text(json.dumps(champion_dict()))
    out = tmp_path / "warm.json"
    proc = run_module("wann.tune", path, "--warm-start", "openloop", "--plan-starts", "2", "--distill-iterations", "3",
                      "--iterations", "2", "--popsize", "8", "--episodes", "2", "--validation-episodes", "4",
                      "--grid-points", "9", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "warm start: compiled kernels in" in proc.stdout
    assert "warm start: planned 2/2 open-loop starts" in proc.stdout
    assert "warm start: distillation 3/3" in proc.stdout
    record = load_champion(out).extra["tuned_weights"]["warm_start"]
    assert record["kind"] == "openloop" and record["plan_starts"] == 2 and record["distill_iterations"] == 3
    discrete = tmp_path / "discrete.json"
    d = champion_dict(task="CartPole-v1")
    d["genome"]["nodes"] = [[i, "input", "linear"] for i in range(4)] + [[4, "bias", "linear"], [5, "output", "linear"]]
    d["genome"]["connections"] = [[0, 0, 5, True]]
    discrete.write_text(json.dumps(d))
    proc = run_module("wann.tune", discrete, "--warm-start", "openloop", "-o", tmp_path / "x.json")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "continuous" in proc.stderr
    assert not (tmp_path / "x.json").exists()
    proc = run_module("wann.tune", path, "--warm-start", "openloop", "--distill-iterations", "0")
    assert proc.returncode == 2 and "--distill-iterations" in proc.stderr
