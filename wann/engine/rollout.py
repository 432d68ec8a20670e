"""Fused rollouts: network forward pass + task physics in one compiled loop.

One call evaluates a whole shard of networks x shared weights x rollouts.
For each network, its weights x rollouts episodes run in lockstep, one lane
each: node values form a (nodes x lanes) array with lanes contiguous, so each
node's activation switch and CSR reads are paid once per step for all lanes
and the inner loops over lanes are simple enough for the compiler to
vectorise. An episode that ends leaves the active set (its lane is swapped
with the last active one), so finished episodes cost nothing. Each lane
performs exactly the floating-point operations of a one-episode-at-a-time
rollout, in the same order, so rewards are bit-identical to it.

The kernel is built per task (:func:`fused_kernel`) from the task's compiled
``start`` / ``observe`` / ``step`` functions and its action rule, which the
kernel calls as globals, so Numba inlines them and caches the kernel on disk
(``cache=True``). Each task's kernel gets its own name, which includes a hash
of the physics functions' source, so a kernel cached for one task (or an
older version of its physics) is never loaded for another.
"""
from __future__ import annotations

import hashlib
import inspect
import re
import types

import numpy as np
from numba import njit

from wann.engine.network import forward_lanes, max_nodes
from wann.tasks.actions import action_function
from wann.tasks.base import FusedPhysics, Task


@njit(cache=True, inline="always")
def copy_start(states, lane, state):
    """Default ``start``: the lane's state rows are the initial state itself."""
    for j in range(state.shape[0]):
        states[j, lane] = state[j]


@njit(cache=True)
def _swap_lanes(a, b, states, lane_weight, lane_id, total, done):
    """Exchange everything two lanes carry between steps (node values and actions are recomputed)."""
    for j in range(states.shape[0]):  # every row, derived ones (cos, sin) too
        tmp = states[j, a]
        states[j, a] = states[j, b]
        states[j, b] = tmp
    lane_weight[a], lane_weight[b] = lane_weight[b], lane_weight[a]
    lane_id[a], lane_id[b] = lane_id[b], lane_id[a]
    total[a], total[b] = total[b], total[a]
    done[a], done[b] = done[b], done[a]


# The template's task functions; fused_kernel binds the real ones for each task.
_start = _observe = _step = _action = None


def _rollout_template(state_rows, max_steps, init_states, node_offset, act, indptr, src, conn_weight,
                      n_inputs, n_outputs, shared_only, weights, act_low, act_high):
    """Total reward of every network x weight x initial state (compiled, lockstep).

    ``_start``, ``_observe``, ``_step`` and ``_action`` are the task's
    functions, bound as globals by :func:`fused_kernel`. Returns
    (rewards float64[G, n_weights, n_rollouts], env steps taken).
    """
    n_net = len(node_offset) - 1
    n_rep = init_states.shape[0]
    n_lanes = len(weights) * n_rep
    n_act = len(act_low)
    rewards = np.zeros((n_net, len(weights), n_rep))
    values = np.empty((max_nodes(node_offset), n_lanes))
    states = np.empty((state_rows, n_lanes))  # lane l's state is column l
    actions = np.empty((n_act, n_lanes))
    lane_weight = np.empty(n_lanes)
    lane_id = np.empty(n_lanes, dtype=np.int64)
    total = np.empty(n_lanes)
    done = np.zeros(n_lanes, dtype=np.bool_)
    steps = 0
    for g in range(n_net):
        base = node_offset[g]
        n_nodes = node_offset[g + 1] - base
        first_out = n_nodes - n_outputs
        for lane in range(n_lanes):
            _start(states, lane, init_states[lane % n_rep])
            lane_weight[lane] = weights[lane // n_rep]
            lane_id[lane] = lane
            total[lane] = 0.0
            done[lane] = False
        n_active = n_lanes
        for t in range(max_steps):
            for lane in range(n_active):
                _observe(states, lane, values)
            forward_lanes(act, indptr, src, conn_weight, shared_only, base, n_nodes, n_inputs, lane_weight, n_active, values)
            for lane in range(n_active):
                _action(values, first_out, n_act, lane, act_low, act_high, actions)
                reward, ended = _step(states, lane, actions)
                total[lane] += reward
                done[lane] = ended
            steps += n_active
            # drop finished lanes: swap each with the last active one
            lane = 0
            while lane < n_active:
                if done[lane]:
                    n_active -= 1
                    _swap_lanes(lane, n_active, states, lane_weight, lane_id, total, done)
                else:
                    lane += 1
            if n_active == 0:
                break
        for lane in range(n_lanes):
            rewards[g, lane_id[lane] // n_rep, lane_id[lane] % n_rep] = total[lane]
    return rewards, steps


_KERNELS: dict[tuple, object] = {}


def _source_hash(functions) -> str:
    digest = hashlib.sha1()
    for fn in functions:
        py = getattr(fn, "py_func", fn)
        try:
            digest.update(inspect.getsource(py).encode())
        except (OSError, TypeError):  # no source (e.g. built in a REPL): name only
            digest.update(f"{py.__module__}.{py.__qualname__}".encode())
    return digest.hexdigest()[:12]


def bind_task_kernel(template, tag: str, physics: FusedPhysics, action_kind: str, parallel: bool = False):
    """Compile ``template`` with ``physics``'s ``_start`` / ``_observe`` / ``_step`` and the ``_action`` rule bound as globals.

    Built once per process, template, task and action rule; the kernel's name
    holds ``tag``, the task's step function and a hash of the physics' source,
    so Numba's disk cache never hands one task's kernel to another.
    ``parallel``: compile with ``parallel=True`` (a template that uses ``prange``).
    """
    start = physics.start if physics.start is not None else copy_start
    parts = (start, physics.observe, physics.step)
    key = (tag, id(physics.step), id(physics.observe), id(start), action_kind, parallel)
    kernel = _KERNELS.get(key)
    if kernel is None:
        owner = re.sub(r"\W", "_", f"{physics.step.py_func.__module__}_{physics.step.py_func.__name__}")
        name = f"{tag}_{owner}_{action_kind}_{_source_hash(parts)}"
        scope = dict(template.__globals__)
        scope.update(_start=start, _observe=physics.observe, _step=physics.step, _action=action_function(action_kind))
        fn = types.FunctionType(template.__code__, scope, name)
        fn.__qualname__ = name
        fn.__doc__ = template.__doc__
        kernel = njit(cache=True, parallel=parallel)(fn)
        _KERNELS[key] = kernel
    return kernel


def fused_kernel(physics: FusedPhysics, action_kind: str):
    """The compiled lockstep rollout kernel of ``physics`` with the action rule ``action_kind``.

    Built once per process and task; the first call compiles it, or loads it
    from Numba's disk cache when an identical kernel was compiled before.
    """
    return bind_task_kernel(_rollout_template, "rollout", physics, action_kind)


def fused_rollouts(task: Task, batch, weights: np.ndarray, seeds: np.ndarray, max_steps: int) -> tuple[np.ndarray, int]:
    """Every network of ``batch`` x weight x seed on ``task``'s fused path."""
    physics = task.physics
    init_states = np.stack([np.asarray(physics.initial_state(int(s)), dtype=np.float64) for s in seeds])
    low, high = task.action.bounds()
    kernel = fused_kernel(physics, task.action.kind)
    return kernel(physics.state_rows, int(max_steps), init_states, *batch.arrays(),
                  np.asarray(weights, dtype=np.float64), low, high)
