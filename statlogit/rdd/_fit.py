"""R3D estimation steps: one-sided local polynomial fits, monotonisation, residuals.

The fits are numpy (batched over quantile levels), so a fit dispatches no numba kernel
and a fresh process pays no numba start-up; only the isotonic projection of
``method="frechet"`` on large problems uses a numba kernel
(:mod:`statlogit.rdd._kernels`, imported on first use; :func:`isotonic_rows`).
"""

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.optimize

TRIANGULAR, EPANECHNIKOV, UNIFORM = 1, 2, 3
KERNEL_CODES = {"triangular": TRIANGULAR, "epanechnikov": EPANECHNIKOV,
                "uniform": UNIFORM}
REARRANGEMENT_POINTS = 1001
SMALL_ISOTONIC = 50_000  # values below which scipy's PAVA beats numba's start-up


def derivative_factor(deriv, bandwidths):
    """:math:`d!/h^d`: from the scaled-basis coefficient to the derivative."""
    return math.factorial(deriv) / np.asarray(bandwidths, dtype=float) ** deriv


def kernel_weights(u, kernel):
    """Kernel ``K(u)`` of a kernel code, vectorised (0 outside ``[-1, 1]``)."""
    inside = np.abs(u) <= 1.0
    if kernel == TRIANGULAR:
        return np.where(inside, 1.0 - np.abs(u), 0.0)
    if kernel == EPANECHNIKOV:
        return np.where(inside, 0.75 * (1.0 - u * u), 0.0)
    return np.where(inside, 0.5, 0.0)


@dataclass
class SideFit:
    """Local polynomial fit on one side of the cutoff for all quantile levels.

    Attributes
    ----------
    coef : ndarray of shape (order + 1, m)
        Coefficients in the scaled basis ``(x/h)^k``; ``coef[0]`` is the limit at 0.
    weights : ndarray of shape (n, m)
        Equivalent-kernel weights of :attr:`estimate` (the intercept when
        ``deriv = 0``), zero outside the window: ``estimate = (weights * Q).sum(0)``.
    bandwidths : ndarray of shape (m,)
    deriv : int
        Order of the derivative estimated at the cutoff.
    """

    coef: np.ndarray
    weights: np.ndarray
    bandwidths: np.ndarray
    deriv: int = 0

    @property
    def estimate(self):
        """The ``deriv``-th derivative at the cutoff, :math:`d!\\,\beta_d / h^d`."""
        return self.coef[self.deriv] * derivative_factor(self.deriv, self.bandwidths)

    def fitted(self, x):
        """Fitted values ``r(x_i / h_j)' coef[:, j]``, shape (n, m)."""
        u = x[:, None] / self.bandwidths[None, :]
        out = np.zeros_like(u)
        for k in range(self.coef.shape[0] - 1, -1, -1):
            out = out * u + self.coef[k][None, :]
        return out


SIDES = ("above", "below")


def _check_side(side):
    if side not in SIDES:
        raise ValueError(f"side must be 'above' or 'below'; got {side!r}.")
    return side == "above"


def fit_side(x, Q, unit_weights, bandwidths, order, kernel, *, side, what="Y",
             deriv=0):
    """Fit one side of the cutoff; one factorisation when all levels share ``h``.

    Parameters
    ----------
    x : ndarray of shape (n,)
        Running variable centred at the cutoff.
    Q : ndarray of shape (n, m)
        Responses, one column per level.
    unit_weights : ndarray of shape (n,)
    bandwidths : array-like of shape (m,)
    order : int
        Polynomial order.
    kernel : int
        Kernel code (``KERNEL_CODES``).
    side : {"above", "below"}
        ``x >= 0`` or ``x < 0``.
    what : str
        What is fitted, for the error message.
    deriv : int
        Derivative estimated at the cutoff (``weights`` are its equivalent kernel).

    Raises
    ------
    ValueError
        If a window holds fewer than ``order + 1`` units (singular Gram matrix).
    """
    plus_side = _check_side(side)
    bandwidths = np.ascontiguousarray(np.atleast_1d(bandwidths), dtype=np.float64)
    if np.all(bandwidths == bandwidths[0]):
        coef, weights, n_window, ok = _fit_shared(
            x, Q, unit_weights, bandwidths[0], order, kernel, plus_side, deriv)
    else:
        coef, weights, n_window, ok = _fit_per_quantile(
            x, Q, unit_weights, bandwidths, order, kernel, plus_side, deriv)
    if not np.all(ok):
        j = int(np.flatnonzero(~ok)[0])
        where = "above (x >= cutoff)" if plus_side else "below (x < cutoff)"
        raise ValueError(
            f"Only {int(n_window[j])} unit(s) {where} the cutoff lie inside the "
            f"bandwidth h={bandwidths[j]:.4g} used for {what}; a polynomial of order "
            f"{order} needs at least {order + 1} distinct ones. Increase the bandwidth "
            "or lower p.")
    if deriv:
        weights = weights * derivative_factor(deriv, bandwidths)[None, :]
    return SideFit(coef, weights, bandwidths, deriv)


