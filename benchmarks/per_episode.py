"""The per-episode kernels the lockstep ones replaced, kept as a baseline.

The engine never calls this module. ``benchmarks/throughput.py`` times it
against the lockstep kernels, and the tests check that the lockstep kernels
give exactly (bit for bit) the rewards, losses and step counts these give:
each lockstep lane performs the same floating-point operations in the same
order as one of these episodes.

Here one episode (or one data row) at a time runs through the whole network;
every node's activation switch, CSR indexing and loop overhead is paid once
per episode per step. The swing-up physics is called as the engine called it
then: one state vector, with sin and cos of the pole angle computed afresh by
the dynamics, the reward and the observation (the lockstep kernel computes
them once per step and keeps them with the state).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from wann.engine.activations import apply_activation
from wann.engine.network import max_nodes
from wann.tasks.builtin.cartpole_balance import cartpole_observe, cartpole_step
from wann.tasks.builtin.cartpole_swingup import FORCE_MAG, X_THRESHOLD, _advance, _reward

# The baseline's own task switch (the engine has none): which physics _step runs.
SWINGUP = 0
CARTPOLE = 1
TASK_CODES = {"wann/CartPoleSwingUp-v1": SWINGUP, "wann/CartPoleSwingUpHard-v1": SWINGUP, "CartPole-v1": CARTPOLE}
from wann.engine.classify import NONFINITE_LOSS, softmax_row_loss


@njit(cache=True)
def forward_one(act, indptr, src, conn_weight, shared_only, base, n_nodes, n_inputs, obs, weight, values):
    """One forward pass for one input vector: node values into ``values[:n_nodes]``."""
    for j in range(n_inputs):
        values[j] = obs[j]
    values[n_inputs] = 1.0
    for i in range(n_inputs + 1, n_nodes):
        total = 0.0
        lo = indptr[base + i]
        hi = indptr[base + i + 1]
        if shared_only:
            for k in range(lo, hi):
                total += values[src[k]]
        else:
            for k in range(lo, hi):
                total += values[src[k]] * conn_weight[k]
        values[i] = apply_activation(act[base + i], weight * total)


@njit(cache=True)
def _step(task_code, state, outputs):
    """The task step of the per-episode kernel on the float64[4] ``state``."""
    if task_code == SWINGUP:
        a = outputs[0]
        if a != a:
            a = 0.0
        a = min(max(a, -1.0), 1.0)
        theta = state[2]
        x, x_dot, theta, theta_dot = _advance(
            state[0], state[1], theta, state[3], math.sin(theta), math.cos(theta), a * FORCE_MAG
        )
        state[0] = x
        state[1] = x_dot
        state[2] = theta
        state[3] = theta_dot
        return _reward(x, math.cos(theta)), x < -X_THRESHOLD or x > X_THRESHOLD
    return cartpole_step(state.reshape((4, 1)), 0, 1 if outputs[0] > 0.0 else 0)


@njit(cache=True)
def _observe(task_code, state, obs):
    """The observation of the per-episode kernel into ``obs``."""
    if task_code == SWINGUP:
        obs[0] = state[0]
        obs[1] = state[1]
        obs[2] = math.cos(state[2])
        obs[3] = math.sin(state[2])
        obs[4] = state[3]
    else:
        cartpole_observe(state.reshape((4, 1)), 0, obs.reshape((4, 1)))


@njit(cache=True)
def rollout_shard_per_episode(task_code, max_steps, init_states, node_offset, act, indptr, src, conn_weight, n_inputs, n_outputs, shared_only, weights):
    """Total reward of every network x weight x initial state, one episode at a time."""
    n_net = len(node_offset) - 1
    n_rep = init_states.shape[0]
    rewards = np.zeros((n_net, len(weights), n_rep))
    values = np.empty(max_nodes(node_offset))
    obs = np.empty(n_inputs)
    outputs = np.empty(n_outputs)
    state = np.empty(4)
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
                    forward_one(act, indptr, src, conn_weight, shared_only, base, n_nodes, n_inputs, obs, weights[w], values)
                    for o in range(n_outputs):
                        outputs[o] = values[n_nodes - n_outputs + o]
                    reward, done = _step(task_code, state, outputs)
                    total += reward
                    steps += 1
                    if done:
                        break
                rewards[g, w, r] = total
    return rewards, steps


@njit(cache=True)
def classify_shard_per_row(node_offset, act, indptr, src, conn_weight, n_inputs, n_outputs, shared_only, x, y, weights):
    """Mean softmax cross-entropy and accuracy of every network x weight, one data row at a time."""
    n_net = len(node_offset) - 1
    n_rows = x.shape[0]
    n_w = len(weights)
    loss = np.zeros((n_net, n_w))
    accuracy = np.zeros((n_net, n_w))
    values = np.empty(max_nodes(node_offset))
    for g in range(n_net):
        base = node_offset[g]
        n_nodes = node_offset[g + 1] - base
        first_out = n_nodes - n_outputs
        for w in range(n_w):
            total_loss = 0.0
            n_correct = 0
            for s in range(n_rows):
                forward_one(act, indptr, src, conn_weight, shared_only, base, n_nodes, n_inputs, x[s], weights[w], values)
                row_loss, best = softmax_row_loss(values[first_out:n_nodes], y[s])
                if math.isfinite(row_loss):
                    total_loss += row_loss
                    if best == y[s]:
                        n_correct += 1
                else:
                    total_loss += NONFINITE_LOSS
            loss[g, w] = total_loss / n_rows
            accuracy[g, w] = n_correct / n_rows
    return loss, accuracy
