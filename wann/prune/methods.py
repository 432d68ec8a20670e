"""Pruning methods: compose scores, selection and schedules into masks (and trained tickets).

One function per schedule, each taking a :class:`PruneContext` (the data, the
initial and the trained dense network, training settings, seed) and a
:class:`~wann.prune.config.MethodConfig`:

- :func:`one_shot_masks` scores once (at init or after training) and selects;
- :func:`iterative_masks` re-scores and prunes ``iterations`` times on
  SynFlow's schedule (no training in between);
- :func:`imp_tickets` runs iterative magnitude pruning with rewinding, training
  at every level, and returns the trained ticket at each target density;
- :func:`agp_network` trains once while pruning on the cubic AGP schedule;
- :func:`final_network` applies the method's control and (re)training to a mask.

Every random draw comes from a generator derived from the seed, the
method's mask settings and the density, so the same seed gives the same masks.
"""
from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from wann.errors import UserError
from wann.prune.config import MethodConfig
from wann.prune.controls import random_reinit, shuffle_masks, signed_constant
from wann.prune.data import Dataset, balanced_batch
from wann.prune.dense import MLP, TrainSettings, train
from wann.prune.schedules import imp_density, imp_layer_densities, imp_plan, polynomial_density, synflow_densities
from wann.prune.scores import compute_scores, snip_scores
from wann.prune.select import erk_densities, select, select_neurons, snip_ratio_densities

Masks = list[np.ndarray]


def rng_for(seed: int, *parts: object) -> np.random.Generator:
    """A generator that depends only on ``seed`` and the labels ``parts`` (stable across runs)."""
    return np.random.default_rng([seed, 4, *(zlib.crc32(repr(p).encode()) for p in parts)])


def mask_key(method: MethodConfig) -> tuple:
    """The settings that decide a method's masks (not its name, control or retraining).

    Masks are cached and their random draws seeded by this key, so a lottery
    ticket and its controls share one mask whatever they are called.
    """
    return (method.criterion, method.schedule, method.when, method.scope, method.distribution, method.structure,
            method.rate, method.output_rate, method.rewind_step, method.iterations, method.iterative_schedule,
            method.log_domain, method.agp_start, method.agp_end, method.agp_frequency, method.min_per_layer)


@dataclass
class PruneContext:
    """Everything a method needs, built once per run."""

    data: Dataset
    settings: TrainSettings
    finetune: TrainSettings
    seed: int
    init_net: MLP  # untrained, unpruned
    dense: MLP  # trained, unpruned
    snapshots: dict[int, tuple[list[np.ndarray], list[np.ndarray]]]  # step -> (weights, biases) of the dense run
    prunable: list[bool]
    score_batch: np.ndarray  # class-balanced indices into the training set (snip, grad_weight)
    fisher_batch: np.ndarray  # indices for OBD's Fisher

    def batch_for(self, criterion: str) -> tuple[np.ndarray, np.ndarray]:
        idx = self.fisher_batch if criterion == "obd" else self.score_batch
        return self.data.x_train[idx], self.data.y_train[idx]


def make_context(data: Dataset, init_net: MLP, settings: TrainSettings, finetune_epochs: int, seed: int,
                 rewind_steps: set[int], prune_output: bool, samples_per_class: int,
                 fisher_samples: int) -> PruneContext:
    """Train the dense network (remembering the weights at each rewind step) and gather the rest."""
    dense = init_net.copy()
    snapshots: dict[int, tuple[list[np.ndarray], list[np.ndarray]]] = {}

    def grab(step: int, net: MLP) -> None:
        snapshots[step] = ([l.weight.copy() for l in net.layers], [l.bias.copy() for l in net.layers])

    if 0 in rewind_steps:
        grab(0, dense)
    total = settings.total_steps(len(data.y_train))
    for k in rewind_steps:
        if k > total:
            raise UserError(f"rewind_step: {k}: beyond the {total} steps of training ({settings.epochs} epochs)")
    train(dense, data.x_train, data.y_train, settings, seed,
          on_step=(lambda step, net, opt: grab(step, net) if step in rewind_steps else None))
    n = len(data.y_train)
    score_batch = balanced_batch(data.y_train, samples_per_class, rng_for(seed, "score batch"))
    if fisher_samples and fisher_samples < n:
        fisher_batch = np.sort(rng_for(seed, "fisher batch").choice(n, size=fisher_samples, replace=False))
    else:
        fisher_batch = np.arange(n)
    prunable = [True] * len(init_net.layers)
    if not prune_output:
        prunable[-1] = False
    return PruneContext(data, settings, replace(settings, epochs=finetune_epochs), seed, init_net, dense,
                        snapshots, prunable, score_batch, fisher_batch)


