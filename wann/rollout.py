"""Fused rollouts: network forward pass + task physics in one compiled loop.

One call evaluates a whole shard of networks x shared weights x rollouts.
Numba cannot cache a kernel that takes the step function as an argument, so
the built-in compiled tasks are selected by a small integer code here; each
task's physics lives next to its gymnasium env in ``envs/``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from envs.cartpole_balance import cartpole_observe, cartpole_step
from envs.cartpole_swingup import swingup_observe, swingup_step
from wann.network import forward_into, max_nodes

SWINGUP = 0
CARTPOLE = 1
OBS_SIZE = {SWINGUP: 5, CARTPOLE: 4}


@njit(cache=True)
def _step(task_code, state, outputs):
    """Map network outputs to the task's action and advance the state."""
    if task_code == SWINGUP:
        a = outputs[0]
        if a != a:  # NaN output: no force, same rule as Task.action_from_outputs
            a = 0.0
        a = min(max(a, -1.0), 1.0)
        return swingup_step(state, a)
    else:
        return cartpole_step(state, 1 if outputs[0] > 0.0 else 0)


@njit(cache=True)
def _observe(task_code, state, obs):
    if task_code == SWINGUP:
        swingup_observe(state, obs)
    else:
        cartpole_observe(state, obs)


@njit(cache=True)
def rollout_shard(task_code, max_steps, init_states, node_offset, act, indptr, src, conn_weight, n_inputs, n_outputs, shared_only, weights):
    """Total reward of every network x weight x initial state (compiled).

    Returns (rewards float64[G, n_weights, n_rollouts], env steps taken).
    """
    n_net = len(node_offset) - 1
    n_rep = init_states.shape[0]
    rewards = np.zeros((n_net, len(weights), n_rep))
    values = np.empty(max_nodes(node_offset))
    obs = np.empty(n_inputs)
    outputs = np.empty(n_outputs)
    state = np.empty(init_states.shape[1])
    steps = 0
    for g in range(n_net):
        base = node_offset[g]
        n_nodes = node_offset[g + 1] - base
        for w in range(len(weights)):
            for r in range(n_rep):
                state[:] = init_states[r]
                total = 0.0
                for t in range(max_steps):
                    _observe(task_code, state, obs)
                    forward_into(act, indptr, src, conn_weight, shared_only, base, n_nodes, n_inputs, obs, weights[w], values)
                    for o in range(n_outputs):
                        outputs[o] = values[n_nodes - n_outputs + o]
                    reward, done = _step(task_code, state, outputs)
                    total += reward
                    steps += 1
                    if done:
                        break
                rewards[g, w, r] = total
    return rewards, steps
