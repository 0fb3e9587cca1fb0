"""Floor 2: optimisation algorithms that do not know which model they serve.

A solver takes callables (values, derivatives, projections) and returns an
:class:`~statlogit.solvers.result.OptimizeResult`; the families supply the model.
"""

from statlogit.solvers.linear import weighted_lstsq
from statlogit.solvers.prox_newton import ProxNewtonResult, prox_newton
from statlogit.solvers.result import OptimizeResult
from statlogit.solvers.simplex_newton import minimize_inverse_affine, project_capped_simplex
from statlogit.solvers.xgd import xgd

__all__ = ["OptimizeResult", "ProxNewtonResult", "minimize_inverse_affine",
           "project_capped_simplex", "prox_newton", "weighted_lstsq", "xgd"]
