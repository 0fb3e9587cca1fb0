"""statlogit: estimators from six recent statistics papers.

One scikit-learn-style interface, numba inner loops, tests against independent truths.
Each family lives in its own subpackage (:mod:`statlogit.ordinal`, :mod:`statlogit.checkered`,
:mod:`statlogit.aggregate`, :mod:`statlogit.rdd`, :mod:`statlogit.expectations`,
:mod:`statlogit.sketching`); their public names are re-exported here.
"""

__version__ = "0.1.0"

from statlogit import sketches  # noqa: E402
from statlogit.aggregate import (  # noqa: E402
    AggregateGLMRegressor,
    AggregateRegressor,
    AggregateRegressorCV,
    aggregate_rho_path,
    aggregate_risk,
    debiased_bag_mse,
    instance_vs_bag_snr_threshold,
    laplace_bag_mechanism,
    laplace_bag_scale,
    optimal_bag_size,
    optimal_rho,
    private_aggregate_risk,
)
from statlogit.checkered import CheckeredClassifier  # noqa: E402
from statlogit.expectations import (  # noqa: E402
    GaussianCopula,
    IndependentMarginals,
    MixtureISExpectations,
    MonteCarloExpectations,
    MultipleExpectations,
    PickFreezeProduct,
    SobolResult,
    shapley_effects,
    sobol_indices,
)
from statlogit.ordinal import (  # noqa: E402
    PrestoClassifier,
    PrestoClassifierCV,
    ProportionalOddsClassifier,
    presto_path,
)
from statlogit.rdd import R3D, R3DGiniTestResult, R3DTestResult, from_long  # noqa: E402
from statlogit.sketching import SketchedLinearRegression  # noqa: E402

__all__ = [
    "__version__",
    # ordinal
    "PrestoClassifier", "PrestoClassifierCV", "ProportionalOddsClassifier", "presto_path",
    # checkered
    "CheckeredClassifier",
    # aggregate
    "AggregateRegressor", "AggregateRegressorCV", "AggregateGLMRegressor",
    "aggregate_rho_path", "aggregate_risk", "debiased_bag_mse",
    "instance_vs_bag_snr_threshold", "laplace_bag_mechanism", "laplace_bag_scale",
    "optimal_bag_size", "optimal_rho", "private_aggregate_risk",
    # rdd
    "R3D", "R3DGiniTestResult", "R3DTestResult", "from_long",
    # expectations
    "MultipleExpectations", "MonteCarloExpectations", "MixtureISExpectations",
    "IndependentMarginals", "GaussianCopula", "PickFreezeProduct", "SobolResult",
    "sobol_indices", "shapley_effects",
    # sketching
    "SketchedLinearRegression", "sketches",
]
