r"""Randomised quasi-Monte Carlo for the pick-freeze expectations, with honest errors.

The design points :math:`u\in\mathbb R^{2d}` are the normal scores of R independently
scrambled Sobol' sequences (Owen's nested uniform scrambling, ``scipy.stats.qmc``),
:math:`n_r = N/R` points each. Each replicate r gives unbiased estimates
:math:`\hat E_r` of the expectations; they are independent across replicates, so

.. math::
    \hat E = \frac1R\sum_r \hat E_r,\qquad
    \widehat{\operatorname{Cov}}(\hat E) = \frac{1}{R(R-1)}\sum_r
    (\hat E_r - \hat E)(\hat E_r - \hat E)^\top ,

and a linear combination :math:`g^\top\hat E` (the delta method's) has a variance
estimate with R - 1 degrees of freedom, hence Student-t intervals. A single scrambled
sequence would be more accurate (its error falls faster than :math:`N^{-1/2}` for
smooth integrands), but its error cannot be estimated from the sample itself; R
replicates of :math:`N/R` points trade some accuracy for standard errors that are
right.
"""

import numpy as np
from scipy import special
from scipy.stats import qmc

from statlogit._validation import check_scalar, resolve_rng


def check_replicates(n_replicates, budget):
    """``n_replicates`` >= 2, and ``budget / n_replicates`` a power of two (where
    Sobol' points are balanced)."""
    n_replicates = check_scalar(n_replicates, name="n_replicates", lower=2, integer=True)
    budget = check_scalar(budget, name="budget", lower=2 * n_replicates, integer=True)
    per = budget // n_replicates
    if budget % n_replicates or per & (per - 1):
        low = 2 ** int(np.floor(np.log2(max(per, 1))))
        raise ValueError(
            f"sampling='rqmc' needs budget / n_replicates to be a power of two (Sobol' "
            f"points are balanced only then); got budget={budget}, n_replicates="
            f"{n_replicates}. Use budget={low * n_replicates} or "
            f"{2 * low * n_replicates}."
        )
    return n_replicates, per


def fit_rqmc(design, budget, n_replicates, random_state):
    """Expectations of ``design``'s integrands from R scrambled Sobol' replicates.

    All replicates' model runs go to the model in one call (batched by the evaluator).

    Returns
    -------
    estimates : ndarray of shape (J,)
    covariance : ndarray of shape (J, J)
    df : int
        R - 1, the degrees of freedom of the variance estimates.
    """
    n_replicates, per = check_replicates(n_replicates, budget)
    rng = resolve_rng(random_state)
    tiny = np.finfo(float).eps / 2
    designs = []
    for _ in range(n_replicates):
        u = qmc.Sobol(2 * design.d, scramble=True, seed=rng).random(per)
        designs.append(special.ndtri(np.clip(u, tiny, 1.0 - tiny)))
    means = np.array([design.integrands(y).mean(axis=0)
                      for y in design.outputs(designs)])
    estimates = means.mean(axis=0)
    centred = means - estimates
    # element by element (no BLAS blocking), so an output's block does not depend on
    # how many other outputs there are
    covariance = np.einsum("ri,rj->ij", centred, centred) / (
        n_replicates * (n_replicates - 1.0))
    return estimates, covariance, n_replicates - 1
