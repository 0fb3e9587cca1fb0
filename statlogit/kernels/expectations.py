r"""numba kernels of adaptive importance sampling with control variates (aISCV).

Three loops dominate a run: Gaussian log-densities of many points under many
components, the cross-entropy moment fits of all components, and the objective of the
mixture-weight sub-problem. All take C-contiguous float64 arrays and allocate their
outputs; none writes into its inputs.
"""

import math

import numpy as np

from statlogit.kernels._numba import njit

LOG_2PI = math.log(2.0 * math.pi)


@njit
def gaussian_logpdf(X, means, chols):
    r"""Log-densities :math:`\log \mathcal N(x_i; \mu_k, L_k L_k^\top)` of n points.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The points.
    means : ndarray of shape (K, d)
        Component means.
    chols : ndarray of shape (K, d, d)
        Lower Cholesky factors :math:`L_k` of the covariances.

    Returns
    -------
    ndarray of shape (n, K)
        :math:`-\tfrac d2\log 2\pi - \sum_r \log L_{k,rr} - \tfrac12\lVert
        L_k^{-1}(x_i-\mu_k)\rVert^2`, by forward substitution.
    """
    n, d = X.shape
    n_comp = means.shape[0]
    half_logdet = np.zeros(n_comp)
    for k in range(n_comp):
        for r in range(d):
            half_logdet[k] += math.log(chols[k, r, r])
    out = np.empty((n, n_comp))
    z = np.empty(d)
    for i in range(n):
        for k in range(n_comp):
            sq = 0.0
            for r in range(d):
                acc = X[i, r] - means[k, r]
                for s in range(r):
                    acc -= chols[k, r, s] * z[s]
                z[r] = acc / chols[k, r, r]
                sq += z[r] * z[r]
            out[i, k] = -0.5 * d * LOG_2PI - half_logdet[k] - 0.5 * sq
    return out


@njit
def weighted_moments(X, W, diag_only):
    r"""Weighted means and covariances of the same points for K weight columns.

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
        :math:`\Sigma_k = \sum_i W_{ik}(x_i-\mu_k)(x_i-\mu_k)^\top / \sum_i W_{ik}`
        (centred second pass, so no cancellation).
    """
    n, d = X.shape
    n_comp = W.shape[1]
    totals = np.zeros(n_comp)
    means = np.zeros((n_comp, d))
    for i in range(n):
        for k in range(n_comp):
            w = W[i, k]
            totals[k] += w
            for r in range(d):
                means[k, r] += w * X[i, r]
    for k in range(n_comp):
        for r in range(d):
            means[k, r] /= totals[k]
    covs = np.zeros((n_comp, d, d))
    diff = np.empty(d)
    for i in range(n):
        for k in range(n_comp):
            w = W[i, k]
            if w == 0.0:
                continue
            for r in range(d):
                diff[r] = X[i, r] - means[k, r]
            for r in range(d):
                if diag_only:
                    covs[k, r, r] += w * diff[r] * diff[r]
                    continue
                for s in range(r + 1):
                    covs[k, r, s] += w * diff[r] * diff[s]
    for k in range(n_comp):
        for r in range(d):
            for s in range(r + 1):
                covs[k, r, s] /= totals[k]
                covs[k, s, r] = covs[k, r, s]
    return means, covs


@njit
def alpha_objective(alpha, c, G, b):
    r"""Value and gradient of :math:`V(\alpha)=\sum_i c_i / (G_i^\top\alpha + b_i)`.

    The mixture-weight sub-problem of aISCV after scaling each point by its largest
    component density (see :func:`statlogit.estimators.expectations`).

    Parameters
    ----------
    alpha : ndarray of shape (K,)
    c : ndarray of shape (n,)
        Non-negative numerators.
    G : ndarray of shape (n, K)
        Non-negative (scaled) component densities.
    b : ndarray of shape (n,)
        Non-negative offsets (the defensive part of the sampler).

    Returns
    -------
    value : float
    grad : ndarray of shape (K,)
        :math:`-\sum_i c_i G_i / (G_i^\top\alpha + b_i)^2`.
    """
    n, n_comp = G.shape
    value = 0.0
    grad = np.zeros(n_comp)
    for i in range(n):
        den = b[i]
        for k in range(n_comp):
            den += G[i, k] * alpha[k]
        if c[i] == 0.0:
            continue
        if den <= 0.0:
            return np.inf, grad
        value += c[i] / den
        t = c[i] / (den * den)
        for k in range(n_comp):
            grad[k] -= t * G[i, k]
    return value, grad


@njit
def gaussian_copula_logpdf(X, is_log, loc, log_scale, shape, inv_chols, consts):
    r"""Log-densities of n points under L Gaussian-copula laws with (log)normal marginals.

    Marginal r of law l has normal score :math:`z_r = (t_r - \ell_{lr})/s_{lr}` with
    :math:`t_r = \log(x_r - \mathrm{loc}_{lr})` (lognormal) or :math:`x_r -
    \mathrm{loc}_{lr}` (normal, :math:`\ell_{lr} = 0`). Then

    .. math::
        \log f_l(x) = -\tfrac12\lVert L_l^{-1} z\rVert^2 - c_l
        - \sum_{r\,\text{lognormal}} t_r ,

    with :math:`c_l = \sum_r \log L_{l,rr} + \tfrac d2\log 2\pi + \sum_r \log s_{lr}`.
    A point outside a lognormal support gets ``-inf``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    is_log : bool ndarray of shape (L, d)
    loc, log_scale, shape : ndarray of shape (L, d)
    inv_chols : ndarray of shape (L, d, d)
        Inverses of the lower Cholesky factors of the copula correlations.
    consts : ndarray of shape (L,)

    Returns
    -------
    ndarray of shape (n, L)
    """
    n, d = X.shape
    n_laws = loc.shape[0]
    out = np.empty((n, n_laws))
    z = np.empty(d)
    for i in range(n):
        for law in range(n_laws):
            jac = 0.0
            inside = True
            for r in range(d):
                t = X[i, r] - loc[law, r]
                if is_log[law, r]:
                    if t <= 0.0:
                        inside = False
                        break
                    t = math.log(t)
                    jac -= t
                z[r] = (t - log_scale[law, r]) / shape[law, r]
            if not inside:
                out[i, law] = -np.inf
                continue
            quad = 0.0
            for r in range(d):
                w = 0.0
                for s in range(r + 1):
                    w += inv_chols[law, r, s] * z[s]
                quad += w * w
            out[i, law] = -0.5 * quad - consts[law] + jac
    return out
