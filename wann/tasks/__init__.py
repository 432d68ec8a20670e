"""Tasks: the task interface, the registry, and the built-in tasks.

``from wann.tasks import Task, FusedPhysics, ActionRule, register_task`` is
all a user task needs (see the README's "Bring your own task"). Built-in
tasks live one per module in :mod:`wann.tasks.builtin` and register
themselves; any gymnasium id works through :mod:`wann.tasks.gym_task`.
"""
from __future__ import annotations

from wann.tasks.base import ActionRule, FusedPhysics, Task
from wann.tasks.registry import (
    ENV_MODULES,
    get_task,
    import_task_module,
    register_task,
    registered_names,
    registered_task,
    resolve_task,
    task_names,
)

__all__ = [
    "ENV_MODULES",
    "ActionRule",
    "FusedPhysics",
    "Task",
    "get_task",
    "import_task_module",
    "register_task",
    "registered_names",
    "registered_task",
    "resolve_task",
    "task_names",
]
