r"""R3D inference: Gaussian multiplier bootstrap, uniform band, nullity/homogeneity tests.

The bootstrap process is :math:`\hat G^b(q) = \sum_i \xi_i^b (s^+_i(q) - s^-_i(q))
\hat E_i(q)` with :math:`\xi_i^b` i.i.d. N(0, 1): for all draws at once,
:math:`\hat G = \Xi A` with :math:`A_{iq} = (s^+_i(q) - s^-_i(q)) \hat E_i(q)`, one
matrix product per chunk of draws (no re-estimation).
"""

import math
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_CHUNK = 1000


@dataclass(frozen=True)
class R3DTestResult:
    """Result of a uniform test over a range of quantile levels.

    Attributes
    ----------
    statistic : float
        The sup-statistic.
    p_value : float
        Share of bootstrap sup-statistics at least as large.
    critical_value : float
        The bootstrap ``1 - alpha`` quantile (type 7) of the sup-statistics.
    range : tuple of float
        The quantile range tested.
    n_quantiles : int
        Grid points in the range.
    """

    statistic: float
    p_value: float
    critical_value: float
    range: tuple
    n_quantiles: int


def multiplier_process(A, *, n_bootstrap, rng, multipliers=None):
    """Bootstrap draws ``Xi @ A`` (shape ``(B, A.shape[1])``), chunked over draws.

    Only units with a nonzero row of ``A`` get multipliers. ``multipliers`` (n x B, as
    R3D's ``xi_mat``) replaces the random draws.
    """
    if multipliers is not None:
        return multipliers.T @ A
    active = np.flatnonzero(np.any(A != 0.0, axis=1))
    A_active = A[active]
    draws = np.empty((n_bootstrap, A.shape[1]))
    for start in range(0, n_bootstrap, BOOTSTRAP_CHUNK):
        stop = min(start + BOOTSTRAP_CHUNK, n_bootstrap)
        xi = rng.standard_normal((stop - start, active.size))
        draws[start:stop] = xi @ A_active
    return draws


def fuzzy_process(draws, delta_y, delta_t):
    """Delta-method process of the Wald ratio from joint draws ``[G_Y | G_T]``."""
    g_y, g_t = draws[:, :-1], draws[:, -1:]
    return (delta_t * g_y - delta_y[None, :] * g_t) / delta_t**2


def critical_value(draws, alpha):
    """The ``ceil((1 - alpha)(B + 1))``-th smallest of the draws' sup-norms."""
    sup = np.sort(np.max(np.abs(draws), axis=1))
    k = min(math.ceil((1 - alpha) * (sup.size + 1)), sup.size)
    return float(sup[k - 1])


def sup_test(tau, draws, alpha, *, centre):
    """Sup-test of nullity (``centre=False``) or homogeneity (``centre=True``)."""
    if centre:
        tau = tau - tau.mean()
        draws = draws - draws.mean(axis=1, keepdims=True)
    statistic = float(np.max(np.abs(tau)))
    sup = np.max(np.abs(draws), axis=1)
    p_value = float(np.mean(sup >= statistic))
    return statistic, p_value, float(np.quantile(sup, 1 - alpha))
