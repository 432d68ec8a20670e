"""Config of ``python -m wann.prune``: YAML -> dataclasses, checked with one-line errors.

Every field has a one-line doc (``python -m wann.prune.config`` prints the
reference table generated from them). Unknown keys are rejected by name with
the closest valid key; a bad value raises :class:`UserError` with the line
``<file>: <key>: <value>: <what is allowed>``.

``methods`` is a list; each entry is a preset name (see ``PRESETS``) or a
mapping of :class:`MethodConfig` keys, optionally starting from ``preset:``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wann.engine.config import STANDARD_WEIGHTS
from wann.engine.configkit import fill_section, load_yaml_config, param
from wann.engine.configkit import show as _show
from wann.errors import UserError, closest
from wann.prune.bridge import SIGN_SOURCES
from wann.prune.controls import CONTROLS
from wann.prune.data import DATASETS
from wann.prune.dense import ACTIVATIONS, INITS, OPTIMIZERS
from wann.prune.schedules import SYNFLOW_SCHEDULES
from wann.prune.scores import CRITERIA
from wann.prune.select import DISTRIBUTIONS, SCOPES, STRUCTURES

SCHEDULES = ("one_shot", "imp", "agp", "iterative")
WHEN = ("init", "trained")
DTYPES = ("float32", "float64")
DEFAULT_COMPRESSIONS = (2, 4, 8, 16, 32, 64, 128)


@dataclass
class DataConfig:
    """Which data set, and how it is split."""

    name: str = param("digits", "data set: digits (bundled with scikit-learn) or mnist (IDX files in data.path)", choices=DATASETS)
    path: str = param("", "folder with the four MNIST IDX files (mnist only; nothing is downloaded)")
    test_fraction: float = param(0.25, "digits: fraction of every class held out as the test set (0.25 and split_seed 2019: the WANN digits task's split)", gt=0.0, lt=1.0)
    split_seed: int = param(2019, "digits: seed of the stratified train/test split (apart from run.seed, so the test set stays put)", min=0)
    max_train: int = param(0, "mnist: use only the first N training images (0 = all)", min=0)


@dataclass
class ModelConfig:
    """The dense network that gets pruned."""

    layers: list[int] = param([64, 300, 100, 10], "layer sizes from input to output; must match the data's features and classes", each_min=1, min_len=2)
    activation: str = param("relu", "activation of the hidden layers", choices=ACTIVATIONS)
    init: str = param("he_normal", "initial weights (biases start at zero)", choices=INITS)
    dtype: str = param("float32", "floating point type of weights and data", choices=DTYPES)


@dataclass
class TrainConfig:
    """Minibatch training (the same for the dense net and every pruned one)."""

    optimizer: str = param("adam", "optimizer", choices=OPTIMIZERS)
    lr: float = param(0.001, "learning rate", gt=0.0)
    momentum: float = param(0.9, "sgd momentum", min=0.0, lt=1.0)
    weight_decay: float = param(0.0, "L2 penalty added to the weight gradients", min=0.0)
    batch_size: int = param(64, "samples per minibatch", min=1)
    epochs: int = param(40, "epochs of a full training run (dense net, pruned-at-init nets, every IMP level)", min=1)
    finetune_epochs: int = param(10, "epochs of fine-tuning after pruning a trained network (when: trained)", min=0)


@dataclass
class PruneConfig:
    """Operating points and settings shared by all methods."""

    compressions: list[float] = param(list(DEFAULT_COMPRESSIONS), "target compressions (weights / kept weights); each gives density 1/compression", each_min=1.0)
    densities: list[float] = param([], "more target densities, fractions of weights kept in (0, 1]", each_gt=0.0, each_max=1.0)
    prune_output: bool = param(True, "whether the output layer's weights may be pruned")
    score_samples_per_class: int = param(10, "class-balanced batch size per class for snip and grad_weight scores", min=1)
    fisher_samples: int = param(1000, "training samples for OBD's empirical Fisher (0 = all)", min=0)


@dataclass
class BridgeConfig:
    """Weight-agnostic evaluation of every pruned mask, as for a WANN."""

    shared_weights: list[float] = param(list(STANDARD_WEIGHTS), "shared weight values swept (every survivor = value * sign, biases zero)", nonempty=True)
    signs: str = param("trained", "where survivor signs come from: the trained weights or the initial ones", choices=SIGN_SOURCES)


@dataclass
class RunConfig:
    """Seed and output."""

    seed: int = param(0, "seed of initial weights, data order, tie-breaking and random scores", min=0)
    out_dir: str = param("results", "folder that holds <name>/<run-id>/ output folders")
    name: str = param("", "run name; empty uses the config file's name")
    save_masks: bool = param(True, "also write dense.npz (trained dense net) and masks.npz (every mask)")


@dataclass
class MethodConfig:
    """One pruning method: criterion, schedule, scope and control."""

    name: str = param("", "label in the CSV and the plot (default: the preset's name, else criterion_schedule)")
    criterion: str = param("magnitude", "pruning score", choices=CRITERIA)
    schedule: str = param("one_shot", "one_shot, imp (iterative magnitude pruning with rewinding), agp (gradual, during training) or iterative (re-score n times)", choices=SCHEDULES)
    when: str = param("trained", "one_shot/iterative: score the initial (init) or the trained dense network", choices=WHEN)
    scope: str = param("global", "rank all layers together (global) or each layer apart (layer)", choices=SCOPES)
    distribution: str = param("uniform", "scope layer: per-layer densities (uniform, erk, snip_ratio)", choices=DISTRIBUTIONS)
    structure: str = param("weights", "prune single weights or whole hidden neurons (one_shot only)", choices=STRUCTURES)
    rate: float = param(0.2, "imp: fraction of the remaining weights pruned per level (every layer with scope global)", gt=0.0, lt=1.0)
    output_rate: float = param(0.2, "imp with scope layer: per-level rate of the output layer", gt=0.0, lt=1.0)
    rewind_step: int = param(0, "imp: rewind survivors to their values after this many training steps (0 = init, the classic lottery ticket)", min=0)
    iterations: int = param(100, "iterative: prune-and-rescore steps", min=1)
    iterative_schedule: str = param("exponential", "iterative: density schedule of the steps", choices=SYNFLOW_SCHEDULES)
    log_domain: bool = param(False, "synflow: score in the log domain instead of float64")
    agp_start: float = param(0.1, "agp: fraction of training at which pruning starts", min=0.0, lt=1.0)
    agp_end: float = param(0.6, "agp: fraction of training at which the target density is reached", gt=0.0, max=1.0)
    agp_frequency: int = param(10, "agp: optimizer steps between pruning events", min=1)
    control: str = param("none", "control: none, reinit (fresh random init), shuffle (layerwise-shuffled mask) or signed_constant (sigma_l * sign(w_init))", choices=CONTROLS)
    retrain: bool = param(True, "train the pruned network (false: evaluate it as found; imp: the rewound, untrained ticket)")
    min_per_layer: int = param(0, "keep at least this many weights in every prunable layer (0 = no guard, so collapse shows)", min=0)


def _preset(**kw: Any) -> dict[str, Any]:
    return kw


PRESETS: dict[str, dict[str, Any]] = {
    "magnitude_trained": _preset(criterion="magnitude", schedule="one_shot", when="trained"),
    "magnitude_init": _preset(criterion="magnitude", schedule="one_shot", when="init"),
    "lottery_ticket": _preset(criterion="magnitude", schedule="imp", scope="layer", rate=0.2, output_rate=0.1, rewind_step=0),
    "lottery_ticket_global": _preset(criterion="magnitude", schedule="imp", scope="global", rate=0.2, rewind_step=0),
    "ticket_reinit": _preset(criterion="magnitude", schedule="imp", scope="layer", rate=0.2, output_rate=0.1, control="reinit"),
    "ticket_shuffle": _preset(criterion="magnitude", schedule="imp", scope="layer", rate=0.2, output_rate=0.1, control="shuffle"),
    "ticket_signed_constant": _preset(criterion="magnitude", schedule="imp", scope="layer", rate=0.2, output_rate=0.1,
                                      control="signed_constant", retrain=False),
    "snip": _preset(criterion="snip", schedule="one_shot", when="init"),
    "synflow": _preset(criterion="synflow", schedule="iterative", when="init", iterations=100, iterative_schedule="exponential"),
    "synflow_one_shot": _preset(criterion="synflow", schedule="one_shot", when="init"),
    "random": _preset(criterion="random", schedule="one_shot", when="init"),
    "random_erk": _preset(criterion="random", schedule="one_shot", when="init", scope="layer", distribution="erk"),
    "random_snip_ratio": _preset(criterion="random", schedule="one_shot", when="init", scope="layer", distribution="snip_ratio"),
    "agp": _preset(criterion="magnitude", schedule="agp"),
    "obd": _preset(criterion="obd", schedule="one_shot", when="trained"),
    "grad_weight": _preset(criterion="grad_weight", schedule="one_shot", when="trained"),
    "magnitude_neurons": _preset(criterion="magnitude", schedule="one_shot", when="trained", scope="layer", structure="neurons"),
}

DEFAULT_METHODS = ("magnitude_trained", "lottery_ticket", "ticket_reinit", "ticket_signed_constant", "snip", "synflow",
                   "magnitude_init", "random", "agp", "obd")


def _default_methods() -> list[MethodConfig]:
    return [method_from(name, "<defaults>", f"methods[{i}]") for i, name in enumerate(DEFAULT_METHODS)]


@dataclass
class Config:
    """A whole pruning run: one dataclass per YAML section, plus the list of methods."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    prune: PruneConfig = field(default_factory=PruneConfig)
    bridge: BridgeConfig = field(default_factory=BridgeConfig)
    run: RunConfig = field(default_factory=RunConfig)
    methods: list[MethodConfig] = field(default_factory=_default_methods)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (the resolved config written next to the results)."""
        return dataclasses.asdict(self)

    def target_densities(self) -> list[float]:
        """Distinct target densities, highest first (from compressions and densities)."""
        found = {round(1.0 / c, 12) for c in self.prune.compressions} | {round(d, 12) for d in self.prune.densities}
        return sorted(found, reverse=True)


SECTIONS = ("data", "model", "train", "prune", "bridge", "run")
TOP_KEYS = SECTIONS + ("methods",)


def _fill(target: Any, values: dict, source: str, prefix: str) -> None:
    fill_section(target, values, source, prefix)


def method_from(entry: Any, source: str, where: str) -> MethodConfig:
    """One ``methods`` entry (preset name or mapping) -> checked :class:`MethodConfig`."""
    method = MethodConfig()
    if isinstance(entry, str):
        entry = {"preset": entry}
    if not isinstance(entry, dict):
        raise UserError(f"{source}: {where}: {_show(entry)}: expected a preset name or a mapping of method keys")
    entry = dict(entry)
    preset = entry.pop("preset", None)
    if preset is not None:
        if preset not in PRESETS:
            raise UserError(f"{source}: {where}: {_show(preset)}: unknown method{closest(str(preset), list(PRESETS))}; "
                              f"presets: {', '.join(PRESETS)}")
        _fill(method, dict(PRESETS[preset]), source, f"{where}.")
        method.name = preset
    _fill(method, entry, source, f"{where}.")
    if not method.name:
        method.name = f"{method.criterion}_{method.schedule}"
    _check_method(method, source, where)
    return method


def _check_method(m: MethodConfig, source: str, where: str) -> None:
    def fail(key: str, value: Any, what: str) -> UserError:
        return UserError(f"{source}: {where}.{key}: {_show(value)}: {what}")

    if m.distribution != "uniform" and m.scope != "layer":
        raise fail("distribution", m.distribution, "needs scope: layer (with scope global every layer competes for one budget)")
    if m.structure == "neurons" and m.schedule != "one_shot":
        raise fail("structure", m.structure, "neuron-level pruning is offered with schedule: one_shot only")
    if m.structure == "neurons" and m.distribution != "uniform":
        raise fail("distribution", m.distribution, "neuron-level pruning keeps the same fraction of units per layer (uniform) or ranks them globally")
    if m.schedule == "agp" and m.agp_end <= m.agp_start:
        raise fail("agp_end", m.agp_end, f"must be > agp_start ({m.agp_start})")
    if m.schedule == "imp" and m.distribution != "uniform":
        raise fail("distribution", m.distribution, "imp sets per-layer densities by rate and output_rate")
    if m.control != "none" and m.schedule == "agp":
        raise fail("control", m.control, "controls apply to masks found before training (one_shot, iterative, imp)")
    if m.criterion == "random" and m.schedule in ("imp", "iterative", "agp"):
        raise fail("schedule", m.schedule, "random scores are used one-shot (iterating them is the same as one shot)")


def config_from_dict(data: Any, source: str = "<config>") -> Config:
    """Build and check a :class:`Config` from nested dicts; UserError with one line otherwise."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(f"{source}: top level must be a mapping with keys {', '.join(TOP_KEYS)}")
    config = Config()
    for section, values in data.items():
        if section not in TOP_KEYS:
            raise UserError(f"{source}: {section}: unknown section{closest(str(section), TOP_KEYS)}; allowed: {', '.join(TOP_KEYS)}")
        if section == "methods":
            if not isinstance(values, list) or not values:
                raise UserError(f"{source}: methods: {_show(values)}: expected a non-empty list of presets or mappings")
            config.methods = [method_from(entry, source, f"methods[{i}]") for i, entry in enumerate(values)]
            continue
        if values is None:
            continue
        if not isinstance(values, dict):
            raise UserError(f"{source}: {section}: {_show(values)}: expected a mapping of keys")
        _fill(getattr(config, section), values, source, f"{section}.")
    names = [m.name for m in config.methods]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise UserError(f"{source}: methods[{i}].name: {name!r}: used twice; give each method its own name")
        if name == "dense":
            raise UserError(f"{source}: methods[{i}].name: 'dense': reserved for the unpruned baseline row")
    if not config.prune.compressions and not config.prune.densities:
        raise UserError(f"{source}: prune.compressions: []: give at least one compression or density")
    if config.data.name == "mnist" and not config.data.path:
        raise UserError(f"{source}: data.path: '': mnist needs the folder holding its four IDX files")
    return config


def load_config(path: str | Path, overrides: list[str] | None = None) -> Config:
    """Read, override and check a YAML config; UserError with a one-line message."""
    return load_yaml_config(path, overrides, f"keys {', '.join(TOP_KEYS)}",
                            lambda data, source, _overridden: config_from_dict(data, source), fixed_sections=("methods",))


def reference_markdown() -> str:
    """The config reference as a Markdown table, generated from the field docs."""
    lines = ["| key | default | meaning |", "|---|---|---|"]
    for section in SECTIONS:
        for f in dataclasses.fields(getattr(Config(), section)):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            lines.append(f"| `{section}.{f.name}` | `{_show(default)}` | {f.metadata['doc']} |")
    for f in dataclasses.fields(MethodConfig):
        lines.append(f"| `methods[i].{f.name}` | `{_show(f.default)}` | {f.metadata['doc']} |")
    lines.append("")
    lines.append("Method presets: " + ", ".join(f"`{p}`" for p in PRESETS) + ".")
    return "\n".join(lines)


if __name__ == "__main__":
    print(reference_markdown())
