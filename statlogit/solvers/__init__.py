"""Floor 2: optimisation algorithms that do not know which model they serve."""

from statlogit.solvers.fista import OptimizeResult, fista, prox_l1
from statlogit.solvers.linear import weighted_lstsq

__all__ = ["OptimizeResult", "fista", "prox_l1", "weighted_lstsq"]
