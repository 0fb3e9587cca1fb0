"""Many expectations from one sample: adaptive importance sampling + control variates,
and Sobol' indices (Demange-Chryst, Bachoc & Morio, 2022)."""

from statlogit.expectations.adaptive import (
    MultipleExpectations,
)
from statlogit.expectations.baselines import (
    MixtureISExpectations,
    MonteCarloExpectations,
)
from statlogit.expectations.laws import (
    GaussianCopula,
    IndependentMarginals,
    PickFreezeProduct,
)
from statlogit.expectations.shapley import shapley_effects
from statlogit.expectations.sobol import (
    SobolResult,
    sobol_indices,
)

__all__ = [
    "MultipleExpectations",
    "MixtureISExpectations",
    "MonteCarloExpectations",
    "GaussianCopula",
    "IndependentMarginals",
    "PickFreezeProduct",
    "SobolResult",
    "sobol_indices",
    "shapley_effects",
]
