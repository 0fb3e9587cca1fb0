r"""Kernels of aISCV, Gaussian part: log-densities and weighted moments.

What dominates a run is a handful of passes over (points x components) arrays:
Gaussian log-densities of many points under many components (also those of the input
laws, see :func:`statlogit.expectations.laws.lognormal_scale_stack`) and the moment
fits of all components. Both are one BLAS product with the quadratic features of the
points (exactly centred numba kernels, on blocks of ``BLOCK`` points held
coordinate-major, take over when the components lie too far apart for that). The
importance and control-variate weights are in
:mod:`statlogit.expectations._weight_kernels`; the mixture-weight sub-problem's
objective in :mod:`statlogit.solvers.simplex_newton`. All take C-contiguous float64
arrays and allocate their outputs; none writes into its inputs.
"""

import math

import numpy as np

from statlogit.kernels._numba import njit

LOG_2PI = math.log(2.0 * math.pi)
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


def logsumexp_rows(a):
    r"""Row-wise :math:`\log \sum_j e^{a_{ij}}`, shifted by the row maximum (a row of
    all ``-inf`` gives ``-inf``). numpy: the family's calls are on (points x few
    columns) arrays, where it is about as fast as the shared numba kernel and needs no
    compilation."""
    top = a.max(axis=1)
    shift = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(a - shift[:, None]).sum(axis=1)) + shift


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


def weighted_moments_centred(X, W, diag_only):
    r""":func:`weighted_moments` from a centred second pass (no cancellation however
    far the components lie from each other), same arguments and results: per column
    one product :math:`(W_k\odot D_k)^\top D_k` with :math:`D_k = X - \mu_k`.
    """
    totals = W.sum(axis=0)
    means = (W.T @ X) / totals[:, None]
    d = X.shape[1]
    covs = np.zeros((W.shape[1], d, d))
    for k in range(W.shape[1]):
        centred = X - means[k]
        if diag_only:
            covs[k] = np.diag((W[:, k] @ centred**2) / totals[k])
        else:
            cov = (centred.T * W[:, k]) @ centred / totals[k]
            covs[k] = 0.5 * (cov + cov.T)
    return means, covs


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
