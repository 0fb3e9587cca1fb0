r"""Many expectations from one sample: adaptive importance sampling + control variates.

Demange-Chryst, Bachoc & Morio (2022), "Efficient estimation of multiple expectations
with the same sample by adaptive importance sampling and control variates"
(arXiv:2212.00568).
"""

from statlogit.estimators._expectations_adaptive import MultipleExpectations
from statlogit.estimators._expectations_baselines import (
    MixtureISExpectations,
    MonteCarloExpectations,
)
from statlogit.estimators._expectations_laws import (
    GaussianCopula,
    IndependentMarginals,
    PickFreezeProduct,
)
from statlogit.estimators._expectations_sobol import SobolResult, sobol_indices

__all__ = [
    "MultipleExpectations",
    "MonteCarloExpectations",
    "MixtureISExpectations",
    "IndependentMarginals",
    "GaussianCopula",
    "PickFreezeProduct",
    "SobolResult",
    "sobol_indices",
]
