"""wann: fast Weight Agnostic Neural Network search.

The names below are imported on first use, so ``import wann`` stays instant::

    from wann import WannSearch, Evaluator, load_config, load_champion
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_API = {
    "WannSearch": "wann.engine.search",
    "Evaluator": "wann.engine.evaluator",
    "make_backend": "wann.engine.evaluator",
    "Config": "wann.engine.config",
    "load_config": "wann.engine.config",
    "Champion": "wann.engine.champion",
    "load_champion": "wann.engine.champion",
    "save_champion": "wann.engine.champion",
    "Policy": "wann.engine.policy",
    "Task": "wann.tasks",
    "ActionRule": "wann.tasks",
    "FusedPhysics": "wann.tasks",
    "get_task": "wann.tasks",
    "register_task": "wann.tasks",
    "UserError": "wann.errors",
}
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'wann' has no attribute {name!r}")
