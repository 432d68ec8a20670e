"""The champion tools: evaluate, tune (and its ES), draw, plot, watch, and their bad-input handling.

Numbers are checked against the engine's own evaluator on the same seeds; the
plot test reads a real run folder written by a tiny search.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from PIL import Image

from wann.cli.common import output_path_for
from wann.engine.champion import Champion, load_champion, save_champion
from wann.engine.evaluator import Evaluator, run_rollouts
from wann.engine.genome import initial_genome
from wann.engine.network import compile_genome, stack_networks
from wann.errors import UserError
from wann.tasks import get_task
from wann.tools.draw import champion_graph, draw_champion, save_figure, write_graphml, write_json_graph
from wann.tools.es import EvolutionStrategy, centered_ranks
from wann.tools.evaluate import (
    CONDITIONS,
    RolloutRunner,
    evaluate_weights,
    evaluation_seeds,
    four_conditions,
    with_conn_weights,
)
from wann.tools.pepg import Pepg
from wann.tools.plot import plot_run, read_log
from wann.tools.tune import tune_individual, tune_shared
from wann.tools.watch import watch

ROOT = Path(__file__).resolve().parents[1]
HARD = "wann/CartPoleSwingUpHard-v1"  # 200 steps: cheap rollouts
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_module(module: str, *args, timeout: float = 180) -> subprocess.CompletedProcess:
    """``python -m module args...`` from the repository root."""
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def hand_genome_dict() -> dict:
    """Swing-up genome: inputs 0-4, bias 5, output 6; hidden 7 tanh, 8 sin (live), 9 relu (dead).

    Live: 0->7, 3->7, 7->8, 5->8, 7->6, 8->6. Dead: 1->9 (9 reaches no output).
    Disabled: 2->6.
    """
    nodes = [[i, "input", "linear"] for i in range(5)] + [[5, "bias", "linear"], [6, "output", "linear"],
                                                          [7, "hidden", "tanh"], [8, "hidden", "sin"],
                                                          [9, "hidden", "relu"]]
    conns = [[0, 0, 7, True], [1, 3, 7, True], [2, 7, 6, True], [3, 5, 8, True], [4, 8, 6, True],
             [5, 7, 8, True], [6, 1, 9, True], [7, 2, 6, False]]
    return {"nodes": nodes, "connections": conns}


def champion_dict(genome: dict | None = None, task: str = HARD) -> dict:
    return {
        "format": "wann-champion", "version": 1, "wann_version": "0.1.0", "task": task,
        "connections": 6, "confirmed_mean": 10.0, "confirmed_rollouts": 3,
        "shared_weights": [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0], "reward_per_weight": [10.0] * 6,
        "generation": 0, "seed": 0, "genome": genome or hand_genome_dict(),
    }


@pytest.fixture
def hand_champion(tmp_path) -> Path:
    path = tmp_path / "hand.json"
    path.write_text(json.dumps(champion_dict()))
    return path


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory) -> Path:
    """A real run folder from ``python -m wann.search configs/smoke.yaml``."""
    out = tmp_path_factory.mktemp("smoke") / "run"
    proc = run_module("wann.search", "configs/smoke.yaml", "--out", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    return out


# ---- evaluate ---------------------------------------------------------------------------


def test_evaluate_equals_engine_evaluator(smoke_run):
    champion = load_champion(smoke_run / "champion.json")
    weights = [-1.5, -0.5, 0.25, 1.0, 2.0]
    table = evaluate_weights(champion, weights, episodes=9, seed=5)
    seeds = evaluation_seeds(5, 9)
    engine = Evaluator(get_task(champion.task), weights).evaluate_local([compile_genome(champion.genome)], seeds)
    assert_array_equal(table.rewards, engine.rewards[0])
    assert_array_equal(table.seeds, seeds)
    # two workers, sharded over seeds: the same numbers
    pooled = evaluate_weights(champion, weights, episodes=9, seed=5, workers=2)
    assert_array_equal(pooled.rewards, table.rewards)


@pytest.mark.slow
def test_evaluate_cli_writes_json_and_csv(smoke_run, tmp_path):
    path = smoke_run / "champion.json"
    proc = run_module("wann.evaluate", path, "--weights", "-1", "0.5", "2", "--episodes", "6", "--seed", "3",
                      "--json", tmp_path / "e.json", "--csv", tmp_path / "e.csv")
    assert proc.returncode == 0, proc.stderr
    assert "weight" in proc.stdout and "mean" in proc.stdout
    champion = load_champion(path)
    engine = Evaluator(get_task(champion.task), [-1.0, 0.5, 2.0]).evaluate_local(
        [compile_genome(champion.genome)], evaluation_seeds(3, 6))
    means = engine.rewards[0].mean(axis=1)
    data = json.loads((tmp_path / "e.json").read_text())
    assert [r["weight"] for r in data["weights"]] == [-1.0, 0.5, 2.0]
    assert [r["mean"] for r in data["weights"]] == means.tolist()
    assert [r["std"] for r in data["weights"]] == engine.rewards[0].std(axis=1).tolist()
    with (tmp_path / "e.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["mean"]) for r in rows] == pytest.approx(means.tolist(), rel=1e-12)
    # --sweep gives --points weights from LO to HI
    proc = run_module("wann.evaluate", path, "--sweep", "-2", "2", "--points", "5", "--episodes", "2",
                      "--json", tmp_path / "s.json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert [r["weight"] for r in json.loads((tmp_path / "s.json").read_text())["weights"]] == [-2, -1, 0, 1, 2]


def test_paired_episodes_equal_single_rollouts(hand_champion):
    champion = load_champion(hand_champion)
    task = get_task(champion.task)
    net = compile_genome(champion.genome)
    rng = np.random.default_rng(0)
    nets = [with_conn_weights(net, rng.uniform(-2, 2, net.n_connections)) for _ in range(5)]
    weights, seeds = np.array([1.0, -0.5, 2.0, 1.5, -2.0]), np.arange(10, 15)
    with RolloutRunner(task, workers=2) as runner:
        paired = runner.paired(nets, weights, seeds)
    for i in range(5):
        direct, _ = run_rollouts(task, stack_networks([nets[i]]), weights[i:i + 1], seeds[i:i + 1], task.max_steps)
        assert paired[i] == direct[0, 0, 0]


def test_four_conditions(smoke_run):
    champion = load_champion(smoke_run / "champion.json")
    rows = four_conditions(champion, episodes=30, seed=1)
    assert [r.condition for r in rows] == list(CONDITIONS)
    assert rows[3].stats is None  # not tuned yet
    random_shared, tuned_shared = rows[1].stats, rows[2].stats
    assert tuned_shared.mean >= random_shared.mean
    assert -2.0 <= rows[2].weight <= 2.0
    # the same numbers with workers
    again = four_conditions(champion, episodes=30, seed=1, workers=2)
    for a, b in zip(rows[:3], again[:3]):
        assert_array_equal(a.rewards, b.rewards)
    # with tuned weights the fourth row is filled, from the engine at shared weight 1
    net = compile_genome(champion.genome)
    champion.conn_weights = {int(i): 0.7 for i in net.conn_innov}
    rows = four_conditions(champion, episodes=30, seed=1)
    tuned = compile_genome(champion.genome, champion.conn_weights)
    direct, _ = run_rollouts(get_task(champion.task), stack_networks([tuned]), np.ones(1),
                             evaluation_seeds(1, 30), 200)
    assert rows[3].stats.mean == direct[0, 0].mean()


@pytest.mark.slow
def test_table_cli_prints_four_rows(smoke_run):
    proc = run_module("wann.evaluate", smoke_run / "champion.json", "--table", "--episodes", "10", "--quiet")
    assert proc.returncode == 0, proc.stderr
    for name in CONDITIONS:
        assert name in proc.stdout
    assert "not tuned" in proc.stdout


# ---- the evolution strategy and tuning ------------------------------------------------


def test_centered_ranks():
    assert_array_equal(centered_ranks(np.array([3.0, -1.0, 10.0])), [0.0, -0.5, 0.5])
    shaped = centered_ranks(np.random.default_rng(0).normal(size=64))
    assert shaped.sum() == pytest.approx(0.0, abs=1e-12)


QUADRATIC_TARGET = np.array([1.5, -0.5, 0.25, 2.0])


def _quadratic(x):
    return -np.sum((x - QUADRATIC_TARGET) ** 2, axis=1)


def _climb_then_resume(optimizer, twin, iterations, pair_of):
    """Run ``optimizer`` on the quadratic (checking its +- pairs), then continue it and a restored twin in step."""
    start = np.linalg.norm(optimizer.mean - QUADRATIC_TARGET)
    for _ in range(iterations):
        cand = optimizer.ask()
        plus, minus = pair_of(cand)
        np.testing.assert_allclose(plus - optimizer.mean, optimizer.mean - minus, atol=1e-12)
        optimizer.tell(_quadratic(cand))
    assert np.linalg.norm(optimizer.mean - QUADRATIC_TARGET) < 0.1 * start
    # state_dict is plain JSON data; restoring it continues the same run
    twin.load_state_dict(json.loads(json.dumps(optimizer.state_dict())))
    for _ in range(5):
        a, b = optimizer.ask(), twin.ask()
        assert_array_equal(a, b)
        optimizer.tell(_quadratic(a))
        twin.tell(_quadratic(b))
    assert_array_equal(optimizer.mean, twin.mean)


def test_es_climbs_a_quadratic_and_resumes_exactly():
    es = EvolutionStrategy(np.zeros(4), np.random.default_rng(1), popsize=20, sigma=0.1, lr=0.05)
    twin = EvolutionStrategy(np.zeros(4), np.random.default_rng(99), popsize=20)
    _climb_then_resume(es, twin, 150, lambda cand: (cand[0::2], cand[1::2]))  # pairs interleaved


def test_pepg_climbs_a_quadratic_narrows_its_sigmas_and_resumes_exactly():
    pepg = Pepg(np.zeros(4), np.random.default_rng(1), popsize=20, sigma=0.5, lr=0.2)
    twin = Pepg(np.zeros(4), np.random.default_rng(99), popsize=20)
    _climb_then_resume(pepg, twin, 300, lambda cand: (cand[:10], cand[10:]))  # plus half, then minus half
    assert np.all(pepg.sigma < 0.5)  # near the optimum every sigma has shrunk
    assert_array_equal(pepg.sigma, twin.sigma)


def test_pepg_grows_the_sigma_of_a_direction_that_pays():
    # fitness rises with |x_0| only: wider draws along x_0 win, so sigma_0 grows and sigma_1 does not
    pepg = Pepg(np.zeros(2), np.random.default_rng(0), popsize=32, sigma=0.1, lr=1e-6)
    for _ in range(20):
        cand = pepg.ask()
        pepg.tell(np.abs(cand[:, 0]))
    assert pepg.sigma[0] > 0.3 and pepg.sigma[1] < 0.2
    with pytest.raises(UserError, match="popsize"):
        Pepg(np.zeros(2), np.random.default_rng(0), popsize=7)


def test_tune_shared_picks_the_best_weight_tried(hand_champion):
    champion = load_champion(hand_champion)
    task = get_task(champion.task)
    net = compile_genome(champion.genome)
    res = tune_shared(net, task, episodes=4, seed=0, grid_points=21, refine_points=5)
    assert res.mean == res.means.max()
    assert len(res.weights) > 21  # refined
    assert -2.0 <= res.weight <= 2.0


def _weak_champion() -> Champion:
    """A linear policy of all five inputs and the bias, at one shared weight: weak on swing-up."""
    genome = initial_genome(5, 1, 1, 1.0, np.random.default_rng(0))
    net = compile_genome(genome)
    return Champion(genome, HARD, [1.0], [0.0], 0.0, 1, net.n_connections, 0, 0)


@pytest.mark.parametrize("method,settings", [("es", {"lr": 0.05}), ("cma", {"sigma": 0.5}),
                                             ("pepg", {"sigma": 0.5, "lr": 0.5})])
def test_tuning_improves_a_weak_champion(method, settings):
    champion = _weak_champion()
    net = compile_genome(champion.genome)
    res = tune_individual(champion, iterations=20, popsize=16, episodes=4, seed=0, validation_episodes=20,
                          method=method, **settings)
    assert res.method == method
    assert set(res.conn_weights) == set(net.conn_innov.tolist())
    assert res.final.mean > res.start.mean + 5.0
    assert len(res.history) == 20


@pytest.mark.parametrize("method", ["es", "cma", "pepg"])
def test_tuning_is_deterministic_for_any_worker_count(method):
    champion = _weak_champion()
    runs = [tune_individual(champion, start_weight=0.5, iterations=4, popsize=8, episodes=3, seed=3,
                            validation_episodes=4, workers=workers, method=method) for workers in (1, 2, 1)]
    for other in runs[1:]:
        assert other.conn_weights == runs[0].conn_weights
        assert other.final == runs[0].final
    np.random.seed(123)  # numpy's global state plays no part
    again = tune_individual(champion, start_weight=0.5, iterations=4, popsize=8, episodes=3, seed=3,
                            validation_episodes=4, method=method)
    assert again.conn_weights == runs[0].conn_weights
    other_seed = tune_individual(champion, start_weight=0.5, iterations=4, popsize=8, episodes=3, seed=4,
                                 validation_episodes=4, method=method)
    assert other_seed.conn_weights != runs[0].conn_weights


@pytest.mark.slow
def test_tune_cli_writes_a_new_file(hand_champion, tmp_path):
    before = hand_champion.read_bytes()
    proc = run_module("wann.tune", hand_champion, "--mode", "individual", "--iterations", "3", "--popsize", "8",
                      "--episodes", "2", "--validation-episodes", "4", "--grid-points", "9")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("iter ") == 3  # one progress line per iteration
    out = output_path_for(hand_champion, ".tuned.json")
    tuned = load_champion(out)
    live = compile_genome(tuned.genome).conn_innov.tolist()
    assert sorted(tuned.conn_weights) == sorted(live)
    assert "tuned_shared_weight" in tuned.extra
    assert hand_champion.read_bytes() == before  # input untouched
    proc = run_module("wann.tune", hand_champion, "--mode", "shared", "--episodes", "2", "--grid-points", "9",
                      "-o", tmp_path / "shared.json")
    assert proc.returncode == 0, proc.stderr
    assert -2 <= load_champion(tmp_path / "shared.json").extra["tuned_shared_weight"] <= 2
    proc = run_module("wann.tune", hand_champion, "--iterations", "1", "-o", hand_champion)
    assert proc.returncode == 2 and "refusing to overwrite" in proc.stderr


# ---- draw -------------------------------------------------------------------------------


def test_draw_nodes_and_positions(hand_champion, tmp_path):
    champion = load_champion(hand_champion)
    fig, g = draw_champion(champion)
    net = compile_genome(champion.genome)
    assert g.number_of_nodes() == net.n_nodes == 9
    assert set(g.nodes) == set(net.node_ids.tolist())
    assert g.number_of_edges() == net.n_connections == 6
    x = {n: g.nodes[n]["x"] for n in g}
    assert {x[n] for n in range(6)} == {0.0}  # inputs and bias in the left column
    assert x[6] == max(x.values()) == 3.0  # output right, after hidden depths 1 and 2
    assert (x[7], x[8]) == (1.0, 2.0)
    assert all(x[u] < x[v] for u, v in g.edges)
    assert len({g.nodes[n]["y"] for n in range(6)}) == 6
    assert [g.nodes[n]["label"] for n in range(6)] == ["x", "x_dot", "cos_theta", "sin_theta", "theta_dot", "bias"]
    assert g.nodes[7]["activation"] == "tanh"
    png = save_figure(fig, tmp_path / "net.png")
    assert png.read_bytes()[:8] == PNG_MAGIC
    with Image.open(png) as im:
        assert im.size[0] > 300 and im.size[1] > 200
    # --all shows the dead node and the disabled connection too
    _, g_all = draw_champion(champion, show_all=True)
    assert g_all.number_of_nodes() == 10 and g_all.number_of_edges() == 8
    assert not g_all.nodes[9]["live"] and not g_all.edges[2, 6]["enabled"]
    # exports carry positions
    write_graphml(g, tmp_path / "g.graphml")
    back = nx.read_graphml(tmp_path / "g.graphml")
    assert back.number_of_nodes() == 9 and float(back.nodes["6"]["x"]) == 3.0
    write_json_graph(g, tmp_path / "g.json")
    data = json.loads((tmp_path / "g.json").read_text())
    assert len(data["nodes"]) == 9 and len(data["edges"]) == 6


def test_draw_weights_and_cli(hand_champion, tmp_path):
    champion = load_champion(hand_champion)
    with pytest.raises(ValueError, match="no tuned conn_weights"):
        draw_champion(champion, show_weights=True)
    champion.conn_weights = {0: 1.5, 1: -0.5, 2: 2.0, 3: -1.0, 4: 0.25, 5: 0.8}
    _, g = draw_champion(champion, show_weights=True)
    assert g.edges[0, 7]["weight"] == 1.5
    tuned = tmp_path / "tuned.json"
    save_champion(champion, tuned)
    proc = run_module("wann.draw", tuned, "-o", tmp_path / "net.svg", "--weights", "--all",
                      "--graphml", tmp_path / "g.graphml")
    assert proc.returncode == 0, proc.stderr
    assert "<svg" in (tmp_path / "net.svg").read_text()[:500]
    assert (tmp_path / "g.graphml").exists()


def test_draw_large_genome():
    from wann.engine.genome import initial_tracker
    from wann.engine.mutation import MutationRates, mutate

    rng = np.random.default_rng(3)
    genome, tracker = initial_genome(5, 1, 1, 1.0, rng), initial_tracker(5, 1)
    while compile_genome(genome).n_connections < 150:
        tracker.new_generation()
        genome = mutate(genome, rng, tracker, MutationRates(0.5, 0.3, 0.05, 0.15), np.arange(1, 11, dtype=np.int8))
    champion = Champion(genome, HARD, [1.0], [0.0], 0.0, 1, 0, 0, 0)
    fig, g = draw_champion(champion)
    assert g.number_of_nodes() == compile_genome(genome).n_nodes
    assert all(g.nodes[u]["x"] < g.nodes[v]["x"] for u, v in g.edges)
    # no two nodes share a position
    assert len({(g.nodes[n]["x"], g.nodes[n]["y"]) for n in g}) == g.number_of_nodes()
    assert champion_graph(champion, show_all=True).number_of_nodes() == len(genome.node_id)


# ---- plot -------------------------------------------------------------------------------


@pytest.mark.slow
def test_plot_reads_a_real_run(smoke_run, tmp_path):
    log = read_log(smoke_run)
    assert log["generation"].tolist() == [0.0, 1.0, 2.0, 3.0]  # configs/smoke.yaml: 4 generations
    assert np.all(np.diff(log["champion_mean"]) >= 0)
    paths = plot_run(smoke_run, tmp_path / "plots", points=5, episodes=2)
    assert [p.name for p in paths] == ["rewards.png", "connections.png", "weight_sweep.png"]
    for p in paths:
        assert p.read_bytes()[:8] == PNG_MAGIC
    proc = run_module("wann.plot", smoke_run, "-o", tmp_path / "cli", "--sheet", "--points", "3", "--episodes", "1")
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in (tmp_path / "cli").glob("*.png")] == ["run_sheet.png"]


def test_plot_rejects_a_bad_log(tmp_path):
    (tmp_path / "log.csv").write_text("generation,best_mean\n0,1.0\n")
    with pytest.raises(ValueError, match="missing column"):
        read_log(tmp_path)


# ---- watch ------------------------------------------------------------------------------


def test_watch_gif_matches_the_evaluator(smoke_run, tmp_path):
    champion = load_champion(smoke_run / "champion.json")
    res = watch(champion, tmp_path / "swing.gif", weight=-1.0, seed=7, every=20)
    task = get_task(champion.task)
    direct, _ = run_rollouts(task, stack_networks([compile_genome(champion.genome)]), np.array([-1.0]),
                             np.array([7]), task.max_steps)
    assert res.total_reward == pytest.approx(direct[0, 0, 0], rel=1e-12, abs=1e-12)
    with Image.open(res.path) as im:
        assert im.format == "GIF" and im.n_frames == res.frames
    assert res.frames == 1 + res.steps // 20 + (res.steps % 20 != 0)
    with pytest.raises(ValueError, match="unknown animation type"):
        watch(champion, tmp_path / "x.avi")


@pytest.mark.slow
def test_watch_cli(hand_champion, tmp_path):
    proc = run_module("wann.watch", hand_champion, "--weight", "0.5", "--every", "50", "--scale", "0.5",
                      "-o", tmp_path / "w.gif")
    assert proc.returncode == 0, proc.stderr
    steps = int(proc.stdout.strip().splitlines()[-1].split()[0])  # "<steps> steps, reward ..."
    with Image.open(tmp_path / "w.gif") as im:
        assert im.size == (300, 200)  # --scale 0.5 of 600 x 400
        assert im.n_frames == 1 + steps // 50 + (steps % 50 != 0)  # step 0, every 50th, the last


# ---- bad input: one line on stderr, exit 2 -------------------------------------------------


def _bad_champions(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (file, expected words in the message)."""
    cases: dict[str, tuple[Path, str]] = {}

    def put(name: str, text: str, words: str) -> None:
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        cases[name] = (path, words)

    good = json.dumps(champion_dict())
    put("truncated", good[: len(good) // 2], "not valid JSON")
    g = hand_genome_dict()
    g["connections"].append([8, 8, 7, True])
    put("cycle", json.dumps(champion_dict(g)), "cycle")
    g = hand_genome_dict()
    g["connections"].append([8, 7, 42, True])
    put("unknown_node", json.dumps(champion_dict(g)), "unknown node id")
    g = hand_genome_dict()
    g["nodes"][7][2] = "swish"
    put("unknown_activation", json.dumps(champion_dict(g)), "unknown activation 'swish'")
    put("unknown_task", json.dumps(champion_dict(task="wann/NoSuchTask-v0")), "unknown task")
    put("wrong_task", json.dumps(champion_dict(task="CartPole-v1")), "but task CartPole-v1 needs 4/1")
    bad_weights = champion_dict()
    bad_weights["conn_weights"] = {"77": 1.0}
    put("bad_conn_weights", json.dumps(bad_weights), "innovation 77")
    cases["missing"] = (tmp_path / "nope.json", "cannot read champion")
    return cases


def _assert_one_line_error(proc: subprocess.CompletedProcess, path: Path, words: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: {path}: "), lines[0]
    assert words in lines[0]


@pytest.mark.parametrize("case", ["missing", "truncated", "cycle", "unknown_node", "unknown_activation",
                                  "unknown_task", "wrong_task", "bad_conn_weights"])
def test_evaluate_bad_champion(tmp_path, case):
    path, words = _bad_champions(tmp_path)[case]
    _assert_one_line_error(run_module("wann.evaluate", path), path, words)


@pytest.mark.parametrize("module,case", [("wann.tune", "cycle"), ("wann.draw", "unknown_activation"),
                                         ("wann.watch", "truncated"), ("wann.tune", "wrong_task")])
def test_other_tools_bad_champion(tmp_path, module, case):
    path, words = _bad_champions(tmp_path)[case]
    _assert_one_line_error(run_module(module, path), path, words)


@pytest.mark.slow
def test_plot_bad_run_folder(tmp_path, smoke_run):
    run = tmp_path / "run"
    run.mkdir()
    (run / "log.csv").write_text((smoke_run / "log.csv").read_text())
    (run / "champion.json").write_text((smoke_run / "champion.json").read_text()[:100])
    proc = run_module("wann.plot", run, "--points", "3", "--episodes", "1")
    _assert_one_line_error(proc, run / "champion.json", "not valid JSON")
    proc = run_module("wann.plot", tmp_path / "nowhere")
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and len(proc.stderr.splitlines()) == 1


def test_cma_is_optional(monkeypatch):
    import sys as _sys

    from wann.tools.cmaes import CmaStrategy
    from wann.tools.tune import resolve_method

    assert resolve_method("auto") == "cma"  # the test extra installs pycma
    monkeypatch.setitem(_sys.modules, "cma", None)  # as if pycma were not installed
    assert resolve_method("auto") == "es"
    with pytest.raises(ValueError, match=r'pip install -e "\.\[cma\]"'):
        CmaStrategy(np.zeros(3), np.random.default_rng(0))
    with pytest.raises(ValueError, match="allowed: auto, cma, es, pepg"):
        resolve_method("nes")
