"""wann.tools.convert: the reference code's .out matrix and tuner parameters, both ways."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import grow_genome
from numpy.testing import assert_allclose, assert_array_equal

from wann.engine.champion import Champion, load_champion, save_champion
from wann.engine.network import compile_genome, forward
from wann.tools.convert import (
    conn_weights_from_params,
    format_reference_matrix,
    genome_from_reference,
    read_reference_matrix,
    reference_matrix,
    reference_params,
)

ROOT = Path(__file__).resolve().parents[1]
SWINGUP = "wann/CartPoleSwingUp-v1"
WEIGHTS = [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0]


def convert(*args) -> subprocess.CompletedProcess:
    """``python -m wann.convert args...`` from the repository root."""
    return subprocess.run([sys.executable, "-m", "wann.convert", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def write_matrix(path: Path, rows: list[list[float]]) -> Path:
    """A .out file in the reference's number format."""
    path.write_text(format_reference_matrix(np.array(rows, dtype=np.float64)))
    return path


def test_params_land_on_the_right_connections():
    # bias, one input, one output: bias->out and in->out, params in row-major order
    matrix = np.array([[0, 0, 1, 1],   # bias -> out
                       [0, 0, 1, 1],   # in -> out
                       [0, 0, 0, 1]], dtype=np.float64)
    genome = genome_from_reference(matrix, n_inputs=1, n_outputs=1)
    weights = conn_weights_from_params(genome, np.array([0.5, 2.0]), weight_bias=-1.5)
    net = compile_genome(genome, weights)
    # output = 1 * ((0.5 - 1.5) * bias + (2.0 - 1.5) * x) = -1 + 0.5 x
    assert_array_equal(forward(net, np.array([[3.0], [0.0]]), [1.0])[0, :, 0], [0.5, -1.0])

    # a disabled gene (nan) has an innovation number but no parameter; the hidden node is tanh (5)
    matrix = np.array([[0, 0, 0, np.nan, 1],    # bias -> out disabled
                       [0, 0, 1, 1, 1],    # in -> hid, in -> out
                       [0, 0, 0, 1, 5],    # hid -> out
                       [0, 0, 0, 0, 1]], dtype=np.float64)
    genome = genome_from_reference(matrix, n_inputs=1, n_outputs=1)
    assert genome.conn_enabled.tolist() == [False, True, True, True]
    weights = conn_weights_from_params(genome, np.array([1.0, 2.0, 3.0]), weight_bias=0.0)
    assert weights == {1: 1.0, 2: 2.0, 3: 3.0}
    x = 0.3
    got = forward(compile_genome(genome, weights), np.array([[x]]), [1.0])[0, 0, 0]
    assert got == pytest.approx(2.0 * x + 3.0 * np.tanh(1.0 * x), abs=1e-12)
    with pytest.raises(ValueError, match="2 params, but the topology has 3 enabled connections"):
        conn_weights_from_params(genome, np.array([1.0, 2.0]), 0.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_trip_gives_the_same_outputs(tmp_path, seed):
    rng = np.random.default_rng(seed)
    genome = grow_genome(5, 1, 40, rng)
    net = compile_genome(genome)
    tuned = {int(i): float(w) for i, w in zip(net.conn_innov, rng.uniform(-2, 2, net.n_connections))}
    path = tmp_path / "net.out"
    path.write_text(format_reference_matrix(reference_matrix(genome)))
    back = genome_from_reference(read_reference_matrix(path), 5, 1)
    assert back.n_enabled == genome.n_enabled and len(back.conn_innov) == len(genome.conn_innov)
    inputs = rng.normal(size=(50, 5))
    # equal up to summation order (node numbering changes the order of a node's inputs)
    assert_allclose(forward(compile_genome(back), inputs, WEIGHTS), forward(net, inputs, WEIGHTS), rtol=1e-12, atol=1e-12)
    params = reference_params(genome, tuned, weight_bias=-1.5)
    back_tuned = conn_weights_from_params(back, params, weight_bias=-1.5)
    assert_allclose(forward(compile_genome(back, back_tuned), inputs, [1.0]),
                    forward(compile_genome(genome, tuned), inputs, [1.0]), rtol=1e-12, atol=1e-12)


@pytest.mark.slow
def test_cli_round_trip_and_table(tmp_path):
    rng = np.random.default_rng(7)
    genome = grow_genome(5, 1, 25, rng)
    net = compile_genome(genome)
    tuned = {int(i): float(w) for i, w in zip(net.conn_innov, rng.uniform(-2, 2, net.n_connections))}
    ours = tmp_path / "ours.json"
    save_champion(Champion(genome, SWINGUP, [1.0], [0.0], 0.0, 1, net.n_connections, 3, 0, tuned), ours)

    proc = convert(ours, "--to-reference", "-o", tmp_path / "ref.out", "--tuned-out", tmp_path / "p.json",
                   "--weight-bias", "-1.5")
    assert proc.returncode == 0, proc.stderr
    matrix = read_reference_matrix(tmp_path / "ref.out")
    assert matrix.shape == (len(genome.node_id), len(genome.node_id) + 1)
    params = json.loads((tmp_path / "p.json").read_text())[0]
    assert len(params) == genome.n_enabled

    proc = convert(tmp_path / "ref.out", "--task", SWINGUP, "--tuned", tmp_path / "p.json", "--weight-bias", "-1.5",
                   "--episodes", "2", "-o", tmp_path / "back.json")
    assert proc.returncode == 0, proc.stderr
    back = load_champion(tmp_path / "back.json")
    assert back.connections == net.n_connections and len(back.reward_per_weight) == 6
    inputs = rng.normal(size=(20, 5))
    assert_allclose(forward(compile_genome(back.genome, back.conn_weights), inputs, [1.0]),
                    forward(compile_genome(genome, tuned), inputs, [1.0]), rtol=1e-12, atol=1e-12)

    # a converted champion goes through the four-row table like any other
    table = subprocess.run([sys.executable, "-m", "wann.evaluate", tmp_path / "back.json", "--table",
                            "--episodes", "3", "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert table.returncode == 0, table.stderr
    assert "tuned individual weights" in table.stdout and "not tuned" not in table.stdout


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    n = float("nan")
    # bias, five inputs, one output (swing-up's sizes): every input and the bias feed the output
    ok = [[0] * 6 + [1, 1] for _ in range(6)] + [[0] * 7 + [1]]
    good = write_matrix(tmp_path / "good.out", ok)
    square = tmp_path / "square.out"
    square.write_text("\n".join(",".join("0" for _ in range(7)) for _ in range(7)))
    ragged = tmp_path / "ragged.out"
    ragged.write_text("0,0,1\n0,0\n")
    # nodes: bias, 5 inputs, hidden 6, hidden 7, output 8; 6 -> 7 -> 6 is a cycle
    cyc = [[0] * 10 for _ in range(9)]
    cyc[1][6] = 1
    cyc[6][7] = 1
    cyc[7][6] = 1
    cyc[7][8] = 1
    for row in cyc:
        row[-1] = 1
    act = [row[:] for row in ok]
    act[0][-1] = 11
    params = tmp_path / "params.json"
    params.write_text(json.dumps([[0.1, 0.2, 0.3], 900]))
    return {
        "shape": ([square, "--task", SWINGUP], "expected N x (N + 1)"),
        "ragged": ([ragged, "--task", SWINGUP], "rows have different lengths"),
        "cycle": ([write_matrix(tmp_path / "cycle.out", cyc), "--task", SWINGUP], "cycle"),
        "activation": ([write_matrix(tmp_path / "act.out", act), "--task", SWINGUP], "activation id 11"),
        "params": ([good, "--task", SWINGUP, "--tuned", params, "--weight-bias", "-1.5"],
                   "3 params, but the topology has 6 enabled connections"),
        "too_small": ([good, "--task", "wann/Digits-v0"], "the task needs at least"),
        "no_bias": ([good, "--task", SWINGUP, "--tuned", params], "needs --weight-bias"),
        "missing": ([tmp_path / "nope.out", "--task", SWINGUP], "cannot read"),
        "nan_activation": ([write_matrix(tmp_path / "nanact.out", [r[:-1] + [n] for r in ok]), "--task", SWINGUP],
                           "activation id nan"),
    }


@pytest.mark.parametrize("case", ["shape", "ragged", "cycle", "activation", "params", "too_small", "no_bias",
                                  "missing", "nan_activation"])
def test_bad_files_give_one_line_and_exit_2(tmp_path, case):
    args, words = _bad_inputs(tmp_path)[case]
    out = tmp_path / "out.json"
    proc = convert(*args, "-o", out)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert words in lines[0], lines[0]
    assert not out.exists()
