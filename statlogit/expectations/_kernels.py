r"""numba kernels of adaptive importance sampling with control variates (aISCV).

What dominates a run is a handful of passes over (points x components) arrays:
Gaussian log-densities of many points under many components (also those of the input
laws, see :func:`statlogit.expectations.laws.lognormal_scale_stack`), the
cross-entropy weights and moment fits of all components, the coefficients and the
objective of the mixture-weight sub-problem, and the importance ratios of a batch.
Gaussian log-densities and weighted moments of all components are one BLAS product
with the quadratic features of the points (exactly centred numba kernels, on blocks of
``BLOCK`` points held coordinate-major, take over when the components lie too far
apart for that); the other kernels run along rows, their exponentials through
:func:`statlogit.kernels.common.exp_into`. All take C-contiguous float64 arrays and
allocate their outputs; none writes into its inputs.
"""

import math

import numpy as np

from statlogit.kernels._numba import njit
from statlogit.kernels.common import exp_into, logsumexp_rows

LOG_2PI = math.log(2.0 * math.pi)
ZERO_EXPONENT = -1000.0  # exp_into gives exactly 0 here, on its fast path
BLOCK = 256


@njit
def _inverse_lower(chols):
    """Inverses of K lower-triangular factors, and the sums of their log-diagonals."""
    n_comp, d = chols.shape[0], chols.shape[1]
    inv = np.zeros((n_comp, d, d))
    half_logdet = np.zeros(n_comp)
    for k in range(n_comp):
        for r in range(d):
            half_logdet[k] += math.log(chols[k, r, r])
            inv[k, r, r] = 1.0 / chols[k, r, r]
            for c in range(r):
                acc = 0.0
                for s in range(c, r):
                    acc -= chols[k, r, s] * inv[k, s, c]
                inv[k, r, c] = acc / chols[k, r, r]
    return inv, half_logdet


@njit
def _load_block(X, start, size, XT):
    """Copy rows start..start+size of X into the coordinate-major buffer XT (d, BLOCK)."""
    for r in range(X.shape[1]):
        for i in range(size):
            XT[r, i] = X[start + i, r]


@njit
def _block_quadratic(XT, size, mean, inv_chol, diff, z, sq):
    r"""sq[i] = :math:`\lVert L^{-1}(x_i-\mu)\rVert^2` for the ``size`` points of a block."""
    for s in range(XT.shape[0]):
        mu = mean[s]
        for i in range(size):
            diff[s, i] = XT[s, i] - mu
    _block_quadratic_centred(diff, size, inv_chol, z, sq)


SPREAD_MAX = 1e4


def gaussian_logpdf(X, means, chols, slope=None):
    r"""Log-densities :math:`\log \mathcal N(x_i; \mu_k, L_k L_k^\top)` of n points
    (plus :math:`s^\top x_i` in every column if a slope s is given).

    One matrix product: with :math:`u = x - c` (c the mean of the component means),
    :math:`P_k = \Sigma_k^{-1}` and :math:`\delta_k = \mu_k - c`,

    .. math::
        \log \mathcal N(x; \mu_k, \Sigma_k) = -\tfrac12 u^\top P_k u
        + u^\top P_k\delta_k - \tfrac12\delta_k^\top P_k\delta_k
        - \tfrac d2\log 2\pi - \tfrac12\log\det\Sigma_k ,

    linear in the features :math:`(u_ru_s)_{s\le r}, u, 1` (:func:`quadratic_features`),
    so all K components come from one (n, F) x (F, K) product (BLAS). Expanding the
    square costs about :math:`\epsilon\,S` of absolute accuracy in the log-density,
    with the spread :math:`S = \max_k \lVert L_k^{-1}\delta_k\rVert^2`; above
    ``SPREAD_MAX`` (error ~1e-12), and for fewer components than
    :math:`\max(16, F/4)` (where it is faster), the exactly centred kernel
    :func:`gaussian_logpdf_centred` is used instead.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The points.
    means : ndarray of shape (K, d)
        Component means.
    chols : ndarray of shape (K, d, d)
        Lower Cholesky factors :math:`L_k` of the covariances.
    slope : ndarray of shape (d,), optional
        A linear term shared by all columns (a log-Jacobian, say), added inside the
        product.

    Returns
    -------
    ndarray of shape (n, K)
    """
    if not _product_pays(*means.shape):
        out = gaussian_logpdf_centred(X, means, chols)
        return out if slope is None else out + (X @ slope)[:, None]
    centre = means.mean(axis=0)
    coefficients, spread = _quadratic_coefficients(means, chols, centre)
    features = quadratic_features(X, centre) if spread <= SPREAD_MAX else None
    if features is None or not np.all(np.isfinite(features)):
        out = gaussian_logpdf_centred(X, means, chols)
        return out if slope is None else out + (X @ slope)[:, None]
    if slope is not None:
        d = X.shape[1]
        coefficients[-d - 1:-1] += slope[:, None]
        coefficients[-1] += slope @ centre
    return features @ coefficients