# ---- helpers -------------------------------------------------------------------


def _scores(ctx: PruneContext, method: MethodConfig, net: MLP, rng: np.random.Generator) -> list[np.ndarray]:
    x, y = ctx.batch_for(method.criterion)
    return compute_scores(method.criterion, net, x, y, rng=rng, log_domain=method.log_domain)


def _layer_densities(ctx: PruneContext, method: MethodConfig, net: MLP, density: float,
                     rng: np.random.Generator) -> list[float] | None:
    """Per-layer densities of the method's distribution (None for global scope)."""
    if method.scope == "global":
        return None
    idx = [l for l, p in enumerate(ctx.prunable) if p]
    shapes = [net.shapes[l] for l in idx]
    if method.distribution == "uniform":
        sub = [density] * len(idx)
    elif method.distribution == "erk":
        sub = erk_densities(shapes, density)
    else:  # snip_ratio: per-layer densities of global SNIP on this network
        x, y = ctx.batch_for("snip")
        snip = snip_scores(net, x, y)
        sub = snip_ratio_densities([snip[l] for l in idx], density, rng)
    out = [1.0] * len(net.layers)
    for l, d in zip(idx, sub):
        out[l] = max(d, 1e-12)
    return out


def _select(ctx: PruneContext, method: MethodConfig, scores: list[np.ndarray], density: float, masks: Masks | None,
            layer_densities: list[float] | None, rng: np.random.Generator) -> Masks:
    return select(scores, density, scope=method.scope, masks=masks, layer_densities=layer_densities,
                  prunable=ctx.prunable, min_per_layer=method.min_per_layer, rng=rng)


def _source(ctx: PruneContext, method: MethodConfig) -> MLP:
    return (ctx.init_net if method.when == "init" else ctx.dense).copy()


# ---- schedules -----------------------------------------------------------------


def one_shot_masks(ctx: PruneContext, method: MethodConfig, density: float) -> Masks:
    """Score the initial or trained network once and keep ``density`` of the weights."""
    rng = rng_for(ctx.seed, mask_key(method), "one_shot", density)
    net = _source(ctx, method)
    scores = _scores(ctx, method, net, rng)
    if method.structure == "neurons":
        return select_neurons(scores, density, scope=method.scope, masks=net.masks, rng=rng)
    return _select(ctx, method, scores, density, None, _layer_densities(ctx, method, net, density, rng), rng)


def iterative_masks(ctx: PruneContext, method: MethodConfig, density: float) -> Masks:
    """Prune to ``density`` in ``iterations`` steps of the exponential (or linear) schedule, re-scoring each time."""
    rng = rng_for(ctx.seed, mask_key(method), "iterative", density)
    net = _source(ctx, method)
    for d in synflow_densities(density, method.iterations, method.iterative_schedule):
        scores = _scores(ctx, method, net, rng)
        masks = _select(ctx, method, scores, d, net.masks, _layer_densities(ctx, method, net, d, rng), rng)
        net.set_masks(masks)
    return [m.copy() for m in net.masks]


@dataclass
class Ticket:
    """One IMP level at a target density: its mask, the trained network and the rewound, untrained one."""

    masks: Masks
    trained: MLP
    rewound: MLP


