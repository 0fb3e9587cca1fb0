"""The steps of aISCV: parts, cross-entropy refits, the alpha sub-problem, CV fits."""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from statlogit.expectations._kernels import (
    alpha_coefficients,
    alpha_objective,
    gaussian_logpdf,
    weighted_moments,
)
from statlogit.expectations._samplers import Components
from statlogit.kernels.common import logsumexp_rows

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

    @property
    def identity(self):
        """True when every target is its own single, positive part."""
        return bool(np.array_equal(self.cols, np.arange(self.n_parts))
                    and np.all(self.signs > 0))

    def values(self, targets):
        """Part values (n, P) from target values (n, J)."""
        if self.identity:
            return targets
        v = targets[:, self.cols] * self.signs
        return np.where(self.split, np.maximum(v, 0.0), v)

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
    log_c -= log_c.max()
    return AlphaProblem(np.exp(log_c), G_t, b, m)


def minimize_alpha(c, G_t, b, alpha0, *, lower=ALPHA_FLOOR, max_iter=200, rtol=1e-10):
    r"""Minimise :math:`V(\alpha)=\sum_i c_i/(G_i^\top\alpha + b_i)` over the simplex.

    Projected Newton method on :math:`\{\alpha_k\ge\ell, \sum_k\alpha_k=1\}`. On
    the face of weights above the floor, an equality-constrained Newton step solves
    :math:`H_{FF}d + \nu\mathbf 1 = -\nabla_F V`, :math:`\mathbf 1^\top d = 0`, with
    :math:`H = 2\sum_i c_i G_iG_i^\top/(G_i^\top\alpha+b_i)^3` (one symmetric
    product; value and gradient from a numba kernel). An Armijo search along the
    projection of :math:`\alpha + td` onto the set follows, which puts weights on the
    floor many at a time and lands a shrinking weight on the floor rather than letting
    it creep there. Once the face is nearly solved (Newton decrement
    :math:`\lambda^2 = -\nabla V^\top d \le 10^{-3}V`), the floor weights whose
    gradients lie below the face's multiplier :math:`-\nu` are released (along the
    projected gradient if the enlarged Newton step would not raise them). A release
    that does not lower V is dropped for one plain face step; any other step that does
    not lower V is retried along the projected gradient. Stops when
    :math:`\lambda^2 \le` ``rtol`` :math:`\cdot V` with no weight worth releasing,
    after that last (quadratically convergent) step, or when the projected gradient
    cannot lower V either.

    Parameters
    ----------
    c : ndarray of shape (n,)
    G_t : ndarray of shape (K, n)
        G transposed (component-major).
    b : ndarray of shape (n,)
    alpha0 : ndarray of shape (K,)
        Starting weights (projected onto the set first).

    Returns
    -------
    alpha : ndarray of shape (K,)
    value : float
    """
    n_comp = G_t.shape[0]
    if n_comp == 1:
        return np.ones(1), alpha_objective(np.ones(1), c, G_t, b)[0]
    alpha = project_capped_simplex(np.asarray(alpha0, dtype=float), lower)
    point = (alpha, *alpha_objective(alpha, c, G_t, b))
    mode = "newton"
    for _ in range(max_iter):
        alpha, value, grad, _ = point
        if mode == "gradient":
            direction, decrement, kind = -(grad - grad.mean()), np.inf, "gradient"
        else:
            direction, decrement, kind = _search_direction(point, c, G_t, lower, rtol,
                                                           mode == "newton")
        previous = value
        point = _projected_search(point, direction, c, G_t, b, lower)
        alpha, value = point[:2]
        if decrement <= rtol * value:
            return alpha, value
        if value < previous - 1e-15 * abs(previous):
            mode = "newton"
        elif kind == "gradient":
            return alpha, value
        else:
            mode = "face" if kind == "release" else "gradient"
    warnings.warn(f"the alpha sub-problem did not converge in {max_iter} Newton "
                  "iterations; keeping the last weights.", ConvergenceWarning,
                  stacklevel=3)
    return alpha, value


def project_capped_simplex(v, lower):
    """Euclidean projection onto {alpha >= lower, sum(alpha) = 1} (sort-based; shifted
    by max(v) first, which leaves the projection unchanged and keeps huge entries from
    absorbing the sums)."""
    free = 1.0 - v.shape[0] * lower
    u = (v - v.max()) / free
    s = np.sort(u)[::-1]
    cumulative = np.cumsum(s) - 1.0
    rho = np.flatnonzero(s - cumulative / np.arange(1, u.shape[0] + 1) > 0)[-1]
    return lower + free * np.maximum(u - cumulative[rho] / (rho + 1.0), 0.0)


def _search_direction(point, c, G_t, lower, rtol, may_release=True):
    """Newton step on the face above the floor; once the face is nearly solved, on the
    face enlarged by the floor weights that want to rise (those the enlarged step does
    raise); the projected gradient when neither helps. Returns the step, the Newton
    decrement (inf when no convergence may be declared after the step) and its kind
    ("face", "release" or "gradient"). ``point`` is (alpha, V, grad V, the denominators
    G alpha + b)."""
    alpha, value, grad, den = point
    root = np.sqrt(2.0 * c / den**3)
    free = alpha > 2.0 * lower  # the floor, with room for the projection's round-off
    face = _Face.on(G_t, root, np.flatnonzero(free))
    direction, multiplier = face.newton_step(grad)
    decrement = -(grad @ direction)
    if not decrement >= 0.0:
        return -(grad - grad.mean()), np.inf, "gradient"
    release = ~free & (grad + multiplier < -1e-12 * abs(multiplier))
    if decrement > 1e-3 * value or not may_release or not release.any():
        return direction, decrement, "face"
    for _ in range(3):
        enlarged, _ = face.enlarged(G_t, root, np.flatnonzero(release)).newton_step(grad)
        raised = release & (enlarged > 0.0)
        if np.array_equal(raised, release):
            if -(grad @ enlarged) <= rtol * value:  # releasing gains nothing
                return direction, decrement, "face"
            return enlarged, np.inf, "release"
        release = raised
        if not release.any():
            break
    if decrement > rtol * value:  # the multiplier is still rough: solve the face first
        return direction, np.inf, "face"
    return -(grad - grad.mean()), np.inf, "gradient"


