"""Run a configured set of pruning methods and densities; return and write the rows.

:func:`run` trains the dense network once, then for every method and target
density finds the mask, applies the method's control and training, and
evaluates it (test accuracy, mask metrics, shared-weight sweep). Masks that do
not depend on the control (e.g. a lottery ticket and its random re-init
control) are searched once and shared. :func:`write_outputs` writes the
output folder.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import yaml

from wann.engine.runfolder import default_run_dir
from wann.errors import UserError
from wann.prune import metrics
from wann.prune.bridge import ChampionPoint, shared_weight_eval, signs_of
from wann.prune.config import Config, MethodConfig
from wann.prune.data import Dataset, load_dataset
from wann.prune.dense import MLP, TrainSettings, save_mlp
from wann.prune.methods import (
    PruneContext,
    Ticket,
    agp_network,
    final_network,
    imp_tickets,
    iterative_masks,
    make_context,
    mask_key,
    one_shot_masks,
)
from wann.prune.report import csv_text, first_collapse, table, table_header, table_line
from wann.prune.threads import single_threaded_blas

CSV_NAME = "results.csv"
PLOT_NAME = "accuracy_vs_connections.png"


@dataclass
class RunResult:
    """What a run produced."""

    rows: list[dict[str, Any]]
    masks: dict[str, list[np.ndarray]] = field(default_factory=dict)  # "method@density" -> masks
    dense: MLP | None = None
    seconds: float = 0.0


def default_out_dir(config: Config) -> Path:
    """``run.out_dir/run.name/<date>-<time>-seed<seed>``, made unique if it exists."""
    return default_run_dir(config.run.out_dir, config.run.name or "prune", config.run.seed)


def check_layers(config: Config, data: Dataset, source: str) -> None:
    """UserError unless model.layers starts with the data's features and ends with its classes."""
    layers = config.model.layers
    if layers[0] != data.n_features or layers[-1] != data.n_classes:
        raise UserError(
            f"{source}: model.layers: {layers}: must start with the {data.n_features} input features of "
            f"{data.name} and end with its {data.n_classes} classes, e.g. [{data.n_features}, 300, 100, {data.n_classes}]"
        )


def evaluate(net: MLP, data: Dataset, config: Config, method: MethodConfig | None,
             target: float) -> dict[str, Any]:
    """One CSV row: mask metrics, test accuracy and the shared-weight sweep of ``net``."""
    masks = [m.copy() for m in net.masks]
    summary = metrics.summary(masks)
    source = net.weights if config.bridge.signs == "trained" else [l.weight_init for l in net.layers]
    sweep = shared_weight_eval(net, masks, signs_of(source, masks), data.x_test, data.y_test,
                               config.bridge.shared_weights)
    return {
        "method": method.name if method else "dense",
        "criterion": method.criterion if method else "-",
        "schedule": method.schedule if method else "-",
        "scope": method.scope if method else "-",
        "control": method.control if method else "-",
        "target_density": float(target),
        "target_compression": float(round(1.0 / target, 6)),
        "density": float(summary["density"]),
        "compression": float(summary["compression"]),
        "nonzero_weights": int(summary["nonzero_weights"]),
        "effective_connections": int(summary["effective_connections"]),
        "theoretical_speedup": float(summary["theoretical_speedup"]),
        "layer_densities": summary["layer_densities"],
        "test_accuracy": net.accuracy(data.x_test, data.y_test),
        "shared_accuracy_mean": sweep["mean"],
        "shared_accuracy_best": sweep["best"],
        "shared_accuracy_ensemble": sweep["ensemble"],
        "shared_signs": config.bridge.signs,
        "collapsed": bool(summary["collapsed"]),
    }


def run(config: Config, source: str = "<config>", say: Callable[[str], None] = print,
        data: Dataset | None = None, tick: Callable[[int, int], None] | None = None) -> RunResult:
    """Train the dense net, then every method at every target density; rows in config order.

    ``say(line)`` gets one line per row, ``tick(done, total)`` the progress.
    """
    started = time.perf_counter()
    with single_threaded_blas():
        return _run(config, source, say, data, started, tick or (lambda _done, _total: None))


