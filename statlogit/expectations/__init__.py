"""Many expectations from one sample: adaptive importance sampling + control variates
(Demange-Chryst, Bachoc & Morio, 2022), and global sensitivity analysis built on it:
Sobol' indices (first, total, second order; many outputs) and Shapley effects of
dependent inputs."""

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
