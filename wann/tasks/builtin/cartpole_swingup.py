"""CartPole swing-up: the WANN paper's headline task, as a gymnasium env.

The pole starts hanging down; the agent must swing it up and keep it upright
while the cart stays on the track (REFERENCE.md section 2). The physics is
written once, in compiled functions; the env runs their pure-Python originals
(``.py_func``), so the gymnasium env and the compiled fast path
(``swingup_step`` / ``swingup_observe``, which work on one column of a
states x lanes array) give bit-identical trajectories.

Registers ``wann/CartPoleSwingUp-v1`` (1000 steps) and
``wann/CartPoleSwingUpHard-v1`` (200 steps) with gymnasium and with wann.
"""
from __future__ import annotations

import functools
import math
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from numba import njit

from wann.errors import UserError
from wann.tasks.base import ActionRule, FusedPhysics, Task, make_gymnasium_env
from wann.tasks.registry import register_task

# Physical constants of the reference swing-up task.
GRAVITY = 9.82
MASS_CART = 0.5
MASS_POLE = 0.5
TOTAL_MASS = MASS_CART + MASS_POLE
POLE_LENGTH = 0.6
FORCE_MAG = 10.0
DT = 0.01
FRICTION = 0.1
X_THRESHOLD = 2.4

SWINGUP_OBS_LABELS = ("x", "x_dot", "cos_theta", "sin_theta", "theta_dot")
SWINGUP_ACT_LABELS = ("force",)


def sample_swingup_state(np_random: np.random.Generator) -> np.ndarray:
    """Draw a start state (x, x_dot, theta, theta_dot): pole hanging down, std 0.2 noise."""
    # One call, so the draw is the same whoever consumes the generator.
    return np_random.normal(loc=(0.0, 0.0, math.pi, 0.0), scale=0.2, size=4).astype(np.float64)


def swingup_initial_state(seed: int) -> np.ndarray:
    """The start state that ``CartPoleSwingUpEnv().reset(seed=seed)`` produces."""
    rng, _ = seeding.np_random(int(seed))
    return sample_swingup_state(rng)


# Rows of a lane's state in the compiled path: the four physical variables,
# then cos and sin of theta, kept so each is computed once per step (the
# dynamics, the reward and the observation all need them).
STATE_ROWS = 6
COS_THETA = 4
SIN_THETA = 5


@njit(cache=True)
def _advance(x, x_dot, theta, theta_dot, s, c, force):
    """One semi-implicit step of the reference dynamics; all terms use the old state.

    ``s`` and ``c`` are sin(theta) and cos(theta) of that old state.
    """
    xdot_update = (
        -2.0 * MASS_POLE * POLE_LENGTH * theta_dot * theta_dot * s
        + 3.0 * MASS_POLE * GRAVITY * s * c
        + 4.0 * force
        - 4.0 * FRICTION * x_dot
    ) / (4.0 * TOTAL_MASS - 3.0 * MASS_POLE * c * c)
    thetadot_update = (
        -3.0 * MASS_POLE * POLE_LENGTH * theta_dot * theta_dot * s * c
        + 6.0 * TOTAL_MASS * GRAVITY * s
        + 6.0 * (force - FRICTION * x_dot) * c
    ) / (4.0 * POLE_LENGTH * TOTAL_MASS - 3.0 * MASS_POLE * POLE_LENGTH * c * c)
    return (
        x + x_dot * DT,
        x_dot + xdot_update * DT,
        theta + theta_dot * DT,
        theta_dot + thetadot_update * DT,
    )


@njit(cache=True)
def _reward(x, cos_theta):
    """Upright pole near the track centre scores 1; hanging or at the edge scores 0."""
    reward_theta = (cos_theta + 1.0) / 2.0
    reward_x = math.cos((x / X_THRESHOLD) * (math.pi / 2.0))
    return reward_theta * reward_x