def _run(config: Config, source: str, say: Callable[[str], None], data: Dataset | None, started: float,
         tick: Callable[[int, int], None]) -> RunResult:
    c = config
    if data is None:
        data = load_dataset(c.data.name, c.data.path, c.data.test_fraction, c.data.split_seed, c.data.max_train)
    check_layers(c, data, source)
    dtype = np.dtype(c.model.dtype)
    if data.x_train.dtype != dtype:
        data = Dataset(data.name, data.x_train.astype(dtype), data.y_train, data.x_test.astype(dtype),
                       data.y_test, data.n_classes)
    targets = c.target_densities()
    settings = TrainSettings(c.train.optimizer, c.train.lr, c.train.momentum, c.train.weight_decay,
                             c.train.batch_size, c.train.epochs)
    init_net = MLP(c.model.layers, c.model.activation, c.model.init, seed=c.run.seed, dtype=dtype)
    rewind_steps = {m.rewind_step for m in c.methods if m.schedule == "imp"} | {0}
    say(f"data: {data.name}, {len(data.y_train)} train / {len(data.y_test)} test samples; "
        f"model {'-'.join(map(str, c.model.layers))} {c.model.activation}; {c.train.optimizer} lr {c.train.lr}, "
        f"{c.train.epochs} epochs of batch {c.train.batch_size}; seed {c.run.seed}")
    t0 = time.perf_counter()
    say(f"training the dense network ({settings.total_steps(len(data.y_train))} steps)...")
    ctx = make_context(data, init_net, settings, c.train.finetune_epochs, c.run.seed, rewind_steps,
                       c.prune.prune_output, c.prune.score_samples_per_class, c.prune.fisher_samples)
    dense_row = evaluate(ctx.dense, data, c, None, 1.0)
    result = RunResult(rows=[dense_row], dense=ctx.dense)
    say(f"dense: test accuracy {dense_row['test_accuracy']:.4f}, {dense_row['nonzero_weights']} weights "
        f"({time.perf_counter() - t0:.1f}s)")
    say(table_header())
    say(table_line(dense_row))

    cache: dict[tuple, dict[float, tuple[list[np.ndarray], MLP | Ticket | None]]] = {}
    total = len(c.methods) * len(targets)
    done = 0
    for method in c.methods:
        key = mask_key(method)
        if method.schedule == "imp" and key not in cache:
            cache[key] = {d: (t.masks, t) for d, t in imp_tickets(ctx, method, targets, say=say).items()}
        for target in targets:
            t1 = time.perf_counter()
            masks, found = _find(ctx, method, target, cache.setdefault(key, {}))
            net = final_network(ctx, method, masks, target, found=found)
            row = evaluate(net, data, c, method, target)
            result.rows.append(row)
            result.masks[f"{method.name}@{target:.6g}"] = [m.copy() for m in net.masks]
            done += 1
            say(f"{table_line(row)}  [{done}/{total} {time.perf_counter() - t1:.1f}s]")
            tick(done, total)
    result.seconds = time.perf_counter() - started
    return result


def _find(ctx: PruneContext, method: MethodConfig, target: float,
          cache: dict[float, tuple[list[np.ndarray], MLP | Ticket | None]]) -> tuple[list[np.ndarray], MLP | Ticket | None]:
    """Masks (and, for imp/agp, the network they came with) of ``method`` at ``target``, cached."""
    slot = round(target, 12)
    if slot in cache:
        return cache[slot]
    if method.schedule == "one_shot":
        found = (one_shot_masks(ctx, method, target), None)
    elif method.schedule == "iterative":
        found = (iterative_masks(ctx, method, target), None)
    elif method.schedule == "agp":
        net = agp_network(ctx, method, target)
        found = ([m.copy() for m in net.masks], net)
    else:  # imp tickets are filled in by run()
        raise KeyError(f"no imp ticket at density {target}")
    cache[slot] = found
    return found


def write_outputs(result: RunResult, config: Config, out_dir: str | Path,
                  champions: Sequence[ChampionPoint] = ()) -> dict[str, Path]:
    """Write results.csv, accuracy_vs_connections.png, config.yaml (and dense.npz, masks.npz)."""
    from wann.prune.plot import plot_accuracy_vs_connections

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / CSV_NAME, "plot": out / PLOT_NAME, "config": out / "config.yaml"}
    paths["csv"].write_text(csv_text(result.rows))
    resolved = config.to_dict()
    resolved["wann_champions"] = [ch.path for ch in champions]
    paths["config"].write_text(yaml.safe_dump(resolved, sort_keys=False))
    title = (f"{config.data.name}, {'-'.join(map(str, config.model.layers))} MLP, seed {config.run.seed}: "
             f"accuracy vs effective connections")
    plot_accuracy_vs_connections(result.rows, champions, paths["plot"], title=title)
    if config.run.save_masks:
        if result.dense is not None:
            paths["dense"] = out / "dense.npz"
            save_mlp(result.dense, paths["dense"])
        paths["masks"] = out / "masks.npz"
        arrays = {f"{name}/layer{l}": m for name, ms in result.masks.items() for l, m in enumerate(ms)}
        with paths["masks"].open("wb") as handle:
            np.savez_compressed(handle, **arrays)
    return paths


def final_report(result: RunResult) -> str:
    """The final table plus the density at which each method first collapsed a layer."""
    lines = [table(result.rows), ""]
    collapse = first_collapse(result.rows)
    parts = [f"{name} at density {d:.4g} (x{1 / d:g})" if d is not None else f"{name} never"
             for name, d in collapse.items()]
    lines.append("first layer collapse: " + "; ".join(parts))
    lines.append("compression and nonzero count weights of all layers (biases excluded); eff.conn = weights on an "
                 "input-to-output path; speedup = multiply-adds, not wall time; sw = shared-weight sweep "
                 "(mean/best/ensemble over the WANN weights)")
    return "\n".join(lines)
