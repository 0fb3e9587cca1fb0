r"""Cumulative-link likelihood kernels for the PRESTO family.

A row with linear predictors :math:`\eta_1 < \dots < \eta_{K-1}` (one per boundary,
:math:`P(y \le k) = F(\eta_k)`, :math:`F` the logistic (``LOGIT``), standard normal
(``PROBIT``) or Gumbel-min :math:`1 - \exp(-e^\eta)` (``CLOGLOG``) distribution
function) and observed class :math:`c \in \{0..K-1\}` has, for the logit link,
probability

* :math:`\sigma(\eta_1)` for the first class,
* :math:`\sigma(\eta_{c+1}) - \sigma(\eta_c)` in the middle, computed in log space as
  :math:`b - \log(1+e^a) - \log(1+e^b) + \log(1 - e^{a-b})` with :math:`a = \eta_c,
  b = \eta_{c+1}`,
* :math:`1 - \sigma(\eta_{K-1})` for the last class;

the other links compute :math:`\log(F(b) - F(a))` from whichever tail of :math:`F` is
small (:func:`log_cdf`, :func:`log_sf`).

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


LOGIT, PROBIT, CLOGLOG = 0, 1, 2
_LOG_SQRT_2PI = 0.9189385332046727
_SQRT_HALF = 0.7071067811865476


@njit
def log_ndtr(x):
    r"""Stable :math:`\log \Phi(x)` for any finite ``x``.

    ``log1p(-erfc(x/\sqrt2)/2)`` above 0, ``log(erfc(-x/\sqrt2)/2)`` down to -30, the
    asymptotic series :math:`-x^2/2 - \log(-x\sqrt{2\pi}) + \log(1 - x^{-2} + 3x^{-4}
    - 15x^{-6} + 105x^{-8})` below (relative error below 1e-14 there).
    """
    if x > 0.0:
        return math.log1p(-0.5 * math.erfc(x * _SQRT_HALF))
    if x > -30.0:
        return math.log(0.5 * math.erfc(-x * _SQRT_HALF))
    z = 1.0 / (x * x)
    series = 1.0 - z * (1.0 - z * (3.0 - z * (15.0 - 105.0 * z)))
    return -0.5 * x * x - math.log(-x) - _LOG_SQRT_2PI + math.log(series)


@njit
def log_cdf(x, link):
    r""":math:`\log F(x)` of the link's latent law (logistic, normal, Gumbel-min)."""
    if link == LOGIT:
        return -log1pexp(-x)
    if link == PROBIT:
        return log_ndtr(x)
    if x < -30.0:  # log(1 - exp(-e^x)) = x - e^x / 2 + O(e^{2x})
        return x - 0.5 * math.exp(x)
    return math.log(-math.expm1(-math.exp(x)))


@njit
def log_sf(x, link):
    r""":math:`\log(1 - F(x))`."""
    if link == LOGIT:
        return -log1pexp(x)
    if link == PROBIT:
        return log_ndtr(-x)
    return -math.exp(x)


@njit
def log_pdf(x, link):
    r""":math:`\log F'(x)`."""
    if link == LOGIT:
        return -log1pexp(-x) - log1pexp(x)
    if link == PROBIT:
        return -0.5 * x * x - _LOG_SQRT_2PI
    return x - math.exp(x)


@njit
def pdf_score(x, link):
    r""":math:`F''(x) / F'(x)`."""
    if link == LOGIT:
        return 1.0 - 2.0 * _sigmoid(x)
    if link == PROBIT:
        return -x
    return 1.0 - math.exp(x)


@njit
def row_neg_loglik(eta_row, c, link=LOGIT):
    """``-log P(y = c)`` of one row; ``inf`` if that probability is not positive."""
    m = eta_row.shape[0]
    if c == 0:
        return -log_cdf(eta_row[0], link)
    if c == m:
        return -log_sf(eta_row[m - 1], link)
    a = eta_row[c - 1]
    b = eta_row[c]
    if not b > a:
        return np.inf
    if link == LOGIT:
        return -(b - log1pexp(a) - log1pexp(b) + log1mexp(a - b))
    return -_log_interval(a, b, link)


@njit
def _log_interval(a, b, link):
    r""":math:`\log(F(b) - F(a))` for :math:`a < b`, from the tail where it is small."""
    low_b = log_cdf(b, link)
    high_a = log_sf(a, link)
    if low_b <= high_a:
        return low_b + log1mexp(min(log_cdf(a, link) - low_b, 0.0))
    return high_a + log1mexp(min(log_sf(b, link) - high_a, 0.0))


def neg_loglik(eta, y, link=LOGIT):
    """Total negative log-likelihood; ``inf`` if any row crosses.

    Parameters
    ----------
    eta : ndarray of shape (n, K-1)
        Cumulative linear predictors.
    y : ndarray of int64, shape (n,)
        Class codes ``0..K-1``.
    link : int
        ``LOGIT`` (0), ``PROBIT`` (1) or ``CLOGLOG`` (2).
    """
    return weighted_neg_loglik(eta, y, np.ones(eta.shape[0]), link)


