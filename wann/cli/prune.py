"""Command line of the pruning companion: ``python -m wann.prune CONFIG.yaml [--out DIR] [--seed N] [--wann CHAMPION.json ...]``.

Bad input (config, data files, champion files) ends with one line
``error: ...`` on stderr and exit status 2, no traceback.
"""
from __future__ import annotations

from wann.prune.threads import limit_blas_threads_env

limit_blas_threads_env()  # before numpy is imported: small matrices run fastest on one BLAS thread

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from wann.cli.progress import Progress  # noqa: E402
from wann.errors import UserError  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m wann.prune``."""
    parser = argparse.ArgumentParser(
        prog="python -m wann.prune",
        description="Prune a dense MLP with several methods at several densities; write a CSV and "
                    "an accuracy-versus-connections plot (optionally with WANN champions).",
    )
    parser.add_argument("config", help="YAML config (e.g. configs/prune_digits.yaml)")
    parser.add_argument("--out", help="output folder (default results/<config name>/<date>-<time>-seed<seed>)")
    parser.add_argument("--seed", type=int, help="run seed (same as --set run.seed=N)")
    parser.add_argument("--wann", action="extend", nargs="+", default=[], metavar="CHAMPION.json",
                        help="WANN champion file(s) to put on the plot (repeatable)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override one config value, e.g. --set train.epochs=5 (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="print only the final table")
    return parser



def run(args: argparse.Namespace) -> int:
    from wann.prune.bridge import read_champion
    from wann.prune.config import load_config
    from wann.prune.runner import default_out_dir, final_report
    from wann.prune.runner import run as run_pruning
    from wann.prune.runner import write_outputs

    overrides = list(args.overrides)
    if args.seed is not None:
        if args.seed < 0:
            raise UserError(f"--seed: {args.seed}: must be >= 0")
        overrides.append(f"run.seed={args.seed}")
    config = load_config(args.config, overrides)
    champions = [read_champion(p) for p in args.wann]  # fail before the long part
    out = Path(args.out) if args.out else default_out_dir(config)
    started = time.perf_counter()
    with Progress("pruning", args.quiet, sys.stdout) as progress:
        progress.say(f"wann.prune: {config.run.name}: {len(config.methods)} methods x "
                     f"{len(config.target_densities())} densities -> {out}")
        result = run_pruning(config, source=args.config, say=progress.say, tick=progress.tick)
    paths = write_outputs(result, config, out, champions)
    print(final_report(result))
    print(f"wrote {paths['csv']} and {paths['plot']} in {time.perf_counter() - started:.1f}s")
    return 0

