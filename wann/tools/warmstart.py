"""A teacher-free warm start for ``wann.tune``: planned open-loop swing-ups, distilled into the network.

Started from its best shared weight, a tuner on a swing-up-like task (reach a
goal state, then hold it) tends to refine the slow approach the shared weight
already makes and level off there. ``--warm-start openloop`` moves it into a
faster basin first, without any teacher policy, using only the task's
compiled physics (:class:`wann.tasks.base.FusedPhysics`):

1. **Plan.** For ``starts`` seeded start states, an optimizer (the tuner's
   method) finds an open-loop action sequence for the first ``horizon``
   steps: ``horizon / block`` values, each held for ``block`` steps and
   squashed into the action bounds by tanh, scored by the task's own reward.
2. **Teacher pairs.** Each planned trajectory's (observation, action) pairs
   up to ``cut_margin`` steps after its per-step reward first reaches
   ``cut_fraction`` of the best it reaches (the approach to the goal; an
   open-loop plan's balancing after that is not worth imitating).
3. **Hold pairs.** The start policy's own (observation, action) pairs from
   step ``hold_after`` on (every ``hold_every``-th step of ``hold_episodes``
   episodes), so the network keeps the balancing it already does.
4. **Distil.** The connection weights, started at the shared weight, are
   fitted to both sets of pairs (mean squared error of the actions, each set
   weighted equally) by the tuner's method for ``distill_iterations``.

The distilled weights are usually poor on their own (a few hundred reward):
they are a starting point for the usual tuner on the real reward. Every step
is a function of the seed; nothing depends on the number of workers.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from numba import njit, prange

from wann.engine.config import param
from wann.engine.network import ROW_LANES, Network, forward_block, forward_lanes, load_rows, max_nodes, stack_networks
from wann.engine.rollout import bind_task_kernel
from wann.engine.seeds import DISTILL_NOISE_STREAM, HOLD_STREAM, PLAN_NOISE_STREAM, PLAN_STREAM, draw_seeds, make_rng
from wann.errors import UserError
from wann.tasks import Task
from wann.tools.runner import with_conn_weights

WARM_STARTS = ("none", "openloop")
CONTINUOUS_ACTIONS = ("clip", "tanh")


@dataclass(frozen=True)
class WarmStartSettings:
    """Settings of ``--warm-start openloop`` (the defaults are the ones measured in the README)."""

    starts: int = param(40, "seeded start states planned open loop", min=1)
    horizon: int = param(200, "steps of each open-loop plan", min=1)
    block: int = param(5, "steps each planned action is held", min=1)
    plan_iterations: int = param(400, "optimizer iterations per plan", min=1)
    plan_popsize: int = param(24, "candidates per planning iteration", min=2)
    plan_sigma: float = param(1.0, "initial step size of the planner (in tanh-argument units)", min=0.0)
    cut_fraction: float = param(0.975, "teacher pairs stop where the step reward first reaches this fraction of the plan's best", min=0.0)
    cut_margin: int = param(10, "teacher pairs kept after that step", min=0)
    hold_episodes: int = param(20, "episodes of the start policy that give hold pairs", min=0)
    hold_after: int = param(250, "hold pairs come from this step of those episodes on", min=0)
    hold_every: int = param(5, "one hold pair every this many steps", min=1)
    distill_iterations: int = param(2000, "optimizer iterations fitting the weights to the pairs", min=1)
    distill_popsize: int = param(32, "candidates per distillation iteration", min=2)
    distill_sigma: float = param(0.5, "initial step size of the distillation", min=0.0)


WARM_DEFAULTS = WarmStartSettings()


@dataclass
class WarmStart:
    """Distilled starting weights and how they were made."""

    weights: np.ndarray  # float64[n_connections], in ``network.conn_innov`` order
    plan_reward: float  # mean reward of the plans over their horizon
    plan_reward_min: float
    teacher_pairs: int
    hold_pairs: int
    loss_start: float  # distillation loss of the shared-weight start
    loss_final: float
    seconds: float  # planning, pairs and distillation, without compiling
    compile_seconds: float = 0.0  # first calls of the kernels (Numba compile, or cache load)

    def record(self) -> dict[str, Any]:
        """The numbers stored in a tuned champion's ``tuned_weights.warm_start``."""
        return {"plan_reward": self.plan_reward, "plan_reward_min": self.plan_reward_min,
                "teacher_pairs": self.teacher_pairs, "hold_pairs": self.hold_pairs,
                "loss_start": self.loss_start, "loss_final": self.loss_final, "seconds": self.seconds,
                "compile_seconds": self.compile_seconds}


