"""``python -m wann.prune`` end to end, in a subprocess: outputs on a tiny config, exit 2 on bad input."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

try:  # tests/ on sys.path (pytest's default rootdir-relative import)
    from test_prune_dense import write_idx, write_mnist
except ImportError:  # tests as a package
    from tests.test_prune_dense import write_idx, write_mnist
from wann.prune.config import config_from_dict
from wann.prune.report import COLUMNS
from wann.prune.runner import run

pytestmark = pytest.mark.slow  # whole runs through the command line

TINY = {
    "train": {"epochs": 2, "finetune_epochs": 1},
    "prune": {"compressions": [4, 32]},
    "methods": ["magnitude_trained", "lottery_ticket", "ticket_reinit", {"preset": "synflow", "iterations": 5}],
}


def prune_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "wann.prune", *map(str, args)], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=env)


def _config(tmp_path: Path, data: dict, name: str = "tiny.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def _champion(tmp_path: Path, name: str, **data) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"format": "wann-champion", "task": "digits", **data}))
    return path


def test_end_to_end_writes_csv_plot_and_table(tmp_path):
    champ = _champion(tmp_path, "champ.json", connections=150, test_metrics={
        "accuracy_mean": 0.5, "accuracy_best": 0.6, "accuracy_ensemble": 0.62, "accuracy_tuned": 0.8})
    champ2 = _champion(tmp_path, "champ2.json", connections=90, test_metrics={
        "accuracy_mean": 0.4, "accuracy_best": 0.5, "accuracy_ensemble": 0.5})
    out = tmp_path / "out"
    result = prune_cli(_config(tmp_path, TINY), "--out", out, "--seed", 3, "--wann", champ, champ2)
    assert result.returncode == 0, result.stderr
    with (out / "results.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0].keys()) == COLUMNS
    assert rows[0]["method"] == "dense" and float(rows[0]["density"]) == 1.0
    body = rows[1:]
    assert len(body) == 4 * 2  # one row per method x density
    assert {(r["method"], round(1 / float(r["target_density"]))) for r in body} == {
        (m, c) for m in ("magnitude_trained", "lottery_ticket", "ticket_reinit", "synflow") for c in (4, 32)}
    for r in body:
        assert float(r["compression"]) == pytest.approx(1 / float(r["target_density"]), rel=0.01)
        assert int(r["effective_connections"]) <= int(r["nonzero_weights"])
        assert 0.0 <= float(r["shared_accuracy_mean"]) <= float(r["shared_accuracy_best"]) <= 1.0
        assert r["collapsed"] in ("true", "false")
    png = (out / "accuracy_vs_connections.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert (out / "config.yaml").exists() and (out / "dense.npz").exists() and (out / "masks.npz").exists()
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["run"]["seed"] == 3 and resolved["wann_champions"] == [str(champ), str(champ2)]
    # a progress line per method/density, and the final table
    assert result.stdout.count("/8 ") == 8
    assert "first layer collapse:" in result.stdout and "eff.conn" in result.stdout


def test_default_output_folder(tmp_path):
    config = _config(tmp_path, {**TINY, "methods": ["random"], "prune": {"compressions": [2]}}, "prune_tiny.yaml")
    result = prune_cli(config, "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    folders = list((tmp_path / "results" / "prune_tiny").iterdir())
    assert len(folders) == 1 and folders[0].name.endswith("-seed0")
    assert (folders[0] / "results.csv").exists() and (folders[0] / "accuracy_vs_connections.png").exists()


def test_mnist_from_small_idx_files(tmp_path):
    folder = write_mnist(tmp_path / "mnist", n_train=60, n_test=30)
    config = _config(tmp_path, {
        "data": {"name": "mnist", "path": str(folder)}, "model": {"layers": [16, 12, 3]},
        "train": {"epochs": 2}, "prune": {"compressions": [2]}, "methods": ["snip", "obd"],
    })
    result = prune_cli(config, "--out", tmp_path / "out", "--quiet")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((tmp_path / "out" / "results.csv").open()))
    assert [r["method"] for r in rows] == ["dense", "snip", "obd"]


def test_same_seed_same_masks_and_rows():
    config = config_from_dict({**TINY, "methods": ["lottery_ticket", "snip", "random"], "run": {"seed": 11}})
    a = run(config, say=lambda s: None)
    b = run(config, say=lambda s: None)
    assert a.masks.keys() == b.masks.keys()
    for key in a.masks:
        assert all(np.array_equal(x, y) for x, y in zip(a.masks[key], b.masks[key]))
    assert a.rows == b.rows
    config.run.seed = 12
    c = run(config, say=lambda s: None)
    assert any(not np.array_equal(x, y) for key in a.masks for x, y in zip(a.masks[key], c.masks[key]))


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("change, expected", [
    ({"prune": {"densities": [1.5]}}, "prune.densities: 1.5: every value must lie in (0, 1]"),
    ({"prune": {"densities": [0.0]}}, "prune.densities: 0.0: every value must lie in (0, 1]"),
    ({"prune": {"densities": [-0.2]}}, "prune.densities: -0.2: every value must lie in (0, 1]"),
    ({"methods": ["magnitude_trained", "lotery_ticket"]}, "methods[1]: 'lotery_ticket': unknown method (did you mean 'lottery_ticket'?)"),
    ({"methods": [{"criterion": "synflw"}]}, "methods[0].criterion: 'synflw': allowed:"),
    ({"model": {"layers": [784, 300, 100, 10]}}, "model.layers: [784, 300, 100, 10]: must start with the 64 input features"),
    ({"model": {"layers": [64, 300, 100, 2]}}, "and end with its 10 classes"),
    ({"train": {"epochz": 2}}, "train.epochz: unknown key (did you mean 'epochs'?)"),
])
def test_bad_config_exits_2_with_one_line(tmp_path, change, expected):
    data = {**TINY, **change}
    line = _one_line_error(prune_cli(_config(tmp_path, data), "--out", tmp_path / "out"))
    assert line.startswith(f"error: {tmp_path / 'tiny.yaml'}: ")
    assert expected in line


@pytest.mark.parametrize("broken, expected", [
    ("magic", "not an IDX file: wrong magic number"),
    ("truncated", "truncated IDX file"),
])
def test_bad_idx_file_exits_2_with_one_line(tmp_path, broken, expected):
    folder = write_mnist(tmp_path / "mnist")
    images = folder / "train-images-idx3-ubyte"
    x = np.zeros((40, 4, 4), dtype=np.uint8)
    if broken == "magic":
        write_idx(images, x, magic=b"\x00\x00\x08\x07")  # 7 dimensions but a 3-D header follows
        images.write_bytes(b"\x12\x34" + images.read_bytes()[2:])
    else:
        write_idx(images, x, cut=100)
    config = _config(tmp_path, {**TINY, "data": {"name": "mnist", "path": str(folder)},
                                "model": {"layers": [16, 8, 3]}})
    line = _one_line_error(prune_cli(config, "--out", tmp_path / "out"))
    assert str(images) in line and expected in line


def test_champion_without_test_metrics_exits_2_before_running(tmp_path):
    champ = _champion(tmp_path, "swingup.json", connections=40)
    line = _one_line_error(prune_cli(_config(tmp_path, TINY), "--out", tmp_path / "out", "--wann", champ))
    assert str(champ) in line and 'no "test_metrics"' in line
    assert not (tmp_path / "out").exists()


def test_missing_config_and_bad_seed_exit_2(tmp_path):
    assert "cannot read config" in _one_line_error(prune_cli(tmp_path / "nope.yaml"))
    line = _one_line_error(prune_cli(_config(tmp_path, TINY), "--seed", "-1"))
    assert "--seed: -1: must be >= 0" in line
