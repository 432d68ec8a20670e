"""A small evolution strategy in numpy: antithetic sampling, rank shaping, Adam.

The estimator of Salimans et al. (2017): perturb the mean with pairs
``mean +- sigma * eps``, replace the rewards by centred ranks in [-0.5, 0.5]
(invariant to the reward scale and robust to outliers), estimate the gradient
as ``sum_i shaped_i * eps_i / (n * sigma)`` and take an Adam step uphill.

``ask()`` returns the candidates, ``tell(fitness)`` updates the mean and
returns a metrics dict; the caller brings its own evaluation. The state is
plain data (:meth:`EvolutionStrategy.state_dict`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from wann.errors import UserError


def checked_fitness(fitness: np.ndarray, popsize: int, asked: bool) -> np.ndarray:
    """``fitness`` as a float64 vector of ``popsize`` values (an optimizer's tell() after its ask())."""
    if not asked:
        raise RuntimeError("tell() called before ask()")
    fitness = np.asarray(fitness, dtype=np.float64).reshape(-1)
    if fitness.size != popsize:
        raise ValueError(f"tell() got {fitness.size} fitness values, expected {popsize}")
    return fitness


def centered_ranks(fitness: np.ndarray) -> np.ndarray:
    """Ranks of ``fitness`` scaled to [-0.5, 0.5] (worst -0.5, best 0.5); ties broken by position."""
    x = np.asarray(fitness, dtype=np.float64).reshape(-1)
    if x.size < 2:
        return np.zeros_like(x)
    ranks = np.empty(x.size, dtype=np.float64)
    ranks[np.argsort(x, kind="stable")] = np.arange(x.size, dtype=np.float64)
    return ranks / (x.size - 1) - 0.5


class Adam:
    """Adam on a parameter vector, used for ascent (``step`` returns the update to add)."""

    def __init__(self, dim: int, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        """Moments start at zero; ``lr`` is the step size."""
        self.lr, self.beta1, self.beta2, self.eps = float(lr), float(beta1), float(beta2), float(eps)
        self.m = np.zeros(dim)
        self.v = np.zeros(dim)
        self.t = 0

    def step(self, grad: np.ndarray) -> np.ndarray:
        """The update ``lr * m_hat / (sqrt(v_hat) + eps)`` for gradient ``grad``."""
        self.t += 1
        self.m = self.beta1 * self.m + (1.0 - self.beta1) * grad
        self.v = self.beta2 * self.v + (1.0 - self.beta2) * grad * grad
        m_hat = self.m / (1.0 - self.beta1**self.t)
        v_hat = self.v / (1.0 - self.beta2**self.t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def state_dict(self) -> dict[str, Any]:
        """Step size, step count and moments as JSON-ready data."""
        return {"lr": self.lr, "t": self.t, "m": self.m.tolist(), "v": self.v.tolist()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "Adam":
        """An Adam that continues where :meth:`state_dict` left off."""
        adam = cls(len(state["m"]), state["lr"])
        adam.t = int(state["t"])
        adam.m = np.asarray(state["m"], dtype=np.float64)
        adam.v = np.asarray(state["v"], dtype=np.float64)
        return adam


class PairStrategy:
    """What the optimizers that sample +- pairs and step with Adam share: settings checks, state, metrics.

    Subclasses (:class:`EvolutionStrategy`, :class:`wann.tools.pepg.Pepg`)
    add their own sampling (``ask``), update (``tell``) and extra state.
    """

    def __init__(self, x0: np.ndarray, rng: np.random.Generator, popsize: int, sigma: float, lr: float) -> None:
        """Start at ``x0``; ``popsize`` must be even (pairs); noise from ``rng`` only."""
        if popsize < 2 or popsize % 2:
            raise UserError(f"popsize: {popsize}: must be an even number >= 2 (antithetic pairs)")
        if not sigma > 0:
            raise UserError(f"sigma: {sigma}: must be > 0")
        if not lr > 0:
            raise UserError(f"lr: {lr}: must be > 0")
        self.mean = np.asarray(x0, dtype=np.float64).copy()
        self.rng = rng
        self.popsize = int(popsize)
        self.optimizer = Adam(self.mean.size, lr)
        self.generation = 0
        self._eps: np.ndarray | None = None

    def _step(self, fitness: np.ndarray, update: np.ndarray, **extra: float) -> dict[str, Any]:
        """Move the mean by ``update``, close the iteration, and return its metrics (with ``extra``)."""
        self.mean = self.mean + update
        self.generation += 1
        self._eps = None
        return {
            "generation": self.generation - 1,
            "fitness_mean": float(fitness.mean()),
            "fitness_max": float(fitness.max()),
            "fitness_min": float(fitness.min()),
            **extra,
            "step_norm": float(np.linalg.norm(update)),
        }

    def _state(self, **extra: Any) -> dict[str, Any]:
        """The shared state as JSON-ready data, with the subclass's ``extra`` entries."""
        return {
            "mean": self.mean.tolist(),
            **extra,
            "popsize": self.popsize,
            "generation": self.generation,
            "adam": self.optimizer.state_dict(),
            "rng": self.rng.bit_generator.state,
        }

    def _restore(self, state: dict[str, Any]) -> None:
        """Restore the shared part of :meth:`_state` output."""
        self.mean = np.asarray(state["mean"], dtype=np.float64)
        self.popsize = int(state["popsize"])
        self.generation = int(state["generation"])
        self.optimizer = Adam.from_state(state["adam"])
        self.rng.bit_generator.state = state["rng"]
        self._eps = None


class EvolutionStrategy(PairStrategy):
    """Gaussian ES with antithetic pairs, centred-rank fitness shaping and Adam (maximises)."""

    def __init__(
        self,
        x0: np.ndarray,
        rng: np.random.Generator,
        popsize: int = 64,
        sigma: float = 0.1,
        lr: float = 0.03,
        weight_decay: float = 0.0,
    ) -> None:
        """Start at ``x0``; ``popsize`` must be even (pairs); noise from ``rng`` only."""
        super().__init__(x0, rng, popsize, sigma, lr)
        self.sigma = float(sigma)
        self.weight_decay = float(weight_decay)

    def ask(self) -> np.ndarray:
        """Candidates float64[popsize, dim]: rows 2k and 2k+1 are mean +- sigma * eps_k."""
        half = self.rng.standard_normal((self.popsize // 2, self.mean.size))
        self._eps = np.empty((self.popsize, self.mean.size))
        self._eps[0::2] = half
        self._eps[1::2] = -half
        return self.mean + self.sigma * self._eps

    def tell(self, fitness: np.ndarray) -> dict[str, Any]:
        """Update the mean from the candidates' fitness (higher is better); return metrics."""
        fitness = checked_fitness(fitness, self.popsize, asked=self._eps is not None)
        shaped = centered_ranks(fitness)
        grad = shaped @ self._eps / (self.popsize * self.sigma)
        if self.weight_decay:
            grad = grad - self.weight_decay * self.mean
        return self._step(fitness, self.optimizer.step(grad), grad_norm=float(np.linalg.norm(grad)))

    def state_dict(self) -> dict[str, Any]:
        """The state as JSON-ready data (mean, Adam moments, generation, RNG state)."""
        return self._state(sigma=self.sigma, weight_decay=self.weight_decay)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output; the run continues exactly as if never stopped."""
        self._restore(state)
        self.sigma = float(state["sigma"])
        self.weight_decay = float(state["weight_decay"])