@dataclass
class TwoSidedFit:
    r"""Local polynomial fits on both sides of the cutoff, their jump and residuals.

    Attributes
    ----------
    above, below : SideFit
        The fits on ``x >= 0`` and ``x < 0``.
    jump : ndarray of shape (m,)
        ``above.estimate - below.estimate``: the jump of the intercepts (or of the
        ``deriv``-th derivatives), before any monotonisation.
    residuals : ndarray of shape (n, m)
        The residual process :math:`\hat E_i(q)`: each unit's residual from its own
        side's fit, zero outside the windows (see :func:`residuals`).
    """

    above: SideFit
    below: SideFit
    jump: np.ndarray
    residuals: np.ndarray

    @property
    def weight_difference(self):
        """Intercept weights :math:`s^+_i(q) - s^-_i(q)`, shape (n, m)."""
        return self.above.weights - self.below.weights

    def score(self):
        r"""Bootstrap columns :math:`A_{iq} = (s^+_i(q) - s^-_i(q)) \hat E_i(q)`."""
        return self.residuals * self.weight_difference

    def fitted(self, x):
        """Each unit's fitted values from its own side, shape (n, m)."""
        return np.where(x[:, None] >= 0, self.above.fitted(x), self.below.fitted(x))

    def n_effective(self):
        """Units inside the window below and above, per level: shape (2, m)."""
        return np.vstack([(self.below.weights != 0).sum(axis=0),
                          (self.above.weights != 0).sum(axis=0)])


def fit_two_sided(x, Q, unit_weights, bandwidths, order, kernel, *, what="Y",
                  method="simple", parity=False, deriv=0):
    """Fit both sides, and return them with the jump and the residual process.

    Parameters are those of :func:`fit_side` (without ``side``); ``method`` and
    ``parity`` choose the residuals (:func:`residuals`).

    Returns
    -------
    TwoSidedFit
    """
    above = fit_side(x, Q, unit_weights, bandwidths, order, kernel, side="above",
                     what=what, deriv=deriv)
    below = fit_side(x, Q, unit_weights, bandwidths, order, kernel, side="below",
                     what=what, deriv=deriv)
    resid = (residuals(x, Q, above, method=method, parity=parity)
             + residuals(x, Q, below, method=method, parity=parity))
    return TwoSidedFit(above, below, above.estimate - below.estimate, resid)


def batched_cholesky_solve(gram, rhs):
    """Solve ``gram[j] @ sol[j] = rhs[j]`` for a stack of small SPD matrices.

    Parameters
    ----------
    gram : ndarray of shape (m, d, d)
    rhs : ndarray of shape (m, d, c)

    Returns
    -------
    sol : ndarray of shape (m, d, c)
        Meaningless where ``ok`` is False.
    ok : ndarray of bool, shape (m,)
        False where a pivot of the Cholesky factorisation :math:`G = LL'` falls to
        :math:`10^{-13} G_{jj}` or below (numerically singular).
    """
    m, d, _ = gram.shape
    chol = np.zeros_like(gram)
    ok = np.ones(m, dtype=bool)
    for j in range(d):
        s = gram[:, j, j] - np.sum(chol[:, j, :j] ** 2, axis=1)
        ok &= s > 1e-13 * np.maximum(gram[:, j, j], 1e-300)
        diag = np.sqrt(np.where(ok, s, 1.0))
        chol[:, j, j] = diag
        for i in range(j + 1, d):
            t = gram[:, i, j] - np.sum(chol[:, i, :j] * chol[:, j, :j], axis=1)
            chol[:, i, j] = t / diag
    sol = rhs.copy()
    for i in range(d):  # L z = rhs
        t = sol[:, i, :] - np.einsum("mk,mkc->mc", chol[:, i, :i], sol[:, :i, :])
        sol[:, i, :] = t / chol[:, i, i][:, None]
    for i in range(d - 1, -1, -1):  # L' sol = z
        t = sol[:, i, :] - np.einsum("mk,mkc->mc", chol[:, i + 1:, i], sol[:, i + 1:, :])
        sol[:, i, :] = t / chol[:, i, i][:, None]
    return sol, ok


