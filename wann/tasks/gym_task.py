"""Any gymnasium id as a task: sizes from the spaces, gymnasium wrappers by name.

Observations: a 1-D ``Box`` (or ``MultiBinary``) is used as it is, a
``Discrete(n)`` observation becomes n one-hot inputs. Actions: ``Discrete(n)``
by argmax over n outputs (``threshold`` on one output for n = 2),
``Box(k)`` from k outputs by ``clip`` (default) or ``tanh`` scaled to the
bounds. Anything else (Dict, Tuple, images) is refused with the wrapper
that would make it usable.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np

from wann.errors import UserError, closest
from wann.tasks.base import ActionRule, Task

FLATTEN_HINT = "add {name: FlattenObservation} to task.wrappers"


def gym_task(spec: dict[str, Any], known: list[str] | None = None) -> Task:
    """The :class:`Task` for a gymnasium id with the spec's kwargs, wrappers, action rule and labels."""
    import gymnasium

    name = spec["name"]
    if name not in gymnasium.registry:
        ids = sorted(set(gymnasium.registry) | set(known or []))
        raise UserError(f"task.name: {name!r}: unknown task or gymnasium id{closest(name, ids)}")
    wrappers = [_check_wrapper(i, w) for i, w in enumerate(spec["wrappers"])]
    factory = functools.partial(make_wrapped_env, name, dict(spec["kwargs"]), tuple(wrappers))
    env = _probe(factory, name, spec["kwargs"])
    try:
        n_inputs, one_hot = _observation_size(env.observation_space, name)
        rule = action_rule(env.action_space, spec["action"], name)
        max_steps = env.spec.max_episode_steps if env.spec is not None else None
    finally:
        env.close()
    for cls, wrapper_kwargs in wrappers:  # a TimeLimit the user adds sets the episode length
        if cls.__name__ == "TimeLimit" and "max_episode_steps" in wrapper_kwargs:
            max_steps = int(wrapper_kwargs["max_episode_steps"])
    if not max_steps:
        max_steps = 1000  # no time limit registered; task.max_steps sets another
    labels = {}
    for key, size in (("input_labels", n_inputs), ("output_labels", rule.size)):
        if spec[key]:
            if len(spec[key]) != size:
                raise UserError(f"task.{key}: {len(spec[key])} labels given, task {name} has {size}")
            labels[key] = tuple(spec[key])
    return Task(
        name=name,
        n_inputs=n_inputs,
        n_outputs=rule.size,
        action=rule,
        max_steps=int(max_steps),
        env_factory=factory,
        one_hot_observation=one_hot,
        reusable_env=reset_restores_everything(factory),
        spec=dict(spec),
        **labels,
    )


def reset_restores_everything(factory, steps: int = 200) -> bool:
    """True when an env's episode depends only on its seed and actions, not on earlier episodes.

    One episode (seed 1, seeded random actions) on a fresh env is compared
    with the same episode on an env that ran two other episodes first (one
    is not always enough to show a difference). Envs that fail (Box2D's keep
    their world across resets) get a fresh env per episode, so results never
    depend on which worker ran what before. A probe, not a proof: an env
    whose history shows only in longer or rarer episodes can pass it.
    """
    def episode(env, seed: int) -> list:
        env.action_space.seed(seed)
        obs, _ = env.reset(seed=seed)
        trace = [np.asarray(obs, dtype=np.float64).tolist()]
        for _ in range(steps):
            obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            trace.append((np.asarray(obs, dtype=np.float64).tolist(), float(reward)))
            if terminated or truncated:
                break
        return trace

    fresh, used = factory(), factory()
    try:
        episode(used, 2)
        episode(used, 3)
        return episode(fresh, 1) == episode(used, 1)
    finally:
        fresh.close()
        used.close()


def make_wrapped_env(name: str, kwargs: dict[str, Any], wrappers: tuple, render_mode: str | None = None):
    """``gymnasium.make(name, **kwargs)`` with ``wrappers`` ((class, kwargs) pairs) applied in order."""
    import gymnasium

    extra = {} if render_mode is None else {"render_mode": render_mode}
    env = gymnasium.make(name, **kwargs, **extra)
    for cls, wrapper_kwargs in wrappers:
        env = cls(env, **wrapper_kwargs)
    return env