# The templates' task functions; bind_task_kernel binds the real ones for each task.
_start = _observe = _step = _action = None


@njit(cache=True, inline="always")
def squash(p, low, high):
    """A plan value -> an action in [low, high] (tanh, so any real plan value is a legal action)."""
    return low + (math.tanh(p) + 1.0) * 0.5 * (high - low)


def _plan_rewards_template(state_rows, init_state, params, block, horizon, low, high):
    """Reward over ``horizon`` steps of each row of ``params`` as an open-loop plan (compiled).

    Row k holds ``n_blocks * n_act`` values; block b's action j is
    ``squash(params[k, b * n_act + j])``, held for ``block`` steps.
    """
    n_act = len(low)
    states = np.empty((state_rows, 1))
    actions = np.empty((n_act, 1))
    out = np.zeros(params.shape[0])
    for k in range(params.shape[0]):
        _start(states, 0, init_state)
        total = 0.0
        for t in range(horizon):
            b = t // block
            for j in range(n_act):
                actions[j, 0] = squash(params[k, b * n_act + j], low[j], high[j])
            reward, ended = _step(states, 0, actions)
            total += reward
            if ended:
                break
        out[k] = total
    return out


def _plan_trajectory_template(state_rows, n_inputs, init_state, p, block, horizon, low, high):
    """Observations, actions and rewards of one plan ``p``; returns them and the steps taken (compiled)."""
    n_act = len(low)
    states = np.empty((state_rows, 1))
    values = np.empty((n_inputs, 1))
    actions = np.empty((n_act, 1))
    obs = np.zeros((horizon, n_inputs))
    acts = np.zeros((horizon, n_act))
    rewards = np.zeros(horizon)
    _start(states, 0, init_state)
    steps = 0
    for t in range(horizon):
        _observe(states, 0, values)
        for i in range(n_inputs):
            obs[t, i] = values[i, 0]
        b = t // block
        for j in range(n_act):
            actions[j, 0] = squash(p[b * n_act + j], low[j], high[j])
            acts[t, j] = actions[j, 0]
        reward, ended = _step(states, 0, actions)
        rewards[t] = reward
        steps = t + 1
        if ended:
            break
    return obs, acts, rewards, steps


