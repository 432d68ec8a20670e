"""Where tasks are found: the registry, user task modules, and any gymnasium id.

The registry always holds the built-in tasks (every module of
:mod:`wann.tasks.builtin`, each of which registers itself on import) plus
whatever users register with :func:`register_task`. A name that is not
registered but is a gymnasium id becomes a gymnasium task
(:mod:`wann.tasks.gym_task`). User task modules are imported by name from a
config (``task.module``), a command line (``--task-module``) or the
``WANN_TASK_MODULES`` environment variable (comma-separated); never from a
champion or checkpoint file.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import os
import pkgutil
from typing import Any

from wann.errors import UserError, closest
from wann.tasks.base import ActionRule, Task

ENV_MODULES = "WANN_TASK_MODULES"
PATHS = ("", "fused", "gymnasium")  # '' = fused when the task has compiled physics and no kwargs/wrappers

_TASKS: dict[str, Task] = {}
_BUILTINS_LOADED = False
_RESOLVED: dict[str, Task] = {}


def register_task(task: Task) -> None:
    """Make ``task`` known to configs and tools by its name (replaces a task of that name)."""
    _TASKS[task.name] = task
    _RESOLVED.clear()


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if _BUILTINS_LOADED:
        return
    _BUILTINS_LOADED = True
    builtin = importlib.import_module("wann.tasks.builtin")  # plugins: loaded by name, like user task modules
    for info in sorted(pkgutil.iter_modules(builtin.__path__), key=lambda m: m.name):
        importlib.import_module(f"{builtin.__name__}.{info.name}")
    for name in filter(None, (m.strip() for m in os.environ.get(ENV_MODULES, "").split(","))):
        import_task_module(name, ENV_MODULES)


def import_task_module(module: str, where: str = "task.module") -> None:
    """Import a user's task module (which registers its tasks); ValueError in one line if it fails."""
    if not module:
        return
    try:
        importlib.import_module(module)
    except Exception as exc:  # anything the user's module raises is bad input here
        raise UserError(f"{where}: {module!r}: cannot import the task module: {type(exc).__name__}: {exc}") from None


def registered_names() -> list[str]:
    """Names of every registered task (built-ins and user tasks)."""
    _load_builtins()
    return sorted(_TASKS)


def task_names() -> list[str]:
    """Names of every registered task (any gymnasium id is accepted as well)."""
    return registered_names()


def registered_task(name: str) -> Task:
    """The task registered as ``name``, as registered (a task with options of its own not yet configured)."""
    _load_builtins()
    if name not in _TASKS:
        raise UserError(f"task {name!r} is not registered{closest(name, _TASKS)}")
    return _TASKS[name]


def get_task(name: str) -> Task:
    """The task called ``name`` (registered, else a gymnasium id); ValueError naming the closest otherwise."""
    return resolve_task({"name": name})


def resolve_task(spec: dict[str, Any] | str) -> Task:
    """The task a config's ``task`` section (or a champion's ``task_spec``) describes.

    ``spec`` keys: ``name`` (required), ``kwargs``, ``wrappers``, ``action``,
    ``input_labels``, ``output_labels``, ``module`` (imported first). A
    registered task is used as it is when no kwargs or wrappers are given
    (its compiled path, when it has one); otherwise the id goes through
    gymnasium. ValueError with a one-line message for anything wrong.
    """
    if isinstance(spec, str):
        spec = {"name": spec}
    spec = _normalised(spec)
    key = json.dumps(spec, sort_keys=True)
    if key in _RESOLVED:
        return _RESOLVED[key]
    _load_builtins()
    import_task_module(spec["module"])
    name = spec["name"]
    base = _TASKS.get(name)
    own_options = base is not None and base.configure is not None  # kwargs are the task's own options
    plain = (not spec["kwargs"] or own_options) and not spec["wrappers"] and spec["path"] != "gymnasium"
    if base is not None and base.physics is not None and base.action.discrete and spec["action"] \
            and spec["action"] != base.action.kind:
        plain = False  # another discrete rule changes the number of outputs: gymnasium's spaces decide
    if base is not None and plain:
        task = _customised(base.configure(base, spec["kwargs"]) if own_options else base, spec)
        if spec["path"] == "fused" and task.physics is None:
            raise UserError(f"task.path: 'fused': task {name!r} has no compiled path")
    else:
        if spec["path"] == "fused":
            raise UserError(f"task.path: 'fused': task {name!r} has no compiled path with these kwargs/wrappers")
        from wann.tasks.gym_task import gym_task

        if base is not None and base.env_factory is None:
            raise UserError(f"task {name!r} has no gymnasium env, so task.kwargs / task.wrappers do not apply")
        task = gym_task(spec, known=list(_TASKS))
    if spec["max_steps"]:
        task = dataclasses.replace(task, max_steps=spec["max_steps"])
    _RESOLVED[key] = task
    return task


def _normalised(spec: dict[str, Any]) -> dict[str, Any]:
    out = {
        "name": str(spec["name"]),
        "kwargs": dict(spec.get("kwargs") or {}),
        "wrappers": [dict(w) for w in (spec.get("wrappers") or [])],
        "action": str(spec.get("action") or ""),
        "input_labels": [str(v) for v in (spec.get("input_labels") or [])],
        "output_labels": [str(v) for v in (spec.get("output_labels") or [])],
        "module": str(spec.get("module") or ""),
        "max_steps": int(spec.get("max_steps") or 0),
        "path": str(spec.get("path") or ""),
    }
    if out["path"] not in PATHS:
        raise UserError(f"task.path: {out['path']!r}: allowed: {', '.join(repr(p) for p in PATHS)}")
    return out


def _customised(task: Task, spec: dict[str, Any]) -> Task:
    """A registered task with the spec's action rule and labels applied."""
    changes: dict[str, Any] = {"spec": spec}
    if spec["action"] and spec["action"] != task.action.kind:
        changes["action"] = _other_rule(task, spec["action"])
    for key, size in (("input_labels", task.n_inputs), ("output_labels", task.n_outputs)):
        if spec[key]:
            if len(spec[key]) != size:
                raise UserError(f"task.{key}: {len(spec[key])} labels given, task {task.name} has {size}")
            changes[key] = tuple(spec[key])
    return dataclasses.replace(task, **changes)


def _other_rule(task: Task, kind: str) -> ActionRule:
    rule = task.action
    if rule.discrete:
        if kind == "argmax" and rule.kind == "threshold":
            raise UserError(f"task.action: 'argmax': task {task.name} has one output; allowed: threshold")
        if kind == "threshold" and rule.size != 2:
            raise UserError(f"task.action: 'threshold': needs 2 discrete actions, task {task.name} has {rule.size}")
        if kind not in ("argmax", "threshold"):
            raise UserError(f"task.action: {kind!r}: task {task.name} has discrete actions; allowed: argmax, threshold")
        raise UserError(f"task.action: {kind!r}: not available for task {task.name} (its outputs are fixed)")
    if kind not in ("clip", "tanh"):
        raise UserError(f"task.action: {kind!r}: task {task.name} has continuous actions; allowed: clip, tanh")
    return ActionRule(kind, rule.size, rule.low, rule.high)
