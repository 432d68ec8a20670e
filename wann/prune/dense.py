"""A dense MLP in numpy with a boolean mask per layer, and its training loop.

Layer ``l`` holds ``weight`` (shape ``n_l x n_{l-1}``, as in PRUNING.md),
``bias``, a boolean ``mask`` and two saved copies of the weights:
``weight_init`` (at initialisation) and ``weight_at_step_k`` (after ``k``
optimizer steps, the rewind point of lottery tickets). The invariant
``weight == weight * mask`` holds at all times: the optimizers mask the
gradients before the update and the weights and their moments after it.

Hidden layers use the configured activation; the last layer gives logits for
a softmax cross-entropy loss. Randomness comes only from generators derived
from seeds passed in: the same seed gives bit-identical weights and data order.
Checkpoints are ``.npz`` files read with ``allow_pickle=False``.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from wann.engine.losses import cross_entropy, softmax
from wann.errors import UserError

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
INITS = ("he_normal", "he_uniform", "glorot_normal", "glorot_uniform")
OPTIMIZERS = ("adam", "sgd")
FORMAT = "wann-prune-mlp-v1"


# ---- activations ---------------------------------------------------------------


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """Apply the named activation elementwise."""
    if name == "relu":
        return np.maximum(z, 0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 0.5 * (1 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow warnings
    if name == "linear":
        return z
    raise UserError(f"activation: {name!r}: allowed: {', '.join(ACTIVATIONS)}")


def activation_slope(name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Derivative of the activation at pre-activation ``z`` (``a`` is its output)."""
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "tanh":
        return 1 - a * a
    if name == "sigmoid":
        return a * (1 - a)
    if name == "linear":
        return np.ones_like(z)
    raise UserError(f"activation: {name!r}: allowed: {', '.join(ACTIVATIONS)}")


# ---- initialisation ------------------------------------------------------------


def init_weight(shape: tuple[int, int], scheme: str, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """One weight matrix (n_out x n_in) drawn with the named scheme (He or Glorot, normal or uniform)."""
    fan_out, fan_in = shape
    if scheme == "he_normal":
        w = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)
    elif scheme == "he_uniform":
        limit = np.sqrt(6.0 / fan_in)
        w = rng.uniform(-limit, limit, size=shape)
    elif scheme == "glorot_normal":
        w = rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=shape)
    elif scheme == "glorot_uniform":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        w = rng.uniform(-limit, limit, size=shape)
    else:
        raise UserError(f"init: {scheme!r}: allowed: {', '.join(INITS)}")
    return w.astype(dtype)


@dataclass
class Layer:
    """One fully connected layer with its mask and saved weights."""

    weight: np.ndarray  # (n_out, n_in)
    bias: np.ndarray  # (n_out,)
    mask: np.ndarray  # bool (n_out, n_in); weight == weight * mask always
    weight_init: np.ndarray  # weights at initialisation (unmasked)
    weight_at_step_k: np.ndarray | None = None  # weights after k optimizer steps (rewind point)
    bias_at_step_k: np.ndarray | None = None  # biases after k optimizer steps

    @property
    def shape(self) -> tuple[int, int]:
        return self.weight.shape

    def apply_mask(self) -> None:
        """Zero the pruned weights (in place)."""
        self.weight *= self.mask