@njit(cache=True, inline="always")
def swingup_start(states, lane, state):
    """Start column ``lane`` of float64[STATE_ROWS, n_lanes] ``states`` from ``state`` (x, x_dot, theta, theta_dot)."""
    for j in range(4):
        states[j, lane] = state[j]
    states[COS_THETA, lane] = math.cos(state[2])
    states[SIN_THETA, lane] = math.sin(state[2])


@njit(cache=True, inline="always")
def swingup_step(states, lane, a):
    """Advance column ``lane`` of ``states`` (see :func:`swingup_start`) by one step with clipped action ``a``.

    ``a`` lies in [-1, 1]. Returns (reward, terminated); truncation by step
    count is the caller's job. States are columns so that the lockstep
    rollout can keep many episodes side by side without copying.
    """
    x, x_dot, theta, theta_dot = _advance(
        states[0, lane], states[1, lane], states[2, lane], states[3, lane],
        states[SIN_THETA, lane], states[COS_THETA, lane], a * FORCE_MAG,
    )
    c = math.cos(theta)
    states[0, lane] = x
    states[1, lane] = x_dot
    states[2, lane] = theta
    states[3, lane] = theta_dot
    states[COS_THETA, lane] = c
    states[SIN_THETA, lane] = math.sin(theta)
    terminated = x < -X_THRESHOLD or x > X_THRESHOLD
    return _reward(x, c), terminated


@njit(cache=True, inline="always")
def swingup_step_actions(states, lane, actions):
    """:func:`swingup_step` with the lane's action read from ``actions[0, lane]`` (the fused path's form)."""
    return swingup_step(states, lane, actions[0, lane])


@njit(cache=True, inline="always")
def swingup_observe(states, lane, obs):
    """Write lane ``lane``'s observation (x, x_dot, cos theta, sin theta, theta_dot) into ``obs[:5, lane]``."""
    obs[0, lane] = states[0, lane]
    obs[1, lane] = states[1, lane]
    obs[2, lane] = states[COS_THETA, lane]
    obs[3, lane] = states[SIN_THETA, lane]
    obs[4, lane] = states[3, lane]


