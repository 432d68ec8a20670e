"""Render a champion's rollout to a GIF (or MP4), headless.

``python -m wann.watch CHAMPION --weight 1.0 -o swing.gif`` runs one episode
through the task's gymnasium env (the same forward pass as the engine's
gymnasium path, so the total reward equals the evaluator's for that seed),
takes the env's ``rgb_array`` frame every ``--every`` steps, writes the step,
the weight and the cumulative reward on each frame, and saves the animation
with matplotlib's PillowWriter (GIF) or FFMpegWriter (MP4, when ffmpeg is
installed). No display is needed.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from matplotlib.figure import Figure

from wann.engine.champion import Champion, champion_task
from wann.engine.network import compile_genome
from wann.engine.policy import Policy, episode_steps
from wann.errors import UserError
from wann.tasks import Task

FORMATS = (".gif", ".mp4")


@dataclass
class Frame:
    """One rendered frame and where the episode stood when it was taken."""

    image: np.ndarray  # uint8[H, W, 3]
    step: int  # env steps taken before this frame
    reward: float  # cumulative reward so far
    done: bool  # the episode ended at this frame


@dataclass
class WatchResult:
    """What :func:`watch` wrote."""

    path: Path
    frames: int
    steps: int
    total_reward: float


def rollout_frames(
    champion: Champion,
    task: Task,
    weight: float = 1.0,
    seed: int = 0,
    every: int = 1,
    tuned: bool = False,
    max_steps: int | None = None,
    env=None,
) -> Iterator[Frame]:
    """Play one episode and yield a frame at step 0, every ``every`` steps, and at the end.

    With ``tuned`` the champion's ``conn_weights`` apply (multiplied by ``weight``).
    ``env`` is an env of the task made with ``render_mode="rgb_array"``
    (default: :func:`make_render_env`); it is closed at the end.
    """
    network = compile_genome(champion.genome, champion.conn_weights if tuned else None)
    policy = Policy.from_network(network, task, weight)
    env = env if env is not None else make_render_env(task)
    limit = int(max_steps or task.max_steps)
    try:
        obs, _ = env.reset(seed=int(seed))
        yield Frame(_render(env, task), 0, 0.0, False)
        total, step = 0.0, 0
        for reward, over in episode_steps(policy, env, obs, limit):
            total += reward
            step += 1
            done = over or step >= limit
            if step % every == 0 or done:
                yield Frame(_render(env, task), step, total, done)
    finally:
        env.close()


def make_render_env(task: Task):
    """The task's gymnasium env in ``rgb_array`` mode; ValueError if it cannot be made."""
    # Envs that draw with pygame (classic control, Box2D) need no display for
    # rgb_array frames; keep SDL from looking for one and pygame from greeting.
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        return task.make_env(render_mode="rgb_array")
    except Exception as exc:  # gymnasium raises several kinds for unknown ids or modes
        raise UserError(f"task {task.name} cannot render rgb_array frames: {exc}") from None


def _render(env, task: Task) -> np.ndarray:
    from gymnasium.error import Error as GymError

    try:
        image = env.render()
    except (ImportError, GymError) as exc:  # e.g. gymnasium's CartPole needs pygame to draw
        raise UserError(f"task {task.name} cannot render frames here: {exc}") from None
    if image is None:
        raise UserError(f"task {task.name} returned no rgb_array frame")
    return np.asarray(image)


def watch(
    champion: Champion,
    out: str | Path,
    weight: float = 1.0,
    seed: int = 0,
    every: int = 4,
    tuned: bool = False,
    fps: float | None = None,
    scale: float = 1.0,
    max_steps: int | None = None,
    say: Callable[[str], None] | None = None,
) -> WatchResult:
    """Render one episode of ``champion`` to ``out`` (.gif, or .mp4 when ffmpeg is available).

    ``fps`` defaults to real time (the env's render_fps / ``every``);
    ``scale`` shrinks or enlarges the frames.
    """
    from matplotlib.animation import FFMpegWriter, PillowWriter

    out = Path(out)
    kind = out.suffix.lower()
    if kind not in FORMATS:
        raise UserError(f"{out}: unknown animation type {kind!r}; allowed: {', '.join(FORMATS)}")
    if kind == ".mp4" and not FFMpegWriter.isAvailable():
        raise UserError(f"{out}: no MP4 writer here (ffmpeg not found); write a .gif instead")
    say = say or (lambda _m: None)
    task = champion_task(champion)
    env = make_render_env(task)
    render_fps = float(env.metadata.get("render_fps") or 50)
    frames = rollout_frames(champion, task, weight, seed, every, tuned, max_steps, env)
    first = next(frames)
    height, width = first.image.shape[:2]
    dpi = 100
    fig = Figure(figsize=(width * scale / dpi, height * scale / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    shown = ax.imshow(first.image, interpolation="antialiased")
    label = "tuned weights" + (f" x {weight:g}" if weight != 1.0 else "") if tuned else f"w = {weight:+.2f}"
    text = ax.text(0.015, 0.97, "", transform=ax.transAxes, va="top", ha="left", family="monospace",
                   fontsize=max(6.0, 11 * scale), bbox=dict(facecolor="white", alpha=0.8, edgecolor="none"))
    fps = fps or max(render_fps / every, 1.0)
    writer = PillowWriter(fps=fps) if kind == ".gif" else FFMpegWriter(fps=fps)
    out.parent.mkdir(parents=True, exist_ok=True)
    count, last = 0, first
    with writer.saving(fig, str(out), dpi):
        for frame in _chain(first, frames):
            shown.set_data(frame.image)
            text.set_text(f"step {frame.step:4d}   {label}   reward {frame.reward:7.1f}")
            writer.grab_frame()
            count += 1
            last = frame
            if count % 50 == 0:
                say(f"  frame {count}: step {frame.step}, reward {frame.reward:.1f}")
    return WatchResult(out, count, last.step, last.reward)


def _chain(first: Frame, rest: Iterator[Frame]) -> Iterator[Frame]:
    yield first
    yield from rest
