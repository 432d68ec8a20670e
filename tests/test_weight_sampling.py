"""Weight sampling in the search (evaluation.weight_sampling) and the weight-agnostic confirmation."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers import run_cli
from wann.engine.config import STANDARD_WEIGHTS, config_from_dict
from wann.engine.evaluator import Evaluator, ProcessBackend, SerialBackend
from wann.engine.search import WannSearch
from wann.engine.seeds import CONFIRM_SEEDS, POPULATION_SEEDS


def _config(seed: int = 3, **evaluation):
    return config_from_dict({
        "task": {"name": "wann/CartPoleSwingUpHard-v1"},
        "search": {"pop_size": 10, "generations": 4},
        "evaluation": {"rollouts": 2, "best_rollouts": 2, "backend": "serial", **evaluation},
        "run": {"seed": seed},
    })


def test_stratified_weights_are_a_pure_function_of_seed_and_generation():
    a, b = WannSearch(_config(weight_sampling="stratified")), WannSearch(_config(weight_sampling="stratified"))
    draws = [a.generation_weights(g) for g in range(50)]
    assert all(np.array_equal(w, b.generation_weights(g)) for g, w in enumerate(draws))
    assert not np.array_equal(draws[0], draws[1])
    assert not np.array_equal(draws[0], WannSearch(_config(seed=4, weight_sampling="stratified")).generation_weights(0))
    for w in draws:  # 3 negative, 3 positive, one per stratum of |w| in [0.25, 2] split in thirds
        assert len(w) == 6 and np.all(np.diff(w) > 0)
        edges = np.linspace(0.25, 2.0, 4)
        assert np.all((-w[:3][::-1] >= edges[:-1]) & (-w[:3][::-1] <= edges[1:]))
        assert np.all((w[3:] >= edges[:-1]) & (w[3:] <= edges[1:]))
    fixed = WannSearch(_config())
    assert fixed.generation_weights(7).tolist() == list(STANDARD_WEIGHTS)


class Spy:
    """An evaluator that records the weights of every call."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.inner, self.weights, self.calls = evaluator, evaluator.weights, []

    def evaluate(self, networks, seeds, weights=None):
        self.calls.append((len(networks), None if weights is None else np.array(weights)))
        return self.inner.evaluate(networks, seeds, weights)


def test_every_genome_of_a_generation_sees_its_draws_and_the_champion_is_confirmed_on_the_grid():
    config = _config(weight_sampling="stratified", confirm_weights="grid", confirm_points=9)
    search = WannSearch(config)
    with Evaluator(search.task, config.evaluation.shared_weights, SerialBackend()) as ev:
        spy = Spy(ev)
        for g in range(3):
            search.step(spy)
        population_calls = [w for n, w in spy.calls if n == 10]
        assert len(population_calls) == 3
        for g, weights in enumerate(population_calls):  # one call per generation: every genome, the same draws
            assert np.array_equal(weights, search.generation_weights(g))
        grid = [-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0]  # 9 points over [-2, 2], |w| >= 0.25
        champion = search.champion
        assert champion.shared_weights == grid
        seeds = search.rollout_seeds(champion.generation, 2, CONFIRM_SEEDS)
        again = ev.evaluate([champion.network()], seeds, grid)
        assert np.allclose(champion.reward_per_weight, again.rewards[0].mean(axis=1))
        assert champion.confirmed_mean == float(np.mean(champion.reward_per_weight))
        assert champion.extra["confirmation"]["weights"] == "grid"


def test_sampled_search_is_the_same_for_any_worker_count():
    config = _config(weight_sampling="stratified", confirm_weights="random", confirm_points=5)
    runs = []
    for backend in (SerialBackend(), ProcessBackend(2)):
        search = WannSearch(config)
        with Evaluator(search.task, config.evaluation.shared_weights, backend) as ev:
            logs = [search.step(ev) for _ in range(4)]
        runs.append(([{k: v for k, v in m.items() if "second" not in k} for m in logs], search.champion.to_dict()))
    assert runs[0] == runs[1]