def local_poly_per_quantile(x, Q, unit_weights, bandwidths, order, kernel, plus_side,
                            deriv=0):
    r"""One-sided local polynomial fits at 0, one bandwidth per quantile level.

    For level ``j`` and the units on the chosen side (``x >= 0`` for the plus side,
    ``x < 0`` otherwise) with :math:`w_{ij} = \omega_i K(x_i / h_j) > 0`, regress
    ``Q[:, j]`` on :math:`r(u_{ij}) = (1, u_{ij}, \dots, u_{ij}^p)`,
    :math:`u_{ij} = x_i / h_j`, with weights :math:`w_{ij}`: all levels at once, the
    Gram matrices :math:`G_j = \sum_i w_{ij} r(u_{ij}) r(u_{ij})'` from the weighted
    power sums :math:`\sum_i w_{ij} u_{ij}^k`, solved by a batched Cholesky
    factorisation.

    Parameters
    ----------
    x : ndarray of shape (n,)
        Running variable, centred at the cutoff.
    Q : ndarray of shape (n, m)
        Unit quantiles.
    unit_weights : ndarray of shape (n,)
    bandwidths : ndarray of shape (m,)
    order : int
    kernel : int
        Kernel code.
    plus_side : bool
    deriv : int
        Coefficient whose equivalent-kernel weights are returned (0: the intercept).

    Returns
    -------
    coef : ndarray of shape (order + 1, m)
        Coefficients in the scaled basis ``(x/h)^k``.
    intercept_weights : ndarray of shape (n, m)
        :math:`s_{ij} = w_{ij} e_d' G_j^{-1} r(u_{ij})` (``d = deriv``), so
        ``coef[d, j] = s[:, j] @ Q[:, j]``.
    n_window : int64 ndarray of shape (m,)
        Units with positive weight per level.
    ok : bool ndarray of shape (m,)
        False where the Gram matrix is singular (fewer than ``order + 1`` distinct
        units in the window); ``coef`` and weights are 0 there.
    """
    n, m = Q.shape
    d = order + 1
    side = (x >= 0.0) if plus_side else (x < 0.0)
    U = x[:, None] / bandwidths[None, :]
    W = np.where(side[:, None], unit_weights[:, None] * kernel_weights(U, kernel), 0.0)
    W = np.where(W > 0.0, W, 0.0)
    n_window = np.count_nonzero(W, axis=0).astype(np.int64)
    sums = np.empty((2 * d - 1, m))
    rhs = np.zeros((m, d, 2))
    power = W.copy()
    for k in range(2 * d - 1):
        sums[k] = power.sum(axis=0)
        if k < d:
            rhs[:, k, 0] = np.einsum("ij,ij->j", power, Q)
        power *= U
    index = np.add.outer(np.arange(d), np.arange(d))
    gram = np.moveaxis(sums[index], -1, 0)
    rhs[:, deriv, 1] = 1.0
    sol, ok = batched_cholesky_solve(gram, rhs)
    sol[~ok] = 0.0
    basis_dot = np.zeros((n, m))  # Horner: r(u_ij)' G_j^{-1} e_d
    for a in range(d - 1, -1, -1):
        basis_dot = basis_dot * U + sol[:, a, 1][None, :]
    return sol[:, :, 0].T.copy(), W * basis_dot, n_window, ok


def _fit_per_quantile(x, Q, unit_weights, bandwidths, order, kernel, plus_side,
                      deriv=0):
    """:func:`local_poly_per_quantile` on the units that can enter some window,
    scattered back."""
    side = (x >= 0.0) if plus_side else (x < 0.0)
    rows = np.flatnonzero(side & (np.abs(x) <= bandwidths.max()) & (unit_weights > 0))
    coef, sub_weights, n_window, ok = local_poly_per_quantile(
        x[rows], np.ascontiguousarray(Q[rows]), unit_weights[rows], bandwidths, order,
        kernel, plus_side, deriv)
    weights = np.zeros(Q.shape)
    weights[rows] = sub_weights
    return coef, weights, n_window, ok


