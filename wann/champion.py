"""The champion: the best confirmed genome of a run, and its JSON file."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


import wann
from wann.genome import Genome
from wann.io import read_json, write_json_atomic

FORMAT = "wann-champion"


@dataclass
class Champion:
    """A genome with its confirmed reward at each shared weight."""

    genome: Genome
    task: str
    shared_weights: list[float]
    reward_per_weight: list[float]  # mean over the confirmation rollouts
    confirmed_mean: float  # mean of reward_per_weight
    confirmed_rollouts: int  # rollouts per weight behind the numbers above
    connections: int  # enabled connections on some input-to-output path
    generation: int
    seed: int
    conn_weights: dict[int, float] | None = None  # innovation -> tuned weight
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. test_metrics
    task_spec: dict[str, Any] | None = None  # kwargs, wrappers, action, ... when not the task's defaults

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, with the package version."""
        data = {
            "format": FORMAT,
            "version": 1,
            "wann_version": wann.__version__,
            "task": self.task,
            **({"task_spec": self.task_spec} if self.task_spec else {}),
            "connections": self.connections,
            "confirmed_mean": self.confirmed_mean,
            "confirmed_rollouts": self.confirmed_rollouts,
            "shared_weights": list(self.shared_weights),
            "reward_per_weight": list(self.reward_per_weight),
            "generation": self.generation,
            "seed": self.seed,
            "genome": self.genome.to_dict(),
        }
        if self.conn_weights is not None:
            data["conn_weights"] = {str(k): v for k, v in self.conn_weights.items()}
        data.update(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> "Champion":
        """Rebuild from :meth:`to_dict` output; ValueError with a clear message if invalid."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a wann champion file (missing \"format\": \"wann-champion\")")
        known = {
            "format", "version", "wann_version", "task", "connections", "confirmed_mean",
            "confirmed_rollouts", "shared_weights", "reward_per_weight", "generation",
            "seed", "genome", "conn_weights", "task_spec",
        }
        try:
            genome = Genome.from_dict(data["genome"])
            conn = data.get("conn_weights")
            return cls(
                genome=genome,
                task=str(data["task"]),
                shared_weights=[float(w) for w in data["shared_weights"]],
                reward_per_weight=[float(r) for r in data["reward_per_weight"]],
                confirmed_mean=float(data["confirmed_mean"]),
                confirmed_rollouts=int(data["confirmed_rollouts"]),
                connections=int(data["connections"]),
                generation=int(data["generation"]),
                seed=int(data["seed"]),
                conn_weights=None if conn is None else {int(k): float(v) for k, v in conn.items()},
                extra={k: v for k, v in data.items() if k not in known},
                task_spec=_spec_from_file(data.get("task_spec")),
            )
        except KeyError as exc:
            raise ValueError(f"champion is missing key {exc.args[0]!r}") from None
        except (TypeError, AttributeError) as exc:
            raise ValueError(f"champion has a malformed value ({exc})") from None


def _spec_from_file(spec: Any) -> dict[str, Any] | None:
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise ValueError(f"task_spec is {spec!r}, expected a mapping")
    return spec


def public_spec(spec: dict[str, Any] | None) -> dict[str, Any] | None:
    """The entries of a task spec that differ from the defaults (None when only the name is set)."""
    if not spec:
        return None
    kept = {k: v for k, v in spec.items() if k != "name" and v not in ("", 0, [], {}, None)}
    return {"name": spec["name"], **kept} if kept else None


def champion_task(champion: Champion):
    """The task a champion was evolved on, rebuilt from its name and ``task_spec``.

    A user task's module is never imported from the file: it must be loaded
    already (``--task-module``, ``task.module`` or ``WANN_TASK_MODULES``).
    """
    from wann.tasks import registered_names, resolve_task

    spec = dict(champion.task_spec or {"name": champion.task})
    spec["name"] = champion.task
    module = spec.pop("module", "")
    try:
        return resolve_task(spec)
    except ValueError as exc:
        if module and champion.task not in registered_names():
            raise ValueError(
                f"task {champion.task!r} is a user task from module {module!r}, which is not loaded: "
                f"pass --task-module {module} (or set WANN_TASK_MODULES={module})"
            ) from None
        raise exc


def save_champion(champion: Champion, path: str | Path) -> None:
    """Write the champion JSON atomically."""
    write_json_atomic(path, champion.to_dict())


def load_champion(path: str | Path) -> Champion:
    """Read and validate a champion file; ValueError naming the file and the problem."""
    path = Path(path)
    data = read_json(path, "champion")
    try:
        champion = Champion.from_dict(data)
        task = champion_task(champion)
        if champion.genome.n_inputs != task.n_inputs or champion.genome.n_outputs != task.n_outputs:
            raise ValueError(
                f"genome has {champion.genome.n_inputs} inputs/{champion.genome.n_outputs} outputs "
                f"but task {task.name} needs {task.n_inputs}/{task.n_outputs}"
            )
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return champion
