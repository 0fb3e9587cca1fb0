r"""R3D covariate adjustment, cluster aggregation and pointwise variances.

**Covariates** (Calonico, Cattaneo, Farrell and Titiunik, 2019). At each level
:math:`q` with bandwidth :math:`h(q)`, the outcome is regressed on side-specific
polynomials in :math:`X` and covariates :math:`Z` with *common* coefficients
:math:`\gamma(q)`, kernel-weighted. By Frisch-Waugh-Lovell, with :math:`\tilde e_{Z,i}`
and :math:`\tilde e_{Q,i}(q)` the residuals of each unit's own side's local polynomial
fit of :math:`Z` and of :math:`\hat Q_{Y_i}(q)`,

.. math::

   \hat\gamma(q) = \Big(\sum_i w_i \tilde e_{Z,i} \tilde e_{Z,i}'\Big)^{-1}
                   \sum_i w_i \tilde e_{Z,i} \tilde e_{Q,i}(q),\qquad
   \hat\tau(q) = \hat\tau_Q(q) - \hat\gamma(q)' \hat\tau_Z,

:math:`w_i = K(X_i/h)` times the unit weight, :math:`\hat\tau_Q, \hat\tau_Z` the
unadjusted jumps; each unit's residual becomes :math:`\tilde e_{Q,i} - \hat\gamma'
\tilde e_{Z,i}` in the bootstrap and the variances.

**Pointwise variances** (rdrobust's conventional ``vce="hc1"`` and ``cluster=``):
with :math:`s_i(q)` the equivalent-kernel weights and :math:`\psi_i(q) = s_i(q)
\hat e_i(q)` the unit's score, per side :math:`S` with :math:`n_S` units and
:math:`G_S` clusters in the window,

.. math::

   \hat V_S = \frac{n_S}{n_S - p - 1} \sum_{i \in S} \psi_i^2
   \quad\text{or}\quad
   \hat V_S = \frac{n_S - 1}{n_S - p - 1}\frac{G_S}{G_S - 1}
   \sum_g \Big(\sum_{i \in S \cap g} \psi_i\Big)^2,

and :math:`\widehat{\mathrm{Var}}\,\hat\tau(q) = \hat V_+ + \hat V_-`. In a fuzzy
design :math:`\psi_i = (s_i \hat e_i - \hat\tau\, s^T_i \hat e^T_i)/\hat\tau_T`.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse

from statlogit.rdd._fit import derivative_factor, kernel_weights

# Smallest eigenvalue of the covariates' residual Gram (scaled by their raw sizes)
# below which they count as collinear with the polynomials or with each other.
COLLINEAR = 1e-10


@dataclass
class CovariateAdjustment:
    """Common covariate coefficients per level and the covariates' jumps.

    Attributes
    ----------
    gamma : ndarray of shape (k, m)
    jump : ndarray of shape (k, m)
        Jump (or jump in the ``deriv``-th derivative) of each covariate at each
        level's bandwidth.
    """

    gamma: np.ndarray
    jump: np.ndarray


def adjust(x, Q, Z, unit_weights, fit, order, kernel, *, deriv=0):
    """Covariate-adjust a two-sided fit in place; return the adjustment.

    ``fit.jump`` becomes :math:`\\hat\\tau_Q - \\hat\\gamma'\\hat\\tau_Z` and
    ``fit.residuals`` (the bootstrap residual process) :math:`\\hat e -
    \\hat\\gamma'\\tilde e_Z` inside the windows.

    Raises
    ------
    ValueError
        If the covariates are collinear with the local polynomials in a window.
    """
    n, k = Z.shape
    m = fit.jump.size
    gamma = np.zeros((k, m))
    jump_z = np.zeros((k, m))
    h_all = fit.above.bandwidths
    for h in np.unique(h_all):
        cols = np.flatnonzero(h_all == h)
        szz = np.zeros((k, k))
        raw = np.zeros(k)
        szq = np.zeros((k, cols.size))
        limits, resid_z = [], []
        for side_fit, side in ((fit.above, x >= 0), (fit.below, x < 0)):
            w = np.where(side, unit_weights * kernel_weights(x / h, kernel), 0.0)
            rows = np.flatnonzero(w > 0)
            R = np.vander(x[rows] / h, order + 1, increasing=True)
            Rw = R * w[rows, None]
            coef_z = scipy.linalg.solve(Rw.T @ R, Rw.T @ Z[rows], assume_a="pos")
            e_z = Z[rows] - R @ coef_z
            e_q = Q[np.ix_(rows, cols)] - R @ side_fit.coef[:, cols]
            szz += (e_z * w[rows, None]).T @ e_z
            raw += w[rows] @ Z[rows] ** 2
            szq += (e_z * w[rows, None]).T @ e_q
            limits.append(coef_z[deriv] * derivative_factor(deriv, h))
            resid_z.append((rows, e_z))
        # collinear with the polynomials (e.g. constant) or with each other: the
        # residual Gram is tiny relative to the covariates' own size
        norm = np.sqrt(np.where(raw > 0, raw, np.inf))
        if np.linalg.eigvalsh(szz / np.outer(norm, norm)).min() <= COLLINEAR:
            raise ValueError(
                "covariates are collinear (or constant) inside the window of "
                f"bandwidth {h:.4g}; drop redundant columns of covariates.")
        try:
            g = scipy.linalg.solve(szz, szq, assume_a="pos")
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError) as exc:
            raise ValueError(
                "covariates are collinear (or constant) inside the window of "
                f"bandwidth {h:.4g}; drop redundant columns of covariates.") from exc
        if not np.all(np.isfinite(g)):
            raise ValueError("covariates are collinear (or constant) inside the window; "
                             "drop redundant columns of covariates.")
        gamma[:, cols] = g
        jump_z[:, cols] = (limits[0] - limits[1])[:, None]
        for rows, e_z in resid_z:
            fit.residuals[np.ix_(rows, cols)] -= e_z @ g
    fit.jump = fit.jump - np.sum(gamma * jump_z, axis=0)
    return CovariateAdjustment(gamma, jump_z)


# ------------------------------------------------------------------- clusters
def cluster_indicator(codes, n_clusters):
    """Sparse (G, n) matrix summing units into clusters."""
    n = codes.size
    return scipy.sparse.csr_matrix((np.ones(n), (codes, np.arange(n))),
                                   shape=(n_clusters, n))


def pointwise_std_errors(score, above, *, cluster=None, n_clusters=0):
    r"""Standard error of each column: :math:`\sqrt{\sum_S \sum_g (\sum_{i \in S
    \cap g} \psi_i)^2}` (one group per unit without clusters).

    The scores carry their small-sample factor already (:func:`small_sample_factor`)
    and are divided by their largest absolute value first, so huge or tiny outcomes
    neither overflow nor underflow when squared.

    Parameters
    ----------
    score : ndarray of shape (n, m)
        Units' scores :math:`\psi_i(q)` (zero outside the windows).
    above : ndarray of bool, shape (n,)
    cluster : ndarray of int, shape (n,), optional
        Cluster codes ``0..G-1``.

    Returns
    -------
    ndarray of shape (m,)
    """
    top = np.max(np.abs(score), axis=0)
    top = np.where(top > 0, top, 1.0)
    score = score / top
    if cluster is None:
        return np.sqrt(np.sum(score**2, axis=0)) * top
    indicator = cluster_indicator(cluster, n_clusters)
    total = np.zeros(score.shape[1])
    for side in (above, ~above):
        total += np.sum((indicator @ np.where(side[:, None], score, 0.0))**2, axis=0)
    return np.sqrt(total) * top


def small_sample_factor(windows, above, order, *, cluster=None, n_clusters=0):
    r"""Per unit and column, the square root of the HC1 factor :math:`n_S/(n_S-p-1)`
    or, with clusters, of the CR1 factor :math:`\frac{n_S-1}{n_S-p-1}
    \frac{G_S}{G_S-1}` of the unit's side (0 outside the windows)."""
    out = np.zeros(windows.shape)
    indicator = None if cluster is None else cluster_indicator(cluster, n_clusters)
    for side in (above, ~above):
        inside = windows & side[:, None]
        n_s = inside.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            if indicator is None:
                defined = n_s > order + 1
                f = np.where(defined, n_s / (n_s - order - 1), 1.0)
            else:
                g_s = np.count_nonzero(indicator @ inside.astype(float), axis=0)
                defined = (g_s > 1) & (n_s > order + 1)
                f = np.where(defined, (n_s - 1) / (n_s - order - 1) * g_s / (g_s - 1),
                             1.0)
        _warn_undefined(~defined & (n_s > 0), "HC1" if indicator is None else "CR1",
                        "only p + 1 units" if indicator is None
                        else "one cluster or p + 1 units")
        out = np.where(inside, np.sqrt(f)[None, :], out)
    return out


