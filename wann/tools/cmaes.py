"""CMA-ES from the ``cma`` package (pycma) behind the same ask/tell face as :mod:`wann.tools.es`.

pycma is an optional extra (``pip install -e ".[cma]"``). Its normal draws
come from the generator passed in, never from numpy's global state, so a
run is a function of its seed.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from wann.errors import UserError
from wann.tools.es import checked_fitness


def cma_available() -> bool:
    """True when the ``cma`` package can be imported."""
    try:
        import cma  # noqa: F401
    except ImportError:
        return False
    return True


class CmaStrategy:
    """CMA-ES (maximises): ``ask()`` candidates, ``tell(fitness)``, ``mean`` is the current centre."""

    def __init__(self, x0: np.ndarray, rng: np.random.Generator, popsize: int = 32, sigma: float = 0.1) -> None:
        """Start at ``x0`` with step size ``sigma``; ``popsize`` candidates per iteration."""
        try:
            import cma
        except ImportError:
            raise UserError('--method cma needs the cma package: pip install -e ".[cma]" (or use --method es)') from None
        if popsize < 2:
            raise UserError(f"popsize: {popsize}: must be >= 2")
        if not sigma > 0:
            raise UserError(f"sigma: {sigma}: must be > 0")
        self.rng = rng
        options = {
            "popsize": int(popsize),
            "seed": np.nan,  # pycma must not seed numpy's global generator
            "randn": lambda *shape: rng.standard_normal(shape),
            "verbose": -9,
            "verb_log": 0,
            "verb_disp": 0,
        }
        self._es = cma.CMAEvolutionStrategy(np.asarray(x0, dtype=np.float64), float(sigma), options)
        self.popsize = int(popsize)
        self.generation = 0
        self._candidates: np.ndarray | None = None

    @property
    def mean(self) -> np.ndarray:
        """The distribution's centre (the tuner's current answer)."""
        return np.asarray(self._es.mean, dtype=np.float64).copy()

    @property
    def sigma(self) -> float:
        """The current overall step size."""
        return float(self._es.sigma)

    def ask(self) -> np.ndarray:
        """Candidates float64[popsize, dim]."""
        self._candidates = np.asarray(self._es.ask(), dtype=np.float64)
        return self._candidates.copy()

    def tell(self, fitness: np.ndarray) -> dict[str, Any]:
        """Update from the candidates' fitness (higher is better); return metrics."""
        fitness = checked_fitness(fitness, self.popsize, asked=self._candidates is not None)
        before = self.mean
        self._es.tell(list(self._candidates), list(-fitness))  # pycma minimises
        self._candidates = None
        self.generation += 1
        return {
            "generation": self.generation - 1,
            "fitness_mean": float(fitness.mean()),
            "fitness_max": float(fitness.max()),
            "fitness_min": float(fitness.min()),
            "sigma": self.sigma,
            "step_norm": float(np.linalg.norm(self.mean - before)),
        }
