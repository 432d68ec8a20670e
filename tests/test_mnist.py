"""MNIST 16x16: IDX files the tests write, preprocessing by hand, the fitness batch, downloads, the CLI."""
from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import re
import threading
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT, grow_genome, run_cli
from numpy.testing import assert_allclose, assert_array_equal

from wann.engine.config import load_config
from wann.engine.classify import classification_metrics
from wann.engine.evaluator import Evaluator, make_backend
from wann.engine.network import compile_genome
from wann.tasks import resolve_task
from wann.tasks.builtin.mnist import MNIST_TASK_NAME, batch_indices, load_data
from wann.tasks.mnist_data import (
    IMAGE_MAGIC,
    LABEL_MAGIC,
    MNIST_FILES,
    deskew,
    download_mnist,
    load_mnist,
    preprocess,
    read_idx,
    resize,
    resize_matrix,
    skew_of,
)

N_TRAIN, N_TEST = 1200, 200


# ---- small IDX files ------------------------------------------------------------------


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """The IDX encoding of a uint8 array: magic number, big-endian dimensions, data."""
    array = np.asarray(array, dtype=np.uint8)
    return magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape) + array.tobytes()


def synthetic_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """28x28 images whose class k is a bright 6x6 square at its own place, plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        r, c = 2 + 9 * (int(k) // 4), 2 + 6 * (int(k) % 4)
        images[i, r:r + 6, c:c + 6] = 255
    return images, labels


def write_mnist(folder: Path, gz: bool = True, n_train: int = N_TRAIN, n_test: int = N_TEST) -> Path:
    """The four files of a small synthetic MNIST in ``folder`` (gzipped under the standard names)."""
    folder.mkdir(parents=True, exist_ok=True)
    x_train, y_train = synthetic_digits(n_train, 1)
    x_test, y_test = synthetic_digits(n_test, 2)
    arrays = {"train_images": x_train, "train_labels": y_train, "test_images": x_test, "test_labels": y_test}
    for role, name in MNIST_FILES.items():
        data = idx_bytes(arrays[role], IMAGE_MAGIC if role.endswith("images") else LABEL_MAGIC)
        if gz:
            (folder / name).write_bytes(gzip.compress(data, mtime=0))
        else:
            (folder / name[:-3]).write_bytes(data)
    return folder


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory) -> Path:
    return write_mnist(tmp_path_factory.mktemp("mnist"))


def test_idx_round_trip_gzipped_or_not(tmp_path):
    gz = load_mnist(write_mnist(tmp_path / "gz", n_train=30, n_test=10))
    raw = load_mnist(write_mnist(tmp_path / "raw", gz=False, n_train=30, n_test=10))
    x, y = synthetic_digits(30, 1)
    assert_array_equal(gz.train_images, x)
    assert_array_equal(gz.train_labels, y)
    for role in MNIST_FILES:
        assert_array_equal(getattr(gz, role), getattr(raw, role))


@pytest.mark.parametrize("damage, message", [
    ("missing", "missing"),
    ("truncated", "truncated"),
    ("magic", "wrong magic number 0x00000801"),
    ("count", "labels for"),
])
def test_bad_files_give_one_line(tmp_path, damage, message):
    folder = write_mnist(tmp_path / "m", gz=False, n_train=20, n_test=10)
    images = folder / "train-images-idx3-ubyte"
    if damage == "missing":
        images.unlink()
    elif damage == "truncated":
        images.write_bytes(images.read_bytes()[:-100])
    elif damage == "magic":  # a labels file where the images belong
        images.write_bytes((folder / "train-labels-idx1-ubyte").read_bytes())
    else:
        (folder / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(19), LABEL_MAGIC))
    with pytest.raises(ValueError, match=message) as info:
        load_mnist(folder)
    assert "\n" not in str(info.value) and str(folder) in str(info.value)


def test_read_idx_rejects_trailing_bytes_and_short_header(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(idx_bytes(np.zeros(4), LABEL_MAGIC) + b"\x00")
    with pytest.raises(ValueError, match="1 bytes after the data"):
        read_idx(path, LABEL_MAGIC)
    path.write_bytes(LABEL_MAGIC.to_bytes(4, "big") + b"\x00\x00")
    with pytest.raises(ValueError, match="header needs 8 bytes"):
        read_idx(path, LABEL_MAGIC)


# ---- preprocessing against hand computations ---------------------------------------------


def test_resize_by_hand():
    # 4 -> 2: output d samples input 2d + 0.5, the mean of pixels 2d and 2d + 1.
    image = np.arange(16, dtype=np.float64).reshape(1, 4, 4)
    expected = [[(0 + 1 + 4 + 5) / 4, (2 + 3 + 6 + 7) / 4], [(8 + 9 + 12 + 13) / 4, (10 + 11 + 14 + 15) / 4]]
    assert_allclose(resize(image, 2)[0], expected, rtol=0, atol=1e-12)
    # 3 -> 2: samples at 0.25 and 1.75; 4 -> 3: at 1/6, 1.5 and 17/6.
    assert_allclose(resize_matrix(3, 2), [[0.75, 0.25, 0], [0, 0.25, 0.75]], atol=1e-12)
    assert_allclose(resize_matrix(4, 3), [[5 / 6, 1 / 6, 0, 0], [0, 0.5, 0.5, 0], [0, 0, 1 / 6, 5 / 6]], atol=1e-12)
    # 2 -> 4 clamps the samples outside the image: -0.25 -> 0 and 1.25 -> 1.
    assert_allclose(resize_matrix(2, 4), [[1, 0], [0.75, 0.25], [0.25, 0.75], [0, 1]], atol=1e-12)


def test_deskew_by_hand():
    # Pixels at (row 1, col 1) and (row 3, col 2): centroid (2, 1.5), mu11 = 0.5 + 0.5 = 1, mu02 = 1 + 1 = 2,
    # skew 0.5. Row y samples column x + 0.5 (y - 2): row 1 at x - 0.5, row 3 at x + 0.5.
    image = np.zeros((1, 4, 4))
    image[0, 1, 1] = image[0, 3, 2] = 1.0
    assert skew_of(image)[0] == 0.5
    expected = np.zeros((4, 4))
    expected[1, 1] = expected[1, 2] = 0.5  # 0.5 * in[1, 0] + 0.5 * in[1, 1]; 0.5 * in[1, 1] + 0.5 * in[1, 2]
    expected[3, 1] = expected[3, 2] = 0.5  # 0.5 * in[3, 1] + 0.5 * in[3, 2]; 0.5 * in[3, 2] + 0.5 * in[3, 3]
    assert_allclose(deskew(image)[0], expected, rtol=0, atol=1e-12)
    # A whole-pixel shear: a diagonal (0, 0), (2, 2) has skew 1 and becomes the column x = 2.
    diagonal = np.zeros((1, 4, 4))
    diagonal[0, 0, 0] = diagonal[0, 2, 2] = 1.0
    upright = np.zeros((4, 4))
    upright[0, 2] = upright[2, 2] = 1.0
    assert_allclose(deskew(diagonal)[0], upright, atol=1e-12)
    # Nearly flat images (|mu02| < 1e-2) and empty ones are left as they are.
    flat = np.zeros((2, 4, 4))
    flat[0, 1, :] = 1.0
    assert_array_equal(deskew(flat), flat)


def test_preprocess_orders_compose_the_steps():
    images, _ = synthetic_digits(5, 3)
    scaled = images / 255.0
    assert_allclose(preprocess(images, 16, "deskew_resize"), resize(deskew(scaled), 16).reshape(5, -1), atol=1e-12)
    assert_allclose(preprocess(images, 16, "resize_deskew"), deskew(resize(scaled, 16)).reshape(5, -1), atol=1e-12)
    assert_allclose(preprocess(images, 16, "resize", chunk=2), resize(scaled, 16).reshape(5, -1), atol=1e-12)
    with pytest.raises(ValueError, match="allowed: deskew_resize"):
        preprocess(images, 16, "sideways")


# ---- the task -------------------------------------------------------------------------------


def population(n: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    return [compile_genome(grow_genome(256, 10, 30, rng)) for _ in range(n)]


def reference_loss(network, x, y, weights) -> np.ndarray:
    """Plain numpy: mean softmax cross-entropy per weight."""
    from wann.engine.network import forward

    out = forward(network, x, weights)
    z = out - out.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return -logp[:, np.arange(len(y)), y].mean(axis=1)


def test_fitness_batch_is_the_same_for_every_genome(mnist_dir):
    task = resolve_task({"name": MNIST_TASK_NAME, "kwargs": {"path": str(mnist_dir), "batch_size": 100}})
    nets = population(6, seed=4)
    nets = nets + nets[:2]  # duplicates land in other shards and must score the same
    weights = [-1.0, 0.5, 2.0]
    seeds = np.array([11, 12])
    with Evaluator(task, weights, make_backend("processes", 2)) as ev:
        rewards = ev.evaluate(nets, seeds).rewards
    assert rewards.shape == (8, 3, 2)
    assert_array_equal(rewards[6:], rewards[:2])
    data = load_data(str(mnist_dir), "deskew_resize")
    for r, seed in enumerate(seeds):
        idx = batch_indices(seed, N_TRAIN, 100)
        assert len(np.unique(idx)) == 100
        for g, net in enumerate(nets):
            assert_allclose(-rewards[g, :, r], reference_loss(net, data.x_train[idx], data.y_train[idx], weights),
                            rtol=1e-10)
    assert not np.array_equal(batch_indices(11, N_TRAIN, 100), batch_indices(12, N_TRAIN, 100))
    # a batch larger than the training set is the whole set
    assert_array_equal(batch_indices(5, N_TRAIN, 5000), np.arange(N_TRAIN))


def test_champion_accuracy_is_computed_on_the_test_files(mnist_dir):
    task = resolve_task({"name": MNIST_TASK_NAME, "kwargs": {"path": str(mnist_dir)}})
    net = population(1, seed=9)[0]
    weights = [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0]
    metrics = task.champion_metrics(net, weights)
    raw = load_mnist(mnist_dir)
    x_test = preprocess(raw.test_images)
    expected = classification_metrics(net, x_test, raw.test_labels.astype(np.int64), weights)
    assert metrics["n_test"] == N_TEST
    assert metrics["accuracy_per_weight"] == expected["accuracy_per_weight"]
    assert metrics["accuracy_ensemble"] == expected["accuracy_ensemble"]
    assert metrics["accuracy_mean"] == pytest.approx(np.mean(expected["accuracy_per_weight"]))


@pytest.mark.parametrize("kwargs, message", [
    ({}, "task.kwargs.path: None"),
    ({"path": "PATH", "bach_size": 10}, "task.kwargs.bach_size: unknown option of wann/MNIST16-v0 (did you mean 'batch_size'?)"),
    ({"path": "PATH", "batch_size": 0}, "task.kwargs.batch_size: 0: must be an integer >= 1"),
    ({"path": "PATH", "preprocess": "deskew"}, "task.kwargs.preprocess: 'deskew': allowed"),
    ({"path": "NOWHERE"}, "not a folder"),
])
def test_bad_task_options(mnist_dir, kwargs, message):
    kwargs = {k: (str(mnist_dir) if v == "PATH" else v) for k, v in kwargs.items()}
    with pytest.raises(ValueError, match=re.escape(message)):
        resolve_task({"name": MNIST_TASK_NAME, "kwargs": kwargs})


# ---- the command lines ------------------------------------------------------------------------


@pytest.mark.slow
def test_mnist_small_config_runs_end_to_end(mnist_dir, tmp_path):
    run = tmp_path / "run"
    kwargs = f"task.kwargs={{path: '{mnist_dir}'}}"
    proc = run_cli("configs/mnist_small.yaml", "--set", kwargs, "--set", "search.generations=4",
                   "--set", "search.pop_size=16", "--workers", "2", "--out", str(run), "--quiet")
    assert proc.returncode == 0, proc.stderr
    champion = json.loads((run / "champion.json").read_text())
    assert champion["task"] == MNIST_TASK_NAME
    assert champion["task_spec"]["kwargs"]["path"] == str(mnist_dir)
    metrics = champion["test_metrics"]
    assert metrics["n_test"] == N_TEST and len(metrics["accuracy_per_weight"]) == 6
    assert 0.0 <= metrics["accuracy_ensemble"] <= 1.0
    # the tools rebuild the task (and find the data) from the champion file alone
    proc = run_cli(str(run / "champion.json"), "--episodes", "2", module="wann.evaluate")
    assert proc.returncode == 0, proc.stderr
    assert "wann/MNIST16-v0" in proc.stdout
    # both shipped configs load once given a data folder
    for name in ("mnist", "mnist_small"):
        config = load_config(ROOT / "configs" / f"{name}.yaml", [kwargs])
        assert config.task.name == MNIST_TASK_NAME
    assert load_config(ROOT / "configs" / "mnist.yaml", [kwargs]).search.pop_size == 960


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["missing", "truncated", "magic"])
def test_search_with_bad_files_stops_before_writing(tmp_path, damage):
    folder = write_mnist(tmp_path / "m", gz=False, n_train=20, n_test=10)
    labels = folder / "t10k-labels-idx1-ubyte"
    if damage == "missing":
        labels.unlink()
    elif damage == "truncated":
        labels.write_bytes(labels.read_bytes()[:12])
    else:
        labels.write_bytes(b"\x00\x00\x08\x03" + labels.read_bytes()[4:])
    run = tmp_path / "run"
    proc = run_cli("configs/mnist_small.yaml", "--set", f"task.kwargs={{path: '{folder}'}}", "--out", str(run))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: configs/mnist_small.yaml:") and str(labels) in lines[0]
    assert not run.exists()
    check = run_cli("mnist", "--path", str(folder), module="wann.data")
    assert check.returncode == 2 and len(check.stderr.strip().splitlines()) == 1 and str(labels) in check.stderr


@pytest.mark.slow
def test_data_tool_verifies_a_folder(mnist_dir):
    proc = run_cli("mnist", "--path", str(mnist_dir), module="wann.data")
    assert proc.returncode == 0, proc.stderr
    assert "1200x28x28 train images, not the standard file's bytes (structure ok)" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1].startswith("ok: ")


def test_verify_recognises_the_standard_bytes(mnist_dir, tmp_path, monkeypatch):
    import wann.tasks.mnist_data as mnist_data

    sums = {name: hashlib.sha256((mnist_dir / name).read_bytes()).hexdigest() for name in MNIST_FILES.values()}
    monkeypatch.setattr(mnist_data, "STANDARD_SHA256", sums)  # pretend the test files are the standard ones
    assert all(r.standard and r.line().endswith("standard file (sha256 ok)") for r in mnist_data.verify_mnist(mnist_dir))
    raw = write_mnist(tmp_path / "raw", gz=False, n_train=20, n_test=10)
    assert all(r.standard is None for r in mnist_data.verify_mnist(raw))


# ---- downloads from a loopback server ---------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def do_GET(self):  # noqa: N802 (http.server's name)
        kind, _, name = self.path.strip("/").partition("/")
        body = self.files.get(name)
        if body is None:
            self.send_error(404)
            return
        if kind == "bad":
            body = body[:-1] + bytes([body[-1] ^ 1])
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if kind == "cut":  # promise every byte, send half, hang up
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def server(tmp_path):
    source = write_mnist(tmp_path / "source", n_train=300, n_test=50)
    _Handler.files = {p.name: p.read_bytes() for p in source.iterdir()}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    sums = tmp_path / "SHA256SUMS"
    sums.write_text("".join(f"{hashlib.sha256(b).hexdigest()}  {n}\n" for n, b in sorted(_Handler.files.items())))
    yield f"http://127.0.0.1:{httpd.server_address[1]}", sums, _Handler.files
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.slow
def test_download_fetches_checks_and_skips_present_files(server, tmp_path):
    url, sums, files = server
    dest = tmp_path / "data"
    proc = run_cli("mnist", "--path", str(dest), "--download", "--url", url + "/good/", "--checksums", str(sums),
                   module="wann.data")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in dest.iterdir()) == sorted(files)
    for name, body in files.items():
        assert (dest / name).read_bytes() == body
    assert "100% " in proc.stderr  # the progress bar reached the end
    assert "300x28x28 train images" in proc.stdout
    # a second run finds every file present with the right checksum and fetches nothing
    again = download_mnist(dest, url + "/bad/", {n: hashlib.sha256(b).hexdigest() for n, b in files.items()})
    assert again == []


@pytest.mark.slow
@pytest.mark.parametrize("kind, message", [("bad", "sha256 mismatch"), ("cut", "transfer interrupted")])
def test_failed_download_leaves_nothing(server, tmp_path, kind, message):
    url, sums, _files = server
    dest = tmp_path / "data"
    proc = run_cli("mnist", "--path", str(dest), "--download", "--url", f"{url}/{kind}/", "--checksums", str(sums),
                   module="wann.data")
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0] and "nothing kept" in errors[0]
    assert "Traceback" not in proc.stderr
    assert list(dest.iterdir()) == []  # no file, no .part


@pytest.mark.slow
def test_checksum_file_must_list_every_file(tmp_path):
    sums = tmp_path / "sums"
    sums.write_text("0" * 64 + "  train-images-idx3-ubyte.gz\n")
    proc = run_cli("mnist", "--path", str(tmp_path / "d"), "--download", "--checksums", str(sums), module="wann.data")
    assert proc.returncode == 2 and "no checksum for train-labels-idx1-ubyte.gz" in proc.stderr