def weighted_neg_loglik(eta, y, weights, link):
    """:math:`\\sum_i w_i (-\\log p_i)`; ``inf`` if any row crosses.

    The logit link has its own compiled loop, so the default model never compiles
    the probit/cloglog code (about half of the family's compilation time).
    """
    if link == LOGIT:
        return _logit_neg_loglik(eta, y, weights)
    return _link_neg_loglik(eta, y, weights, link)


@njit
def _logit_neg_loglik(eta, y, weights):
    if not crossing_free(eta):
        return np.inf
    m = eta.shape[1]
    total = 0.0
    for i in range(eta.shape[0]):
        c = y[i]
        if c == 0:
            value = log1pexp(-eta[i, 0])
        elif c == m:
            value = log1pexp(eta[i, m - 1])
        else:
            a = eta[i, c - 1]
            b = eta[i, c]
            if not b > a:
                return np.inf
            value = -(b - log1pexp(a) - log1pexp(b) + log1mexp(a - b))
        total += weights[i] * value
    return total


@njit
def _link_neg_loglik(eta, y, weights, link):
    if not crossing_free(eta):
        return np.inf
    total = 0.0
    for i in range(eta.shape[0]):
        total += weights[i] * row_neg_loglik(eta[i], y[i], link)
    return total


def neg_loglik_derivatives(eta, y, link=LOGIT):
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
    return weighted_derivatives(eta, y, np.ones(eta.shape[0]), link)


def weighted_derivatives(eta, y, weights, link, with_value=True):
    r""":func:`neg_loglik_derivatives` of :math:`\sum_i w_i (-\log p_i)`.

    With :math:`P = F(b) - F(a)` (:math:`F(a) = 0` for the first class,
    :math:`F(b) = 1` for the last), :math:`r_a = F'(a)/P`, :math:`r_b = F'(b)/P` and
    :math:`s = F''/F'`: the gradient is :math:`(r_a, -r_b)` and the Hessian
    :math:`s(a) r_a + r_a^2`, :math:`-s(b) r_b + r_b^2`, :math:`-r_a r_b` (off
    the diagonal). The logit link uses the closed forms in sigmoids, in its own
    compiled loop (the default model never compiles the other links), which skips
    the logarithms of the value when ``with_value`` is False (the value is then 0,
    or ``inf`` outside the domain).
    """
    n, m = eta.shape
    grad = np.zeros((n, m))
    hess_diag = np.zeros((n, m))
    hess_off = np.zeros((n, max(m - 1, 0)))
    if link == LOGIT:
        total = _logit_derivatives(eta, y, weights, grad, hess_diag, hess_off,
                                   with_value)
    else:
        total = _link_derivatives(eta, y, weights, link, grad, hess_diag, hess_off)
    if not total < np.inf:
        grad[:] = 0.0
        hess_diag[:] = 0.0
        hess_off[:] = 0.0
        return np.inf, grad, hess_diag, hess_off
    return total, grad, hess_diag, hess_off


@njit
def _weigh_row(w, grad, hess_diag, hess_off):
    if w != 1.0:
        grad *= w
        hess_diag *= w
        hess_off *= w


@njit
def _logit_derivatives(eta, y, weights, grad, hess_diag, hess_off, with_value):
    r"""The logit link's rows, sharing exponentials: with :math:`d = b - a` and
    :math:`q = 1/(e^d - 1)`, :math:`\log(1 - e^{-d}) = -\log(1 + q)`. Without
    ``with_value`` only the exponentials are computed (value 0). Indexed directly
    (row views cost more than the arithmetic)."""
    if not crossing_free(eta):
        return np.inf
    m = eta.shape[1]
    total = 0.0
    for i in range(eta.shape[0]):
        c = y[i]
        w = weights[i]
        if c == 0:
            value, s_neg, s = _softplus_sigmoids(-eta[i, 0], with_value)
            grad[i, 0] = -w * s_neg
            hess_diag[i, 0] = w * (s * s_neg)
        elif c == m:
            value, s, s_neg = _softplus_sigmoids(eta[i, m - 1], with_value)
            grad[i, m - 1] = w * s
            hess_diag[i, m - 1] = w * (s * s_neg)
        else:
            a = eta[i, c - 1]
            b = eta[i, c]
            if not b > a:
                return np.inf
            soft_a, sa, sa_neg = _softplus_sigmoids(a, with_value)
            soft_b, sb, sb_neg = _softplus_sigmoids(b, with_value)
            q = 1.0 / math.expm1(b - a)
            curv = q * (1.0 + q)
            grad[i, c - 1] = w * (sa + q)
            grad[i, c] = w * (-sb_neg - q)
            hess_diag[i, c - 1] = w * (sa * sa_neg + curv)
            hess_diag[i, c] = w * (sb * sb_neg + curv)
            hess_off[i, c - 1] = w * -curv
            value = -(b - soft_a - soft_b - math.log1p(q)) if with_value else 0.0
        total += w * value
    return total


