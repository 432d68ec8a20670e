"""Run configuration: YAML -> dataclasses, validated with one-line errors.

Every field carries a one-line doc and its allowed range; the README's config
reference and the error messages are both generated from them
(``python -m wann.config`` prints the reference).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wann.engine.activations import ALL_ACTIVATIONS
from wann.engine.configkit import (
    apply_overrides,
    fill_section,
    load_yaml_config,
    param,
    reference_rows,
)
from wann.engine.ranking import CROWDING_RULES, OBJECTIVE_RULES, TIE_ORDERS
from wann.errors import UserError, closest
from wann.tasks import resolve_task

STANDARD_WEIGHTS = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)


@dataclass
class TaskConfig:
    """Which task to solve."""

    name: str = param("wann/CartPoleSwingUp-v1", "task id: a wann task or any gymnasium id (e.g. Pendulum-v1)")
    kwargs: dict = param({}, "keyword arguments of gymnasium.make (the gymnasium path), or the options of a wann task that has its own (e.g. wann/MNIST16-v0: path, batch_size, preprocess)")
    wrappers: list[dict] = param([], "gymnasium wrappers applied in order, each {name: ..., kwargs: {...}}")
    action: str = param("", "outputs -> actions: clip or tanh (Box), argmax or threshold (Discrete); empty: the task's default", choices=("", "clip", "tanh", "argmax", "threshold"))
    max_steps: int = param(0, "episode length; 0 keeps the task's own", min=0)
    output_activation: str = param("", "activation of output nodes; empty keeps the task's (linear, as the reference)", choices=("",) + ALL_ACTIVATIONS)
    input_labels: list[str] = param([], "names of the inputs (default: indices)", allow_empty=True)
    output_labels: list[str] = param([], "names of the outputs (default: indices)", allow_empty=True)
    path: str = param("", "fused or gymnasium; empty: fused when the task has a compiled path and no kwargs/wrappers", choices=("", "fused", "gymnasium"))
    module: str = param("", "Python module imported first, which registers a user task (see Bring your own task)")

    def spec(self) -> dict[str, Any]:
        """The task's spec (plain data): rebuilds the task in workers and tools."""
        return {
            "name": self.name, "kwargs": dict(self.kwargs), "wrappers": [dict(w) for w in self.wrappers],
            "action": self.action, "max_steps": self.max_steps, "input_labels": list(self.input_labels),
            "output_labels": list(self.output_labels), "module": self.module, "path": self.path,
        }


@dataclass
class SearchConfig:
    """Population, mutation and selection settings (defaults: the paper's swing-up run)."""

    pop_size: int = param(192, "genomes per generation", min=2)
    generations: int = param(1024, "generations to run", min=1)
    init_enable: float = param(0.5, "probability that each initial input->output link is enabled", min=0.0, max=1.0)
    prob_add_connection: float = param(0.20, "roulette weight of the add-connection mutation", min=0.0)
    prob_add_node: float = param(0.25, "roulette weight of the add-node (split a connection) mutation", min=0.0)
    prob_enable_connection: float = param(0.05, "roulette weight of the enable-a-disabled-connection mutation", min=0.0)
    prob_change_activation: float = param(0.50, "roulette weight of the change-a-hidden-activation mutation", min=0.0)
    hidden_activations: list[str] = param(list(ALL_ACTIVATIONS), "activations hidden nodes may take", choices=ALL_ACTIVATIONS)
    cull_ratio: float = param(0.2, "fraction of worst-ranked genomes that never become parents", min=0.0, lt=1.0)
    elite_ratio: float = param(0.2, "fraction of best-ranked genomes copied unchanged", min=0.0, max=1.0)
    tournament_size: int = param(8, "genomes drawn per tournament (best rank wins)", min=1)
    prob_connection_objective: float = param(0.8, "probability a generation ranks on (mean, 1/connections) instead of (mean, max) (objective_rule pretty_neat: on mean alone instead of (mean, 1/connections))", min=0.0, max=1.0)
    parent_selection: str = param("tournament", "tournament: the best of tournament_size; best_of_two: the better of two tournament winners, as the reference code (an effective tournament twice as large)", choices=("tournament", "best_of_two"))
    mutation_fallback: str = param("redraw", "when the drawn mutation cannot apply: redraw among the others, or clone (an unchanged child, as the reference code)", choices=("redraw", "clone"))
    add_connection_rule: str = param("uniform", "uniform: any unlinked shallower->deeper pair, depth from every gene; reference: a random source, then a target, layers from enabled genes, as the reference code", choices=("uniform", "reference"))
    add_node_rule: str = param("standard", "standard: the split link is disabled; reference: a split link between two hidden nodes stays enabled but is not split again until the enable mutation draws it (which leaves the network unchanged), as in the reference code (where a disabled hidden-to-hidden gene still conducts)", choices=("standard", "reference"))
    objective_rule: str = param("wann", "objectives a generation ranks on: wann: (mean, 1/connections) with probability prob_connection_objective, otherwise (mean, max), as the reference's WANN/ code; pretty_neat: mean alone with that probability, otherwise (mean, 1/connections), as its prettyNeatWann/ code (its WANN class's own rule is indented out of the class, so NEAT's runs; the published sample run in that folder's log/ was made by WANN/)", choices=OBJECTIVE_RULES)
    tie_order: str = param("index", "how ranking breaks ties (equal objectives or crowding): index: the lower population index first (elites come first); random: a fresh random order each generation; reference: the reference code's nsga_sort step for step (its front order, numpy's introsort, as before its SIMD sorts, for every argsort; stable only on 16 or fewer)", choices=TIE_ORDERS)
    crowding: str = param("standard", "order within a Pareto front: standard NSGA-II crowding distance (gaps / range); reference: gaps x abs(1/max - min), the reference code's misparenthesised normalisation (in effect, ordered by mean-reward gaps)", choices=CROWDING_RULES)


