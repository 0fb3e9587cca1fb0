"""Sum-log-concave (checkered) classification (Achab, 2022, 2023).

Public: :class:`CheckeredClassifier`.

Documented internals, for the studies in ``simulations/`` and the benchmarks (stable
inside the repository, not part of the user API, so not in ``__all__``):

* :class:`CheckeredObjective` - the penalised negative log-likelihood on one data set,
  its gradient, the coin posteriors and the cross-gradient (convex majoriser);
* :func:`log_proba` - class log-probabilities from ``coef`` (m, g, d) and
  ``intercept`` (m, g);
* :func:`random_start` - the estimator's random non-zero starts;
* :data:`SOLVE` - ``{"lbfgs", "xgd", "em"}`` to ``solve(objective, theta0, max_iter,
  tol, callback=None) -> (theta, n_iter, converged)``.
"""

# documented internals, re-exported on purpose (see the module docstring)
from statlogit.checkered._objective import CheckeredObjective as CheckeredObjective
from statlogit.checkered._objective import log_proba as log_proba
from statlogit.checkered._solve import SOLVE as SOLVE
from statlogit.checkered._solve import random_start as random_start
from statlogit.checkered.classifier import (
    CheckeredClassifier,
)

__all__ = [
    "CheckeredClassifier",
]