def _check_wrapper(index: int, item: Any) -> tuple[type, dict[str, Any]]:
    import gymnasium.wrappers

    where = f"task.wrappers[{index}]"
    if isinstance(item, str):
        item = {"name": item}
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise UserError(f"{where}: {item!r}: expected {{name: WrapperName, kwargs: {{...}}}}")
    extra = set(item) - {"name", "kwargs"}
    if extra:
        raise UserError(f"{where}: unknown key {sorted(extra)[0]!r}; allowed: name, kwargs")
    name, kwargs = item["name"], item.get("kwargs") or {}
    if not isinstance(kwargs, dict):
        raise UserError(f"{where}.kwargs: {kwargs!r}: expected a mapping")
    from wann.tasks.wrappers import WRAPPERS  # wann's own (e.g. NoFallPenalty) come first

    names = [n for n in getattr(gymnasium.wrappers, "__all__", dir(gymnasium.wrappers)) if n[:1].isupper()]
    cls = WRAPPERS.get(name) or (getattr(gymnasium.wrappers, name, None) if name in names else None)
    names += list(WRAPPERS)
    if not isinstance(cls, type):
        raise UserError(f"{where}.name: {name!r}: not a gymnasium wrapper{closest(name, names)}")
    params = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    allowed = [p for p in params if p not in ("self", "env") and params[p].kind is not inspect.Parameter.VAR_KEYWORD]
    for key in kwargs:
        if key not in allowed and not takes_any:
            raise UserError(f"{where}.kwargs: {key!r}: not an argument of {name}; allowed: {', '.join(allowed) or 'none'}")
    return cls, dict(kwargs)


def _probe(factory, name: str, kwargs: dict[str, Any]):
    """Make one env to read its spaces; every failure becomes one line."""
    try:
        return factory()
    except ImportError as exc:  # e.g. Box2D missing
        raise UserError(f"task.name: {name!r}: gymnasium cannot make it here: {exc}") from None
    except TypeError as exc:
        raise UserError(f"task.kwargs / task.wrappers: {dict(kwargs)!r}: rejected by {name}: {exc}") from None
    except UserError as exc:  # one of wann's wrappers refused the env
        raise UserError(f"task {name!r}: cannot make the env: {exc}") from None
    except Exception as exc:  # gymnasium raises its own errors for bad kwargs or wrappers
        raise UserError(f"task {name!r}: cannot make the env: {type(exc).__name__}: {exc}") from None


def _observation_size(space, name: str) -> tuple[int, bool]:
    from gymnasium import spaces

    if isinstance(space, spaces.Discrete):
        return int(space.n), True
    if isinstance(space, (spaces.Box, spaces.MultiBinary)):
        shape = tuple(space.shape)
        if len(shape) == 1:
            return int(shape[0]), False
        raise UserError(f"task {name!r}: observation space {space} is not a vector (an image?); {FLATTEN_HINT}")
    raise UserError(f"task {name!r}: observation space {space} cannot be mapped to inputs; {FLATTEN_HINT}")


def action_rule(space, kind: str, name: str) -> ActionRule:
    """The rule that maps outputs to actions of ``space`` (``kind`` '' picks the default)."""
    from gymnasium import spaces

    if isinstance(space, spaces.Discrete):
        n = int(space.n)
        if int(space.start) != 0:
            raise UserError(f"task {name!r}: action space {space} does not start at 0; wrap it so it does")
        kind = kind or "argmax"
        if kind == "threshold":
            if n != 2:
                raise UserError(f"task.action: 'threshold': needs Discrete(2) actions, {name} has {space}; allowed: argmax")
            return ActionRule.threshold()
        if kind != "argmax":
            raise UserError(f"task.action: {kind!r}: {name} has discrete actions {space}; allowed: argmax, threshold")
        return ActionRule.argmax(n)
    if isinstance(space, spaces.Box) and len(space.shape) == 1:
        kind = kind or "clip"
        if kind not in ("clip", "tanh"):
            raise UserError(f"task.action: {kind!r}: {name} has continuous actions {space}; allowed: clip, tanh")
        low = np.asarray(space.low, dtype=np.float64)
        high = np.asarray(space.high, dtype=np.float64)
        if kind == "tanh" and not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            raise UserError(f"task.action: 'tanh': {name}'s action space {space} is unbounded; allowed: clip")
        return ActionRule(kind, int(space.shape[0]), tuple(low.tolist()), tuple(high.tolist()))
    raise UserError(f"task {name!r}: action space {space} cannot be mapped to outputs; "
                     "wrap the env so its actions are Discrete(n) or a 1-D Box")
