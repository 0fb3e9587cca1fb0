"""The one result type every statlogit solver returns."""

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class OptimizeResult:
    """What a solver returns.

    Attributes
    ----------
    x : numpy.ndarray
        The solution.
    n_iter : int
        Iterations performed (never more than the solver's ``max_iter``).
    converged : bool
        Whether the stopping criterion was met within ``max_iter``.
    residual : float
        Final optimality residual, in the solver's own measure (documented by each solver).
    step : float
        Final step size (NaN where the solver has none).
    objective : float
        Objective value at ``x`` (NaN where the solver does not compute it).
    """

    x: np.ndarray
    n_iter: int
    converged: bool
    residual: float
    step: float = math.nan
    objective: float = math.nan
