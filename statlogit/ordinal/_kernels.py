r"""Cumulative-logit likelihood kernels for the PRESTO family.

A row with linear predictors :math:`\eta_1 < \dots < \eta_{K-1}` (one per boundary,
:math:`P(y \le k) = \sigma(\eta_k)`) and observed class :math:`c \in \{0..K-1\}` has
probability

* :math:`\sigma(\eta_1)` for the first class,
* :math:`\sigma(\eta_{c+1}) - \sigma(\eta_c)` in the middle, computed in log space as
  :math:`b - \log(1+e^a) - \log(1+e^b) + \log(1 - e^{a-b})` with :math:`a = \eta_c,
  b = \eta_{c+1}`,
* :math:`1 - \sigma(\eta_{K-1})` for the last class.

The kernels return the negative log-likelihood, its gradient with respect to
:math:`\eta` and the (tridiagonal, positive semi-definite) Hessian in :math:`\eta`.
A row whose cumulative predictors are not strictly increasing has a non-positive
probability for some class: the likelihood is then ``inf`` (the point is outside the
domain, as in the reference implementation).
"""

import math

import numpy as np

from statlogit.kernels._numba import njit
from statlogit.kernels.common import log1mexp, log1pexp


@njit
def _sigmoid(z):
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@njit
def crossing_free(eta):
    """True if every row of ``eta`` (n, K-1) is strictly increasing."""
    n, m = eta.shape
    for i in range(n):
        for k in range(1, m):
            if not eta[i, k] > eta[i, k - 1]:
                return False
    return True


@njit
def row_neg_loglik(eta_row, c):
    """``-log P(y = c)`` of one row; ``inf`` if that probability is not positive."""
    m = eta_row.shape[0]
    if c == 0:
        return log1pexp(-eta_row[0])
    if c == m:
        return log1pexp(eta_row[m - 1])
    a = eta_row[c - 1]
    b = eta_row[c]
    if not b > a:
        return np.inf
    return -(b - log1pexp(a) - log1pexp(b) + log1mexp(a - b))


@njit
def neg_loglik(eta, y):
    """Total negative log-likelihood; ``inf`` if any row crosses.

    Parameters
    ----------
    eta : ndarray of shape (n, K-1)
        Cumulative linear predictors.
    y : ndarray of int64, shape (n,)
        Class codes ``0..K-1``.
    """
    if not crossing_free(eta):
        return np.inf
    total = 0.0
    for i in range(eta.shape[0]):
        total += row_neg_loglik(eta[i], y[i])
    return total


@njit
def neg_loglik_derivatives(eta, y):
    r"""Negative log-likelihood with its gradient and Hessian in :math:`\eta`.

    Returns
    -------
    value : float
        ``neg_loglik(eta, y)`` (``inf`` if some row crosses; the arrays are then
        zeros).
    grad : ndarray (n, K-1)
        :math:`\partial(-\log p_i)/\partial\eta_{ik}`.
    hess_diag : ndarray (n, K-1)
        :math:`\partial^2(-\log p_i)/\partial\eta_{ik}^2`.
    hess_off : ndarray (n, max(K-2, 0))
        :math:`\partial^2(-\log p_i)/\partial\eta_{ik}\partial\eta_{i,k+1}`.
    """
    n, m = eta.shape
    grad = np.zeros((n, m))
    hess_diag = np.zeros((n, m))
    hess_off = np.zeros((n, max(m - 1, 0)))
    if not crossing_free(eta):
        return np.inf, grad, hess_diag, hess_off
    total = 0.0
    for i in range(n):
        c = y[i]
        total += row_neg_loglik(eta[i], c)
        if c == 0:
            s = _sigmoid(eta[i, 0])
            grad[i, 0] = s - 1.0
            hess_diag[i, 0] = s * (1.0 - s)
        elif c == m:
            s = _sigmoid(eta[i, m - 1])
            grad[i, m - 1] = s
            hess_diag[i, m - 1] = s * (1.0 - s)
        else:
            a = eta[i, c - 1]
            b = eta[i, c]
            sa = _sigmoid(a)
            sb = _sigmoid(b)
            q = 1.0 / math.expm1(b - a)
            curv = q * (1.0 + q)
            grad[i, c - 1] = sa + q
            grad[i, c] = sb - 1.0 - q
            hess_diag[i, c - 1] = sa * (1.0 - sa) + curv
            hess_diag[i, c] = sb * (1.0 - sb) + curv
            hess_off[i, c - 1] = -curv
    return total, grad, hess_diag, hess_off


@njit
def lasso_qp_cd(hess, grad, theta, start, penalty, tol, max_sweeps):
    r"""Coordinate descent for the proximal-Newton subproblem.

    Minimises over :math:`z`

    .. math:: g^\top (z - \theta) + \tfrac12 (z - \theta)^\top H (z - \theta)
              + \sum_j w_j |z_j|

    from ``start``, where ``penalty`` holds :math:`w_j` (0: unpenalised, ``inf``:
    fixed at its starting value, which must then be 0). Coordinates with
    :math:`H_{jj} \le 0` are left unchanged.

    Returns
    -------
    z : ndarray
        The minimiser, to ``tol`` in the largest change of the last sweep.
    sweeps : int
        Sweeps performed.
    """
    d = theta.shape[0]
    z = start.copy()
    q = grad + hess @ (start - theta)  # gradient of the quadratic model at z
    sweeps = 0
    while sweeps < max_sweeps:
        sweeps += 1
        biggest = 0.0
        for j in range(d):
            h = hess[j, j]
            w = penalty[j]
            if h <= 0.0 or w == np.inf:
                continue
            u = z[j] - q[j] / h
            thresh = w / h
            if u > thresh:
                new = u - thresh
            elif u < -thresh:
                new = u + thresh
            else:
                new = 0.0
            delta = new - z[j]
            if delta != 0.0:
                z[j] = new
                for r in range(d):
                    q[r] += hess[r, j] * delta
                if abs(delta) > biggest:
                    biggest = abs(delta)
        if biggest <= tol:
            break
    return z, sweeps



@njit
def weighted_grams(X, weights):
    r"""Gram matrices of ``[1, X]`` under each column of row weights.

    ``out[r] = sum_i weights[i, r] * z_i z_i^T`` with :math:`z_i = (1, x_i)`, shape
    ``(n_weights, p + 1, p + 1)``. Zero weights are skipped, so the cost is
    proportional to the number of non-zero weights (three per row for the
    cumulative-logit Hessian).
    """
    n, p = X.shape
    r_count = weights.shape[1]
    out = np.zeros((r_count, p + 1, p + 1))
    for i in range(n):
        row = X[i]
        for r in range(r_count):
            w = weights[i, r]
            if w == 0.0:
                continue
            block = out[r]
            block[0, 0] += w
            for a in range(p):
                wa = w * row[a]
                block[0, a + 1] += wa
                target = block[a + 1]
                for b in range(a, p):
                    target[b + 1] += wa * row[b]
    for r in range(r_count):
        for a in range(p + 1):
            for b in range(a):
                out[r, a, b] = out[r, b, a]
    return out
