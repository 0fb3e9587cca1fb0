"""The steps of aISCV: parts, cross-entropy refits, the alpha sub-problem, CV fits."""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from statlogit.estimators._expectations_samplers import Components
from statlogit.kernels.common import logsumexp_rows
from statlogit.kernels.expectations import (
    alpha_objective,
    gaussian_logpdf,
    weighted_moments,
)

ALPHA_FLOOR = 9e-12
JITTER = 1e-6


@dataclass
class Parts:
    r"""Non-negative parts of the targets: :math:`\varphi_j = \varphi_j^+ - \varphi_j^-`.

    A target gets a part for each sign it takes on the pilot. A target with both
    signs is split (each part clipped at zero); a single-signed target keeps its raw
    values (times its sign), so its estimate stays unbiased even if the other sign
    shows up later.
    """

    cols: np.ndarray
    signs: np.ndarray
    split: np.ndarray
    laws: np.ndarray

    @classmethod
    def from_pilot(cls, values, law_index):
        positive = (values > 0).any(axis=0)
        negative = (values < 0).any(axis=0)
        zero = np.flatnonzero(~positive & ~negative)
        if zero.size:
            raise ValueError(
                f"integrand(s) {zero.tolist()[:10]} are zero at every pilot point, so "
                "nothing can be adapted to them; increase budget (or "
                "adaptive_fraction) or reformulate."
            )
        cols, signs = [], []
        for j in range(values.shape[1]):
            for sign, present in ((1.0, positive[j]), (-1.0, negative[j])):
                if present:
                    cols.append(j)
                    signs.append(sign)
        cols = np.asarray(cols)
        split = (positive & negative)[cols]
        return cls(cols, np.asarray(signs), split, law_index[cols])

    @property
    def n_parts(self):
        return self.cols.shape[0]

    def values(self, targets):
        v = targets[:, self.cols] * self.signs
        return np.where(self.split, np.maximum(v, 0.0), v)

    def combine(self, part_matrix):
        """Signed sums of part columns per target, shape (n, J)."""
        n_targets = int(self.cols.max()) + 1
        signs = np.zeros((self.n_parts, n_targets))
        signs[np.arange(self.n_parts), self.cols] = self.signs
        return part_matrix @ signs


def cross_entropy_weights(values, log_f, log_h):
    """CE weights c_ip = phi_p f_p / h, scaled per column by its largest entry."""
    with np.errstate(divide="ignore"):
        log_c = np.log(np.maximum(values, 0.0)) + log_f - log_h[:, None]
    log_c -= log_c.max(axis=0)
    return np.ascontiguousarray(np.exp(log_c))


def regularise(covs, X, diag_only):
    """Cholesky factors of covs + 1e-6 diag(sample variances of the pool)."""
    jitter = JITTER * np.var(X, axis=0) + np.finfo(float).tiny
    covs = covs + np.diag(jitter)
    if diag_only:
        return np.sqrt(np.einsum("kii->ki", covs))[:, :, None] * np.eye(X.shape[1])
    return np.linalg.cholesky(covs)


def fit_gaussians(X, weights, diag_only):
    """One Gaussian per weight column by weighted moment matching (CE step)."""
    means, covs = weighted_moments(X, weights, diag_only)
    chols = regularise(covs, X, diag_only)
    return Components(means, chols, np.zeros(weights.shape[1]), weights.shape[1])


def fit_gaussian_mixtures(X, weights, diag_only, rng, n_per_part=2, max_iter=100,
                          tol=1e-5):
    """Two-component Gaussian mixture per weight column by weighted EM."""
    n, n_parts = weights.shape
    comps = _initial_mixtures(X, weights, diag_only, rng, n_per_part)
    totals = weights.sum(axis=0)
    previous = -np.inf
    for _ in range(max_iter):
        logp = _component_logpdfs(comps, X).reshape(n, n_parts, n_per_part)
        log_norm = logsumexp_rows(logp.reshape(n * n_parts, n_per_part)).reshape(
            n, n_parts)
        loglik = np.sum(weights * log_norm) / totals.sum()
        resp = np.exp(logp - log_norm[:, :, None]) * weights[:, :, None]
        flat = np.ascontiguousarray(resp.reshape(n, -1))
        mass = flat.sum(axis=0)
        if np.any(mass <= 1e-12 * np.repeat(totals, n_per_part)):
            return fit_gaussians(X, weights, diag_only)
        means, covs = weighted_moments(X, flat, diag_only)
        log_pi = np.log(mass / np.repeat(totals, n_per_part))
        comps = Components(means, regularise(covs, X, diag_only), log_pi, n_parts)
        if abs(loglik - previous) <= tol * max(1.0, abs(loglik)):
            return comps
        previous = loglik
    warnings.warn(f"weighted EM did not converge in {max_iter} iterations; keeping the "
                  "last mixture.", ConvergenceWarning, stacklevel=4)
    return comps