def imp_tickets(ctx: PruneContext, method: MethodConfig, targets: list[float],
                say: Callable[[str], None] = lambda s: None) -> dict[float, Ticket]:
    """Iterative magnitude pruning with rewinding to step k; a :class:`Ticket` at every target density.

    Each level scores the trained network of the previous level, prunes the
    per-level rate of what is left (per layer, or globally), rewinds the
    survivors to their values at step ``rewind_step`` and trains from there
    with the same data order. The ticket at a target density branches off the
    last whole level above it with one final, smaller level (see
    :func:`~wann.prune.schedules.imp_plan`).
    """
    idx = [l for l, p in enumerate(ctx.prunable) if p]
    last = len(ctx.dense.layers) - 1
    rates = [method.output_rate if (method.scope == "layer" and l == last) else method.rate for l in idx]
    sizes = [int(np.prod(ctx.dense.shapes[l])) for l in idx]
    k = method.rewind_step
    weights_k, biases_k = ctx.snapshots[k]
    chain, plan = imp_plan(rates, sizes, targets)

    def level_step(net: MLP, level: float) -> tuple[MLP, MLP]:
        """Prune ``net`` (trained) to ``level``, rewind, train: (trained, rewound) copies."""
        started = time.perf_counter()
        rng = rng_for(ctx.seed, mask_key(method), "imp", round(level, 9))
        scores = _scores(ctx, method, net, rng)
        layer_d = None
        if method.scope == "layer":
            layer_d = [1.0] * len(net.layers)
            for l, d in zip(idx, imp_layer_densities(level, rates)):
                layer_d[l] = d
        out = net.copy()
        out.set_masks(_select(ctx, method, scores, imp_density(level, rates, sizes), net.masks, layer_d, rng))
        out.set_weights(weights_k, biases_k)
        rewound = out.copy()
        train(out, ctx.data.x_train, ctx.data.y_train, ctx.settings, ctx.seed, start_step=k)
        say(f"  {method.name}: IMP level {level:.4g}, density {imp_density(level, rates, sizes):.4f}: "
            f"rewound to step {k}, trained ({time.perf_counter() - started:.1f}s)")
        return out, rewound

    tickets: dict[float, Ticket] = {}
    net = ctx.dense.copy()
    for whole in range(chain + 1):
        if whole > 0:
            net, _ = level_step(net, float(whole))
        for target, (branch, level) in plan.items():
            if branch != whole:
                continue
            if level == 0.0:
                rewound = ctx.dense.copy()
                rewound.set_weights(weights_k, biases_k)
                tickets[round(target, 12)] = Ticket([m.copy() for m in net.masks], net.copy(), rewound)
            else:
                trained, rewound = level_step(net, level)
                tickets[round(target, 12)] = Ticket([m.copy() for m in trained.masks], trained, rewound)
    return tickets


def agp_network(ctx: PruneContext, method: MethodConfig, density: float) -> MLP:
    """Train from init while pruning by magnitude on the cubic AGP schedule (Zhu & Gupta 2017)."""
    rng = rng_for(ctx.seed, mask_key(method), "agp", density)
    net = ctx.init_net.copy()
    total = ctx.settings.total_steps(len(ctx.data.y_train))
    begin = int(round(method.agp_start * total))
    end = max(begin + 1, int(round(method.agp_end * total)))

    def prune_step(step: int, net: MLP, opt) -> None:
        if begin <= step <= end and ((step - begin) % method.agp_frequency == 0 or step == end):
            d = polynomial_density((step - begin) / (end - begin), density)
            scores = _scores(ctx, method, net, rng)
            net.set_masks(_select(ctx, method, scores, d, net.masks, _layer_densities(ctx, method, net, d, rng), rng))
            opt.apply_masks(net)

    train(net, ctx.data.x_train, ctx.data.y_train, ctx.settings, ctx.seed, on_step=prune_step)
    return net


def final_network(ctx: PruneContext, method: MethodConfig, masks: Masks, density: float,
                  found: MLP | Ticket | None = None) -> MLP:
    """The network that gets evaluated: the method's control applied to ``masks``, then (re)trained.

    - control none: an IMP ticket is returned trained (or rewound and
      untrained without ``retrain``); an AGP network as trained; masks found
      at init train from the initial weights for ``train.epochs``; masks found
      on the trained net fine-tune it for ``train.finetune_epochs``.
    - reinit: fresh weights from the init scheme, trained from scratch.
    - shuffle: each layer's mask shuffled, trained from the initial weights.
    - signed_constant: survivors = sigma_l * sign(w_init), biases zero.
    Controls train for ``train.epochs`` when ``retrain`` is on. ``weight_init``
    of the returned net holds the weights its training started from.
    """
    x, y = ctx.data.x_train, ctx.data.y_train
    if method.control == "none":
        if isinstance(found, Ticket):
            return (found.trained if method.retrain else found.rewound).copy()
        if isinstance(found, MLP):
            return found.copy()
        if method.when == "trained":
            net = ctx.dense.copy()
            net.set_masks(masks)
            if method.retrain and ctx.finetune.epochs > 0:
                train(net, x, y, ctx.finetune, ctx.seed)
            return net
    net = ctx.init_net.copy()
    if method.control == "shuffle":
        masks = shuffle_masks(masks, rng_for(ctx.seed, mask_key(method), "shuffle", density))
    net.set_masks(masks)
    if method.control == "reinit":
        fresh = random_reinit(masks, net.init, rng_for(ctx.seed, mask_key(method), "reinit", density), net.dtype)
        net.set_weights(fresh)
        for layer, w in zip(net.layers, fresh):
            layer.weight_init = w.copy()
    elif method.control == "signed_constant":
        net.set_weights(signed_constant([l.weight_init for l in net.layers], masks))
    if method.retrain:
        train(net, x, y, ctx.settings, ctx.seed)
    return net
