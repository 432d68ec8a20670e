"""YAML -> dataclass plumbing shared by every config of the project.

A field is declared with :func:`param` (default, one-line doc, constraints);
:func:`fill_section` checks a YAML mapping against a dataclass and raises
:class:`ConfigError` with one line ``<file>: <key>: <value>: <what is allowed>``.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import field
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A bad config file or override; the message is one line meant for the user."""


def param(default: Any, doc: str, **allowed: Any) -> Any:
    """A dataclass field with a one-line doc and constraints.

    Constraints: ``min``/``max`` (inclusive), ``gt``/``lt`` (exclusive),
    ``choices`` (a sequence, or a callable returning one), and for lists
    ``each_min``, ``each_gt``/``each_max``, ``min_len``, ``nonempty``.
    """
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: list(default), metadata={"doc": doc, **allowed})
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata={"doc": doc, **allowed})
    return field(default=default, metadata={"doc": doc, **allowed})


def closest(word: Any, options) -> str:
    """`` (did you mean 'x'?)`` for the closest option, or an empty string."""
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def show(value: Any) -> str:
    """A value as the user wrote it in YAML (strings quoted)."""
    if isinstance(value, str):
        return repr(value)
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def _is_number(value: Any, integer: bool) -> bool:
    if isinstance(value, bool):
        return False
    if integer:
        return isinstance(value, int)
    return isinstance(value, (int, float)) and math.isfinite(value)


def check_value(source: str, key: str, value: Any, f: dataclasses.Field) -> Any:
    """Coerce and check one value against its field; ConfigError naming file, key, value and what is allowed."""
    meta = f.metadata
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))

    def fail(what: str, shown: Any = value) -> ConfigError:
        return ConfigError(f"{source}: {key}: {show(shown)}: {what}")

    if kind == "int":
        if not _is_number(value, True):
            raise fail("expected an integer")
    elif kind == "float":
        if not _is_number(value, False):
            raise fail("expected a finite number")
        value = float(value)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise fail("expected true or false")
    elif kind == "str":
        if not isinstance(value, str):
            raise fail("expected a string")
    elif kind in ("list[int]", "list[float]"):
        integer = kind == "list[int]"
        if not isinstance(value, list) or any(not _is_number(v, integer) for v in value):
            raise fail(f"expected a list of {'integers' if integer else 'finite numbers'}")
        need = max(1, meta.get("min_len", 1)) if (meta.get("nonempty") or "min_len" in meta) else 0
        if len(value) < need:
            raise fail(f"expected at least {need} value{'s' if need > 1 else ''}")
        for v in value:
            if "each_min" in meta and v < meta["each_min"]:
                raise fail(f"every value must be >= {meta['each_min']:g}", v)
            lo, hi = meta.get("each_gt"), meta.get("each_max")
            if (lo is not None and v <= lo) or (hi is not None and v > hi):
                raise fail(f"every value must lie in ({lo:g}, {hi:g}]", v)
        value = [int(v) if integer else float(v) for v in value]
    elif kind == "dict":
        if not isinstance(value, dict) or any(not isinstance(k, str) for k in value):
            raise fail("expected a mapping of names to values")
    elif kind == "list[dict]":
        if not isinstance(value, list) or any(not isinstance(v, (dict, str)) for v in value):
            raise fail("expected a list of mappings, e.g. [{name: TimeLimit, kwargs: {max_episode_steps: 200}}]")
        value = [{"name": v} if isinstance(v, str) else dict(v) for v in value]
    elif kind == "list[str]":
        if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
            raise fail("expected a list of strings")
        if not value and not meta.get("allow_empty"):
            raise fail("expected a non-empty list of strings")
        if len(set(value)) != len(value):
            raise fail("list each name once")
    if "min" in meta and value < meta["min"]:
        raise fail(f"must be >= {meta['min']:g}")
    if "max" in meta and value > meta["max"]:
        raise fail(f"must be <= {meta['max']:g}")
    too_low = "gt" in meta and value <= meta["gt"]
    too_high = "lt" in meta and value >= meta["lt"]
    if too_low or too_high:
        if "gt" in meta and "lt" in meta:
            raise fail(f"must lie in ({meta['gt']:g}, {meta['lt']:g})")
        raise fail(f"must be > {meta['gt']:g}" if too_low else f"must be < {meta['lt']:g}")
    if "choices" in meta:
        choices = list(meta["choices"]() if callable(meta["choices"]) else meta["choices"])
        for item in value if isinstance(value, list) else [value]:
            if item not in choices:
                shown = ", ".join(str(c) if c != "" else "''" for c in choices)
                raise fail(f"allowed: {shown}{closest(item, choices)}", item)
    return value


def fill_section(target: Any, values: dict, source: str, prefix: str, overridden: frozenset[str] = frozenset()) -> None:
    """Check every ``key: value`` of ``values`` against dataclass ``target`` and set it.

    Keys in ``overridden`` (``prefix+key``) came from ``--set`` and are reported so.
    """
    fields = {f.name: f for f in dataclasses.fields(target)}
    for key, value in values.items():
        where = "--set" if f"{prefix}{key}" in overridden else source
        if key not in fields:
            raise ConfigError(f"{where}: {prefix}{key}: unknown key{closest(key, fields)}; allowed: {', '.join(fields)}")
        setattr(target, key, check_value(where, f"{prefix}{key}", value, fields[key]))


def read_yaml_mapping(path: str | Path, what: str) -> dict:
    """Read a YAML file whose top level must be a mapping (``what`` describes its keys)."""
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
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of {what}")
    return data


def apply_overrides(data: dict, overrides: list[str], fixed_sections: tuple[str, ...] = ()) -> frozenset[str]:
    """Apply ``section.key=value`` overrides (values parsed as YAML) to ``data`` in place.

    Returns the overridden ``section.key`` names, for error messages.
    """
    keys = []
    for item in overrides:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise ConfigError(f"--set: {item!r}: expected section.key=value")
        path, raw = item.split("=", 1)
        section, key = path.split(".", 1)
        if section in fixed_sections:
            raise ConfigError(f"--set: {item!r}: {section} are set in the config file, not with --set")
        if not isinstance(data.get(section), dict):
            data[section] = {}
        data[section][key] = yaml.safe_load(raw)
        keys.append(path)
    return frozenset(keys)


def reference_rows(section: str, dataclass_type: Any) -> list[str]:
    """Markdown table rows ``| `section.key` | `default` | doc |`` for one dataclass."""
    rows = []
    for f in dataclasses.fields(dataclass_type):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        rows.append(f"| `{section}.{f.name}` | `{show(default)}` | {f.metadata['doc']} |")
    return rows