@dataclass
class _Face:
    r"""The Hessian block :math:`H_{FF} = S S^\top`, :math:`S = G_F\,\mathrm{diag}(r)`,
    of the weights with indices F."""

    index: np.ndarray
    scaled: np.ndarray | None  # S (None for an enlarged face, which is not enlarged again)
    hess: np.ndarray

    @classmethod
    def on(cls, G_t, root, index):
        scaled = G_t[index]
        scaled *= root  # in place: a second (free x n) temporary made this 3x slower
        return cls(index, scaled, scaled @ scaled.T)

    def enlarged(self, G_t, root, extra):
        """The face with the weights ``extra`` added (only the new blocks computed)."""
        new = _Face.on(G_t, root, extra)
        cross = new.scaled @ self.scaled.T
        hess = np.block([[self.hess, cross.T], [cross, new.hess]])
        return _Face(np.concatenate([self.index, extra]), None, hess)

    def newton_step(self, grad):
        """Equality-constrained Newton step on the face and its multiplier."""
        k = self.index.shape[0]
        kkt = np.zeros((k + 1, k + 1))
        kkt[:k, :k] = self.hess + np.eye(k) * (1e-12 * np.trace(self.hess) / k + 1e-300)
        kkt[:k, k] = kkt[k, :k] = 1.0
        solution = np.linalg.solve(kkt, np.concatenate([-grad[self.index], [0.0]]))
        direction = np.zeros_like(grad)
        direction[self.index] = solution[:k]
        return direction, solution[k]


def _projected_search(point, direction, c, G_t, b, lower):
    r"""Armijo search along t -> P(alpha + t d) over :func:`_trial_steps` (d rescaled to
    at most 1 per weight: a longer step leaves the simplex anyway). Up to the blocking
    step the path is the segment alpha + t d, on which :math:`V(t) =
    \sum_i c_i/(\mathrm{den}_i + t\,(G d)_i)` costs one pass over the points, not over
    points and components."""
    alpha, value, grad, den = point
    direction = direction / max(1.0, np.abs(direction).max())
    slope = grad @ direction
    blocking = _blocking_step(alpha, direction, lower)
    segment = None
    for step in _trial_steps(blocking):
        if step <= blocking:
            if segment is None:
                segment = _Segment(c, den, direction @ G_t)
            if not segment.value(step) <= value + 1e-4 * step * slope:
                continue
            if step == 1.0:
                step = segment.extend(blocking)
        trial = project_capped_simplex(alpha + step * direction, lower)
        new_value, new_grad, new_den = alpha_objective(trial, c, G_t, b)
        if new_value <= value + 1e-4 * (grad @ (trial - alpha)):
            return trial, new_value, new_grad, new_den
    return point


class _Segment:
    r""":math:`V` along :math:`\alpha + t d` before any weight reaches the floor:
    :math:`V(t) = \sum_i c_i/(\mathrm{den}_i + t\,(Gd)_i)`, one pass over the points."""

    def __init__(self, c, den, slope_den):
        self.c, self.den, self.slope_den = c, den, slope_den

    def value(self, step):
        den = self.den + step * self.slope_den
        return np.sum(self.c / den) if np.all(den > 0.0) else np.inf

    def extend(self, blocking, max_doublings=30):
        """The accepted full step doubled while V keeps falling, up to the blocking
        step (tried last). Far from the optimum V behaves like 1/t along the Newton
        direction, whose Newton step only goes 1.5 times as far: without this the
        method crawls there at a linear rate of 2/3."""
        best, best_value = 1.0, self.value(1.0)
        candidates = [2.0**k for k in range(1, max_doublings) if 2.0**k < blocking]
        for step in candidates + ([blocking] if np.isfinite(blocking) else []):
            trial_value = self.value(step)
            if not trial_value < best_value:
                break
            best, best_value = step, trial_value
        return best


def _blocking_step(alpha, direction, lower):
    """The step at which the first shrinking weight reaches the floor (inf if none)."""
    shrinking = direction < 0
    if not shrinking.any():
        return np.inf
    return float(np.min((alpha[shrinking] - lower) / -direction[shrinking]))


def _trial_steps(blocking, n_halvings=60, n_projected=30):
    """Halvings of the full step down to the blocking step (at most ``n_projected``:
    each costs a pass over points and components, and moving no weight by 1e-9 means
    the search has stalled), that step itself, then its halvings: a weight heading for
    the floor lands on it instead of creeping towards it geometrically."""
    halvings = [0.5**k for k in range(n_halvings)]
    if blocking >= 1.0:
        return halvings
    projected = [t for t in halvings[:n_projected] if t > blocking]
    return projected + [blocking * t for t in halvings] if blocking > 0.0 else projected
