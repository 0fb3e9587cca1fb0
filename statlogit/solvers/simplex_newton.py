r"""Newton's method on the capped simplex for sums of inverse-affine terms.

Minimises :math:`V(\alpha)=\sum_i c_i/(G_i^\top\alpha + b_i)` over
:math:`\{\alpha_k\ge\ell,\ \sum_k\alpha_k = 1\}` with :math:`c, G, b \ge 0`: a
convex problem (``inv_pos`` of an affine function) met when choosing the weights of a
mixture that minimise an importance-sampling second moment (aISCV's mixture weights,
defensive mixtures, balance-heuristic weights). The solver knows nothing about the model:
it takes the arrays and returns an :class:`~statlogit.solvers.result.OptimizeResult`.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from statlogit.kernels._numba import njit
from statlogit.solvers.result import OptimizeResult

__all__ = ["inverse_affine_objective", "minimize_inverse_affine", "project_capped_simplex"]


def minimize_inverse_affine(c, G_t, b, alpha0, *, lower=1e-12, max_iter=200, rtol=1e-10):
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

    lower : float
        The floor :math:`\ell` of every weight, in [0, 1/K).
    max_iter : int
        Largest number of Newton (or gradient) steps.
    rtol : float
        Stop when the Newton decrement is at most ``rtol`` times the objective.

    Returns
    -------
    OptimizeResult
        ``x`` the weights (K,), ``objective`` :math:`V(x)`, ``n_iter``, ``converged``
        and ``residual`` (the last Newton decrement relative to V; 0 when the projected
        gradient could not lower V any more).
    """
    c, G_t, b = _check_problem(c, G_t, b, lower)
    n_comp = G_t.shape[0]
    if n_comp == 1:
        value = inverse_affine_objective(np.ones(1), c, G_t, b)[0]
        return OptimizeResult(x=np.ones(1), n_iter=0, converged=True, residual=0.0,
                              objective=value)
    alpha = project_capped_simplex(np.asarray(alpha0, dtype=float), lower)
    point = (alpha, *inverse_affine_objective(alpha, c, G_t, b))
    mode = "newton"
    decrement = np.inf
    for iteration in range(1, max_iter + 1):
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
            return _result(alpha, value, iteration, True, decrement, value)
        if value < previous - 1e-15 * abs(previous):
            mode = "newton"
        elif kind == "gradient":
            return _result(alpha, value, iteration, True, decrement, value)
        else:
            mode = "face" if kind == "release" else "gradient"
    warnings.warn(f"the capped-simplex Newton method did not converge in {max_iter} "
                  "iterations; keeping the last weights.", ConvergenceWarning,
                  stacklevel=3)
    return _result(point[0], point[1], max_iter, False, decrement, point[1])


def _result(x, value, n_iter, converged, decrement, scale):
    residual = float(decrement / scale) if np.isfinite(decrement) and scale > 0 else 0.0
    return OptimizeResult(x=x, n_iter=n_iter, converged=converged, residual=residual,
                          objective=float(value))


def _check_problem(c, G_t, b, lower):
    c = np.ascontiguousarray(c, dtype=np.float64)
    G_t = np.ascontiguousarray(G_t, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    if G_t.ndim != 2 or c.shape != (G_t.shape[1],) or b.shape != c.shape:
        raise ValueError(f"c and b must have shape (n,) and G_t (K, n); got {c.shape}, "
                         f"{G_t.shape} and {b.shape}.")
    for name, arr in (("c", c), ("G_t", G_t), ("b", b)):
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"{name} must be finite and non-negative.")
    if not 0.0 <= lower < 1.0 / G_t.shape[0]:
        raise ValueError(f"lower must lie in [0, 1/K) = [0, {1.0 / G_t.shape[0]:.3g}); "
                         f"got {lower}.")
    return c, G_t, b


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
        new_value, new_grad, new_den = inverse_affine_objective(trial, c, G_t, b)
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


@njit
def inverse_affine_objective(alpha, c, G_t, b):
    r"""Value and gradient of :math:`V(\alpha)=\sum_i c_i / (G_i^\top\alpha + b_i)`.

    (In aISCV: the mixture-weight sub-problem after scaling each point by its largest
    component density.)

    G is stored component-major, so both passes run along
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
