"""The numpy MLP: gradients, masks that stay applied, npz checkpoints, determinism; and the data loaders."""
from __future__ import annotations

import gzip
import struct
import sys
import zipfile

import numpy as np
import pytest

from wann.errors import UserError
from wann.prune.data import (
    balanced_batch,
    load_dataset,
    load_digits,
    load_mnist,
    read_idx,
    stratified_split,
)
from wann.prune.dense import MLP, SGD, Adam, TrainSettings, cross_entropy, load_mlp, save_mlp, train
from wann.prune.select import select
from wann.prune.threads import single_threaded_blas


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with single_threaded_blas():
        yield


def _toy(n=120, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5).astype(np.int64)
    return x.astype(np.float64), y % k


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_gradients_match_finite_differences(activation):
    x, y = _toy()
    net = MLP([6, 5, 4, 3], activation, "glorot_uniform", seed=1, dtype=np.float64)
    for layer in net.layers:
        layer.bias = np.random.default_rng(5).normal(size=layer.bias.shape) * 0.1
    _, gw, gb = net.gradients(x, y)
    rng = np.random.default_rng(0)
    for l, layer in enumerate(net.layers):
        for _ in range(4):
            i, j = rng.integers(layer.shape[0]), rng.integers(layer.shape[1])
            old = layer.weight[i, j]
            layer.weight[i, j] = old + 1e-6
            up = cross_entropy(net.logits(x), y)
            layer.weight[i, j] = old - 1e-6
            down = cross_entropy(net.logits(x), y)
            layer.weight[i, j] = old
            assert gw[l][i, j] == pytest.approx((up - down) / 2e-6, rel=1e-4, abs=1e-8)
        old = layer.bias[0]
        layer.bias[0] = old + 1e-6
        up = cross_entropy(net.logits(x), y)
        layer.bias[0] = old - 1e-6
        down = cross_entropy(net.logits(x), y)
        layer.bias[0] = old
        assert gb[l][0] == pytest.approx((up - down) / 2e-6, rel=1e-4, abs=1e-8)


def test_init_schemes_have_the_right_scale():
    for init, std in (("he_normal", np.sqrt(2 / 300)), ("glorot_normal", np.sqrt(2 / 400)),
                      ("he_uniform", np.sqrt(2 / 300)), ("glorot_uniform", np.sqrt(2 / 400))):
        w = MLP([300, 100, 10], init=init, seed=0).layers[0].weight
        assert w.std() == pytest.approx(std, rel=0.03)


def _pruned_net(seed=0, optimizer="adam"):
    x, y = _toy(200, 6, 3, seed)
    net = MLP([6, 16, 8, 3], seed=seed, dtype=np.float64)
    rng = np.random.default_rng(seed)
    net.set_masks(select([rng.random(s) for s in net.shapes], 0.4, scope="layer", rng=rng))
    return net, x, y


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_mask_stays_applied_to_weights_gradients_and_moments(optimizer, tmp_path):
    net, x, y = _pruned_net(optimizer=optimizer)
    pruned = [~m for m in net.masks]
    opt = Adam(net, lr=0.05, weight_decay=0.1) if optimizer == "adam" else SGD(net, lr=0.1, momentum=0.9, weight_decay=0.1)
    for step in range(50):
        _, gw, gb = net.gradients(x, y)
        assert any(np.any(g[p] != 0) for g, p in zip(gw, pruned))  # raw gradients of pruned weights are not zero...
        opt.step(net, gw, gb)
        for l, p in enumerate(pruned):
            assert np.all(net.layers[l].weight[p] == 0.0)  # ...but weights stay exactly zero
            assert np.all(gw[l][p] == 0.0)  # the gradients were masked in place
            if optimizer == "adam":
                assert np.all(opt.m_w[l][p] == 0.0) and np.all(opt.v_w[l][p] == 0.0)
            else:
                assert np.all(opt.buf_w[l][p] == 0.0)
    # live weights did train
    assert any(np.any(layer.weight[m] != layer.weight_init[m]) for layer, m in zip(net.layers, net.masks))
    # through the training loop too, then an npz round trip
    train(net, x, y, TrainSettings(optimizer=optimizer, lr=0.05, batch_size=32, epochs=5, weight_decay=0.1), seed=3)
    assert all(np.all(layer.weight[p] == 0.0) for layer, p in zip(net.layers, pruned))
    path = tmp_path / "net.npz"
    save_mlp(net, path)
    with zipfile.ZipFile(path) as z:  # plain arrays: loadable without pickle
        assert all(name.endswith(".npy") for name in z.namelist())
    back = load_mlp(path)
    for a, b, p in zip(net.layers, back.layers, pruned):
        assert np.array_equal(a.weight, b.weight) and np.array_equal(a.mask, b.mask)
        assert np.array_equal(a.weight_init, b.weight_init) and np.array_equal(a.bias, b.bias)
        assert np.all(b.weight[p] == 0.0)
    assert back.sizes == net.sizes and back.activations == net.activations
    # training the loaded net keeps the zeros as well
    train(back, x, y, TrainSettings(lr=0.05, batch_size=32, epochs=3), seed=4)
    assert all(np.all(layer.weight[p] == 0.0) for layer, p in zip(back.layers, pruned))