def _product_pays(n_components, d):
    """Whether the feature product beats the centred kernels (measured crossover:
    about 16 components up to d = 12, more for wider feature rows)."""
    n_features = d * (d + 1) // 2 + d + 1
    return n_components >= max(16, n_features / 4)


def _quadratic_coefficients(means, chols, centre):
    """The (F, K) coefficients of :func:`gaussian_logpdf` and the spread S."""
    d = means.shape[1]
    inv, half_logdet = _inverse_lower(chols)
    white = np.einsum("kij,kj->ki", inv, means - centre)
    precision = np.einsum("kri,krj->kij", inv, inv)
    rows, cols = np.tril_indices(d)
    quadratic = precision[:, rows, cols] * np.where(rows == cols, -0.5, -1.0)
    linear = np.einsum("kri,kr->ki", inv, white)
    constant = -0.5 * np.sum(white**2, axis=1) - 0.5 * d * LOG_2PI - half_logdet
    coefficients = np.vstack([quadratic.T, linear.T, constant[None, :]])
    return coefficients, float(np.max(np.sum(white**2, axis=1)))


@njit
def quadratic_features(X, centre):
    r"""Rows :math:`\bigl((u_ru_s)_{s\le r},\ u_1..u_d,\ 1\bigr)` of
    :math:`u = x_i - c`, the lower-triangle pairs in ``numpy.tril_indices`` order.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    centre : ndarray of shape (d,)

    Returns
    -------
    ndarray of shape (n, d(d+1)/2 + d + 1)
    """
    n, d = X.shape
    n_pairs = d * (d + 1) // 2
    out = np.empty((n, n_pairs + d + 1))
    u = np.empty(d)
    for i in range(n):
        for r in range(d):
            u[r] = X[i, r] - centre[r]
        col = 0
        for r in range(d):
            for s in range(r + 1):
                out[i, col] = u[r] * u[s]
                col += 1
        for r in range(d):
            out[i, n_pairs + r] = u[r]
        out[i, n_pairs + d] = 1.0
    return out


@njit
def gaussian_logpdf_centred(X, means, chols):
    r""":func:`gaussian_logpdf` computed point by point from :math:`x - \mu_k`.

    :math:`-\tfrac d2\log 2\pi - \sum_r \log L_{k,rr} - \tfrac12\lVert
    L_k^{-1}(x_i-\mu_k)\rVert^2`, with :math:`L_k^{-1}` formed once per call and the
    points taken in blocks held coordinate-major (SIMD inner loops). Exact to rounding
    however far apart the components are, about twice as slow as the matrix product.
    """
    n, d = X.shape
    n_comp = means.shape[0]
    inv, half_logdet = _inverse_lower(chols)
    out = np.empty((n, n_comp))
    XT, diff = np.empty((d, BLOCK)), np.empty((d, BLOCK))
    z, sq = np.empty(BLOCK), np.empty(BLOCK)
    for start in range(0, n, BLOCK):
        size = min(BLOCK, n - start)
        _load_block(X, start, size, XT)
        for k in range(n_comp):
            _block_quadratic(XT, size, means[k], inv[k], diff, z, sq)
            const = -0.5 * d * LOG_2PI - half_logdet[k]
            for i in range(size):
                out[start + i, k] = const - 0.5 * sq[i]
    return out