@pytest.mark.slow
def test_study_runs_seeds_once_and_tabulates_them(tmp_path):
    out = tmp_path / "study"
    args = ["configs/smoke.yaml", "--seeds", "0", "1", "--out", str(out), "--episodes", "4", "--curve-episodes", "2",
            "--set", "evaluation.confirm_weights=grid", "--set", "evaluation.confirm_points=9"]
    first = run_cli(*args, module="wann.study")
    assert first.returncode == 0, first.stderr
    assert "seed 0: starting" in first.stdout and "seed 1: starting" in first.stdout
    table = (out / "study.md").read_text().splitlines()
    assert table[0].startswith("| | random individual weights | random shared weight |")
    labels = [line.split("|")[1].strip() for line in table[2:]]
    assert labels == ["seed 0", "seed 1", "median", "IQR"]  # no paper row: the paper has no hard swing-up
    study = json.loads((out / "study.json").read_text())
    for result in study["results"]:
        champion = json.loads((out / f"seed{result['seed']}" / "champion.json").read_text())
        assert result["connections"] == champion["connections"]
        assert len(result["curve_means"]) == 41
        assert champion["shared_weights"] == [-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0]
    assert (out / "study_curves.png").stat().st_size > 0
    second = run_cli(*args, module="wann.study")  # finished seeds are neither rerun nor re-scored
    assert second.returncode == 0
    assert "seed 0: finished" in second.stdout and "evaluating" not in second.stdout
    assert (out / "study.md").read_text().splitlines() == table


def test_study_rejects_bad_seeds_before_running(tmp_path):
    proc = run_cli("configs/smoke.yaml", "--seeds", "1", "1", "--out", str(tmp_path / "s"), module="wann.study")
    assert proc.returncode == 2 and proc.stderr.startswith("error: --seeds: 1 1: give distinct seeds")
    assert not (tmp_path / "s").exists()


def test_fixed_sampling_without_parity_options_logs_what_the_search_logged_before_them():
    """tests/data/smoke_log_before_issue8.csv was written by commit 4f70606 (before weight sampling and the
    parity options existed): configs/smoke.yaml with pop 32 for 24 generations, seed 1."""
    import csv
    from pathlib import Path

    from wann.engine.config import load_config

    root = Path(__file__).resolve().parents[1]
    with open(root / "tests" / "data" / "smoke_log_before_issue8.csv", newline="") as f:
        before = list(csv.DictReader(f))
    config = load_config(root / "configs" / "smoke.yaml", ["search.generations=24", "search.pop_size=32"])
    assert config.evaluation.weight_sampling == "fixed" and config.search.parent_selection == "tournament"
    search = WannSearch(config)
    with Evaluator(search.task, config.evaluation.shared_weights, SerialBackend()) as ev:
        logged = [search.step(ev) for _ in range(24)]
    assert len(before) == 24
    for old, new in zip(before, logged):
        for column, value in old.items():
            assert float(value) == float(new[column]), (old["generation"], column)


def test_seed_pool_gives_consecutive_seeds_from_the_pool_and_fresh_confirmations():
    pooled, fresh = WannSearch(_config(seed_pool=5)), WannSearch(_config())
    bases = set()
    for g in range(60):
        seeds = pooled.rollout_seeds(g, 3)
        assert seeds.tolist() == list(range(int(seeds[0]), int(seeds[0]) + 3)) and 0 <= seeds[0] < 5
        assert np.array_equal(seeds, WannSearch(_config(seed_pool=5)).rollout_seeds(g, 3))  # pure function
        bases.add(int(seeds[0]))
        # confirmations and the default draw are not pooled
        assert np.array_equal(pooled.rollout_seeds(g, 3, CONFIRM_SEEDS), fresh.rollout_seeds(g, 3, CONFIRM_SEEDS))
        assert np.diff(fresh.rollout_seeds(g, 3, POPULATION_SEEDS)).tolist() != [1, 1]  # seed_pool 0: fresh draws
    assert bases == set(range(5))  # 60 draws cover a pool of 5
    # the population is scored on the pooled seeds
    config = _config(seed_pool=2)
    search = WannSearch(config)
    with Evaluator(search.task, config.evaluation.shared_weights, SerialBackend()) as ev:
        seen = []
        real = ev.evaluate
        ev.evaluate = lambda networks, seeds, weights=None: (seen.append(np.array(seeds)), real(networks, seeds, weights))[1]
        search.step(ev)
    assert seen[0].tolist() in ([0, 1], [1, 2])
