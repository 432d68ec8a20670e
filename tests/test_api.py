"""The Python face: ask/tell checkpoints, evaluators that share nothing, champion policies and exports, config types."""
from __future__ import annotations

import dataclasses
import importlib.util
import json
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pytest

from tests.helpers import grow_genome
from wann.engine.champion import Champion, load_champion, save_champion
from wann.engine.config import config_from_dict
from wann.engine.configkit import fill_section, param
from wann.engine.evaluator import Evaluator, SerialBackend
from wann.engine.network import compile_genome, forward
from wann.engine.search import WannSearch
from wann.errors import UserError
from wann.tasks import get_task
from wann.tools.export import export_source


def _config(**search):
    return config_from_dict({
        "task": {"name": "wann/CartPoleSwingUpHard-v1"},
        "search": {"pop_size": 10, "generations": 5, **search},
        "evaluation": {"rollouts": 2, "best_rollouts": 2, "backend": "serial"},
        "run": {"seed": 11},
    })


def _by_hand(search: WannSearch, evaluator: Evaluator, generations: int) -> None:
    """What the README's ask/tell loop does."""
    for _ in range(generations):
        genomes = search.ask()
        seeds = search.rollout_seeds(search.generation, search.config.evaluation.rollouts)
        search.tell(evaluator.evaluate(search.networks(), seeds).rewards)
        search.confirm_champion(evaluator)
        assert len(genomes) == 10


def test_state_dict_after_tell_restores_an_ask_tell_loop_exactly():
    config = _config()
    with Evaluator(WannSearch(config).task, config.evaluation.shared_weights, SerialBackend()) as ev:
        straight = WannSearch(config)
        _by_hand(straight, ev, 5)
        first = WannSearch(config)
        _by_hand(first, ev, 2)
        state = json.loads(json.dumps(first.state_dict()))
        assert state["generation"] == 2  # not the generation-0 snapshot of the old bug
        assert state["champion"] is not None
        resumed = WannSearch(config)
        resumed.load_state_dict(state)
        _by_hand(resumed, ev, 3)
        # the loop driven by step() gives the same search as the hand loop
        stepped = WannSearch(config)
        stepped.run(ev)
    for other in (resumed, stepped):
        assert other.generation == straight.generation == 5
        assert [g.to_dict() for g in other.ranked] == [g.to_dict() for g in straight.ranked]
        assert other.champion.to_dict() == straight.champion.to_dict()


def test_state_dict_between_ask_and_tell_is_the_last_told_state():
    config = _config()
    search = WannSearch(config)
    with Evaluator(search.task, config.evaluation.shared_weights, SerialBackend()) as ev:
        _by_hand(search, ev, 1)
        told = search.state_dict()
        search.ask()  # draws from the rng and the innovation tracker
        assert search.state_dict() == told


def test_two_serial_evaluators_in_one_process_keep_their_own_task_and_weights():
    swing, balance = get_task("wann/CartPoleSwingUpHard-v1"), get_task("CartPole-v1")
    rng = np.random.default_rng(3)
    swing_nets = [compile_genome(grow_genome(5, 1, 6, rng)) for _ in range(3)]
    balance_nets = [compile_genome(grow_genome(4, 1, 6, rng)) for _ in range(3)]
    with Evaluator(swing, [0.5, 2.0], SerialBackend()) as a:
        alone = a.evaluate(swing_nets, [1, 2]).rewards
        with Evaluator(balance, [-1.0], SerialBackend()) as b:
            b_rewards = b.evaluate(balance_nets, [1, 2]).rewards
            again = a.evaluate(swing_nets, [1, 2]).rewards  # b started after a: a must be unchanged
    assert alone.shape == again.shape == (3, 2, 2) and b_rewards.shape == (3, 1, 2)
    assert np.array_equal(alone, again)