class CartPoleSwingUpEnv(gymnasium.Env):
    """Swing the pole up from hanging and balance it; reward (cos theta + 1)/2 * cos(x/2.4 * pi/2)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(self, max_steps: int = 1000, render_mode: str | None = None):
        """Create the env; ``max_steps`` is the episode length (1000, or 200 for the hard variant)."""
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise UserError(
                f"render_mode {render_mode!r} is not supported; allowed: {self.metadata['render_modes']}"
            )
        self.max_steps = int(max_steps)
        self.render_mode = render_mode
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(5,), dtype=np.float64)
        self.state: np.ndarray | None = None
        self.t = 0

    def _obs(self) -> np.ndarray:
        lane = np.empty((STATE_ROWS, 1), dtype=np.float64)
        swingup_start.py_func(lane, 0, self.state)
        obs = np.empty((5, 1), dtype=np.float64)
        swingup_observe.py_func(lane, 0, obs)
        return obs[:, 0]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new episode; the start state comes only from the env's own generator."""
        super().reset(seed=seed)
        self.state = sample_swingup_state(self.np_random)
        self.t = 0
        return self._obs(), {}

    def step(self, action) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Apply ``action`` (clipped to [-1, 1], times the force) for one time step."""
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        a = float(np.asarray(action, dtype=np.float64).reshape(-1)[0])
        a = min(max(a, -1.0), 1.0)
        # Python floats through the same source as the compiled kernel: identical arithmetic.
        state = [float(v) for v in self.state]
        s, c = math.sin(state[2]), math.cos(state[2])
        x, x_dot, theta, theta_dot = _advance.py_func(*state, s, c, a * FORCE_MAG)
        self.state = np.array([x, x_dot, theta, theta_dot], dtype=np.float64)
        self.t += 1
        terminated = bool(x < -X_THRESHOLD or x > X_THRESHOLD)
        truncated = (not terminated) and self.t >= self.max_steps
        reward = float(_reward.py_func(x, math.cos(theta)))
        return self._obs(), reward, terminated, truncated, {}

    def render(self) -> np.ndarray | None:
        """Return an RGB frame (uint8, H x W x 3) of track, cart and pole in "rgb_array" mode."""
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode; pass render_mode='rgb_array'")
            return None
        if self.state is None:
            return None
        return _draw(self.state)


# Drawing in plain numpy: no display, no pygame, deterministic pixels.
_HEIGHT, _WIDTH = 400, 600
_SCALE = _WIDTH / (2 * (X_THRESHOLD + 0.6))  # pixels per metre; track plus a margin
_TRACK_ROW = _HEIGHT // 2  # pole hangs below, swings up above the track


def _draw(state: np.ndarray) -> np.ndarray:
    """Rasterise one state into a fresh frame."""
    frame = np.full((_HEIGHT, _WIDTH, 3), 255, dtype=np.uint8)
    rows, cols = np.mgrid[0:_HEIGHT, 0:_WIDTH]
    x, theta = float(state[0]), float(state[2])
    cx = _WIDTH / 2 + x * _SCALE
    cy = float(_TRACK_ROW)

    # Track, with marks at the limits where the episode ends.
    left = int(round(_WIDTH / 2 - X_THRESHOLD * _SCALE))
    right = int(round(_WIDTH / 2 + X_THRESHOLD * _SCALE))
    frame[_TRACK_ROW - 1 : _TRACK_ROW + 2, left : right + 1] = (120, 120, 120)
    for edge in (left, right):
        frame[_TRACK_ROW - 12 : _TRACK_ROW + 13, max(edge - 1, 0) : edge + 2] = (200, 60, 60)

    # Cart: a filled rectangle centred on the track.
    half_w, half_h = 0.25 * _SCALE, 0.125 * _SCALE
    cart = (np.abs(cols - cx) <= half_w) & (np.abs(rows - cy) <= half_h)
    frame[cart] = (40, 40, 40)

    # Pole: a thick segment from the axle; theta = 0 points up (image rows grow down).
    tip_x = cx + POLE_LENGTH * _SCALE * math.sin(theta)
    tip_y = cy - POLE_LENGTH * _SCALE * math.cos(theta)
    dx, dy = tip_x - cx, tip_y - cy
    length2 = dx * dx + dy * dy
    u = np.clip(((cols - cx) * dx + (rows - cy) * dy) / length2, 0.0, 1.0)
    dist2 = (cols - (cx + u * dx)) ** 2 + (rows - (cy + u * dy)) ** 2
    frame[dist2 <= 5.0**2] = (202, 152, 101)

    # Axle.
    frame[(cols - cx) ** 2 + (rows - cy) ** 2 <= 4.0**2] = (129, 132, 203)
    return frame


SWINGUP_IDS = {"wann/CartPoleSwingUp-v1": 1000, "wann/CartPoleSwingUpHard-v1": 200}


def register_envs() -> None:
    """Register the wann/* ids with gymnasium; safe to call more than once."""
    for env_id, steps in SWINGUP_IDS.items():
        if env_id in gymnasium.registry:  # re-import or reload: gymnasium would warn
            continue
        gymnasium.register(
            id=env_id,
            entry_point=f"{__name__}:CartPoleSwingUpEnv",
            kwargs={"max_steps": steps},
            # The env truncates by itself too; keep TimeLimit in agreement.
            max_episode_steps=steps,
        )


register_envs()
SWINGUP_PHYSICS = FusedPhysics(
    state_rows=STATE_ROWS,
    initial_state=swingup_initial_state,
    start=swingup_start,
    observe=swingup_observe,
    step=swingup_step_actions,
)
for _env_id, _steps in SWINGUP_IDS.items():
    register_task(Task(
        name=_env_id,
        n_inputs=5,
        n_outputs=1,
        action=ActionRule.clip(-1.0, 1.0),
        max_steps=_steps,
        input_labels=SWINGUP_OBS_LABELS,
        output_labels=SWINGUP_ACT_LABELS,
        physics=SWINGUP_PHYSICS,
        env_factory=functools.partial(make_gymnasium_env, _env_id),
    ))