@dataclass
class EvaluationConfig:
    """How genomes are scored."""

    shared_weights: list[float] = param(list(STANDARD_WEIGHTS), "shared weight values swept for every genome", nonempty=True)
    rollouts: int = param(3, "rollouts per shared weight (the reward per weight is their mean)", min=1)
    best_rollouts: int = param(20, "fresh rollouts per weight to confirm a new champion", min=1)
    seed_pool: int = param(0, "0: fresh rollout seeds every generation; N > 0: as the reference code, a generation's rollouts use seeds b, b+1, ... for one draw b in [0, N), so start states recur across generations (its runs: 1000); confirmations stay fresh", min=0)
    weight_sampling: str = param(
        "fixed", "fixed: shared_weights every generation (the paper); stratified: as many weights drawn afresh "
        "each generation, one per stratum of +-weight_range, the same for every genome", choices=("fixed", "stratified"))
    weight_range: list[float] = param(
        [0.25, 2.0], "smallest and largest magnitude of stratified draws and of the confirmation weights",
        min_len=2, each_gt=0.0, each_max=100.0)
    confirm_weights: str = param(
        "search", "weights a champion is confirmed on: search (the search's weights), grid (confirm_points "
        "evenly spaced over [-2, 2], magnitudes within weight_range) or random (confirm_points fresh draws in +-weight_range)",
        choices=("search", "grid", "random"))
    confirm_points: int = param(41, "points of the grid / number of random weights for grid or random confirmation",
                                min=2)
    backend: str = param("processes", "where rollouts run: serial (this process), processes (a pool on this machine) or dask (a dask cluster, see evaluation.scheduler)", choices=("serial", "processes", "dask"))
    workers: int = param(0, "worker processes; 0 uses every core (dask: the size of a local cluster)", min=0)
    scheduler: str = param("local", "dask backend: local (a LocalCluster of `workers` processes on this machine) or the address of a running scheduler, e.g. tcp://10.0.0.5:8786")


@dataclass
class RunConfig:
    """Seeding, output and checkpoints."""

    seed: int = param(0, "seed of every random draw in the run", min=0)
    save_every: int = param(8, "generations between checkpoints", min=1)
    out_dir: str = param("results", "folder that holds <name>/<run-id>/ run folders")
    name: str = param("", "run name; empty uses the config file's name")


@dataclass
class Config:
    """A whole run: one dataclass per YAML section."""

    task: TaskConfig = field(default_factory=TaskConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain nested dict (the resolved config.yaml)."""
        return dataclasses.asdict(self)


SECTIONS = {f.name: f.default_factory for f in dataclasses.fields(Config)}
__all__ = ["Config", "STANDARD_WEIGHTS", "config_from_dict", "load_config", "apply_overrides"]


def config_from_dict(data: Any, source: str = "<config>", overridden: frozenset[str] = frozenset()) -> Config:
    """Build and validate a :class:`Config` from nested dicts (unknown keys rejected).

    Keys listed in ``overridden`` (``section.key``) came from ``--set`` and are
    reported as such in errors.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(f"{source}: top level must be a mapping of sections ({', '.join(SECTIONS)})")
    config = Config()
    for section, values in data.items():
        if section not in SECTIONS:
            raise UserError(f"{source}: {section}: unknown section{closest(section, SECTIONS)}; allowed: {', '.join(SECTIONS)}")
        if values is None:
            continue
        if not isinstance(values, dict):
            raise UserError(f"{source}: {section}: expected a mapping of keys, got {values!r}")
        fill_section(getattr(config, section), values, source, f"{section}.", overridden)
    _check_whole(config, source)
    _check_task(config, source)
    return config


def _check_task(config: Config, source: str) -> None:
    """Resolve the task now, so a bad id, space, wrapper or module stops the run before anything is written."""
    try:
        resolve_task(config.task.spec())
    except ValueError as exc:
        raise UserError(f"{source}: {exc}") from None


def _check_whole(config: Config, source: str) -> None:
    s = config.search
    rates = (s.prob_add_connection, s.prob_add_node, s.prob_enable_connection, s.prob_change_activation)
    if sum(rates) <= 0:
        raise UserError(f"{source}: search.prob_*: all zero: at least one mutation needs a positive weight")
    if s.cull_ratio + s.elite_ratio > 1.0:
        raise UserError(f"{source}: search.elite_ratio: {s.elite_ratio}: elite_ratio + cull_ratio must be <= 1")
    e = config.evaluation
    if len(e.weight_range) != 2 or e.weight_range[0] >= e.weight_range[1]:
        raise UserError(f"{source}: evaluation.weight_range: {e.weight_range}: expected [smallest, largest] magnitude, "
                        "smallest < largest")
    if e.weight_sampling == "stratified" and len(e.shared_weights) < 2:
        raise UserError(f"{source}: evaluation.shared_weights: {e.shared_weights}: stratified sampling draws as many "
                        "weights as this list holds: give at least 2")


def load_config(path: str | Path, overrides: list[str] | None = None) -> Config:
    """Read, override and validate a YAML config; UserError with a one-line message."""
    return load_yaml_config(path, overrides, f"sections ({', '.join(SECTIONS)})", config_from_dict)


def reference_markdown() -> str:
    """The config reference as a Markdown table, generated from the field docs."""
    lines = ["| key | default | meaning |", "|---|---|---|"]
    for section, factory in SECTIONS.items():
        lines.extend(reference_rows(section, factory))
    return "\n".join(lines)


if __name__ == "__main__":
    print(reference_markdown())
