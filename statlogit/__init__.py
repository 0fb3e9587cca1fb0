"""statlogit: estimators from six recent statistics papers.

One scikit-learn-style interface, numba inner loops, tests against independent truths.
Each family lives in its own subpackage (:mod:`statlogit.ordinal`, :mod:`statlogit.checkered`,
:mod:`statlogit.aggregate`, :mod:`statlogit.rdd`, :mod:`statlogit.expectations`,
:mod:`statlogit.sketching`); every family's public names are re-exported here.

Families are imported on first use (module ``__getattr__``, PEP 562): ``import statlogit``
costs almost nothing, and ``from statlogit import R3D`` imports the regression
discontinuity family only, not scikit-learn's model selection or the other families'
numba kernels.
"""

import importlib

__version__ = "0.1.0"

#: Public names by family (each family's ``__all__``; a test keeps the two in step).
_EXPORTS = {
    "ordinal": (
        "PrestoClassifier", "PrestoClassifierCV", "ProportionalOddsClassifier",
        "presto_cvxpy", "presto_path",
    ),
    "checkered": ("CheckeredClassifier",),
    "aggregate": (
        "AggregateRegressor", "AggregateRegressorCV", "aggregate_rho_path",
        "debiased_bag_mse", "AggregateGLMRegressor", "AggregateClassifier",
        "RiskDecomposition", "aggregate_risk", "instance_vs_bag_snr_threshold", "optimal_rho",
        "laplace_bag_mechanism", "laplace_bag_scale", "optimal_bag_size",
        "private_aggregate_risk", "BagsMissingWarning", "Bags", "encode_bags", "RhoPath",
        "build_rho_path",
    ),
    "rdd": (
        "BandwidthSelection", "DensityTestResult", "R3D", "R3DGiniTestResult",
        "R3DTestResult", "SideFit", "TwoSidedFit", "bandwidth_sensitivity", "density_test",
        "from_long", "local_polynomial", "placebo_cutoffs", "plot_checks", "select_bandwidth",
    ),
    "expectations": (
        "MultipleExpectations", "MixtureISExpectations", "MonteCarloExpectations",
        "GaussianCopula", "IndependentMarginals", "PickFreezeProduct", "SobolResult",
        "sobol_indices", "shapley_effects",
    ),
    "sketching": (
        "fwht", "OSNAP", "SKETCHES", "SRHT", "CountSketch", "GaussianSketch",
        "SketchOperator", "SparseSign", "make_sketch", "sketch_size_rule",
        "theory_sketch_size", "SketchedLinearRegression", "WorkerChunkMonitor",
    ),
}
_FAMILY_OF = {name: family for family, names in _EXPORTS.items() for name in names}
#: Subpackages and modules reachable as attributes without an explicit import.
_SUBMODULES = frozenset({*_EXPORTS, "datasets", "inference", "kernels", "reference",
                         "simulation", "sketches", "solvers"})

__all__ = ["__version__", "sketches", *_FAMILY_OF]


def __getattr__(name):
    if name in _FAMILY_OF:
        value = getattr(importlib.import_module(f"statlogit.{_FAMILY_OF[name]}"), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"statlogit.{name}")
    else:
        raise AttributeError(f"module 'statlogit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__, *_SUBMODULES})
