"""statlogit: estimators from six recent statistics papers.

One scikit-learn-style interface, numba inner loops, tests against independent truths.
The public names of each family are imported here; everything else is internal.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]

# --- PRESTO (ordinal) ---
from statlogit.estimators.ordinal import (  # noqa: E402
    PrestoClassifier,
    PrestoClassifierCV,
    ProportionalOddsClassifier,
    presto_path,
)

__all__ += ["PrestoClassifier", "PrestoClassifierCV", "ProportionalOddsClassifier",
            "presto_path"]
# --- checkered ---
from statlogit.estimators.checkered import CheckeredClassifier  # noqa: E402

__all__ += ["CheckeredClassifier"]
# --- aggregate ---
from statlogit.estimators.aggregate import (  # noqa: E402
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

__all__ += ["AggregateRegressor", "AggregateRegressorCV", "AggregateGLMRegressor",
            "aggregate_rho_path", "aggregate_risk", "debiased_bag_mse",
            "instance_vs_bag_snr_threshold", "laplace_bag_mechanism",
            "laplace_bag_scale", "optimal_bag_size", "optimal_rho",
            "private_aggregate_risk"]
# --- R3D ---
from statlogit.estimators.r3d import (  # noqa: E402
    R3D,
    R3DGiniTestResult,
    R3DTestResult,
    from_long,
)

__all__ += ["R3D", "R3DGiniTestResult", "R3DTestResult", "from_long"]
# --- expectations ---
from statlogit.estimators.expectations import (  # noqa: E402
    GaussianCopula,
    IndependentMarginals,
    MixtureISExpectations,
    MonteCarloExpectations,
    MultipleExpectations,
    PickFreezeProduct,
    SobolResult,
    sobol_indices,
)

__all__ += [
    "MultipleExpectations", "MonteCarloExpectations", "MixtureISExpectations",
    "IndependentMarginals", "GaussianCopula", "PickFreezeProduct", "SobolResult",
    "sobol_indices",
]
# --- sketched ---
from statlogit import sketches  # noqa: E402
from statlogit.estimators.sketched import SketchedLinearRegression  # noqa: E402

__all__ += ["SketchedLinearRegression", "sketches"]