def _component_logpdfs(comps, X):
    return gaussian_logpdf(X, comps.means, comps.chols) + comps.log_pi


def _initial_mixtures(X, weights, diag_only, rng, n_per_part):
    """Start each part's EM at points drawn in proportion to its CE weights."""
    single = fit_gaussians(X, weights, diag_only)
    means = []
    for p in range(weights.shape[1]):
        probs = weights[:, p] / weights[:, p].sum()
        means.append(X[rng.choice(X.shape[0], size=n_per_part, p=probs)])
    chols = np.repeat(single.chols, n_per_part, axis=0)
    log_pi = np.full(weights.shape[1] * n_per_part, -np.log(n_per_part))
    return Components(np.vstack(means), chols, log_pi, weights.shape[1])


def alpha_problem(values, log_f, log_g, log_h, log_q0, beta, weights, defensive):
    r"""Coefficients of :math:`V(\alpha) = \sum_i c_i / (G_i^\top\alpha + b_i)`.

    The IS estimate over the pool of :math:`\sum_p w_p E_{g}[((\varphi_p f_p -
    \beta_p g_p)/g)^2]`, every point scaled by its largest density
    :math:`e^{m_i}` so :math:`0 \le G_{ik} \le 1`, then c normalised to max 1.
    """
    m = log_g.max(axis=1)
    if defensive > 0:
        m = np.maximum(m, log_q0)
    G = (1.0 - defensive) * np.exp(log_g - m[:, None])
    b = defensive * np.exp(log_q0 - m)
    log_r = _log_abs_residual(values, log_f - m[:, None], log_g - m[:, None], beta)
    with np.errstate(divide="ignore"):
        log_c = logsumexp_rows(np.ascontiguousarray(2.0 * log_r + np.log(weights)))
    log_c += m - log_h
    log_c -= log_c.max()
    return np.exp(log_c), np.ascontiguousarray(G), b


