"""Learning from aggregate responses: bag vs instance losses, label-DP bags, risk theory
(Javanmard et al., 2024)."""

from statlogit.aggregate._bags import Bags, encode_bags
from statlogit.aggregate._path import RhoPath, build_rho_path
from statlogit.aggregate.classifier import AggregateClassifier
from statlogit.aggregate.cv import AggregateRegressorCV, debiased_bag_mse
from statlogit.aggregate.glm import (
    AggregateGLMRegressor,
)
from statlogit.aggregate.privacy import (
    laplace_bag_mechanism,
    laplace_bag_scale,
    optimal_bag_size,
    private_aggregate_risk,
)
from statlogit.aggregate.regressor import (
    AggregateRegressor,
    BagsMissingWarning,
    aggregate_rho_path,
)
from statlogit.aggregate.theory import (
    RiskDecomposition,
    aggregate_risk,
    instance_vs_bag_snr_threshold,
    optimal_rho,
)

__all__ = [
    "AggregateRegressor",
    "AggregateRegressorCV",
    "aggregate_rho_path",
    "debiased_bag_mse",
    "AggregateGLMRegressor",
    "AggregateClassifier",
    "RiskDecomposition",
    "aggregate_risk",
    "instance_vs_bag_snr_threshold",
    "optimal_rho",
    "laplace_bag_mechanism",
    "laplace_bag_scale",
    "optimal_bag_size",
    "private_aggregate_risk",
    "BagsMissingWarning",
    # documented building blocks (used by simulations/ and benchmarks/)
    "Bags",
    "encode_bags",
    "RhoPath",
    "build_rho_path",
]
