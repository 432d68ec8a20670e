"""The WANN search: a population of minimal topologies ranked by reward and size.

``ask()`` returns the genomes of the next generation, ``tell(rewards)`` ranks
them and returns that generation's metrics, and ``run()`` loops over both with
an :class:`~wann.engine.evaluator.Evaluator`. The search hyperparameters (the config)
stay apart from the evolving state, which is plain data: ``state_dict()`` is
the checkpoint, and taking it changes nothing.

Run ``python -m wann.search CONFIG.yaml`` for the command line (:mod:`wann.search`).
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterable

import numpy as np

from wann.engine.activations import activation_id
from wann.engine.champion import Champion, public_spec
from wann.engine.config import Config
from wann.engine.evaluator import Evaluator, fitness_from_rewards
from wann.engine.genome import Genome, InnovationTracker, initial_genome, initial_tracker
from wann.engine.mutation import MutationRates, mutate
from wann.engine.network import Network, compile_from_parent, compile_genome
from wann.engine.ranking import generation_objectives, nsga_order, reference_nsga_order, shuffled_nsga_order
from wann.engine.seeds import (
    CONFIRM_SEEDS,
    CONFIRM_WEIGHT_DRAWS,
    POPULATION_SEEDS,
    WEIGHT_DRAWS,
    generation_seeds,
    make_rng,
    pooled_seeds,
    stratified_weights,
)
from wann.errors import UserError
from wann.tasks import Task, resolve_task

Reporter = Callable[["WannSearch", dict[str, Any]], None]


def tournament_winners(rng: np.random.Generator, pool: int, count: int, size: int, rule: str = "tournament") -> np.ndarray:
    """Rank indices of ``count`` parents drawn from a pool of ``pool`` ranked genomes (0 = best).

    "tournament": the best of ``size`` uniform draws; "best_of_two": the
    better winner of two such tournaments, as the reference code does.
    """
    winners = rng.integers(pool, size=(count, size)).min(axis=1)
    if rule == "best_of_two":
        winners = np.minimum(winners, rng.integers(pool, size=(count, size)).min(axis=1))
    return winners


class WannSearch:
    """Search state plus the operators that advance it one generation at a time."""

    def __init__(self, config: Config, task: Task | None = None) -> None:
        self.config = config
        self.task = task or resolve_task(config.task.spec())
        self.output_activation = (
            activation_id(config.task.output_activation)
            if config.task.output_activation
            else activation_id(self.task.output_activation)
        )
        s = config.search
        self.rates = MutationRates(
            s.prob_add_connection, s.prob_add_node, s.prob_enable_connection, s.prob_change_activation
        )
        self.hidden_activations = np.array(
            [activation_id(a) for a in s.hidden_activations], dtype=np.int8
        )
        self.seed = config.run.seed
        self.rng = np.random.default_rng(self.seed)
        self.tracker: InnovationTracker = initial_tracker(self.task.n_inputs, self.task.n_outputs)
        self.generation = 0  # generations completed
        self.ranked: list[Genome] = []  # last evaluated population, best first
        self.champion: Champion | None = None
        self.population: list[Genome] = []  # what ask() handed out
        self._networks: list[Network] = []
        self._ranked_networks: list[Network] | None = None  # compiled self.ranked, when known
        self.last_confirm_steps = 0  # env steps of the last champion confirmation
        self._in_step = False  # inside step(): the state is committed at its end, not by tell()
        self._snapshot = self._take_snapshot()

    # ---- seeds ---------------------------------------------------------------------

    def rollout_seeds(self, generation: int, count: int, stream: int = POPULATION_SEEDS) -> np.ndarray:
        """Seeds for ``count`` rollouts, a pure function of run seed, generation and stream.

        With ``evaluation.seed_pool`` the population's seeds come from that
        pool (:func:`pooled_seeds`); confirmations always get fresh ones.
        """
        pool = self.config.evaluation.seed_pool
        if pool and stream == POPULATION_SEEDS:
            return pooled_seeds(self.seed, generation, count, pool)
        return generation_seeds(self.seed, generation, count, stream)

    def generation_weights(self, generation: int) -> np.ndarray:
        """The shared weights every genome of ``generation`` is scored at (a pure function of seed and generation).

        ``fixed``: the configured ``shared_weights``; ``stratified``: as many
        fresh draws, one per stratum of +-``weight_range`` (common random
        numbers: the same for every genome and worker).
        """
        e = self.config.evaluation
        if e.weight_sampling == "fixed":
            return np.asarray(e.shared_weights, dtype=np.float64)
        low, high = e.weight_range
        return stratified_weights(make_rng(self.seed, generation, WEIGHT_DRAWS), len(e.shared_weights), low, high)

    def confirmation_weights(self, generation: int) -> np.ndarray:
        """The weights a champion candidate of ``generation`` is confirmed on (``evaluation.confirm_weights``)."""
        e = self.config.evaluation
        low, high = e.weight_range
        if e.confirm_weights == "grid":
            grid = np.linspace(-2.0, 2.0, e.confirm_points)
            return grid[(np.abs(grid) >= low - 1e-12) & (np.abs(grid) <= high + 1e-12)]
        if e.confirm_weights == "random":
            rng = make_rng(self.seed, generation, CONFIRM_WEIGHT_DRAWS)
            return np.sort(rng.choice([-1.0, 1.0], e.confirm_points) * rng.uniform(low, high, e.confirm_points))
        return np.asarray(e.shared_weights, dtype=np.float64)

    # ---- ask / tell ------------------------------------------------------------------

    def ask(self) -> list[Genome]:
        """The genomes of the next generation (the initial population at first)."""
        self.tracker.new_generation()
        if not self.ranked:
            pop = [
                initial_genome(
                    self.task.n_inputs, self.task.n_outputs, self.output_activation,
                    self.config.search.init_enable, self.rng,
                )
                for _ in range(self.config.search.pop_size)
            ]
        else:
            pop, parents = self._breed()
        if not self.ranked or self._ranked_networks is None:
            self._networks = [compile_genome(g) for g in pop]
        else:
            self._networks = [
                compile_from_parent(g, self.ranked[p], self._ranked_networks[p]) for g, p in zip(pop, parents)
            ]
        self.population = pop
        return pop

    def networks(self) -> list[Network]:
        """Compiled networks of the population from the last :meth:`ask`."""
        return self._networks

    def _breed(self) -> tuple[list[Genome], list[int]]:
        """Cull the worst, keep the elite, fill up with mutated tournament winners.

        Returns the children and, for each, the index of its parent in ``self.ranked``.
        """
        s = self.config.search
        ranked = self.ranked
        n = s.pop_size
        n_cull = int(len(ranked) * s.cull_ratio)
        pool = ranked[: max(len(ranked) - n_cull, 1)]
        # as the reference: elites are a fraction of the pool left after culling
        n_elite = min(int(len(pool) * s.elite_ratio), n)
        children = [g.copy() for g in ranked[:n_elite]]
        parents = list(range(n_elite))
        n_children = n - n_elite
        winners = tournament_winners(self.rng, len(pool), n_children, s.tournament_size, s.parent_selection)
        for w in winners:
            children.append(
                mutate(pool[int(w)], self.rng, self.tracker, self.rates, self.hidden_activations,
                       s.mutation_fallback, s.add_connection_rule, s.add_node_rule)
            )
            parents.append(int(w))
        return children, parents

    def tell(self, rewards: np.ndarray) -> dict[str, Any]:
        """Rank the population from its rewards [G, n_weights, n_rollouts]; return metrics."""
        rewards = np.asarray(rewards, dtype=np.float64)
        if rewards.shape[0] != len(self.population):
            raise ValueError(f"tell() got rewards for {rewards.shape[0]} genomes, expected {len(self.population)}")
        mean, best, _ = fitness_from_rewards(rewards)
        conns = np.array([net.n_connections for net in self._networks], dtype=float)
        objectives = generation_objectives(
            mean, best, conns, self.rng.random() < self.config.search.prob_connection_objective,
            self.config.search.objective_rule)
        if self.config.search.tie_order == "random":
            order, front_of = shuffled_nsga_order(objectives, self.config.search.crowding, self.rng)
        elif self.config.search.tie_order == "reference":
            order, front_of = reference_nsga_order(objectives, self.config.search.crowding)
        else:
            order, front_of = nsga_order(objectives, self.config.search.crowding)
        self.ranked = [self.population[i] for i in order]
        self._ranked_networks = [self._networks[i] for i in order]
        top = int(np.argmax(mean))  # first index among ties
        self._candidate = (self.population[top], self._networks[top], float(mean[top]))
        self.generation += 1
        self._commit()
        return {
            "generation": self.generation - 1,
            "best_mean": float(mean[top]),
            "best_max": float(best.max()),
            "front_size": int(np.count_nonzero(front_of == 0)),
            "n_fronts": int(front_of.max() + 1),
            "median_connections": float(np.median(conns)),
        }

    def confirm_champion(self, evaluator: Evaluator) -> bool:
        """Re-evaluate this generation's best-by-mean on fresh seeds; keep it if better.

        The candidate is scored on :meth:`confirmation_weights` (the search's
        weights, or a dense grid / fresh random weights: its weight-agnostic
        score) with ``best_rollouts`` fresh episodes each. The stored champion
        is replaced only when that score is higher. A candidate identical to
        the champion is not re-scored, so its number is never a maximum over
        repeated draws. Returns True when the champion changed.
        """
        genome, network, search_mean = self._candidate
        if self.champion is not None and genome.to_dict() == self.champion.genome.to_dict():
            return False
        generation = self.generation - 1
        seeds = self.rollout_seeds(generation, self.config.evaluation.best_rollouts, CONFIRM_SEEDS)
        weights = self.confirmation_weights(generation)
        same = np.array_equal(weights, evaluator.weights)
        result = evaluator.evaluate([network], seeds, None if same else weights)  # split over the workers by rollout
        per_weight = result.rewards[0].mean(axis=1)
        confirmed = float(per_weight.mean())
        self.last_confirm_steps = result.steps
        if self.champion is not None and confirmed <= self.champion.confirmed_mean:
            return False
        self.champion = Champion(
            genome=genome.copy(),
            task=self.task.name,
            task_spec=public_spec(self.task.spec),
            shared_weights=[float(w) for w in weights],
            reward_per_weight=[float(r) for r in per_weight],
            confirmed_mean=confirmed,
            confirmed_rollouts=len(seeds),
            connections=network.n_connections,
            generation=generation,
            seed=self.seed,
        )
        e = self.config.evaluation
        if e.confirm_weights != "search" or e.weight_sampling != "fixed":
            self.champion.extra["confirmation"] = {
                "weights": e.confirm_weights, "points": len(weights), "weight_range": list(e.weight_range),
                "search_weights": e.weight_sampling, "search_mean": search_mean,
            }
        if self.task.champion_metrics is not None:
            self.champion.extra["test_metrics"] = self.task.champion_metrics(network, evaluator.weights)
        self._commit()
        return True

    # ---- the loop ----------------------------------------------------------------------

    def step(self, evaluator: Evaluator) -> dict[str, Any]:
        """Run one whole generation: ask, evaluate, tell, confirm; return its metrics."""
        t0 = time.perf_counter()
        self.last_confirm_steps = 0
        # An interrupt anywhere in here leaves state_dict() at the previous generation.
        self._in_step = True
        try:
            genomes = self.ask()
            seeds = self.rollout_seeds(self.generation, self.config.evaluation.rollouts)
            weights = None if self.config.evaluation.weight_sampling == "fixed" else self.generation_weights(self.generation)
            result = evaluator.evaluate(self.networks(), seeds, weights)
            metrics = self.tell(result.rewards)
            changed = self.confirm_champion(evaluator)
        finally:
            self._in_step = False
        self._commit()
        assert self.champion is not None
        metrics.update(
            champion_mean=self.champion.confirmed_mean,
            champion_search_mean=self.champion.extra.get("confirmation", {}).get("search_mean", self.champion.confirmed_mean),
            champion_connections=self.champion.connections,
            champion_changed=changed,
            env_steps=result.steps + self.last_confirm_steps,
            eval_seconds=result.seconds,
            steps_per_second=result.steps / max(result.seconds, 1e-9),
            generation_seconds=time.perf_counter() - t0,
            population=len(genomes),
        )
        return metrics

    def run(
        self,
        evaluator: Evaluator,
        reporters: Iterable[Reporter] = (),
        generations: int | None = None,
    ) -> Champion | None:
        """Step until ``generations`` (default: the config's) are complete.

        Each reporter is called with (search, metrics) after every generation.
        KeyboardInterrupt propagates; :meth:`state_dict` still describes the
        last completed generation.
        """
        total = self.config.search.generations if generations is None else generations
        reporters = list(reporters)
        while self.generation < total:
            metrics = self.step(evaluator)
            for report in reporters:
                report(self, metrics)
        return self.champion

    # ---- state as data ---------------------------------------------------------------

    def _commit(self) -> None:
        """Make :meth:`state_dict` describe the search as it stands now (not inside :meth:`step`)."""
        if not self._in_step:
            self._snapshot = self._take_snapshot()

    def _take_snapshot(self) -> dict[str, Any]:
        # References only: genomes and champions are never mutated in place.
        return {
            "generation": self.generation,
            "rng": self.rng.bit_generator.state,
            "tracker": self.tracker.state(),
            "ranked": list(self.ranked),
            "champion": self.champion,
        }

    def snapshot(self) -> dict[str, Any]:
        """A cheap handle on the state :meth:`state_dict` describes now (references, nothing copied).

        Pass it to :meth:`state_dict` later to save exactly this state, e.g. the
        last generation a log already holds while the search has moved on.
        """
        return self._snapshot

    def state_dict(self, snapshot: dict[str, Any] | None = None) -> dict[str, Any]:
        """The search state after the last :meth:`tell` (and champion confirmation), as JSON-ready data.

        Driving :meth:`ask` / :meth:`tell` by hand, a checkpoint taken after
        ``tell`` restores to the same state; inside :meth:`step` (e.g. an
        interrupt mid-generation) it is the state after the previous step.
        ``snapshot`` (from :meth:`snapshot`) gives that earlier state instead.
        """
        snap = self._snapshot if snapshot is None else snapshot
        return {
            "format": "wann-checkpoint",
            "version": 1,
            "seed": self.seed,
            "generation": snap["generation"],
            "rng": snap["rng"],
            "tracker": snap["tracker"],
            "ranked": [g.to_dict() for g in snap["ranked"]],
            "champion": None if snap["champion"] is None else snap["champion"].to_dict(),
            "config": self.config.to_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; the run then continues exactly as if never stopped."""
        if state.get("format") != "wann-checkpoint":
            raise UserError("not a wann checkpoint")
        self.seed = int(state["seed"])
        self.generation = int(state["generation"])
        self.rng = np.random.default_rng()
        self.rng.bit_generator.state = state["rng"]
        self.tracker = InnovationTracker(**state["tracker"])
        self.ranked = [Genome.from_dict(g) for g in state["ranked"]]
        self.champion = None if state["champion"] is None else Champion.from_dict(state["champion"])
        self.population, self._networks = [], []
        self._ranked_networks = None  # compiled again on the next ask()
        self._in_step = False
        self._snapshot = self._take_snapshot()
