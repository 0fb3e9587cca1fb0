r"""Kernels of aISCV, weight part: cross-entropy weights, the coefficients of the
mixture-weight sub-problem, importance ratios and control-variate fits.

All numpy, vectorised over (points x parts) arrays in log space: numpy's SIMD
exponential makes them as fast as the numba loops they replace (measured at 10^4 points
and 10-100 parts), and a fresh process has nothing to compile for them. All take
C-contiguous float64 arrays and return C-contiguous ones; none writes into its
inputs.
"""

import numpy as np


def cross_entropy_weights(values, log_abs_target, log_h):
    r"""Cross-entropy weights :math:`c_{ip}=\varphi_p^+(x_i)f_p(x_i)/h(x_i)`, each column
    divided by its largest entry (so each column's maximum is 1; a column without a
    positive value is 0). numpy: one exponential per entry, as fast as a loop.

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
    log_c = np.where(values > 0.0, log_abs_target - log_h[:, None], -np.inf)
    top = log_c.max(axis=0)
    top[~np.isfinite(top)] = 0.0
    return np.exp(log_c - top)


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
    safely representable (one exponential per term otherwise). numpy, vectorised over
    the points, in place.

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
    # few large temporaries (a fresh (n, P) array costs more than a pass over it)
    args = log_g - shift[:, None]
    G_t = np.empty((args.shape[1], args.shape[0]))
    np.exp(args.T, out=G_t)
    log_s = np.full(values.shape[0], -np.inf)
    used = np.flatnonzero(log_weights > -np.inf)
    if used.size == 0:
        return G_t, log_s
    if used.size < log_weights.size:  # zero weights: leave their terms out
        args, values, log_abs_target = args[:, used], values[:, used], log_abs_target[
            :, used]
        beta, log_weights = beta[used], log_weights[used]
        g = G_t[used].T
    else:
        g = G_t.T
    with np.errstate(divide="ignore"):
        log_abs_beta = np.log(np.abs(beta))
    # beta_p g_p e^{-t} from g where both are safely representable, else from logs
    fine = np.min(args, axis=1, where=beta != 0.0, initial=np.inf) > -700.0
    args += log_abs_beta  # now log|beta_p g_p| - m
    residual = log_abs_target - shift[:, None]
    top = np.maximum(residual.max(axis=1), args.max(axis=1))
    finite = top > -np.inf
    top[~finite] = 0.0
    residual -= top[:, None]
    np.exp(residual, out=residual)
    np.copysign(residual, values, out=residual)  # sign of phi (0 where phi is 0)
    if np.all(fine & (np.abs(top) < 700.0)):
        np.multiply(g, beta * np.exp(-top)[:, None], out=args)
    else:
        args -= top[:, None]
        np.exp(args, out=args)
        args *= np.sign(beta)
    residual -= args
    residual *= residual
    acc = residual @ np.exp(log_weights)
    with np.errstate(divide="ignore"):
        log_s[finite] = 2.0 * top[finite] + np.log(acc[finite])
    return G_t, log_s


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
    m = log_g.max(axis=1)
    if defensive > 0.0:
        m = np.maximum(m, log_q0)
    a = np.exp(log_g - m[:, None])
    den = (1.0 - defensive) * (a @ alpha)
    if defensive > 0.0:
        den += defensive * np.exp(log_q0 - m)
    log_s = m + np.log(den)
    a /= den[:, None]
    return values * np.exp(log_f - log_s[:, None]), a, log_s


def control_variate_residuals(values, log_f, log_g, log_q0, alpha, defensive, beta):
    r"""The final estimate's summands :math:`y_p - \beta_p a_p = (\varphi_p f_p -
    \beta_p g_p)/g` (see :func:`sampler_ratios` for the arguments).

    Returns
    -------
    ndarray of shape (n, P)
    """
    y, a, _ = sampler_ratios(values, log_f, log_g, log_q0, alpha, defensive)
    a *= beta
    y -= a
    return y


def control_variate_fit(y, a):
    r"""Control-variate slopes and residual variances, column by column, in three
    passes (means; centred cross-products; residuals: nothing is cancelled).

    :math:`\beta_p = \sum_i (a_{ip}-\bar a_p)(y_{ip}-\bar y_p) / \sum_i (a_{ip}-\bar
    a_p)^2` and :math:`\hat\sigma_p^2` the variance (ddof 1) of :math:`y_p - \beta_p
    a_p`; a constant column :math:`a_p` (sum of squared deviations at most
    :math:`10^{-24}\sum_i a_{ip}^2`) gets :math:`\beta_p = \bar y_p`. numpy (a few
    column reductions).

    Parameters
    ----------
    y, a : ndarray of shape (n, P)

    Returns
    -------
    beta, sigma2 : ndarray of shape (P,)
    """
    n = y.shape[0]
    mean_y, mean_a = y.mean(axis=0), a.mean(axis=0)
    centred_a = a - mean_a
    var_a = np.einsum("ip,ip->p", centred_a, centred_a)
    cov_ay = np.einsum("ip,ip->p", centred_a, y - mean_y)
    degenerate = var_a <= 1e-24 * np.maximum(np.einsum("ip,ip->p", a, a), 1e-300)
    beta = np.where(degenerate, mean_y, cov_ay / np.where(degenerate, 1.0, var_a))
    residuals = y - beta * a - (mean_y - beta * mean_a)
    return beta, np.einsum("ip,ip->p", residuals, residuals) / (n - 1)