def gaussian_mixture_logpdf(X, means, chols, log_weights):
    r"""Log-density :math:`\log\sum_k e^{\omega_k}\mathcal N(x_i;\mu_k, L_kL_k^\top)`.

    Components with :math:`\omega_k=-\infty` are skipped.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    means : ndarray of shape (K, d)
    chols : ndarray of shape (K, d, d)
    log_weights : ndarray of shape (K,)
        Log mixing weights :math:`\omega_k` (need not sum to one in exp).

    Returns
    -------
    ndarray of shape (n,)
    """
    used = log_weights > -np.inf
    if not used.any():
        return np.full(X.shape[0], -np.inf)
    logp = gaussian_logpdf(X, means[used], chols[used])
    logp += log_weights[used]
    return logsumexp_rows(logp)


def weighted_moments(X, W, diag_only):
    r"""Weighted means and covariances of the same points for K weight columns.

    One product :math:`W^\top F` with the :func:`quadratic_features` F of
    :math:`u = x - c` (c the weighted mean of all points) gives every column's total,
    :math:`\sum_i W_{ik}u_i` and :math:`\sum_i W_{ik}u_iu_i^\top`, so
    :math:`\Sigma_k = E_k[uu^\top] - (\mu_k - c)(\mu_k - c)^\top`. That difference
    loses about :math:`\epsilon\,(\mu_{kr}-c_r)^2/\Sigma_{k,rr}` of relative accuracy;
    above ``SPREAD_MAX``, and for fewer columns than :math:`\max(16, F/4)`, the
    centred two-pass kernel :func:`weighted_moments_centred` is used instead.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    W : ndarray of shape (n, K)
        Non-negative weights; column k defines component k. Each column needs a
        positive sum.
    diag_only : bool
        Keep only the diagonal of each covariance.

    Returns
    -------
    means : ndarray of shape (K, d)
        :math:`\mu_k = \sum_i W_{ik} x_i / \sum_i W_{ik}`.
    covs : ndarray of shape (K, d, d)
        :math:`\Sigma_k = \sum_i W_{ik}(x_i-\mu_k)(x_i-\mu_k)^\top / \sum_i W_{ik}`.
    """
    n, d = X.shape
    if not _product_pays(W.shape[1], d):
        return weighted_moments_centred(X, W, diag_only)
    mass = W.sum(axis=1)
    centre = (mass @ X) / mass.sum()
    moments = W.T @ quadratic_features(X, centre)
    n_pairs = d * (d + 1) // 2
    totals = moments[:, -1]
    offsets = moments[:, n_pairs:n_pairs + d] / totals[:, None]
    rows, cols = np.tril_indices(d)
    pairs = moments[:, :n_pairs] / totals[:, None] - offsets[:, rows] * offsets[:, cols]
    covs = np.zeros((W.shape[1], d, d))
    covs[:, rows, cols] = pairs
    covs[:, cols, rows] = pairs
    variances = np.einsum("kii->ki", covs)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = np.all(offsets**2 <= SPREAD_MAX * variances)
    if not exact:
        return weighted_moments_centred(X, W, diag_only)
    if diag_only:
        covs *= np.eye(d)
    return centre + offsets, covs