@njit
def _link_derivatives(eta, y, weights, link, grad, hess_diag, hess_off):
    if not crossing_free(eta):
        return np.inf
    total = 0.0
    for i in range(eta.shape[0]):
        total += weights[i] * _link_row(eta[i], y[i], link, grad[i], hess_diag[i],
                                        hess_off[i])
        _weigh_row(weights[i], grad[i], hess_diag[i], hess_off[i])
    return total


@njit
def _softplus_sigmoids(x, with_value=True):
    r""":math:`(\log(1 + e^x), \sigma(x), \sigma(-x))` from one exponential (the
    first 0 without ``with_value``)."""
    if x >= 0.0:
        e = math.exp(-x)
        return (x + math.log1p(e) if with_value else 0.0), 1.0 / (1.0 + e), e / (1.0 + e)
    e = math.exp(x)
    return (math.log1p(e) if with_value else 0.0), e / (1.0 + e), 1.0 / (1.0 + e)


@njit
def _link_row(eta_row, c, link, grad, hess_diag, hess_off):
    m = eta_row.shape[0]
    value = row_neg_loglik(eta_row, c, link)
    if not value < np.inf:
        return np.inf
    log_p = -value
    r_b = 0.0
    if c < m:
        b = eta_row[c]
        r_b = math.exp(log_pdf(b, link) - log_p)
        grad[c] = -r_b
        hess_diag[c] = -pdf_score(b, link) * r_b + r_b * r_b
    if c > 0:
        a = eta_row[c - 1]
        r_a = math.exp(log_pdf(a, link) - log_p)
        grad[c - 1] = r_a
        hess_diag[c - 1] = pdf_score(a, link) * r_a + r_a * r_a
        if c < m:
            hess_off[c - 1] = -r_a * r_b
    return value


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


@njit
def cdf_matrix(eta, link):
    r""":math:`F(\eta)` elementwise for a 2-D ``eta`` (probit and cloglog links)."""
    out = np.empty(eta.shape)
    for i in range(eta.shape[0]):
        for k in range(eta.shape[1]):
            out[i, k] = math.exp(log_cdf(eta[i, k], link))
    return out


@njit
def barrier_terms(eta, y, weights, mu, floor, with_derivatives):
    r"""Log barrier :math:`-\mu \sum_i w_i \sum_k \log(\eta_{i,k+1} - \eta_{ik})` over the
    gaps no likelihood term guards (all but gap :math:`y_i - 1` of a middle class).

    Returns ``(value, d/dgap, d2/dgap2)``; the derivative arrays are ``(n, K-2)``
    (zeros where there is no barrier, and empty unless ``with_derivatives``);
    curvatures below ``floor`` are dropped (the gradient stays exact). ``inf`` if a
    guarded gap is not positive.
    """
    n, m = eta.shape
    size = m - 1 if with_derivatives else 0
    grad = np.zeros((n if with_derivatives else 0, size))
    curv = np.zeros((n if with_derivatives else 0, size))
    total = 0.0
    for i in range(n):
        own = y[i] - 1 if 0 < y[i] < m else -1
        scale = mu * weights[i]
        for k in range(m - 1):
            if k == own:
                continue
            gap = eta[i, k + 1] - eta[i, k]
            if not gap > 0.0:
                return np.inf, grad, curv
            total -= scale * math.log(gap)
            if with_derivatives:
                inverse = 1.0 / gap
                grad[i, k] = -scale * inverse
                c = scale * inverse * inverse
                if c >= floor:
                    curv[i, k] = c
    return total, grad, curv


@njit
def row_column_sums(a):
    """Row sums (n,) and column sums (m,) of a 2-D array in one pass."""
    n, m = a.shape
    rows = np.zeros(n)
    cols = np.zeros(m)
    for i in range(n):
        total = 0.0
        for k in range(m):
            total += a[i, k]
            cols[k] += a[i, k]
        rows[i] = total
    return rows, cols


@njit
def parallel_curvature(h_diag, h_off):
    r"""Per-row curvature of the proportional-odds restriction, in one pass.

    Returns ``total`` (n,) :math:`\sum_k h_{kk} + 2\sum_k h_{k,k+1}` (the weight of
    the slopes' Gram matrix), ``columns`` (n, K-1) :math:`h_{kk} + h_{k-1,k} +
    h_{k,k+1}` (intercept-slope cross terms), and the column sums of ``h_diag`` and
    ``h_off`` (the intercepts' tridiagonal block).
    """
    n, m = h_diag.shape
    total = np.zeros(n)
    columns = np.empty((n, m))
    diag_sums = np.zeros(m)
    off_sums = np.zeros(max(m - 1, 0))
    for i in range(n):
        t = 0.0
        for k in range(m):
            c = h_diag[i, k]
            diag_sums[k] += c
            t += c
            if k > 0:
                c += h_off[i, k - 1]
            if k < m - 1:
                c += h_off[i, k]
                off_sums[k] += h_off[i, k]
                t += 2.0 * h_off[i, k]
            columns[i, k] = c
        total[i] = t
    return total, columns, diag_sums, off_sums
