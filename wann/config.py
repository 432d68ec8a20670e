"""Run configuration: YAML -> dataclasses, validated with one-line errors.

Every field carries a one-line doc and its allowed range; the README's config
reference and the error messages are both generated from them
(``python -m wann.config`` prints the reference).
"""
from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wann.activations import ALL_ACTIVATIONS

STANDARD_WEIGHTS = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)


class ConfigError(ValueError):
    """A bad config file or override; the message is one line meant for the user."""


def param(default: Any, doc: str, **allowed: Any) -> Any:
    """A dataclass field with a one-line doc and constraints (min, max, choices, below)."""
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: list(default), metadata={"doc": doc, **allowed})
    return field(default=default, metadata={"doc": doc, **allowed})


def _task_choices() -> list[str]:
    from wann.tasks import task_names

    return task_names()


@dataclass
class TaskConfig:
    """Which task to solve."""

    name: str = param("wann/CartPoleSwingUp-v1", "task id (gymnasium id of a known task)", choices=_task_choices)
    max_steps: int = param(0, "episode length; 0 keeps the task's own", min=0)
    output_activation: str = param("", "activation of output nodes; empty keeps the task's (linear, as the reference)", choices=("",) + ALL_ACTIVATIONS)


@dataclass
class SearchConfig:
    """Population, mutation and selection settings (defaults: the paper's swing-up run)."""

    pop_size: int = param(192, "genomes per generation", min=2)
    generations: int = param(1024, "generations to run", min=1)
    init_enable: float = param(0.5, "probability that each initial input->output link is enabled", min=0.0, max=1.0)
    prob_add_connection: float = param(0.20, "roulette weight of the add-connection mutation", min=0.0)
    prob_add_node: float = param(0.25, "roulette weight of the add-node (split a connection) mutation", min=0.0)
    prob_enable_connection: float = param(0.05, "roulette weight of the enable-a-disabled-connection mutation", min=0.0)
    prob_change_activation: float = param(0.50, "roulette weight of the change-a-hidden-activation mutation", min=0.0)
    hidden_activations: list[str] = param(list(ALL_ACTIVATIONS), "activations hidden nodes may take", choices=ALL_ACTIVATIONS)
    cull_ratio: float = param(0.2, "fraction of worst-ranked genomes that never become parents", min=0.0, below=1.0)
    elite_ratio: float = param(0.2, "fraction of best-ranked genomes copied unchanged", min=0.0, max=1.0)
    tournament_size: int = param(8, "genomes drawn per tournament (best rank wins)", min=1)
    prob_connection_objective: float = param(0.8, "probability a generation ranks on (mean, 1/connections) instead of (mean, max)", min=0.0, max=1.0)


@dataclass
class EvaluationConfig:
    """How genomes are scored."""

    shared_weights: list[float] = param(list(STANDARD_WEIGHTS), "shared weight values swept for every genome")
    rollouts: int = param(3, "rollouts per shared weight (the reward per weight is their mean)", min=1)
    best_rollouts: int = param(20, "fresh rollouts per weight to confirm a new champion", min=1)
    backend: str = param("processes", "where rollouts run", choices=("serial", "processes"))
    workers: int = param(0, "worker processes; 0 uses every core", min=0)


@dataclass
class RunConfig:
    """Seeding, output and checkpoints."""

    seed: int = param(0, "seed of every random draw in the run", min=0)
    save_every: int = param(8, "generations between checkpoints", min=1)
    out_dir: str = param("results", "folder that holds <name>/<run-id>/ run folders")
    name: str = param("", "run name; empty uses the config file's name")