@njit
def weighted_moments_centred(X, W, diag_only):
    r""":func:`weighted_moments` from a centred second pass (no cancellation however
    far the components lie from each other), same arguments and results. The loops run
    over components innermost, along the rows of W.
    """
    n, d = X.shape
    n_comp = W.shape[1]
    totals = np.zeros(n_comp)
    means_t = np.zeros((d, n_comp))
    for i in range(n):
        for k in range(n_comp):
            totals[k] += W[i, k]
        for r in range(d):
            x = X[i, r]
            for k in range(n_comp):
                means_t[r, k] += W[i, k] * x
    for r in range(d):
        for k in range(n_comp):
            means_t[r, k] /= totals[k]
    sums = np.zeros((d, d, n_comp))
    diff = np.empty((d, n_comp))
    weighted = np.empty(n_comp)
    for i in range(n):
        for r in range(d):
            x = X[i, r]
            for k in range(n_comp):
                diff[r, k] = x - means_t[r, k]
        for r in range(d):
            for k in range(n_comp):
                weighted[k] = W[i, k] * diff[r, k]
            for s in range(r + 1):
                if diag_only and s != r:
                    continue
                for k in range(n_comp):
                    sums[r, s, k] += weighted[k] * diff[s, k]
    covs = np.zeros((n_comp, d, d))
    for k in range(n_comp):
        for r in range(d):
            for s in range(r + 1):
                covs[k, r, s] = sums[r, s, k] / totals[k]
                covs[k, s, r] = covs[k, r, s]
    return means_t.T.copy(), covs


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


@njit
def alpha_objective(alpha, c, G_t, b):
    r"""Value and gradient of :math:`V(\alpha)=\sum_i c_i / (G_i^\top\alpha + b_i)`.

    The mixture-weight sub-problem of aISCV after scaling each point by its largest
    component density. G is stored component-major, so both passes run along
    contiguous rows: :math:`\mathrm{den} = b + \sum_k \alpha_k G_{\cdot k}` and
    :math:`\partial_k V = -\sum_i G_{ik}\, c_i/\mathrm{den}_i^2`.

    Parameters
    ----------
    alpha : ndarray of shape (K,)
    c : ndarray of shape (n,)
        Non-negative numerators.
    G_t : ndarray of shape (K, n)
        Non-negative (scaled) component densities, transposed.
    b : ndarray of shape (n,)
        Non-negative offsets (the defensive part of the sampler).

    Returns
    -------
    value : float
        ``inf`` if some point with :math:`c_i > 0` has a non-positive denominator.
    grad : ndarray of shape (K,)
    den : ndarray of shape (n,)
        The denominators :math:`G_i^\top\alpha + b_i` (the Hessian's weights).
    """
    n_comp, n = G_t.shape
    den = b.copy()
    for k in range(n_comp):
        weight = alpha[k]
        for i in range(n):
            den[i] += weight * G_t[k, i]
    value = 0.0
    scaled = np.zeros(n)
    for i in range(n):
        if c[i] == 0.0:
            continue
        if den[i] <= 0.0:
            return np.inf, np.zeros(n_comp), den
        value += c[i] / den[i]
        scaled[i] = c[i] / (den[i] * den[i])
    grad = np.empty(n_comp)
    for k in range(n_comp):
        grad[k] = -_dot4(G_t[k], scaled)
    return value, grad, den


@njit
def _dot4(x, y):
    """Dot product with four interleaved partial sums (vectorisable, fixed order)."""
    n = x.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    top = n - n % 4
    for i in range(0, top, 4):
        s0 += x[i] * y[i]
        s1 += x[i + 1] * y[i + 1]
        s2 += x[i + 2] * y[i + 2]
        s3 += x[i + 3] * y[i + 3]
    for i in range(top, n):
        s0 += x[i] * y[i]
    return (s0 + s1) + (s2 + s3)


@njit
def _block_quadratic_centred(z, size, inv_chol, w, sq):
    r"""sq[i] = :math:`\lVert L^{-1} z_i\rVert^2` for already-centred columns z (d, BLOCK)."""
    d = z.shape[0]
    for i in range(size):
        sq[i] = 0.0
    for r in range(d):
        lead = inv_chol[r, 0]
        for i in range(size):
            w[i] = lead * z[0, i]
        for s in range(1, r + 1):
            coef = inv_chol[r, s]
            for i in range(size):
                w[i] += coef * z[s, i]
        for i in range(size):
            sq[i] += w[i] * w[i]
