"""Command line of ``python -m wann.watch`` (the work is done by :mod:`wann.tools.watch`)."""
from __future__ import annotations

import argparse

from wann.cli.common import add_task_module_option, check_finite, check_positive, output_file, require_tuned, say_unless
from wann.engine.champion import load_champion
from wann.tools.watch import FORMATS, watch


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m wann.watch``."""
    parser = argparse.ArgumentParser(prog="python -m wann.watch",
                                     description="Render one rollout of a champion to a GIF or MP4.")
    parser.add_argument("champion", help="champion.json")
    parser.add_argument("-o", "--out", help="output .gif or .mp4 (default: <name>.gif next to the champion)")
    parser.add_argument("--weight", type=float, default=1.0, help="shared weight (default 1.0)")
    parser.add_argument("--tuned", action="store_true", help="use the champion's tuned conn_weights (shared weight --weight)")
    parser.add_argument("--seed", type=int, default=0, help="episode seed (default 0)")
    parser.add_argument("--every", type=int, default=4, help="keep every K-th step as a frame (default 4)")
    parser.add_argument("--fps", type=float, help="frames per second (default: real time)")
    parser.add_argument("--scale", type=float, default=1.0, help="frame size factor, e.g. 0.5 for small files")
    parser.add_argument("--max-steps", type=int, help="stop after this many steps (default: the task's episode length)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    add_task_module_option(parser)
    return parser



def run(args: argparse.Namespace) -> int:
    """Render one episode of the champion."""
    check_finite("--weight", args.weight)
    check_positive("--every", args.every)
    check_positive("--scale", args.scale)
    if args.fps is not None:
        check_positive("--fps", args.fps)
    if args.max_steps is not None:
        check_positive("--max-steps", args.max_steps)
    out = output_file(args.out, args.champion, ".gif", FORMATS, "animation")
    champion = load_champion(args.champion)
    if args.tuned:
        require_tuned(champion, args.champion, "--tuned")
    say = say_unless(args.quiet)
    result = watch(champion, out, args.weight, args.seed, args.every, args.tuned, args.fps, args.scale,
                   args.max_steps, say)
    print(f"{result.steps} steps, reward {result.total_reward:.2f}, {result.frames} frames -> {result.path}")
    return 0