def _policy_pairs_template(state_rows, init_states, node_offset, act, indptr, src, conn_weight, n_inputs,
                           n_outputs, shared_only, weight, max_steps, after, every, low, high):
    """(observation, action) pairs of network 0 at shared ``weight`` from step ``after`` on, every ``every`` steps (compiled)."""
    n_act = len(low)
    n_nodes = node_offset[1] - node_offset[0]
    per_episode = max(0, (max_steps - after + every - 1) // every)
    obs = np.zeros((len(init_states) * per_episode, n_inputs))
    acts = np.zeros((len(init_states) * per_episode, n_act))
    states = np.empty((state_rows, 1))
    values = np.empty((max_nodes(node_offset), 1))
    actions = np.empty((n_act, 1))
    lane_weight = np.full(1, weight)
    count = 0
    for e in range(len(init_states)):
        _start(states, 0, init_states[e])
        for t in range(max_steps):
            _observe(states, 0, values)
            keep = t >= after and (t - after) % every == 0
            if keep:
                for i in range(n_inputs):
                    obs[count, i] = values[i, 0]
            forward_lanes(act, indptr, src, conn_weight, shared_only, 0, n_nodes, n_inputs, lane_weight, 1, values)
            _action(values, n_nodes - n_outputs, n_act, 0, low, high, actions)
            if keep:
                for j in range(n_act):
                    acts[count, j] = actions[j, 0]
                count += 1
            reward, ended = _step(states, 0, actions)
            if ended:
                break
    return obs[:count], acts[:count]


def _batch_actions_template(state_rows, node_offset, act, indptr, src, conn_weight, n_inputs, n_outputs,
                            shared_only, inputs, low, high):
    """Actions float64[G, n_rows, n_act] of every network of a batch at shared weight 1 (compiled, networks in parallel).

    The outputs become actions through the task's own rule (``_action``, as
    in the rollouts). The distillation's one heavy call per iteration:
    threads share the networks (the tuner's worker processes are idle
    meanwhile). ``state_rows`` is unused; it keeps the binding's signature.
    """
    n_net = len(node_offset) - 1
    n_samples = inputs.shape[0]
    n_act = len(low)
    out = np.empty((n_net, n_samples, n_act))
    n_lanes = max(1, min(n_samples, ROW_LANES))
    largest = max_nodes(node_offset)
    for g in prange(n_net):
        values = np.empty((largest, n_lanes))
        lane_weight = np.empty(n_lanes)
        actions = np.empty((n_act, n_lanes))
        for start in range(0, n_samples, n_lanes):
            n_rows = min(n_lanes, n_samples - start)
            load_rows(inputs, start, n_rows, n_inputs, values)
            n_nodes = forward_block(node_offset, act, indptr, src, conn_weight, shared_only, n_inputs, g, 1.0,
                                    lane_weight, n_rows, values)
            for lane in range(n_rows):
                _action(values, n_nodes - n_outputs, n_act, lane, low, high, actions)
                for j in range(n_act):
                    out[g, start + lane, j] = actions[j, lane]
    return out


_TAGS = {_plan_rewards_template: "plan", _plan_trajectory_template: "plantrace",
         _policy_pairs_template: "holdpairs", _batch_actions_template: "batchactions"}


def task_kernel(task: Task, template):
    """``template`` compiled for ``task``'s physics and action rule (see :func:`wann.engine.rollout.bind_task_kernel`)."""
    return bind_task_kernel(template, _TAGS[template], task.physics, task.action.kind,
                            parallel=template is _batch_actions_template)


def check_warm_start(task: Task, warm_start: str) -> None:
    """UserError in one line unless ``task`` supports ``warm_start``."""
    if warm_start not in WARM_STARTS:
        raise UserError(f"--warm-start: {warm_start!r}: allowed: {', '.join(WARM_STARTS)}")
    if warm_start == "none":
        return
    if task.physics is None:
        raise UserError(f"--warm-start openloop: task {task.name} has no compiled physics to plan with "
                        "(allowed: built-in tasks and user tasks with a FusedPhysics)")
    if task.action.kind not in CONTINUOUS_ACTIONS:
        raise UserError(f"--warm-start openloop: task {task.name} has {task.action.kind} actions; "
                        f"planning needs continuous ones ({', '.join(CONTINUOUS_ACTIONS)})")


def plan_teacher_pairs(task: Task, settings: WarmStartSettings, seed: int, make_optimizer: Callable,
                       say: Callable[[str], None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps 1-2: (observations, actions) of the planned approaches, and each plan's reward."""
    physics = task.physics
    low, high = task.action.bounds()
    n_act = len(low)
    horizon = min(settings.horizon, task.max_steps)
    n_blocks = -(-horizon // settings.block)
    plan = task_kernel(task, _plan_rewards_template)
    trace = task_kernel(task, _plan_trajectory_template)
    starts = draw_seeds(make_rng(seed, PLAN_STREAM), settings.starts)
    noise = make_rng(seed, PLAN_NOISE_STREAM)
    obs_parts, act_parts, scores = [], [], []
    for k, start_seed in enumerate(starts):
        state = np.asarray(physics.initial_state(int(start_seed)), dtype=np.float64)
        opt = make_optimizer(np.zeros(n_blocks * n_act), noise, settings.plan_popsize, settings.plan_sigma)
        best, best_score = np.zeros(n_blocks * n_act), -math.inf
        for _ in range(settings.plan_iterations):
            candidates = opt.ask()
            rewards = plan(physics.state_rows, state, candidates, settings.block, horizon, low, high)
            opt.tell(rewards)
            top = int(np.argmax(rewards))
            if rewards[top] > best_score:
                best, best_score = candidates[top].copy(), float(rewards[top])
        obs, acts, step_rewards, steps = trace(physics.state_rows, task.n_inputs, state, best, settings.block,
                                               horizon, low, high)
        step_rewards = step_rewards[:steps]
        reached = np.flatnonzero(step_rewards >= settings.cut_fraction * step_rewards.max())
        cut = min(steps, int(reached[0]) + 1 + settings.cut_margin) if reached.size else steps
        obs_parts.append(obs[:cut])
        act_parts.append(acts[:cut])
        scores.append(best_score)
        if (k + 1) % 10 == 0 or k + 1 == len(starts):
            say(f"warm start: planned {k + 1}/{len(starts)} open-loop starts, reward over {horizon} steps "
                f"{np.mean(scores):.1f} (min {np.min(scores):.1f})")
    return np.concatenate(obs_parts), np.concatenate(act_parts), np.asarray(scores)


def hold_pairs(task: Task, network: Network, shared_weight: float, settings: WarmStartSettings,
               seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Step 3: the start policy's own (observation, action) pairs from ``hold_after`` on."""
    physics = task.physics
    low, high = task.action.bounds()
    if settings.hold_episodes == 0:
        return np.zeros((0, task.n_inputs)), np.zeros((0, len(low)))
    kernel = task_kernel(task, _policy_pairs_template)
    seeds = draw_seeds(make_rng(seed, HOLD_STREAM), settings.hold_episodes)
    init = np.stack([np.asarray(physics.initial_state(int(s)), dtype=np.float64) for s in seeds])
    batch = stack_networks([network])
    return kernel(physics.state_rows, init, *batch.arrays(), float(shared_weight), task.max_steps,
                  settings.hold_after, settings.hold_every, low, high)


def distillation_loss(task: Task, network: Network, candidates: np.ndarray,
                      pair_sets: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Per candidate weight vector: the sum over pair sets of the mean squared action error (shared weight 1)."""
    low, high = task.action.bounds()
    scale = np.where(high > low, (high - low) / 2.0, 1.0)  # errors in half-ranges: the same loss for any bounds
    batch = stack_networks([with_conn_weights(network, c) for c in candidates])
    kernel = task_kernel(task, _batch_actions_template)
    loss = np.zeros(len(candidates))
    for obs, target in pair_sets:
        if len(obs) == 0:
            continue
        actions = kernel(task.physics.state_rows, *batch.arrays(), np.ascontiguousarray(obs, dtype=np.float64), low, high)
        err = (actions - target[None]) / scale
        loss += np.mean(err * err, axis=(1, 2))
    return loss


def compile_kernels(task: Task, network: Network) -> float:
    """Compile (or load from Numba's cache) every warm-start kernel for ``task`` with tiny inputs; return the seconds."""
    t0 = time.perf_counter()
    physics = task.physics
    low, high = task.action.bounds()
    state = np.asarray(physics.initial_state(0), dtype=np.float64)
    plan = np.zeros(len(low))
    task_kernel(task, _plan_rewards_template)(physics.state_rows, state, plan[None], 1, 1, low, high)
    task_kernel(task, _plan_trajectory_template)(physics.state_rows, task.n_inputs, state, plan, 1, 1, low, high)
    batch = stack_networks([network])
    task_kernel(task, _policy_pairs_template)(physics.state_rows, state[None], *batch.arrays(), 1.0, 1, 0, 1, low, high)
    task_kernel(task, _batch_actions_template)(physics.state_rows, *batch.arrays(), np.zeros((1, task.n_inputs)),
                                               low, high)
    return time.perf_counter() - t0


def openloop_warm_start(task: Task, network: Network, shared_weight: float, seed: int, make_optimizer: Callable,
                        settings: WarmStartSettings = WARM_DEFAULTS,
                        say: Callable[[str], None] | None = None) -> WarmStart:
    """Weights for ``network`` distilled from planned open-loop approaches and the start policy's holding.

    ``make_optimizer(x0, rng, popsize, sigma)`` returns an ask/tell optimizer
    that maximises (the tuner's method). See the module docstring.
    """
    say = say or (lambda _msg: None)
    compile_seconds = compile_kernels(task, network)
    say(f"warm start: compiled kernels in {compile_seconds:.2f}s (first call; loaded from cache when warm)")
    t0 = time.perf_counter()
    teacher_obs, teacher_act, scores = plan_teacher_pairs(task, settings, seed, make_optimizer, say)
    hold_obs, hold_act = hold_pairs(task, network, shared_weight, settings, seed)
    pairs = [(teacher_obs, teacher_act), (hold_obs, hold_act)]
    x0 = np.full(network.n_connections, float(shared_weight))
    loss_start = float(distillation_loss(task, network, x0[None], pairs)[0])
    say(f"warm start: {len(teacher_obs)} teacher pairs, {len(hold_obs)} hold pairs, loss at the shared weight "
        f"{loss_start:.4f}; distilling for {settings.distill_iterations} iterations")
    opt = make_optimizer(x0, make_rng(seed, DISTILL_NOISE_STREAM), settings.distill_popsize, settings.distill_sigma)
    best, best_loss = x0, loss_start
    for it in range(settings.distill_iterations):
        candidates = opt.ask()
        loss = distillation_loss(task, network, candidates, pairs)
        opt.tell(-loss)
        top = int(np.argmin(loss))
        if loss[top] < best_loss:
            best, best_loss = candidates[top].copy(), float(loss[top])
        if (it + 1) % 250 == 0 or it + 1 == settings.distill_iterations:
            say(f"warm start: distillation {it + 1}/{settings.distill_iterations}, loss {best_loss:.4f} "
                f"({time.perf_counter() - t0:.0f}s)")
    return WarmStart(best, float(np.mean(scores)), float(np.min(scores)), len(teacher_obs), len(hold_obs),
                     loss_start, best_loss, time.perf_counter() - t0, compile_seconds)