def _champion(tmp_path, conn_weights: bool = False) -> Champion:
    rng = np.random.default_rng(5)
    genome = grow_genome(5, 1, 12, rng)
    network = compile_genome(genome)
    conn = ({int(i): float(w) for i, w in zip(network.conn_innov, rng.uniform(-2, 2, network.n_connections))}
            if conn_weights else None)
    champion = Champion(genome=genome, task="wann/CartPoleSwingUp-v1", shared_weights=[-1.0, 0.5, 2.0],
                        reward_per_weight=[10.0, 30.0, 20.0], confirmed_mean=20.0, confirmed_rollouts=1,
                        connections=network.n_connections, generation=0, seed=0, conn_weights=conn)
    save_champion(champion, tmp_path / "champion.json")
    return load_champion(tmp_path / "champion.json")


@pytest.mark.parametrize("tuned", [False, True])
def test_policy_in_a_plain_gymnasium_loop_equals_the_engine(tmp_path, tuned):
    champion = _champion(tmp_path, conn_weights=tuned)
    policy = champion.policy()
    assert policy.weight == (1.0 if tuned else 0.5)  # tuned: weights as tuned; else the best sweep weight
    network = champion.network()
    env = policy.task.make_env()
    obs, _ = env.reset(seed=4)
    for _ in range(50):
        expected = forward(network, obs, [policy.weight])[0, 0]
        assert np.array_equal(policy.outputs(obs), expected)
        action = policy(obs)
        assert np.array_equal(action, np.clip(np.nan_to_num(expected, nan=0.0), -1.0, 1.0))
        obs, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
    with pytest.raises(UserError, match="observation has 4 values"):
        policy.act(np.zeros(4))
    with pytest.raises(UserError, match="reads 5 values per row"):
        forward(network, np.zeros(3), [1.0])


@pytest.mark.parametrize("tuned", [False, True])
def test_exported_module_needs_only_numpy_and_matches_the_engine(tmp_path, tuned):
    champion = _champion(tmp_path, conn_weights=tuned)
    path = tmp_path / "exported_champion.py"
    path.write_text(export_source(champion))
    assert "import wann" not in path.read_text() and "from wann" not in path.read_text()
    spec = importlib.util.spec_from_file_location("exported_champion", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    policy = champion.policy()
    observations = np.random.default_rng(0).normal(scale=2.0, size=(200, 5))
    for weight in (policy.weight, -1.5, 0.3):
        policy.weight = weight
        for obs in observations:
            assert np.array_equal(module.forward(obs, weight), policy.outputs(obs))
            assert np.array_equal(module.act(obs, weight), policy.act(obs))
    with pytest.raises(ValueError, match="expected 5"):
        module.forward(np.zeros(2))


def test_config_types_are_checked_from_the_annotations():
    @dataclass
    class Section:
        limit: int | None = param(None, "an optional integer")
        scales: list[float] = param([1.0], "finite numbers", nonempty=True)
        mode: Literal["fast", "exact"] = param("fast", "an enum")
        name: str = param("x", "a string")

    def fill(values):
        section = Section()
        fill_section(section, values, "cfg.yaml", "sec.")
        return section

    assert fill({"limit": None}).limit is None
    assert fill({"limit": 3}).limit == 3
    assert fill({"scales": [1, 2.5]}).scales == [1.0, 2.5]
    assert fill({"mode": "exact"}).mode == "exact"
    for values, message in [
        ({"limit": "3"}, "cfg.yaml: sec.limit: '3': expected an integer or null"),
        ({"limit": 2.5}, "cfg.yaml: sec.limit: 2.5: expected an integer or null"),
        ({"limit": True}, "cfg.yaml: sec.limit: true: expected an integer or null"),
        ({"scales": [1, "a"]}, "cfg.yaml: sec.scales: [1, a]: expected a list of finite numbers"),
        ({"scales": [1, float("nan")]}, "expected a list of finite numbers"),
        ({"scales": []}, "expected at least 1 value"),
        ({"mode": "fats"}, "cfg.yaml: sec.mode: 'fats': allowed: fast, exact (did you mean 'fast'?)"),
        ({"name": 3}, "cfg.yaml: sec.name: 3: expected a string"),
        ({"nmae": "y"}, "cfg.yaml: sec.nmae: unknown key (did you mean 'name'?)"),
    ]:
        with pytest.raises(UserError) as info:
            fill(values)
        assert message in str(info.value), (values, str(info.value))
    assert [f.name for f in dataclasses.fields(Section)] == ["limit", "scales", "mode", "name"]