def _warn_undefined(undefined, name, why):
    if not np.any(undefined):
        return
    warnings.warn(
        f"The {name} small-sample factor is undefined at {int(undefined.sum())} "
        f"level(s), whose window holds {why} on a side: their pointwise standard "
        "errors use no correction and are unreliable; widen the bandwidth.",
        UserWarning, stacklevel=5)


# ------------------------------------------------------------------ HC3
def leverage_corrected(residuals, x, unit_weights, bandwidths, order, kernel):
    r"""HC3 residuals :math:`\hat e_i(q) / (1 - h_{ii}(q))` (``rdrobust``'s ``vce="hc3"``).

    :math:`h_{ii}(q) = w_i\, r(x_i/h)' G^{-1} r(x_i/h)` is unit :math:`i`'s leverage
    in its own side's weighted local polynomial fit at the level's bandwidth
    (:math:`w_i` its kernel times unit weight, :math:`G = \sum_j w_j r_j r_j'`), the
    polynomial design only, as ``rdrobust`` (covariates do not enter). Fitted
    residuals are shrunk by about :math:`1 - h_{ii}`, most for the units next to the
    cutoff, which carry the largest equivalent-kernel weights; dividing by it undoes
    the shrinkage (for homoskedastic unweighted least squares HC2's
    :math:`(1 - h_{ii})^{-1/2}` does so exactly; HC3 errs on the conservative side).

    Parameters
    ----------
    residuals : ndarray of shape (n, m)
        Residual process (zero outside the windows).
    x : ndarray of shape (n,)
        Centred running variable.
    unit_weights : ndarray of shape (n,)
    bandwidths : array-like of shape (m,)
    order : int
    kernel : int

    Returns
    -------
    ndarray of shape (n, m)

    Raises
    ------
    ValueError
        If a unit has leverage 1 (it alone determines its side's fit).
    """
    bandwidths = np.broadcast_to(np.atleast_1d(bandwidths).astype(float),
                                 (residuals.shape[1],))
    out = residuals.copy()
    for h in np.unique(bandwidths):
        cols = np.flatnonzero(bandwidths == h)
        lev = np.zeros(x.size)
        for side in (x >= 0, x < 0):
            w = np.where(side, unit_weights * kernel_weights(x / h, kernel), 0.0)
            rows = np.flatnonzero(w > 0)
            R = np.vander(x[rows] / h, order + 1, increasing=True)
            solved = scipy.linalg.solve((R * w[rows, None]).T @ R, R.T, assume_a="pos")
            lev[rows] = w[rows] * np.einsum("ij,ji->i", R, solved)
        if np.any(lev >= 1.0 - 1e-10):
            raise ValueError(
                f"a unit has leverage 1 in the window of bandwidth {h:.4g} (it alone "
                "fixes its side's fit): HC3 is undefined. Widen the bandwidth or use "
                "vce='hc1'.")
        out[:, cols] /= (1.0 - lev)[:, None]
    return out