def _log_abs_residual(values, log_f, log_g, beta):
    """log |phi f - beta g| computed without leaving log space."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.log(np.abs(values)) + log_f
        bterm = np.log(np.abs(beta)) + log_g
        same_sign = np.sign(values) * np.sign(beta) > 0
        hi = np.maximum(a, bterm)
        lo = np.minimum(a, bterm)
        gap = np.where(np.isfinite(hi), lo - hi, -np.inf)
        out = np.where(same_sign, hi + np.log1p(-np.exp(gap)), np.logaddexp(a, bterm))
    return np.where(np.isnan(out), -np.inf, out)


def minimize_alpha(c, G, b, alpha0, *, lower=ALPHA_FLOOR, max_iter=200, tol=1e-13):
    r"""Minimise :math:`V(\alpha)=\sum_i c_i/(G_i^\top\alpha + b_i)` over the simplex.

    Projected Newton method on :math:`\{\alpha_k\ge\ell, \sum_k\alpha_k=1\}`:
    the weights at the floor whose gradient exceeds the mean free gradient stay fixed;
    on the others an equality-constrained Newton step solves
    :math:`H_{FF}d + \nu\mathbf 1 = -\nabla_F V`, :math:`\mathbf 1^\top d = 0`
    (value and gradient from a numba kernel; :math:`H = 2\sum_i c_i G_iG_i^\top/
    (G_i^\top\alpha+b_i)^3` by one matrix product); an Armijo search along the
    projection of :math:`\alpha + td` onto the set follows (projected gradient when
    the Newton step is no descent direction). Stops when a step moves no weight by
    more than ``tol``. Returns ``(alpha, value)``.
    """
    n_comp = G.shape[1]
    if n_comp == 1:
        return np.ones(1), alpha_objective(np.ones(1), c, G, b)[0]
    alpha = project_capped_simplex(np.asarray(alpha0, dtype=float), lower)
    value, grad = alpha_objective(alpha, c, G, b)
    for _ in range(max_iter):
        direction = _search_direction(alpha, c, G, b, grad, lower)
        new_alpha, value, grad = _projected_search(alpha, direction, value, grad,
                                                   c, G, b, lower)
        moved = np.max(np.abs(new_alpha - alpha))
        alpha = new_alpha
        if moved <= tol:
            return alpha, value
    warnings.warn(f"the alpha sub-problem did not converge in {max_iter} Newton "
                  "iterations; keeping the last weights.", ConvergenceWarning,
                  stacklevel=3)
    return alpha, value


def project_capped_simplex(v, lower):
    """Euclidean projection onto {alpha >= lower, sum(alpha) = 1} (sort-based)."""
    free = 1.0 - v.shape[0] * lower
    u = (v - lower) / free
    s = np.sort(u)[::-1]
    cumulative = np.cumsum(s) - 1.0
    rho = np.flatnonzero(s - cumulative / np.arange(1, u.shape[0] + 1) > 0)[-1]
    return lower + free * np.maximum(u - cumulative[rho] / (rho + 1.0), 0.0)


def _search_direction(alpha, c, G, b, grad, lower):
    """Newton step on the weights not held at the floor (sum of the step zero)."""
    near_floor = alpha <= lower * (1.0 + 1e-6)
    free_mean = grad[~near_floor].mean() if np.any(~near_floor) else grad.mean()
    free = ~near_floor | (grad < free_mean)
    den = G @ alpha + b
    scaled = G[:, free] * np.sqrt(2.0 * c / den**3)[:, None]
    hess = scaled.T @ scaled
    k = hess.shape[0]
    kkt = np.zeros((k + 1, k + 1))
    kkt[:k, :k] = hess + np.eye(k) * (1e-12 * np.trace(hess) / k + 1e-300)
    kkt[:k, k] = kkt[k, :k] = 1.0
    solution = np.linalg.solve(kkt, np.concatenate([-grad[free], [0.0]]))
    direction = np.zeros_like(alpha)
    direction[free] = solution[:k]
    if not grad @ direction < 0:
        direction = -(grad - grad.mean())
    return direction


def _projected_search(alpha, direction, value, grad, c, G, b, lower):
    """Armijo backtracking along t -> P(alpha + t d)."""
    step = 1.0
    for _ in range(60):
        trial = project_capped_simplex(alpha + step * direction, lower)
        new_value, new_grad = alpha_objective(trial, c, G, b)
        if new_value <= value + 1e-4 * (grad @ (trial - alpha)):
            return trial, new_value, new_grad
        step *= 0.5
    return alpha, value, grad


def control_variate_fit(values, log_f, log_g, log_sampler):
    r"""CV coefficients and per-point variances on a fresh batch.

    :math:`\beta_p` is the least-squares slope of :math:`y_p=\varphi_p f_p/g` on
    :math:`a_p = g_p/g` (known mean 1); :math:`\hat\sigma_p^2` is the variance of
    :math:`y_p - \beta_p a_p`. A constant :math:`a_p` (one part, no defensive
    share) makes the CV void: then :math:`\beta_p = \bar y_p`.
    """
    y, a = importance_ratios(values, log_f, log_g, log_sampler)
    a_centred = a - a.mean(axis=0)
    var_a = np.sum(a_centred**2, axis=0)
    cov_ay = np.sum(a_centred * (y - y.mean(axis=0)), axis=0)
    degenerate = var_a <= 1e-24 * np.maximum(np.sum(a**2, axis=0), 1e-300)
    beta = np.where(degenerate, y.mean(axis=0), cov_ay / np.where(degenerate, 1.0, var_a))
    sigma2 = np.var(y - beta * a, axis=0, ddof=1)
    return beta, sigma2


def importance_ratios(values, log_f, log_g, log_sampler):
    """y = phi f / g and a = g_p / g from log-densities."""
    y = values * np.exp(log_f - log_sampler[:, None])
    a = np.exp(log_g - log_sampler[:, None])
    return y, a