def _fit_shared(x, Q, unit_weights, h, order, kernel, plus_side, deriv=0):
    """Weighted least squares with a matrix right-hand side (all levels at once)."""
    n, m = Q.shape
    d = order + 1
    side = (x >= 0.0) if plus_side else (x < 0.0)
    w = np.where(side, unit_weights * kernel_weights(x / h, kernel), 0.0)
    idx = np.flatnonzero(w > 0.0)
    coef = np.zeros((d, m))
    weights = np.zeros((n, m))
    n_window = np.full(m, idx.size)
    failed = (coef, weights, n_window, np.zeros(m, dtype=bool))
    if idx.size < d:
        return failed
    R = np.vander(x[idx] / h, d, increasing=True)
    Rw = R * w[idx, None]
    try:
        factor = scipy.linalg.cho_factor(Rw.T @ R)
    except np.linalg.LinAlgError:
        return failed
    rhs = np.zeros((d, m + 1))
    rhs[:, :m] = Rw.T @ Q[idx]
    rhs[deriv, m] = 1.0
    sol = scipy.linalg.cho_solve(factor, rhs)
    coef[:] = sol[:, :m]
    weights[idx] = (w[idx] * (R @ sol[:, m]))[:, None]
    return coef, weights, n_window, np.ones(m, dtype=bool)


def rearrange(curve, quantiles, *, parity):
    """Monotone rearrangement of a curve on the quantile grid.

    The exact rearrangement of a curve known on a grid is its sorted values. With
    ``parity`` the R package ``Rearrangement`` is reproduced: linear interpolation on
    the grid rescaled to ``[0, 1]``, evaluated at 1001 equally spaced points, then
    type-7 quantiles of those values at the rescaled grid positions.
    """
    if not parity or curve.size < 2:
        return np.sort(curve)
    span = quantiles[-1] - quantiles[0]
    position = (quantiles - quantiles[0]) / span
    dense = np.interp(np.linspace(0.0, 1.0, REARRANGEMENT_POINTS), position, curve)
    return np.quantile(dense, position)


def isotonic_rows(Y):
    """Least-squares non-decreasing projection of every row of ``Y`` (PAVA).

    Rows already non-decreasing are returned as they are. Up to
    ``SMALL_ISOTONIC`` values the others go through ``scipy.optimize.isotonic_regression``
    one by one (no numba start-up: a small first fit stays fast); larger matrices use
    the numba kernel :func:`statlogit.rdd._kernels.isotonic_rows`, imported on first
    use. Both are PAVA; they agree to rounding.
    """
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    if Y.size > SMALL_ISOTONIC:
        from statlogit.rdd._kernels import isotonic_rows as kernel

        return kernel(Y)
    out = Y.copy()
    for i in np.flatnonzero(np.any(np.diff(Y, axis=1) < 0, axis=1)):
        out[i] = scipy.optimize.isotonic_regression(Y[i]).x
    return out


def isotonic(curve):
    """Least-squares non-decreasing projection of a curve on the grid (PAVA)."""
    return isotonic_rows(np.asarray(curve, dtype=np.float64)[None, :])[0]


def monotonise(curve, quantiles, method, *, parity):
    """Rearrangement for ``"simple"``, isotonic projection for ``"frechet"``."""
    if method == "frechet":
        return isotonic(curve)
    return rearrange(curve, quantiles, parity=parity)


def residuals(x, Q, fit, *, method, parity):
    """First-stage residuals ``Q - fitted`` on one side, zero outside the window.

    Default: every unit with a positive kernel weight (the paper's
    ``1(|X_i/h| <= 1)``). ``parity``: only units with a positive intercept weight (the
    reference package drops negative equivalent-kernel weights). ``"frechet"``
    isotonises each unit's fitted curve first.
    """
    mask = (fit.weights > 0.0) if parity else (fit.weights != 0.0)
    rows = np.flatnonzero(mask.any(axis=1))
    fitted = np.where(mask[rows], fit.fitted(x[rows]), 0.0)
    if method == "frechet":
        fitted = isotonic_rows(fitted)
    out = np.zeros(Q.shape)
    out[rows] = np.where(mask[rows], Q[rows] - fitted, 0.0)
    return out
