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

Numba cannot cache a kernel that takes the step function as an argument, so
the built-in compiled tasks are selected by a small integer code here; each
task's physics lives next to its gymnasium env in ``envs/``.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from envs.cartpole_balance import STATE_ROWS as CARTPOLE_ROWS
from envs.cartpole_balance import cartpole_observe, cartpole_start, cartpole_step
from envs.cartpole_swingup import STATE_ROWS as SWINGUP_ROWS
from envs.cartpole_swingup import swingup_observe, swingup_start, swingup_step
from wann.network import forward_lanes, max_nodes

SWINGUP = 0
CARTPOLE = 1
OBS_SIZE = {SWINGUP: 5, CARTPOLE: 4}


@njit(cache=True)
def state_rows(task_code):
    """Rows of one lane's state for the task."""
    return SWINGUP_ROWS if task_code == SWINGUP else CARTPOLE_ROWS


@njit(cache=True, inline="always")
def start_state(task_code, states, lane, state):
    """Start lane ``lane`` from the task's initial ``state`` (as ``Task.initial_state`` gives it)."""
    if task_code == SWINGUP:
        swingup_start(states, lane, state)
    else:
        cartpole_start(states, lane, state)


@njit(cache=True, inline="always")
def step_state(task_code, states, lane, values, first_out):
    """Map lane ``lane``'s network outputs (rows ``first_out``.. of ``values``) to the task's action; step it."""
    if task_code == SWINGUP:
        a = values[first_out, lane]
        if a != a:  # NaN output: no force, same rule as Task.action_from_outputs
            a = 0.0
        a = min(max(a, -1.0), 1.0)
        return swingup_step(states, lane, a)
    else:
        return cartpole_step(states, lane, 1 if values[first_out, lane] > 0.0 else 0)


@njit(cache=True, inline="always")
def observe_state(task_code, states, lane, values):
    """Write lane ``lane``'s observation into the input rows of ``values``."""
    if task_code == SWINGUP:
        swingup_observe(states, lane, values)
    else:
        cartpole_observe(states, lane, values)


@njit(cache=True)
def _swap_lanes(a, b, states, lane_weight, lane_id, total, done):
    """Exchange everything two lanes carry between steps (node values are recomputed)."""
    for j in range(states.shape[0]):  # every row, derived ones (cos, sin) too
        tmp = states[j, a]
        states[j, a] = states[j, b]
        states[j, b] = tmp
    lane_weight[a], lane_weight[b] = lane_weight[b], lane_weight[a]
    lane_id[a], lane_id[b] = lane_id[b], lane_id[a]
    total[a], total[b] = total[b], total[a]
    done[a], done[b] = done[b], done[a]


@njit(cache=True)
def rollout_shard(task_code, max_steps, init_states, node_offset, act, indptr, src, conn_weight, n_inputs, n_outputs, shared_only, weights):
    """Total reward of every network x weight x initial state (compiled, lockstep).

    Returns (rewards float64[G, n_weights, n_rollouts], env steps taken).
    """
    n_net = len(node_offset) - 1
    n_rep = init_states.shape[0]
    n_lanes = len(weights) * n_rep
    rewards = np.zeros((n_net, len(weights), n_rep))
    values = np.empty((max_nodes(node_offset), n_lanes))
    states = np.empty((state_rows(task_code), n_lanes))  # lane l's state is column l
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
            start_state(task_code, states, lane, init_states[lane % n_rep])
            lane_weight[lane] = weights[lane // n_rep]
            lane_id[lane] = lane
            total[lane] = 0.0
            done[lane] = False
        n_active = n_lanes
        for t in range(max_steps):
            for lane in range(n_active):
                observe_state(task_code, states, lane, values)
            forward_lanes(act, indptr, src, conn_weight, shared_only, base, n_nodes, n_inputs, lane_weight, n_active, values)
            for lane in range(n_active):
                reward, ended = step_state(task_code, states, lane, values, first_out)
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