def test_weight_at_step_k_saved_and_rewind(tmp_path):
    x, y = _toy(100)
    net = MLP([6, 8, 3], seed=0, dtype=np.float64)
    settings = TrainSettings(batch_size=25, epochs=3)  # 4 steps per epoch
    reference = net.copy()
    train(reference, x, y, settings, seed=1, end_step=5)
    train(net, x, y, settings, seed=1, save_step=5)
    assert net.step_k == 5
    for a, b in zip(net.layers, reference.layers):
        assert np.array_equal(a.weight_at_step_k, b.weight) and np.array_equal(a.bias_at_step_k, b.bias)
    save_mlp(net, tmp_path / "k.npz")
    back = load_mlp(tmp_path / "k.npz")
    assert back.step_k == 5
    back.rewind("step_k")
    assert all(np.array_equal(a.weight, b.weight) for a, b in zip(back.layers, reference.layers))
    # resuming from step 5 reproduces the uninterrupted run (same data order) up to the fresh optimizer
    back.rewind("init")
    assert all(np.array_equal(l.weight, l.weight_init) and not l.bias.any() for l in back.layers)


def test_same_seed_same_training_and_masks():
    x, y = _toy(150)
    nets = []
    for _ in range(2):
        net = MLP([6, 12, 3], seed=7)
        train(net, x.astype(np.float32), y, TrainSettings(batch_size=16, epochs=4), seed=7)
        nets.append(net)
    assert all(np.array_equal(a.weight, b.weight) for a, b in zip(nets[0].layers, nets[1].layers))
    other = MLP([6, 12, 3], seed=8)
    assert not np.array_equal(other.layers[0].weight_init, nets[0].layers[0].weight_init)


