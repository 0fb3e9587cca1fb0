r"""numba kernels of aISCV, weight part: cross-entropy weights, the coefficients of
the mixture-weight sub-problem, importance ratios and control-variate fits.

They run along rows of (points x parts) arrays, their exponentials through
:func:`statlogit.kernels.common.exp_into`. All take C-contiguous float64 arrays and
allocate their outputs; none writes into its inputs.
"""

import math

import numpy as np

from statlogit.kernels._numba import njit
from statlogit.kernels.common import exp_into

ZERO_EXPONENT = -1000.0  # exp_into gives exactly 0 here, on its fast path


@njit
def cross_entropy_weights(values, log_abs_target, log_h):
    r"""Cross-entropy weights :math:`c_{ip}=\varphi_p^+(x_i)f_p(x_i)/h(x_i)`, each column
    divided by its largest entry (so each column's maximum is 1).

    Parameters
    ----------
    values : ndarray of shape (n, P)
        Integrand values :math:`\varphi_p(x_i)`; only the positive ones get weight.
    log_abs_target : ndarray of shape (n, P)
        :math:`\log|\varphi_p(x_i)| + \log f_p(x_i)`.
    log_h : ndarray of shape (n,)
        Log-density of the sampling mixture.

    Returns
    -------
    ndarray of shape (n, P)
    """
    n, n_parts = values.shape
    out = np.zeros((n, n_parts))
    top = np.full(n_parts, -np.inf)
    for i in range(n):
        for p in range(n_parts):
            if values[i, p] > 0.0:
                top[p] = max(top[p], log_abs_target[i, p] - log_h[i])
    args, work = np.empty(n_parts), np.empty(n_parts)
    for i in range(n):
        for p in range(n_parts):
            exponent = log_abs_target[i, p] - log_h[i] - top[p]
            args[p] = exponent if values[i, p] > 0.0 else ZERO_EXPONENT
        exp_into(args, out[i], work)
    return out


@njit
def alpha_coefficients(values, log_abs_target, log_g, shift, log_weights, beta):
    r"""Per-point terms of the mixture-weight objective, without leaving log space.

    For each point, with :math:`e^{m_i}` = ``exp(shift[i])``,

    .. math::
        G_{ip} = g_p(x_i)/e^{m_i}, \qquad
        \log s_i = \log\sum_p w_p\Bigl(\frac{\varphi_p(x_i)f_p(x_i)
        - \beta_p g_p(x_i)}{e^{m_i}}\Bigr)^2 ,

    the sum taken after dividing every term by the row's largest magnitude
    :math:`e^{t_i}`, so nothing overflows or underflows before the square. The
    :math:`\beta_p g_p` terms reuse :math:`G_{ip}` times :math:`e^{-t_i}` when both are
    safely representable (one exponential per term otherwise).

    Parameters
    ----------
    values : ndarray of shape (n, P)
        :math:`\varphi_p(x_i)` (only the signs are read).
    log_abs_target : ndarray of shape (n, P)
        :math:`\log|\varphi_p(x_i)| + \log f_p(x_i)`.
    log_g : ndarray of shape (n, P)
    shift : ndarray of shape (n,)
    log_weights : ndarray of shape (P,)
        :math:`\log w_p` (``-inf`` for a zero weight).
    beta : ndarray of shape (P,)

    Returns
    -------
    G_t : ndarray of shape (P, n)
        :math:`G` transposed (component-major, as :func:`alpha_objective` takes it).
    log_s : ndarray of shape (n,)
    """
    n, n_parts = values.shape
    G_t = np.empty((n_parts, n))
    log_s = np.empty(n)
    log_abs_beta = np.full(n_parts, -np.inf)
    weights = np.exp(log_weights)
    for p in range(n_parts):
        if beta[p] != 0.0:
            log_abs_beta[p] = math.log(abs(beta[p]))
    buffers = np.empty((5, n_parts))
    args, g, target, b_terms, work = (buffers[0], buffers[1], buffers[2], buffers[3],
                                      buffers[4])
    for i in range(n):
        top = -np.inf
        underflow = False  # some beta_p g_p term only representable in log space
        for p in range(n_parts):
            args[p] = log_g[i, p] - shift[i]
            if weights[p] > 0.0:
                top = max(top, log_abs_target[i, p] - shift[i], log_abs_beta[p] + args[p])
                underflow |= beta[p] != 0.0 and args[p] <= -700.0
        exp_into(args, g, work)
        for p in range(n_parts):
            G_t[p, i] = g[p]
        if top == -np.inf:
            log_s[i] = -np.inf
            continue
        for p in range(n_parts):
            args[p] = log_abs_target[i, p] - shift[i] - top
        exp_into(args, target, work)
        if abs(top) < 700.0 and not underflow:
            inv_scale = math.exp(-top)
            for p in range(n_parts):
                b_terms[p] = beta[p] * g[p] * inv_scale
        else:
            for p in range(n_parts):  # one exponential per term, as large as e^0
                magnitude = math.exp(log_abs_beta[p] + log_g[i, p] - shift[i] - top)
                b_terms[p] = magnitude if beta[p] > 0.0 else -magnitude
        acc = 0.0
        for p in range(n_parts):
            a = target[p] if values[i, p] > 0.0 else -target[p]
            r = a - b_terms[p]
            acc += weights[p] * r * r if weights[p] > 0.0 else 0.0
        log_s[i] = 2.0 * top + math.log(acc) if acc > 0.0 else -np.inf
    return G_t, log_s