@dataclass
class Config:
    """A whole run: one dataclass per YAML section."""

    task: TaskConfig = field(default_factory=TaskConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain nested dict (the resolved config.yaml)."""
        return dataclasses.asdict(self)


SECTIONS = {f.name: f.default_factory for f in dataclasses.fields(Config)}


def _closest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_value(source: str, key: str, value: Any, f: dataclasses.Field) -> Any:
    """Coerce and check one value against its field; ConfigError otherwise."""
    meta = f.metadata
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))

    def fail(what: str) -> ConfigError:
        return ConfigError(f"{source}: {key}: {value!r}: {what}")

    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail("expected an integer")
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise fail("expected a finite number")
        value = float(value)
    elif kind == "str":
        if not isinstance(value, str):
            raise fail("expected a string")
    elif kind == "list[float]":
        if not isinstance(value, list) or not value or any(
            isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
            for v in value
        ):
            raise fail("expected a non-empty list of finite numbers")
        value = [float(v) for v in value]
    elif kind == "list[str]":
        if not isinstance(value, list) or not value or any(not isinstance(v, str) for v in value):
            raise fail("expected a non-empty list of strings")
        if len(set(value)) != len(value):
            raise fail("lists each name once")
    if "min" in meta and value < meta["min"]:
        raise fail(f"must be >= {meta['min']}")
    if "max" in meta and value > meta["max"]:
        raise fail(f"must be <= {meta['max']}")
    if "below" in meta and value >= meta["below"]:
        raise fail(f"must be < {meta['below']}")
    if "choices" in meta:
        choices = meta["choices"]() if callable(meta["choices"]) else list(meta["choices"])
        for item in value if isinstance(value, list) else [value]:
            if item not in choices:
                shown = ", ".join(repr(c) for c in choices)
                raise ConfigError(f"{source}: {key}: {item!r}{_closest(str(item), [str(c) for c in choices])}: allowed: {shown}")
    return value


def config_from_dict(data: Any, source: str = "<config>", overridden: frozenset[str] = frozenset()) -> Config:
    """Build and validate a :class:`Config` from nested dicts (unknown keys rejected).

    Keys listed in ``overridden`` (``section.key``) came from ``--set`` and are
    reported as such in errors.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: top level must be a mapping of sections ({', '.join(SECTIONS)})")
    config = Config()
    for section, values in data.items():
        if section not in SECTIONS:
            raise ConfigError(f"{source}: unknown section {section!r}{_closest(str(section), list(SECTIONS))}; allowed: {', '.join(SECTIONS)}")
        target = getattr(config, section)
        fields = {f.name: f for f in dataclasses.fields(target)}
        if values is None:
            continue
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: {section}: expected a mapping of keys, got {values!r}")
        for key, value in values.items():
            where = "--set" if f"{section}.{key}" in overridden else source
            if key not in fields:
                raise ConfigError(f"{where}: unknown key {section}.{key}{_closest(str(key), list(fields))}; allowed: {', '.join(fields)}")
            setattr(target, key, _check_value(where, f"{section}.{key}", value, fields[key]))
    _check_whole(config, source)
    return config


def _check_whole(config: Config, source: str) -> None:
    s = config.search
    rates = (s.prob_add_connection, s.prob_add_node, s.prob_enable_connection, s.prob_change_activation)
    if sum(rates) <= 0:
        raise ConfigError(f"{source}: search.prob_*: all zero: at least one mutation needs a positive weight")
    if s.cull_ratio + s.elite_ratio > 1.0:
        raise ConfigError(f"{source}: search.elite_ratio: {s.elite_ratio}: elite_ratio + cull_ratio must be <= 1")


def apply_overrides(data: dict, overrides: list[str], source: str = "--set") -> dict:
    """Apply ``section.key=value`` overrides (values parsed as YAML) to a raw dict."""
    for item in overrides:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise ConfigError(f"{source}: {item!r}: expected section.key=value")
        path, raw = item.split("=", 1)
        section, key = path.split(".", 1)
        data.setdefault(section, {})
        if not isinstance(data[section], dict):
            data[section] = {}
        data[section][key] = yaml.safe_load(raw)
    return data


def load_config(path: str | Path, overrides: list[str] | None = None) -> Config:
    """Read, override and validate a YAML config; ConfigError with a one-line message."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of sections ({', '.join(SECTIONS)})")
    data = apply_overrides(data, overrides or [])
    overridden = frozenset(item.split("=", 1)[0] for item in overrides or [])
    config = config_from_dict(data, str(path), overridden)
    if not config.run.name:
        config.run.name = path.stem
    return config


def reference_markdown() -> str:
    """The config reference as a Markdown table, generated from the field docs."""
    lines = ["| key | default | meaning |", "|---|---|---|"]
    for section, factory in SECTIONS.items():
        for f in dataclasses.fields(factory()):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            if isinstance(default, list) and len(default) > 6:
                shown = "all ten"
            else:
                shown = yaml.safe_dump(default, default_flow_style=True).strip().removesuffix("...").strip()
            lines.append(f"| `{section}.{f.name}` | `{shown}` | {f.metadata['doc']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(reference_markdown())