def test_load_rejects_other_files(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(UserError, match="not a wann.prune network file"):
        load_mlp(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError):
        load_mlp(tmp_path / "junk.npz")


# ---- data ----------------------------------------------------------------------


def test_stratified_split_is_seeded_and_stratified():
    y = np.repeat(np.arange(4), [10, 20, 30, 40])
    train_a, test_a = stratified_split(y, 0.25, np.random.default_rng(0))
    train_b, test_b = stratified_split(y, 0.25, np.random.default_rng(0))
    assert np.array_equal(test_a, test_b) and np.array_equal(train_a, train_b)
    assert np.bincount(y[test_a]).tolist() == [2, 5, 8, 10]  # round(0.25 * n_c) per class (2.5 rounds to 2)
    assert len(np.intersect1d(train_a, test_a)) == 0 and len(train_a) + len(test_a) == len(y)
    _, test_c = stratified_split(y, 0.25, np.random.default_rng(1))
    assert not np.array_equal(test_a, test_c)


def test_digits_loader():
    d = load_digits()  # the WANN digits task's split: round(0.25 * n_c) per class, default_rng(2019)
    assert d.x_train.shape == (1347, 64) and d.x_test.shape == (450, 64)
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    _, test = stratified_split(bunch.target, 0.25, np.random.default_rng(2019))
    assert np.array_equal(d.y_test, bunch.target[test]) and np.allclose(d.x_test, bunch.data[test] / 16)
    assert d.n_classes == 10 and d.x_train.dtype == np.float32
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    assert np.bincount(d.y_test).min() >= 35
    again = load_digits()
    assert np.array_equal(again.x_test, d.x_test)
    other = load_digits(0.2, split_seed=0)
    assert other.x_test.shape == (359, 64) and not np.array_equal(other.y_test[:50], d.y_test[:50])
    batch = balanced_batch(d.y_train, 10, np.random.default_rng(0))
    assert np.bincount(d.y_train[batch]).tolist() == [10] * 10


def test_digits_without_scikit_learn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(UserError) as info:
        load_digits()
    assert 'pip install -e ".[datasets]"' in str(info.value) and "\n" not in str(info.value)


def write_idx(path, array, code=0x08, gz=False, cut=0, magic=None):
    """Write ``array`` as an IDX file (optionally gzipped, truncated by ``cut`` bytes, or with another magic)."""
    dtype = {0x08: ">u1", 0x0B: ">i2", 0x0D: ">f4"}[code]
    head = magic if magic is not None else bytes([0, 0, code, array.ndim])
    raw = head + struct.pack(f">{array.ndim}I", *array.shape) + np.asarray(array, dtype=dtype).tobytes()
    if cut:
        raw = raw[:-cut]
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def write_mnist(folder, n_train=40, n_test=20, side=4, classes=3, seed=0, gz=False):
    """A tiny MNIST-shaped data set in the four standard IDX files."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        y = np.arange(n) % classes
        x = (rng.random((n, side, side)) * 60).astype(np.uint8)
        x[np.arange(n), y, 0] = 250  # a learnable pixel per class
        suffix = ".gz" if gz else ""
        write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", x, gz=gz)
        write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", y.astype(np.uint8), gz=gz)
    return folder


def test_read_idx_round_trip_types_and_gzip(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(read_idx(write_idx(tmp_path / "a", a)), a)
    assert np.array_equal(read_idx(write_idx(tmp_path / "a.gz", a, gz=True)), a)
    s = np.array([[-3, 300], [7, -1000]])
    assert np.array_equal(read_idx(write_idx(tmp_path / "s", s, code=0x0B)), s)
    f = np.array([0.5, -1.25], dtype=np.float32)
    assert np.array_equal(read_idx(write_idx(tmp_path / "f", f, code=0x0D)), f)


@pytest.mark.parametrize("kind, message", [
    ("magic", "wrong magic number"),
    ("truncated", "truncated IDX file"),
    ("short_header", "truncated IDX file: header"),
    ("tiny", "shorter than the 4-byte magic"),
    ("extra", "bytes after the data"),
])
def test_read_idx_rejects_broken_files(tmp_path, kind, message):
    a = np.zeros((5, 4, 4), dtype=np.uint8)
    path = tmp_path / "bad"
    if kind == "magic":
        write_idx(path, a, magic=b"\x08\x03\x00\x00")
    elif kind == "truncated":
        write_idx(path, a, cut=7)
    elif kind == "short_header":
        path.write_bytes(bytes([0, 0, 8, 3]) + b"\x00\x00\x00\x05")
    elif kind == "tiny":
        path.write_bytes(b"\x00\x00")
    else:
        path.write_bytes(write_idx(tmp_path / "ok", a).read_bytes() + b"xx")
    with pytest.raises(UserError) as info:
        read_idx(path)
    assert message in str(info.value) and str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_loader_on_small_idx_files(tmp_path, gz):
    folder = write_mnist(tmp_path / "mnist", gz=gz)
    d = load_mnist(folder)
    assert d.x_train.shape == (40, 16) and d.x_test.shape == (20, 16) and d.n_classes == 3
    assert d.x_train.dtype == np.float32 and d.x_train.max() <= 1.0
    assert load_mnist(folder, max_train=10).x_train.shape == (10, 16)
    assert load_dataset("mnist", str(folder)).n_features == 16


def test_mnist_loader_errors(tmp_path):
    with pytest.raises(UserError, match="not a folder"):
        load_mnist(tmp_path / "nowhere")
    folder = write_mnist(tmp_path / "m")
    (folder / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(UserError, match="no t10k-labels-idx1-ubyte"):
        load_mnist(folder)
    write_idx(folder / "t10k-labels-idx1-ubyte", np.zeros(7, dtype=np.uint8))
    with pytest.raises(UserError, match="20 images but 7 labels"):
        load_mnist(folder)
    with pytest.raises(UserError, match="data.path is empty"):
        load_dataset("mnist", "")