class MLP:
    """Multi-layer perceptron: ``sizes = [n_in, hidden..., n_classes]``, softmax output."""

    def __init__(self, sizes: Sequence[int], activation: str | Sequence[str] = "relu",
                 init: str = "he_normal", seed: int = 0, dtype=np.float32) -> None:
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise UserError(f"layer sizes: {sizes}: need at least an input and an output size, all >= 1")
        n_hidden = len(sizes) - 2
        acts = [activation] * n_hidden if isinstance(activation, str) else list(activation)
        if len(acts) != n_hidden:
            raise UserError(f"activations: {acts}: need one per hidden layer ({n_hidden})")
        for a in acts:
            if a not in ACTIVATIONS:
                raise UserError(f"activation: {a!r}: allowed: {', '.join(ACTIVATIONS)}")
        if init not in INITS:
            raise UserError(f"init: {init!r}: allowed: {', '.join(INITS)}")
        self.sizes = sizes
        self.activations = acts
        self.init = init
        self.dtype = np.dtype(dtype)
        self.step_k: int | None = None  # the step at which weight_at_step_k was saved
        rng = np.random.default_rng([seed, 1])  # stream 1: initial weights
        self.layers: list[Layer] = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            w = init_weight((n_out, n_in), init, rng, self.dtype)
            self.layers.append(Layer(
                weight=w.copy(), bias=np.zeros(n_out, dtype=self.dtype),
                mask=np.ones((n_out, n_in), dtype=bool), weight_init=w.copy(),
            ))

    # -- views ------------------------------------------------------------------

    @property
    def weights(self) -> list[np.ndarray]:
        """The (masked) weight matrices, one per layer (live references)."""
        return [layer.weight for layer in self.layers]

    @property
    def masks(self) -> list[np.ndarray]:
        """The boolean masks, one per layer (live references)."""
        return [layer.mask for layer in self.layers]

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """Weight shapes (n_out, n_in) per layer."""
        return [layer.shape for layer in self.layers]

    def copy(self) -> "MLP":
        """A deep copy (arrays copied)."""
        other = MLP.__new__(MLP)
        other.sizes = list(self.sizes)
        other.activations = list(self.activations)
        other.init = self.init
        other.dtype = self.dtype
        other.step_k = self.step_k
        other.layers = [
            Layer(l.weight.copy(), l.bias.copy(), l.mask.copy(), l.weight_init.copy(),
                  None if l.weight_at_step_k is None else l.weight_at_step_k.copy(),
                  None if l.bias_at_step_k is None else l.bias_at_step_k.copy())
            for l in self.layers
        ]
        return other

    # -- masks and weights --------------------------------------------------------

    def set_masks(self, masks: Sequence[np.ndarray]) -> None:
        """Install new masks (copied) and zero the pruned weights."""
        if len(masks) != len(self.layers):
            raise UserError(f"masks: got {len(masks)} arrays for {len(self.layers)} layers")
        for layer, m in zip(self.layers, masks):
            if m.shape != layer.shape:
                raise UserError(f"mask shape {m.shape} does not match weight shape {layer.shape}")
            layer.mask = np.asarray(m, dtype=bool).copy()
            layer.apply_mask()

    def set_weights(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray] | None = None) -> None:
        """Overwrite weights (and optionally biases), then re-apply the masks."""
        for l, layer in enumerate(self.layers):
            layer.weight = np.array(weights[l], dtype=self.dtype, copy=True).reshape(layer.shape)
            if biases is not None:
                layer.bias = np.array(biases[l], dtype=self.dtype, copy=True)
            layer.apply_mask()

    def rewind(self, to: str = "init") -> None:
        """Reset weights (masked) and biases to their values at ``init`` (biases zero) or at ``step_k``."""
        for layer in self.layers:
            if to == "init":
                layer.weight = layer.weight_init.astype(self.dtype, copy=True)
                layer.bias = np.zeros_like(layer.bias)
            elif to == "step_k":
                if layer.weight_at_step_k is None or layer.bias_at_step_k is None:
                    raise UserError("rewind to step k: no weights were saved at step k (train with save_step=k first)")
                layer.weight = layer.weight_at_step_k.astype(self.dtype, copy=True)
                layer.bias = layer.bias_at_step_k.astype(self.dtype, copy=True)
            else:
                raise UserError(f"rewind: {to!r}: allowed: 'init', 'step_k'")
            layer.apply_mask()

    def save_step_k(self, step: int) -> None:
        """Remember the current weights and biases as ``weight_at_step_k`` / ``bias_at_step_k``."""
        self.step_k = int(step)
        for layer in self.layers:
            layer.weight_at_step_k = layer.weight.copy()
            layer.bias_at_step_k = layer.bias.copy()

    # -- forward / backward -------------------------------------------------------

    def forward(self, x: np.ndarray, weights: Sequence[np.ndarray] | None = None,
                biases: Sequence[np.ndarray] | None = None) -> tuple[np.ndarray, list]:
        """Logits for ``x`` and the cache for :meth:`backward`: per layer (input, pre-activation, output).

        ``weights``/``biases`` replace the layer's own arrays when given (used by
        the shared-weight evaluation); they are used as they are (no mask).
        """
        a = x
        cache = []
        last = len(self.layers) - 1
        for l, layer in enumerate(self.layers):
            w = layer.weight if weights is None else weights[l]
            b = layer.bias if biases is None else biases[l]
            z = a @ w.T
            z += b
            out = z if l == last else activate(self.activations[l], z)
            cache.append((a, z, out))
            a = out
        return a, cache

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Logits for ``x``."""
        return self.forward(x)[0]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities for ``x``."""
        return softmax(self.logits(x))

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        """Fraction of ``x`` classified as ``y``."""
        return float(np.mean(np.argmax(self.logits(x), axis=1) == y))

    def errors(self, x: np.ndarray, y: np.ndarray, weights: Sequence[np.ndarray] | None = None,
               per_sample: bool = True) -> tuple[float, list[tuple[np.ndarray, np.ndarray]]]:
        """Loss and, per layer, (layer input, error at the pre-activation).

        With ``per_sample`` the error rows are d loss_n / d z for each sample n
        (not divided by the batch size); otherwise they are the gradient of the
        mean loss. ``weights`` replaces the layer weights (e.g. SNIP's gated ones).
        """
        logits, cache = self.forward(x, weights=weights)
        loss = cross_entropy(logits, y)
        delta = softmax(logits)
        delta[np.arange(len(y)), y] -= 1
        if not per_sample:
            delta /= len(y)
        out: list[tuple[np.ndarray, np.ndarray]] = [None] * len(self.layers)  # type: ignore[list-item]
        for l in range(len(self.layers) - 1, -1, -1):
            a_in, _, _ = cache[l]
            out[l] = (a_in, delta)
            if l > 0:
                w = self.layers[l].weight if weights is None else weights[l]
                _, z_prev, a_prev = cache[l - 1]
                delta = (delta @ w) * activation_slope(self.activations[l - 1], z_prev, a_prev)
        return loss, out

    def gradients(self, x: np.ndarray, y: np.ndarray,
                  weights: Sequence[np.ndarray] | None = None) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        """Mean loss and its gradients (weights, biases) per layer; gradients are not masked."""
        loss, errs = self.errors(x, y, weights=weights, per_sample=False)
        gw = [delta.T @ a_in for a_in, delta in errs]
        gb = [delta.sum(axis=0) for _, delta in errs]
        return loss, gw, gb


