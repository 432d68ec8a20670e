"""The champion: the best confirmed genome of a run, and its JSON file."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import wann
from wann.engine.genome import Genome
from wann.engine.jsonio import read_json, write_json_atomic
from wann.engine.network import Network, compile_genome
from wann.engine.policy import Policy
from wann.errors import UserError
from wann.tasks import registered_names, resolve_task

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

    def network(self, tuned: bool = True) -> Network:
        """The compiled live network (with the tuned ``conn_weights`` when ``tuned`` and present)."""
        return compile_genome(self.genome, self.conn_weights if tuned else None)

    def default_weight(self, tuned: bool = True) -> float:
        """The shared weight a policy uses unless told: 1.0 under tuned ``conn_weights``,
        else the tuned shared weight (``wann.tune --mode shared``), else the best sweep weight."""
        if tuned and self.conn_weights:
            return 1.0
        if "tuned_shared_weight" in self.extra:
            return float(self.extra["tuned_shared_weight"])
        if self.reward_per_weight:
            return float(self.shared_weights[max(range(len(self.reward_per_weight)),
                                                 key=self.reward_per_weight.__getitem__)])
        return 1.0

    def policy(self, weight: float | None = None, tuned: bool = True) -> Policy:
        """A :class:`~wann.engine.policy.Policy` for a plain gymnasium loop: ``policy.act(obs)`` -> action.

        ``weight``: the shared weight (default :meth:`default_weight`); ``tuned``
        applies tuned ``conn_weights`` when the champion has them. The task is
        rebuilt from the champion (a user task's module must be imported first).
        """
        w = self.default_weight(tuned) if weight is None else float(weight)
        if not math.isfinite(w):
            raise UserError(f"weight: {w}: must be a finite number")
        return Policy.from_network(self.network(tuned), champion_task(self), w)

    @classmethod
    def from_dict(cls, data: Any, where: str = "") -> "Champion":
        """Rebuild from :meth:`to_dict` output, checking every key's type and range.

        UserError ``<where><key>: <value>: <what is allowed>`` on the first defect.
        """
        from wann.engine import filecheck as fc

        def at(name: str) -> str:
            return f"{where}.{name}" if where else name

        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise UserError(f"{where + ': ' if where else ''}not a wann champion (missing \"format\": \"{FORMAT}\")")
        version = data.get("version", 1)
        if version != 1:
            raise UserError(f"{at('version')}: {fc.shown(version)}: this wann reads champion format version 1")
        known = {
            "format", "version", "wann_version", "task", "connections", "confirmed_mean",
            "confirmed_rollouts", "shared_weights", "reward_per_weight", "generation",
            "seed", "genome", "conn_weights", "task_spec",
        }

        def get(name: str) -> Any:
            return fc.key(data, name, where)

        shared = fc.numbers(get("shared_weights"), at("shared_weights"), min_len=1)
        rewards = fc.numbers(get("reward_per_weight"), at("reward_per_weight"))
        if len(rewards) != len(shared):
            raise UserError(f"{at('reward_per_weight')}: {len(rewards)} values for {len(shared)} shared weights")
        conn = data.get("conn_weights")
        conn_weights = None
        if conn is not None:
            if not isinstance(conn, dict):
                raise UserError(f"{at('conn_weights')}: {fc.shown(conn)}: expected an object innovation -> weight")
            conn_weights = {}
            for k, v in conn.items():
                if not (k.isdigit() and int(k) <= fc.INT64_MAX):
                    raise UserError(f"{at('conn_weights')}: key {fc.shown(k)}: expected an innovation number")
                conn_weights[int(k)] = fc.number(v, f"{at('conn_weights')}[{k}]")
        if "tuned_shared_weight" in data:
            fc.number(data["tuned_shared_weight"], at("tuned_shared_weight"))
        return cls(
            genome=Genome.from_dict(get("genome"), at("genome")),
            task=fc.text(get("task"), at("task")),
            shared_weights=shared,
            reward_per_weight=rewards,
            confirmed_mean=fc.number(get("confirmed_mean"), at("confirmed_mean")),
            confirmed_rollouts=fc.integer(get("confirmed_rollouts"), at("confirmed_rollouts"), lo=1),
            connections=fc.integer(get("connections"), at("connections")),
            generation=fc.integer(get("generation"), at("generation")),
            seed=fc.integer(get("seed"), at("seed")),
            conn_weights=conn_weights,
            extra={k: v for k, v in data.items() if k not in known},
            task_spec=_spec_from_file(data.get("task_spec"), at("task_spec")),
        )


def _spec_from_file(spec: Any, where: str) -> dict[str, Any] | None:
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise UserError(f"{where}: {spec!r}: expected a mapping")
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
    spec = dict(champion.task_spec or {"name": champion.task})
    spec["name"] = champion.task
    module = spec.pop("module", "")
    try:
        return resolve_task(spec)
    except ValueError as exc:
        if module and champion.task not in registered_names():
            raise UserError(
                f"task {champion.task!r} is a user task from module {module!r}, which is not loaded: "
                f"pass --task-module {module} (or set WANN_TASK_MODULES={module})"
            ) from None
        raise exc


def save_champion(champion: Champion, path: str | Path) -> None:
    """Write the champion JSON atomically."""
    write_json_atomic(path, champion.to_dict())


def load_champion(path: str | Path) -> Champion:
    """Read and validate a champion file; :class:`~wann.errors.UserError` naming the file and the problem.

    Checks the JSON, the format, the genome's structure and activations, the
    task (and that the genome fits it), and that tuned ``conn_weights`` name
    connections of the genome and are finite.
    """
    path = Path(path)
    data = read_json(path, "champion")
    try:
        champion = Champion.from_dict(data)
        task = champion_task(champion)
        if champion.genome.n_inputs != task.n_inputs or champion.genome.n_outputs != task.n_outputs:
            raise UserError(
                f"genome has {champion.genome.n_inputs} inputs/{champion.genome.n_outputs} outputs "
                f"but task {task.name} needs {task.n_inputs}/{task.n_outputs}"
            )
        _check_tuned(champion)
    except ValueError as exc:
        raise UserError(f"{path}: {exc}") from None
    return champion


def _check_tuned(champion: Champion) -> None:
    """Tuned weights must name real connections and be finite numbers."""
    if champion.conn_weights is not None:
        innovations = set(champion.genome.conn_innov.tolist())
        for innov, weight in champion.conn_weights.items():
            if innov not in innovations:
                raise UserError(f"conn_weights names innovation {innov}, which is not in the genome")
            if not math.isfinite(weight):
                raise UserError(f"conn_weights[{innov}] is {weight}, expected a finite number")
    tuned_shared = champion.extra.get("tuned_shared_weight")
    if tuned_shared is not None and not (isinstance(tuned_shared, (int, float)) and math.isfinite(tuned_shared)):
        raise UserError(f"tuned_shared_weight is {tuned_shared!r}, expected a finite number")
