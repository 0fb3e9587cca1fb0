"""The steps of aISCV: parts, cross-entropy refits, the alpha sub-problem (solved by
:func:`statlogit.solvers.simplex_newton.minimize_inverse_affine`)."""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from statlogit.expectations._gaussian_kernels import (
    gaussian_logpdf,
    logsumexp_rows,
    weighted_moments,
)
from statlogit.expectations._samplers import Components
from statlogit.expectations._weight_kernels import alpha_coefficients
from statlogit.solvers.simplex_newton import minimize_inverse_affine

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
    def from_pilot(cls, values, law_index, keep_zero=False):
        """Parts from the pilot values; a target that is zero at every pilot point is
        refused, or (``keep_zero``) kept as one positive part (its component is then
        fitted without weights and its estimate is plain importance sampling)."""
        positive = (values > 0).any(axis=0)
        negative = (values < 0).any(axis=0)
        zero = np.flatnonzero(~positive & ~negative)
        if zero.size and (not keep_zero or zero.size == values.shape[1]):
            raise ValueError(
                f"integrand(s) {zero.tolist()[:10]} are zero at every pilot point, so "
                "nothing can be adapted to them; increase budget (or "
                "adaptive_fraction), reformulate, or pass zero_targets='keep'."
            )
        positive[zero] = True
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

    @property
    def identity(self):
        """True when every target is its own single, positive part."""
        return bool(np.array_equal(self.cols, np.arange(self.n_parts))
                    and np.all(self.signs > 0))

    def values(self, targets):
        """Part values (n, P), C-ordered, from target values (n, J) (column indexing
        returns a Fortran-ordered array: the kernels would compile a second time)."""
        if self.identity:
            return targets
        v = targets[:, self.cols] * self.signs
        return np.ascontiguousarray(np.where(self.split, np.maximum(v, 0.0), v))

    def law_columns(self, log_laws):
        """log f of each part's law (n, P), C-ordered, from the laws' columns (n, L)."""
        if np.array_equal(self.laws, np.arange(log_laws.shape[1])):
            return log_laws
        return np.ascontiguousarray(log_laws[:, self.laws])

    def combine(self, part_matrix):
        """Signed sums of part columns per target, shape (n, J)."""
        if self.identity:
            return part_matrix
        n_targets = int(self.cols.max()) + 1
        combined = np.zeros((part_matrix.shape[0], n_targets))
        np.add.at(combined.T, self.cols, self.signs[:, None] * part_matrix.T)
        return combined


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


@dataclass
class AlphaProblem:
    r"""The mixture-weight sub-problem :math:`\min_\alpha \sum_i c_i/(G_i^\top\alpha + b_i)`
    on the pool, with the per-point scale :math:`e^{m_i}` (``shift``) it was built with.
    """

    c: np.ndarray
    G_t: np.ndarray
    b: np.ndarray
    shift: np.ndarray

    def minimize(self, alpha0):
        """The optimal weights (see :func:`minimize_alpha`)."""
        return minimize_alpha(self.c, self.G_t, self.b, alpha0)[0]

    def log_sampler(self, alpha):
        r"""log of the sampler with weights alpha at the pool points:
        :math:`m_i + \log(G_i^\top\alpha + b_i)`."""
        return self.shift + np.log(alpha @ self.G_t + self.b)


def alpha_problem(values, log_abs_target, log_g, log_h, log_q0, beta, weights, defensive):
    r"""Build :math:`V(\alpha) = \sum_i c_i / (G_i^\top\alpha + b_i)`.

    The IS estimate over the pool of :math:`\sum_p w_p E_{g}[((\varphi_p f_p -
    \beta_p g_p)/g)^2]` for :math:`g = \varepsilon q_0 + (1-\varepsilon)\sum_p
    \alpha_p g_p`, every point scaled by its largest density :math:`e^{m_i}` so
    :math:`0 \le G_{ip} \le 1`, then c normalised to max 1.
    """
    m = log_g.max(axis=1)
    if defensive > 0:
        m = np.maximum(m, log_q0)
    with np.errstate(divide="ignore"):
        log_weights = np.log(weights)
    G_t, log_c = alpha_coefficients(values, log_abs_target, log_g, m, log_weights, beta)
    G_t *= 1.0 - defensive
    b = defensive * np.exp(log_q0 - m) if defensive > 0 else np.zeros_like(m)
    log_c += m - log_h
    top = log_c.max()
    log_c -= top if np.isfinite(top) else 0.0
    return AlphaProblem(np.exp(log_c), G_t, b, m)


def minimize_alpha(c, G_t, b, alpha0, *, lower=ALPHA_FLOOR, max_iter=200, rtol=1e-10):
    r"""The mixture weights: :math:`\min_\alpha \sum_i c_i/(G_i^\top\alpha + b_i)` on
    :math:`\{\alpha_k \ge` ``lower``, :math:`\sum_k\alpha_k = 1\}` by
    :func:`~statlogit.solvers.simplex_newton.minimize_inverse_affine`.

    Returns
    -------
    alpha : ndarray of shape (K,)
    value : float
    """
    result = minimize_inverse_affine(c, G_t, b, alpha0, lower=lower, max_iter=max_iter,
                                     rtol=rtol)
    return result.x, result.objective