# ---- optimizers ----------------------------------------------------------------


class Adam:
    """Adam (Kingma & Ba) with masks applied to gradients, weights and both moments."""

    def __init__(self, net: MLP, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        self.lr, self.beta1, self.beta2, self.eps, self.weight_decay = lr, beta1, beta2, eps, weight_decay
        self.t = 0
        self.m_w = [np.zeros_like(l.weight) for l in net.layers]
        self.v_w = [np.zeros_like(l.weight) for l in net.layers]
        self.m_b = [np.zeros_like(l.bias) for l in net.layers]
        self.v_b = [np.zeros_like(l.bias) for l in net.layers]

    def step(self, net: MLP, gw: list[np.ndarray], gb: list[np.ndarray]) -> None:
        """One update of every layer; pruned entries stay exactly zero."""
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        scale = self.lr * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for l, layer in enumerate(net.layers):
            g = gw[l]
            g *= layer.mask  # in place: the caller's gradient is masked too
            if self.weight_decay:
                g = g + self.weight_decay * layer.weight  # pruned weights are zero, so is their decay
            for param, grad, m, v in ((layer.weight, g, self.m_w[l], self.v_w[l]),
                                      (layer.bias, gb[l], self.m_b[l], self.v_b[l])):
                m *= b1
                m += (1 - b1) * grad
                v *= b2
                v += (1 - b2) * grad * grad
                param -= scale * m / (np.sqrt(v) + self.eps)
            layer.weight *= layer.mask
            self.m_w[l] *= layer.mask
            self.v_w[l] *= layer.mask

    def apply_masks(self, net: MLP) -> None:
        """Zero the moments of pruned weights (after the masks changed)."""
        for l, layer in enumerate(net.layers):
            self.m_w[l] *= layer.mask
            self.v_w[l] *= layer.mask


class SGD:
    """SGD with (optional) momentum; masks applied to gradients, weights and the momentum buffer."""

    def __init__(self, net: MLP, lr: float = 0.1, momentum: float = 0.9, weight_decay: float = 0.0) -> None:
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.t = 0
        self.buf_w = [np.zeros_like(l.weight) for l in net.layers]
        self.buf_b = [np.zeros_like(l.bias) for l in net.layers]

    def step(self, net: MLP, gw: list[np.ndarray], gb: list[np.ndarray]) -> None:
        """One update of every layer; pruned entries stay exactly zero."""
        self.t += 1
        for l, layer in enumerate(net.layers):
            g = gw[l]
            g *= layer.mask  # in place: the caller's gradient is masked too
            if self.weight_decay:
                g = g + self.weight_decay * layer.weight  # pruned weights are zero, so is their decay
            for param, grad, buf in ((layer.weight, g, self.buf_w[l]), (layer.bias, gb[l], self.buf_b[l])):
                buf *= self.momentum
                buf += grad
                param -= self.lr * buf
            layer.weight *= layer.mask
            self.buf_w[l] *= layer.mask

    def apply_masks(self, net: MLP) -> None:
        """Zero the momentum of pruned weights (after the masks changed)."""
        for l, layer in enumerate(net.layers):
            self.buf_w[l] *= layer.mask


def make_optimizer(name: str, net: MLP, lr: float, momentum: float = 0.9, weight_decay: float = 0.0):
    """``adam`` or ``sgd`` for ``net``."""
    if name == "adam":
        return Adam(net, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return SGD(net, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise UserError(f"optimizer: {name!r}: allowed: {', '.join(OPTIMIZERS)}")


# ---- training ------------------------------------------------------------------


@dataclass(frozen=True)
class TrainSettings:
    """What the training loop needs (a copy of the config's train section)."""

    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    batch_size: int = 32
    epochs: int = 20

    def steps_per_epoch(self, n: int) -> int:
        """Minibatches per epoch for ``n`` samples (the last one may be smaller)."""
        return -(-n // self.batch_size)

    def total_steps(self, n: int) -> int:
        """Optimizer steps of a full training run on ``n`` samples."""
        return self.epochs * self.steps_per_epoch(n)


def epoch_order(n: int, epoch: int, seed: int) -> np.ndarray:
    """The sample order of one epoch: a permutation that depends only on (seed, epoch)."""
    return np.random.default_rng([seed, 2, epoch]).permutation(n)  # stream 2: data order


def train(net: MLP, x: np.ndarray, y: np.ndarray, settings: TrainSettings, seed: int,
          start_step: int = 0, end_step: int | None = None, save_step: int | None = None,
          on_step: Callable[[int, MLP, object], None] | None = None) -> dict[str, float]:
    """Train ``net`` in place with minibatches from step ``start_step`` to ``end_step``.

    The batch of global step ``t`` depends only on ``(seed, t)``, so training
    resumed from step ``k`` (a rewound lottery ticket) sees the same data in
    the same order as the original run did from step ``k``. A fresh optimizer
    is created. ``save_step`` stores the weights after that many steps as
    ``weight_at_step_k``; ``on_step(step, net, optimizer)`` runs after every
    update (gradual pruning uses it). Returns the mean loss of the last epoch.
    """
    n = len(y)
    spe = settings.steps_per_epoch(n)
    end = settings.total_steps(n) if end_step is None else end_step
    opt = make_optimizer(settings.optimizer, net, settings.lr, settings.momentum, settings.weight_decay)
    order_epoch, order = -1, None
    losses: list[float] = []
    if save_step is not None and save_step == start_step:
        net.save_step_k(start_step)
    for step in range(start_step, end):
        epoch, i = divmod(step, spe)
        if epoch != order_epoch:
            order_epoch, order = epoch, epoch_order(n, epoch, seed)
            losses = []
        idx = order[i * settings.batch_size:(i + 1) * settings.batch_size]
        loss, gw, gb = net.gradients(x[idx], y[idx])
        opt.step(net, gw, gb)
        losses.append(loss)
        if save_step is not None and step + 1 == save_step:
            net.save_step_k(save_step)
        if on_step is not None:
            on_step(step + 1, net, opt)
    return {"loss": float(np.mean(losses)) if losses else float("nan"), "steps": end - start_step}


# ---- save / load ---------------------------------------------------------------


def save_mlp(net: MLP, path: str | Path) -> None:
    """Write the network (weights, biases, masks, saved weights) to an ``.npz`` file; no pickle."""
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "sizes": np.array(net.sizes, dtype=np.int64),
        "activations": np.array(net.activations, dtype="U16"),
        "init": np.array(net.init),
        "step_k": np.array(-1 if net.step_k is None else net.step_k, dtype=np.int64),
    }
    for l, layer in enumerate(net.layers):
        arrays[f"weight_{l}"] = layer.weight
        arrays[f"bias_{l}"] = layer.bias
        arrays[f"mask_{l}"] = layer.mask
        arrays[f"weight_init_{l}"] = layer.weight_init
        if layer.weight_at_step_k is not None:
            arrays[f"weight_at_step_k_{l}"] = layer.weight_at_step_k
        if layer.bias_at_step_k is not None:
            arrays[f"bias_at_step_k_{l}"] = layer.bias_at_step_k
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        np.savez(handle, **arrays)


def load_mlp(path: str | Path) -> MLP:
    """Read a network written by :func:`save_mlp`; UserError naming the file if it is not one."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            if "format" not in data.files or str(data["format"]) != FORMAT:
                raise UserError(f"{path}: not a wann.prune network file (expected format {FORMAT!r})")
            files = set(data.files)
            net = MLP.__new__(MLP)
            net.sizes = [int(s) for s in data["sizes"]]
            net.activations = [str(a) for a in data["activations"]]
            net.init = str(data["init"])
            step_k = int(data["step_k"])
            net.step_k = None if step_k < 0 else step_k
            net.layers = []

            def optional(key: str) -> np.ndarray | None:
                return data[key].copy() if key in files else None

            for l in range(len(net.sizes) - 1):
                net.layers.append(Layer(
                    weight=data[f"weight_{l}"].copy(), bias=data[f"bias_{l}"].copy(),
                    mask=data[f"mask_{l}"].astype(bool), weight_init=data[f"weight_init_{l}"].copy(),
                    weight_at_step_k=optional(f"weight_at_step_k_{l}"),
                    bias_at_step_k=optional(f"bias_at_step_k_{l}"),
                ))
            net.dtype = net.layers[0].weight.dtype
    except OSError as exc:
        raise UserError(f"{path}: cannot read network file: {exc}") from None
    except (KeyError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        if isinstance(exc, UserError):
            raise
        raise UserError(f"{path}: broken network file ({exc})") from None
    for layer in net.layers:
        layer.apply_mask()
    return net
