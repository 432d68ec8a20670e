"""YAML -> dataclass plumbing shared by every config of the project.

A field is declared with :func:`param` (default, one-line doc, constraints);
:func:`fill_section` checks a YAML mapping against a dataclass and raises
:class:`UserError` with one line ``<file>: <key>: <value>: <what is allowed>``.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import field
from pathlib import Path
from typing import Any, Callable

import yaml

from wann.errors import UserError, closest


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


def _describe(tp: Any) -> str:
    """What a value of type ``tp`` looks like, for messages."""
    if tp is type(None):
        return "null"
    if typing.get_origin(tp) is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp) or (Any,)
        return f"a list of {_PLURAL.get(item, 'values')}"
    return _SINGULAR.get(tp, getattr(tp, "__name__", str(tp)))


_SINGULAR = {int: "an integer", float: "a finite number", bool: "true or false", str: "a string",
             dict: "a mapping of names to values"}
_SCALAR_OK = {
    int: lambda v: _is_number(v, True),
    float: lambda v: _is_number(v, False),
    bool: lambda v: isinstance(v, bool),
    str: lambda v: isinstance(v, str),
}
_PLURAL = {int: "integers", float: "finite numbers", str: "strings", dict: "mappings"}


def _coerce(tp: Any, value: Any, fail: Callable[..., UserError]) -> Any:
    """``value`` checked against the type ``tp`` (int, float, bool, str, dict, list[X], X | None, Literal)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        for option in options:
            try:
                return _coerce(option, value, fail)
            except UserError:
                continue
        raise fail("expected " + " or ".join(_describe(a) for a in args))
    if origin is typing.Literal:
        if value not in args:
            raise fail(f"allowed: {', '.join(str(a) for a in args)}{closest(value, args)}")
        return value
    if tp in _SCALAR_OK:
        if not _SCALAR_OK[tp](value):
            raise fail(f"expected {_SINGULAR[tp]}")
        return float(value) if tp is float else value
    if tp is dict or origin is dict:
        if not isinstance(value, dict) or any(not isinstance(k, str) for k in value):
            raise fail("expected a mapping of names to values")
        return value
    if origin is list:
        (item,) = args
        if item is dict:  # wrappers: a bare name stands for {name: ...}
            if not isinstance(value, list) or any(not isinstance(v, (dict, str)) for v in value):
                raise fail("expected a list of mappings, e.g. [{name: TimeLimit, kwargs: {max_episode_steps: 200}}]")
            return [{"name": v} if isinstance(v, str) else dict(v) for v in value]
        if not isinstance(value, list):
            raise fail(f"expected {_describe(tp)}")
        out = []
        for v in value:
            try:
                out.append(_coerce(item, v, fail))
            except UserError:
                raise fail(f"expected {_describe(tp)}") from None
        return out
    raise TypeError(f"configkit: unsupported field type {tp!r}")  # a programming error, not bad input


def check_value(source: str, key: str, value: Any, f: dataclasses.Field, tp: Any) -> Any:
    """Coerce and check one value against field ``f`` of resolved type ``tp``.

    UserError naming file, key, value and what is allowed.
    """
    meta = f.metadata

    def fail(what: str, shown: Any = value) -> UserError:
        return UserError(f"{source}: {key}: {show(shown)}: {what}")

    raw = value
    value = _coerce(tp, value, fail)
    if value is None:
        return value
    if typing.get_origin(tp) is list and typing.get_args(tp)[0] in (int, float):
        need = max(1, meta.get("min_len", 1)) if (meta.get("nonempty") or "min_len" in meta) else 0
        if len(value) < need:
            raise fail(f"expected at least {need} value{'s' if need > 1 else ''}")
        for v, written in zip(value, raw):
            if "each_min" in meta and v < meta["each_min"]:
                raise fail(f"every value must be >= {meta['each_min']:g}", written)
            lo, hi = meta.get("each_gt"), meta.get("each_max")
            if (lo is not None and v <= lo) or (hi is not None and v > hi):
                raise fail(f"every value must lie in ({lo:g}, {hi:g}]", written)
    elif typing.get_origin(tp) is list and typing.get_args(tp)[0] is str:
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
    hints = typing.get_type_hints(type(target))
    for key, value in values.items():
        where = "--set" if f"{prefix}{key}" in overridden else source
        if key not in fields:
            raise UserError(f"{where}: {prefix}{key}: unknown key{closest(key, fields)}; allowed: {', '.join(fields)}")
        setattr(target, key, check_value(where, f"{prefix}{key}", value, fields[key], hints[key]))


def read_yaml_mapping(path: str | Path, what: str) -> dict:
    """Read a YAML file whose top level must be a mapping (``what`` describes its keys)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise UserError(f"{path}: cannot read config: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start}); a config is a YAML text file") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UserError(f"{path}: not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: top level must be a mapping of {what}")
    return data


def load_yaml_config(path: str | Path, overrides: list[str] | None, keys: str,
                     build: Callable[[dict, str, frozenset[str]], Any], fixed_sections: tuple[str, ...] = ()) -> Any:
    """Read a YAML config, apply ``--set`` overrides, ``build(data, source, overridden)`` it, name the run.

    ``keys`` describes the allowed top-level keys (for the message when the
    file is not a mapping); an empty ``run.name`` becomes the file's stem.
    """
    path = Path(path)
    data = read_yaml_mapping(path, keys)
    overridden = apply_overrides(data, overrides or [], fixed_sections)
    config = build(data, str(path), overridden)
    if not config.run.name:
        config.run.name = path.stem
    return config


def apply_overrides(data: dict, overrides: list[str], fixed_sections: tuple[str, ...] = ()) -> frozenset[str]:
    """Apply ``section.key=value`` overrides (values parsed as YAML) to ``data`` in place.

    Returns the overridden ``section.key`` names, for error messages.
    """
    keys = []
    for item in overrides:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise UserError(f"--set: {item!r}: expected section.key=value")
        path, raw = item.split("=", 1)
        section, key = path.split(".", 1)
        if section in fixed_sections:
            raise UserError(f"--set: {item!r}: {section} are set in the config file, not with --set")
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