@njit
def sampler_ratios(values, log_f, log_g, log_q0, alpha, defensive):
    r"""Importance ratios of a fresh sample under :math:`g=\varepsilon q_0 +
    (1-\varepsilon)\sum_p\alpha_p g_p`.

    Parameters
    ----------
    values, log_f, log_g : ndarray of shape (n, P)
        :math:`\varphi_p`, :math:`\log f_p` and :math:`\log g_p` at the points.
    log_q0 : ndarray of shape (n,)
        :math:`\log q_0` (read only when ``defensive > 0``).
    alpha : ndarray of shape (P,)
    defensive : float
        :math:`\varepsilon`.

    Returns
    -------
    y : ndarray of shape (n, P)
        :math:`\varphi_p f_p / g`.
    a : ndarray of shape (n, P)
        :math:`g_p / g` (the control variates, mean 1).
    log_s : ndarray of shape (n,)
        :math:`\log g`, as :math:`m_i + \log\sum_p\alpha_p e^{\log g_p - m_i}` with
        :math:`m_i` the row maximum, so :math:`g_p/g` needs no second exponential.
    """
    n, n_parts = values.shape
    y = np.empty((n, n_parts))
    a = np.empty((n, n_parts))
    log_s = np.empty(n)
    args, work = np.empty(n_parts), np.empty(n_parts)
    for i in range(n):
        log_s[i] = _ratio_row(values[i], log_f[i], log_g[i], log_q0[i], alpha, defensive,
                              y[i], a[i], args, work)
    return y, a, log_s


@njit
def control_variate_residuals(values, log_f, log_g, log_q0, alpha, defensive, beta):
    r"""The final estimate's summands :math:`y_p - \beta_p a_p = (\varphi_p f_p -
    \beta_p g_p)/g` in one pass (see :func:`sampler_ratios` for the arguments).

    Returns
    -------
    ndarray of shape (n, P)
    """
    n, n_parts = values.shape
    out = np.empty((n, n_parts))
    buffers = np.empty((4, n_parts))
    y, a, args, work = buffers[0], buffers[1], buffers[2], buffers[3]
    for i in range(n):
        _ratio_row(values[i], log_f[i], log_g[i], log_q0[i], alpha, defensive, y, a, args,
                   work)
        for p in range(n_parts):
            out[i, p] = y[p] - beta[p] * a[p]
    return out


@njit
def control_variate_fit(y, a):
    r"""Control-variate slopes and residual variances, column by column, in three
    passes (means; centred cross-products; residuals: nothing is cancelled).

    :math:`\beta_p = \sum_i (a_{ip}-\bar a_p)(y_{ip}-\bar y_p) / \sum_i (a_{ip}-\bar
    a_p)^2` and :math:`\hat\sigma_p^2` the variance (ddof 1) of :math:`y_p - \beta_p
    a_p`; a constant column :math:`a_p` (sum of squared deviations at most
    :math:`10^{-24}\sum_i a_{ip}^2`) gets :math:`\beta_p = \bar y_p`.

    Parameters
    ----------
    y, a : ndarray of shape (n, P)

    Returns
    -------
    beta, sigma2 : ndarray of shape (P,)
    """
    n, n_parts = y.shape
    mean_y, mean_a, square_a = np.zeros(n_parts), np.zeros(n_parts), np.zeros(n_parts)
    for i in range(n):
        for p in range(n_parts):
            mean_y[p] += y[i, p]
            mean_a[p] += a[i, p]
            square_a[p] += a[i, p] * a[i, p]
    mean_y /= n
    mean_a /= n
    var_a, cov_ay = np.zeros(n_parts), np.zeros(n_parts)
    for i in range(n):
        for p in range(n_parts):
            da = a[i, p] - mean_a[p]
            var_a[p] += da * da
            cov_ay[p] += da * (y[i, p] - mean_y[p])
    beta = np.empty(n_parts)
    for p in range(n_parts):
        degenerate = var_a[p] <= 1e-24 * max(square_a[p], 1e-300)
        beta[p] = mean_y[p] if degenerate else cov_ay[p] / var_a[p]
    mean_r = mean_y - beta * mean_a
    sigma2 = np.zeros(n_parts)
    for i in range(n):
        for p in range(n_parts):
            r = y[i, p] - beta[p] * a[i, p] - mean_r[p]
            sigma2[p] += r * r
    return beta, sigma2 / (n - 1)


@njit
def _ratio_row(values, log_f, log_g, log_q0, alpha, defensive, y, a, args, work):
    """y and a of :func:`sampler_ratios` for one point; returns log g there."""
    n_parts = values.shape[0]
    m = log_q0 if defensive > 0.0 else -np.inf
    for p in range(n_parts):
        m = max(m, log_g[p])
    for p in range(n_parts):
        args[p] = log_g[p] - m
    exp_into(args, a, work)
    mix = 0.0
    for p in range(n_parts):
        mix += alpha[p] * a[p]
    den = (1.0 - defensive) * mix
    if defensive > 0.0:
        den += defensive * math.exp(log_q0 - m)
    log_s = m + math.log(den)
    inv_den = 1.0 / den
    for p in range(n_parts):
        a[p] *= inv_den
        args[p] = log_f[p] - log_s
    exp_into(args, y, work)
    for p in range(n_parts):
        y[p] *= values[p]
    return log_s
