"""``python -m wann.evaluate CHAMPION``: score a champion at fixed shared weights.

The command line lives in :mod:`wann.champion_eval`; the engine's evaluator
(backends, shards, rollouts) in :mod:`wann.evaluator`, whose public names are
re-exported here for existing imports.
"""
from __future__ import annotations

from wann.evaluator import (  # noqa: F401  (re-exported)
    Backend,
    EvalResult,
    Evaluator,
    ProcessBackend,
    SerialBackend,
    WorkerSetup,
    evaluate_shard,
    fitness_from_rewards,
    gym_rollouts,
    init_worker,
    make_backend,
    run_rollouts,
    task_spec_of,
)

__all__ = [
    "Backend", "EvalResult", "Evaluator", "ProcessBackend", "SerialBackend", "WorkerSetup", "evaluate_shard",
    "fitness_from_rewards", "gym_rollouts", "init_worker", "main", "make_backend", "run_rollouts", "task_spec_of",
]


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m wann.evaluate CHAMPION`` (implemented in :mod:`wann.champion_eval`)."""
    from wann.champion_eval import main as champion_eval_main

    return champion_eval_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
