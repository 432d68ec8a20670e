"""PEPG (Sehnke et al. 2010): symmetric sampling with one step size per parameter.

The paper's tuner family ("population-based REINFORCE"). Each iteration
draws ``popsize / 2`` perturbations ``eps ~ N(0, sigma^2)`` (``sigma`` a
vector) and evaluates ``mean +- eps``. Rewards are replaced by centred
ranks; the mean moves along ``sum_k (r+_k - r-_k) / 2 * eps_k``, through
Adam, with the step scaled by the current average sigma (so steps shrink as
the search narrows); each sigma_i moves along
``sum_k ((r+_k + r-_k) / 2 - baseline) * (eps_ki^2 - sigma_i^2) / sigma_i``,
limited to +-20% per iteration and kept in [``sigma_min``, ``sigma_max``].

Same ask/tell face as :mod:`wann.tools.es`; the state is plain data.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from wann.tools.es import PairStrategy, centered_ranks, checked_fitness


class Pepg(PairStrategy):
    """PEPG with per-parameter sigma, rank shaping and Adam (maximises)."""

    def __init__(
        self,
        x0: np.ndarray,
        rng: np.random.Generator,
        popsize: int = 64,
        sigma: float = 0.1,
        lr: float = 0.1,
        sigma_lr: float = 0.2,
        sigma_min: float = 0.01,
        sigma_max: float = 3.0,
    ) -> None:
        """Start at ``x0`` with every sigma at ``sigma``; ``popsize`` even (pairs); noise from ``rng`` only."""
        super().__init__(x0, rng, popsize, sigma, lr)
        self.sigma = np.full(self.mean.size, float(sigma))
        self.sigma_lr, self.sigma_min, self.sigma_max = float(sigma_lr), float(sigma_min), float(sigma_max)

    def ask(self) -> np.ndarray:
        """Candidates float64[popsize, dim]: the first half mean + eps, the second half mean - eps."""
        self._eps = self.rng.standard_normal((self.popsize // 2, self.mean.size)) * self.sigma
        return np.vstack([self.mean + self._eps, self.mean - self._eps])

    def tell(self, fitness: np.ndarray) -> dict[str, Any]:
        """Update the mean and the sigmas from the candidates' fitness (higher is better); return metrics."""
        fitness = checked_fitness(fitness, self.popsize, asked=self._eps is not None)
        half = self.popsize // 2
        shaped = centered_ranks(fitness)
        plus, minus = shaped[:half], shaped[half:]
        grad = (plus - minus) / 2 @ self._eps / half
        update = self.optimizer.step(grad) * self.sigma.mean()
        # sigma grows along directions whose pairs beat the baseline on average, shrinks otherwise
        spread = (self._eps**2 - self.sigma**2) / self.sigma
        sigma_grad = ((plus + minus) / 2 - shaped.mean()) @ spread / half
        change = np.clip(self.sigma_lr * sigma_grad, -0.2 * self.sigma, 0.2 * self.sigma)
        self.sigma = np.clip(self.sigma + change, self.sigma_min, self.sigma_max)
        return self._step(fitness, update, sigma=float(self.sigma.mean()))

    def state_dict(self) -> dict[str, Any]:
        """The state as JSON-ready data (mean, sigmas, Adam moments, generation, RNG state)."""
        return self._state(sigma=self.sigma.tolist(), sigma_lr=self.sigma_lr, sigma_min=self.sigma_min,
                           sigma_max=self.sigma_max)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output; the run continues exactly as if never stopped."""
        self._restore(state)
        self.sigma = np.asarray(state["sigma"], dtype=np.float64)
        self.sigma_lr, self.sigma_min, self.sigma_max = (float(state[k]) for k in ("sigma_lr", "sigma_min", "sigma_max"))
