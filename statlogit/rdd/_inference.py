r"""R3D inference: Gaussian multiplier bootstrap, uniform band, nullity/homogeneity/Gini tests.

The bootstrap process is :math:`\hat G^b(q) = \sum_i \xi_i^b (s^+_i(q) - s^-_i(q))
\hat E_i(q)` with :math:`\xi_i^b` i.i.d. N(0, 1): for all draws at once,
:math:`\hat G = \Xi A` with :math:`A_{iq} = (s^+_i(q) - s^-_i(q)) \hat E_i(q)`, one
matrix product per chunk of draws (no re-estimation).
"""

import math
from dataclasses import dataclass

import numpy as np

from statlogit.rdd._pointwise import cluster_indicator

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


@dataclass(frozen=True)
class R3DGiniTestResult(R3DTestResult):
    r"""Result of the test of equal Gini coefficients on both sides of the cutoff.

    Attributes
    ----------
    statistic : float
        :math:`|G(\hat m_+) - G(\hat m_-)|`.
    p_value, critical_value, range, n_quantiles
        As in :class:`R3DTestResult`.
    gini_above, gini_below : float
        Gini coefficients of :math:`\hat m_+` and :math:`\hat m_-`.
    n_dropped : int
        Bootstrap draws left out because a perturbed curve had a non-positive mean.
    """

    gini_above: float
    gini_below: float
    n_dropped: int


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


def gini(quantiles, curves, *, clip):
    r"""Gini coefficients of quantile curves by the trapezoid rule (R3D's formula).

    The grid is extended to 0 and 1 with the end values (the distribution winsorised at
    the grid's ends), the mean :math:`\mu` and the Lorenz curve
    :math:`L(p) = \mu^{-1}\int_0^p Q` are trapezoid sums on the grid, and
    :math:`G = 1 - 2\int_0^1 L`, also by the trapezoid rule.

    Parameters
    ----------
    quantiles : ndarray of shape (k,)
        Increasing levels in [0, 1].
    curves : ndarray of shape (k,) or (B, k)
        Quantile function values, one curve per row.
    clip : bool
        Clip to [0, 1] (R3D does).

    Returns
    -------
    ndarray of shape (B,)
        NaN where a curve's mean is not positive.
    """
    curves = np.atleast_2d(curves)
    if quantiles[0] > 0.0:
        quantiles = np.concatenate([[0.0], quantiles])
        curves = np.column_stack([curves[:, 0], curves])
    if quantiles[-1] < 1.0:
        quantiles = np.concatenate([quantiles, [1.0]])
        curves = np.column_stack([curves, curves[:, -1]])
    dp = np.diff(quantiles)
    cumulative = np.cumsum(0.5 * (curves[:, 1:] + curves[:, :-1]) * dp, axis=1)
    mean = cumulative[:, -1:]
    positive = mean[:, 0] > 0.0
    lorenz = np.zeros(curves.shape)
    lorenz[positive, 1:] = cumulative[positive] / mean[positive]
    area = np.sum(0.5 * (lorenz[:, 1:] + lorenz[:, :-1]) * dp, axis=1)
    out = np.where(positive, 1.0 - 2.0 * area, np.nan)
    return np.clip(out, 0.0, 1.0) if clip else out


def gini_test(quantiles, m_plus, m_minus, sides, alpha, *, recentre, clip):
    """Test of equal Gini coefficients of ``m_plus`` and ``m_minus``.

    ``sides`` (2, B, k) holds the bootstrap processes of ``m_minus`` and ``m_plus``.
    The draws are ``G(m_+ + nu_+) - G(m_- + nu_-)``, minus the estimate when
    ``recentre`` (R3D does not recentre); draws with a NaN Gini are dropped.

    Returns
    -------
    statistic, p_value, critical_value, gini_plus, gini_minus, n_dropped
    """
    g_plus = gini(quantiles, m_plus, clip=clip)[0]
    g_minus = gini(quantiles, m_minus, clip=clip)[0]
    boot = (gini(quantiles, m_plus + sides[1], clip=clip)
            - gini(quantiles, m_minus + sides[0], clip=clip))
    if recentre:
        boot = boot - (g_plus - g_minus)
    kept = np.abs(boot[~np.isnan(boot)])
    statistic = abs(float(g_plus - g_minus))
    if kept.size == 0:
        return statistic, np.nan, np.nan, g_plus, g_minus, boot.size
    return (statistic, float(np.mean(kept >= statistic)),
            float(np.quantile(kept, 1 - alpha)), float(g_plus), float(g_minus),
            int(boot.size - kept.size))


def fuzzy_score(A, a_t, delta_y, delta_t):
    """Units' scores for the pointwise variances (delta method when fuzzy)."""
    if a_t is None:
        return A
    return A / delta_t - (delta_y / delta_t**2)[None, :] * a_t[:, None]


def bootstrap_processes(A, sides, delta_y, delta_t, multipliers, codes, n_clusters, *,
                        n_bootstrap, rng):
    """Draws of the process of tau (delta method when fuzzy) and of each side.

    ``A`` holds the columns of the sharp process (plus the first stage's when fuzzy),
    ``sides`` the columns ``s_+ E`` of the process of ``m_+``; that of ``m_-`` is
    their difference with the sharp process. With clusters (``codes``), one
    multiplier per cluster (the columns are summed within clusters first).

    Returns
    -------
    draws : ndarray of shape (B, m)
    side_draws : ndarray of shape (2, B, m)
    """
    k = A.shape[1]
    columns = np.column_stack([A, sides])
    if codes is not None:
        columns = cluster_indicator(codes, n_clusters) @ columns
    raw = multiplier_process(columns, n_bootstrap=n_bootstrap, rng=rng,
                             multipliers=multipliers)
    draws, nu_plus = raw[:, :k], raw[:, k:]
    side_draws = np.stack([nu_plus - draws[:, :sides.shape[1]], nu_plus])
    if delta_t is not None:
        draws = fuzzy_process(draws, delta_y, delta_t)
    return draws, side_draws
