r"""Proximal-Newton solver for the penalised cumulative-logit (PRESTO) objective.

Parameters live in a ``(K-1, p+1)`` matrix ``theta``: row ``k`` holds the intercept
:math:`a_k` of boundary ``k`` and the difference :math:`\psi_k = \beta_k -
\beta_{k-1}` (:math:`\psi_1 = \beta_1`), so the penalty is a weighted lasso on the
:math:`\psi` columns. Each outer iteration forms the exact gradient and Hessian of
:math:`(1/n)\sum_i -\log P(y_i \mid x_i)` (numba kernels in
:mod:`statlogit.ordinal._kernels` for the per-row derivatives and, for few features,
the weighted Gram matrices; BLAS class by class for many), solves the
lasso-penalised quadratic model by coordinate descent (``lasso_qp_cd``), and
backtracks on the true objective; points where a training row would get a
non-positive probability for any class have objective ``inf`` and are rejected by the
line search. Fits whose optimum lies on that boundary stall there and are finished by
a short log-barrier path (:func:`_barrier_polish`); along a path of penalties, the
fit after a boundary one runs only the last barrier stage, warm-started from the
previous solution. Convergence is
quadratic near the optimum, so tight tolerances are cheap; the cost per iteration is
:math:`O(n p^2 K)`.
"""

from dataclasses import dataclass

import numpy as np

from statlogit.ordinal._kernels import (
    lasso_qp_cd,
    neg_loglik,
    neg_loglik_derivatives,
    weighted_grams,
)

ARMIJO = 0.25
MAX_HALVINGS = 60
MAX_SWEEPS = 1_000
RECENTER = 0.01
WARM_RECENTER = 1e-8
TIGHT = 1e-3
STALL = 1e-12
BLAS_MIN_FEATURES = 48
BARRIER_START = 1e-6
BARRIER_SHRINK = 100.0
BARRIER_GAP = 1e-9
BARRIER_CURVATURE_FLOOR = 1e-6
BARRIER_BOUNDARY_FRACTION = 0.99
BOUNDARY_GAP = 1e-6
BARRIER_SWEEPS = 100


@dataclass
class Scaling:
    """Column centring and scaling applied before fitting."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X, standardize):
        mean = X.mean(axis=0)
        if not standardize:
            return cls(mean, np.ones(X.shape[1]))
        scale = np.sqrt(((X - mean) ** 2).mean(axis=0))
        scale[scale <= 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0
        return cls(mean, scale)

    def transform(self, X):
        return np.ascontiguousarray((X - self.mean) / self.scale)

    def to_original(self, theta):
        """``(intercept (K-1,), coef (K-1, p))`` on the original scale of X."""
        coef = np.cumsum(theta[:, 1:], axis=0) / self.scale
        return theta[:, 0] - coef @ self.mean, coef

    def to_internal(self, intercept, coef):
        """Inverse of :meth:`to_original`."""
        scaled = coef * self.scale
        theta = np.empty((coef.shape[0], coef.shape[1] + 1))
        theta[:, 0] = intercept + coef @ self.mean
        theta[:, 1:] = np.diff(scaled, axis=0, prepend=0.0)
        return theta


def boundaries(theta):
    """Per-boundary ``(intercepts, slopes)`` from the difference parametrisation."""
    return theta[:, 0], np.cumsum(theta[:, 1:], axis=0)


def reverse_cumsum(a, axis):
    return np.flip(np.cumsum(np.flip(a, axis=axis), axis=axis), axis=axis)


class CumulativeLogitLoss:
    r"""The smooth part :math:`(1/n)\sum_i -\log P(y_i \mid x_i)` on prepared data.

    Parameters
    ----------
    X : ndarray (n, p)
        C-contiguous float64 design (already centred/scaled).
    y : ndarray of int64 (n,)
        Class codes ``0..K-1``.
    n_classes : int
    """

    def __init__(self, X, y, n_classes):
        self.X = X
        self.y = y
        self.n_boundaries = n_classes - 1
        self.n = X.shape[0]
        self._rows = [np.flatnonzero(y == c) for c in range(n_classes)]
        self._design_by_class = None
        self._mask = None
        if X.shape[1] >= BLAS_MIN_FEATURES:
            self._design_by_class = [
                np.hstack([np.ones((rows.size, 1)), X[rows]]) for rows in self._rows]

    def eta(self, theta):
        intercepts, slopes = boundaries(theta)
        return np.ascontiguousarray(self.X @ slopes.T + intercepts)

    def value(self, theta, barrier=0.0):
        """Mean negative log-likelihood, plus the crossing barrier when ``barrier > 0``."""
        eta = self.eta(theta)
        total = neg_loglik(eta, self.y)
        if barrier > 0.0 and np.isfinite(total):
            total += self._barrier_terms(eta, barrier)[0]
        return total / self.n

    def derivatives(self, theta, barrier=0.0):
        r"""``(value, gradient, hessian)`` in the flattened ``theta`` coordinates.

        With ``barrier = mu > 0`` the value is that of :meth:`value` with the same
        ``barrier``: the likelihood plus :math:`-(\mu/n)\sum \log(\eta_{i,k+1} -
        \eta_{ik})` over the crossing gaps that no likelihood term already guards.
        """
        eta = self.eta(theta)
        value, g_eta, h_diag, h_off = neg_loglik_derivatives(eta, self.y)
        if not np.isfinite(value):
            return value, None, None
        if barrier > 0.0:
            extra, g_gap, h_gap = self._barrier_terms(eta, barrier)
            value += extra
            g_eta[:, :-1] -= g_gap
            g_eta[:, 1:] += g_gap
            h_diag[:, :-1] += h_gap
            h_diag[:, 1:] += h_gap
            h_off -= h_gap
            return (value / self.n, self._gradient(g_eta),
                    self._hessian(h_diag, h_off, dense=True))
        return value / self.n, self._gradient(g_eta), self._hessian(h_diag, h_off)

    def _barrier_terms(self, eta, mu):
        r"""Log barrier on the gaps :math:`\eta_{i,k+1} - \eta_{ik}` of each row,
        except the gap of the row's own (middle) class, which its likelihood term
        already keeps positive. Returns ``(value, d/dgap, d2/dgap2)`` per gap (the
        derivatives zero where there is no barrier)."""
        gaps = np.diff(eta, axis=1)
        mask = self._barrier_mask(gaps.shape)
        safe = np.where(mask, gaps, 1.0)
        value = -mu * float(np.sum(np.log(safe)))
        inverse = np.where(mask, 1.0 / safe, 0.0)
        curvature = mu * inverse * inverse
        # Negligible curvature of far-from-active gaps is dropped (the gradient
        # stays exact): it keeps the Gram matrices as sparse as without barrier.
        curvature[curvature < BARRIER_CURVATURE_FLOOR] = 0.0
        return value, -mu * inverse, curvature

    def _barrier_mask(self, shape):
        if self._mask is None or self._mask.shape != shape:
            mask = np.ones(shape, dtype=bool)
            middle = np.flatnonzero((self.y > 0) & (self.y < self.n_boundaries))
            mask[middle, self.y[middle] - 1] = False
            self._mask = mask
        return self._mask

    def _gradient(self, g_eta):
        grad = np.empty((self.n_boundaries, self.X.shape[1] + 1))
        grad[:, 0] = g_eta.sum(axis=0)
        grad[:, 1:] = reverse_cumsum(g_eta.T @ self.X, axis=0)
        return (grad / self.n).ravel()

    def _hessian(self, h_diag, h_off, dense=False):
        """Exact Hessian in ``theta``, from the per-boundary Gram blocks.

        ``dense``: the curvature is not confined to a row's own class boundaries
        (barrier terms), so the class-by-class shortcut does not apply.
        """
        m, q = self.n_boundaries, self.X.shape[1] + 1
        if self._design_by_class and dense:
            hess = self._blocks_dense(h_diag, h_off)
        elif self._design_by_class:
            hess = self._blocks_by_class(h_diag, h_off)
        else:
            hess = self._blocks_numba(h_diag, h_off)
        hess[:, 1:] = reverse_cumsum(hess[:, 1:], axis=0)
        hess[:, :, :, 1:] = reverse_cumsum(hess[:, :, :, 1:], axis=2)
        return np.ascontiguousarray(hess.reshape(m * q, m * q) / self.n)

    def _blocks_numba(self, h_diag, h_off):
        """Few features: one numba pass over the rows (call overhead dominates)."""
        m, q = self.n_boundaries, self.X.shape[1] + 1
        grams = weighted_grams(self.X, np.ascontiguousarray(np.hstack([h_diag, h_off])))
        hess = np.zeros((m, q, m, q))
        for k in range(m):
            hess[k, :, k, :] = grams[k]
        for k in range(m - 1):
            hess[k, :, k + 1, :] = hess[k + 1, :, k, :] = grams[m + k]
        return hess

    def _blocks_dense(self, h_diag, h_off):
        """Many features, curvature on every boundary of every row: BLAS per block."""
        m, q = self.n_boundaries, self.X.shape[1] + 1
        design = np.hstack([np.ones((self.n, 1)), self.X])
        hess = np.zeros((m, q, m, q))
        for k in range(m):
            hess[k, :, k, :] = _gram(design, h_diag[:, k])
        for k in range(m - 1):
            hess[k, :, k + 1, :] = hess[k + 1, :, k, :] = _gram(design, h_off[:, k])
        return hess

    def _blocks_by_class(self, h_diag, h_off):
        """Many features: BLAS class by class, since a row of class ``c`` only has
        curvature in boundaries ``c-1`` and ``c``."""
        m, q = self.n_boundaries, self.X.shape[1] + 1
        hess = np.zeros((m, q, m, q))
        for c, (rows, design) in enumerate(zip(self._rows, self._design_by_class,
                                               strict=True)):
            if c > 0:
                hess[c - 1, :, c - 1, :] += _gram(design, h_diag[rows, c - 1])
            if c < m:
                hess[c, :, c, :] += _gram(design, h_diag[rows, c])
            if 0 < c < m:
                off = _gram(design, h_off[rows, c - 1])
                hess[c - 1, :, c, :] = off
                hess[c, :, c - 1, :] = off
        return hess


def _gram(design, weights):
    return design.T @ (design * weights[:, None])


@dataclass
class SolveResult:
    """A solution; ``at_boundary`` means the constrained optimum gives a training
    row a (near-)zero probability for a class: plain proximal Newton was blocked
    there (stalled), or a barrier-polished fit ended with a barrier gap below
    ``BOUNDARY_GAP``. ``polished``: the solution is the barrier-polished one (false
    for a stalled fit when the polish was skipped, ``solve(..., polish=False)``, or
    did not improve on the stalled point)."""

    theta: np.ndarray
    n_iter: int
    converged: bool
    objective: float
    at_boundary: bool = False
    polished: bool = False


def penalty_weights(n_boundaries, n_features, alpha, *, penalize_first, free_slopes):
    r"""Per-coordinate lasso weights in the flattened ``theta``.

    0 for intercepts (and :math:`\psi_1` when not ``penalize_first``), ``alpha`` for
    penalised differences. ``free_slopes=False`` fixes the differences
    :math:`\psi_2, \dots` at zero (weight ``inf``): the proportional-odds model.
    """
    weights = np.full((n_boundaries, n_features + 1), float(alpha))
    weights[:, 0] = 0.0
    if not penalize_first:
        weights[0, 1:] = 0.0
    if not free_slopes:
        weights[1:, 1:] = np.inf
    return weights.ravel()


def _penalty_value(theta, weights):
    finite = np.isfinite(weights)
    return float(weights[finite] @ np.abs(theta[finite]))


def null_theta(y, n_classes, n_features):
    """The intercept-only maximum-likelihood fit: logits of cumulative frequencies."""
    counts = np.bincount(y, minlength=n_classes)
    cumulative = np.cumsum(counts)[:-1] / counts.sum()
    theta = np.zeros((n_classes - 1, n_features + 1))
    theta[:, 0] = np.log(cumulative) - np.log1p(-cumulative)
    return theta


def solve(loss, weights, theta0, *, tol, max_iter, polish=True, warm_boundary=False):
    """Proximal Newton with backtracking from a feasible ``theta0``.

    Stops when the Newton direction's largest entry is at most ``tol`` (converged).
    If instead a step cut short by the feasibility boundary improves the objective
    by less than ``STALL`` (relative), the constrained optimum has a training row
    with a zero probability for some class: plain Newton cannot slide along that
    edge, so the fit is finished by :func:`_barrier_polish` (log barrier on the
    crossing gaps, driven to zero) and flagged ``at_boundary``; with
    ``polish=False`` the stalled boundary point itself is returned (feasible, only
    approximately optimal).

    ``warm_boundary=True``: ``theta0`` is the polished boundary solution of a nearby
    problem (the previous penalty of a path). Plain Newton would stall at once, so
    only the last barrier stage is run, from ``theta0``.
    """
    if warm_boundary:
        start = SolveResult(theta0, 0, True, _objective(loss, theta0, weights), True)
        return _barrier_polish(loss, weights, start, tol=tol, max_iter=max_iter,
                               warm=True)
    result = _newton(loss, weights, theta0, tol=tol, max_iter=max_iter)
    if result.at_boundary and polish:
        result = _barrier_polish(loss, weights, result, tol=tol, max_iter=max_iter)
    return result


def _objective(loss, theta, weights):
    return loss.value(theta) + _penalty_value(theta.ravel(), weights)


def _newton(loss, weights, theta0, *, tol, max_iter, barrier=0.0):
    """The proximal-Newton loop on likelihood (+ ``barrier`` term) + penalty.

    Without a barrier it exits flagging ``at_boundary`` on a stall against the
    feasibility boundary; with one the barrier keeps iterates away from it.
    """
    shape = theta0.shape
    theta = theta0.ravel().copy()
    value, grad, hess = loss.derivatives(theta.reshape(shape), barrier)
    if not np.isfinite(value):
        raise ValueError("The starting point gives a training row a zero probability.")
    objective = value + _penalty_value(theta, weights)
    converged, at_boundary, n_iter = False, False, 0
    while n_iter < max_iter:
        n_iter += 1
        if barrier:
            target = _qp_barrier(hess, grad, theta, weights, 0.1 * tol)
        else:
            target, _ = lasso_qp_cd(hess, grad, theta, theta, weights, 0.1 * tol,
                                    MAX_SWEEPS)
        direction = target - theta
        if np.max(np.abs(direction), initial=0.0) <= tol:
            converged = True
            break
        decrease = grad @ direction + _penalty_value(target, weights) - (
            objective - value)
        if not decrease < -1e-14 * max(1.0, abs(objective)):
            converged = True  # no further decrease possible in floating point
            break
        largest = _largest_feasible_step(loss, theta, direction, shape)
        step = _line_search(loss, weights, theta, direction, objective, decrease,
                            shape, min(1.0, (BARRIER_BOUNDARY_FRACTION if barrier
                                             else 0.99) * largest), barrier)
        if step is None:
            break
        theta = theta + step * direction
        value, grad, hess = loss.derivatives(theta.reshape(shape), barrier)
        previous, objective = objective, value + _penalty_value(theta, weights)
        if (barrier == 0.0 and largest < 1.0
                and previous - objective <= STALL * max(1.0, abs(objective))):
            converged = at_boundary = True
            break
    return SolveResult(theta.reshape(shape), n_iter, converged, objective, at_boundary)


def _barrier_polish(loss, weights, start, *, tol, max_iter, warm=False):
    r"""Finish a fit stalled on the boundary by a short log-barrier path.

    Minimises likelihood + penalty :math:`- (\mu/n) \sum \log(\text{gap})`, the
    sum over the crossing gaps not already guarded by a likelihood term, for
    :math:`\mu` falling by ``BARRIER_SHRINK`` from ``BARRIER_START`` until the barrier's
    duality-gap bound :math:`\mu \cdot (\text{number of barrier gaps}) / n` is
    below ``BARRIER_GAP`` relative to the objective, warm-started from the stalled
    (feasible) point moved ``RECENTER`` of the way to the intercept-only fit. With
    ``warm`` (``start`` is a polished solution of a nearby problem, already close
    to its barrier path) only that last stage runs, from ``start`` moved only
    ``WARM_RECENTER`` of the way (enough to lift gaps far below the barrier's
    scale, which would stall Newton, without losing the warm start). Every
    iterate keeps every gap strictly positive. The result replaces ``start`` only
    if its true objective is lower.
    """
    shape = start.theta.shape
    count = int(np.count_nonzero(loss._barrier_mask((loss.n, loss.n_boundaries - 1))))
    if count == 0:
        return start
    last = BARRIER_GAP * max(1.0, abs(start.objective)) * loss.n / count
    # Step back inside first: the barrier's curvature mu / gap^2 at a gap of
    # ~1e-15 would swamp the quadratic model (Newton would stop there at once).
    null = null_theta(loss.y, loss.n_boundaries + 1, loss.X.shape[1])
    move, mu = RECENTER, BARRIER_START
    if warm:
        tight = _min_barrier_gap(loss, start.theta) < TIGHT * last
        move, mu = (WARM_RECENTER if tight else 0.0), last
    theta = (1.0 - move) * start.theta + move * null
    n_iter = start.n_iter
    while True:
        final = mu <= last
        stage = _newton(loss, weights, theta, tol=tol if final else max(tol, 1e-6),
                        max_iter=max_iter, barrier=mu)
        theta, n_iter = stage.theta, n_iter + stage.n_iter
        if final:
            break
        mu /= BARRIER_SHRINK
    objective = _objective(loss, theta.reshape(shape), weights)
    if not objective <= start.objective:
        return SolveResult(start.theta, n_iter, start.converged, start.objective, True)
    return SolveResult(theta, n_iter, stage.converged, objective,
                       _min_barrier_gap(loss, theta.reshape(shape)) < BOUNDARY_GAP,
                       True)


def _min_barrier_gap(loss, theta):
    """Smallest crossing gap guarded by the barrier (``inf`` if there is none)."""
    gaps = np.diff(loss.eta(theta), axis=1)
    return float(np.min(gaps[loss._barrier_mask(gaps.shape)], initial=np.inf))


def _qp_barrier(hess, grad, theta, weights, tol):
    """The lasso-penalised quadratic model's minimiser for barrier iterations.

    Near-active barrier gaps make the Hessian badly conditioned (curvature
    ``mu / gap^2``), where coordinate descent alone crawls and can stop early. A few
    coordinate-descent sweeps guess the support and signs; an active-set method then
    finishes exactly: minimise the model on the support with the signs fixed (one
    linear solve), stop at the first sign change and drop that coordinate, or, once
    sign-consistent, add the zero coordinate violating its KKT condition most.
    """
    free_weight = np.isfinite(weights)
    z, _ = lasso_qp_cd(hess, grad, theta, theta, weights, tol, BARRIER_SWEEPS)
    support = free_weight & ((z != 0.0) | (weights == 0.0))
    signs = np.where(weights > 0.0, np.sign(z), 0.0)
    for _ in range(3 * theta.size + 10):
        rest = ~support
        rhs = -(grad[support] + hess[np.ix_(support, rest)] @ (z[rest] - theta[rest])
                + weights[support] * signs[support])
        try:
            step = np.linalg.solve(hess[np.ix_(support, support)], rhs)
        except np.linalg.LinAlgError:
            break
        candidate = z.copy()
        candidate[support] = theta[support] + step
        crossing = support & (weights > 0.0) & (candidate * signs <= 0.0)
        if np.any(crossing):
            index = np.flatnonzero(crossing)
            change = z[index] - candidate[index]
            ratios = np.divide(z[index], change, out=np.zeros(index.size),
                               where=change != 0.0)
            first = index[int(np.argmin(ratios))]
            z = z + float(np.clip(np.min(ratios), 0.0, 1.0)) * (candidate - z)
            z[first], support[first], signs[first] = 0.0, False, 0.0
            continue
        z = candidate
        slope = grad + hess @ (z - theta)
        zero = np.flatnonzero(~support & free_weight)
        if zero.size == 0:
            return z
        excess = np.abs(slope[zero]) - weights[zero]
        worst = int(np.argmax(excess))
        if excess[worst] <= tol:
            return z
        added = zero[worst]
        support[added], signs[added] = True, -np.sign(slope[added])
    z, _ = lasso_qp_cd(hess, grad, theta, z, weights, tol, MAX_SWEEPS)
    return z


def _largest_feasible_step(loss, theta, direction, shape):
    """Largest t keeping every row's cumulative predictors increasing (eta is linear)."""
    gaps = np.diff(loss.eta(theta.reshape(shape)), axis=1)
    rates = np.diff(loss.eta(direction.reshape(shape)), axis=1)
    closing = rates < 0
    if not np.any(closing):
        return np.inf
    return float(np.min(gaps[closing] / -rates[closing]))


def _line_search(loss, weights, theta, direction, objective, decrease, shape, step,
                 barrier=0.0):
    slack = 1e-13 * max(1.0, abs(objective))
    for _ in range(MAX_HALVINGS):
        candidate = theta + step * direction
        trial = (loss.value(candidate.reshape(shape), barrier)
                 + _penalty_value(candidate, weights))
        if trial <= objective + ARMIJO * step * decrease + slack:
            return step
        step *= 0.5
    return None


def alpha_max(loss, n_classes, n_features, *, penalize_first, tol, max_iter):
    """Smallest alpha with all penalised differences zero, from the KKT conditions.

    Returns ``(alpha_max, restricted_solution)``: the fit with every penalised
    coordinate at zero, and the largest absolute gradient over those coordinates.
    """
    theta0 = null_theta(loss.y, n_classes, n_features)
    fixed = penalty_weights(n_classes - 1, n_features, 1.0,
                            penalize_first=penalize_first, free_slopes=True)
    restricted = np.where(fixed > 0, np.inf, 0.0)
    result = solve(loss, restricted, theta0, tol=tol, max_iter=max_iter)
    _, grad, _ = loss.derivatives(result.theta)
    penalised = fixed > 0
    top = float(np.max(np.abs(grad[penalised]), initial=0.0))
    return top, result


def path(loss, n_classes, n_features, alphas, *, penalize_first, tol, max_iter,
         start=None):
    """Warm-started solutions for decreasing ``alphas``; returns a list of results.

    Every solution is the exact constrained optimum, as :func:`solve` gives it:
    the first fit on the boundary is polished from its stalled point, and each fit
    after a polished boundary one runs only the last barrier stage from it
    (``warm_boundary``).
    """
    null = null_theta(loss.y, n_classes, n_features)
    theta = null if start is None else start
    results, warm = [], False
    for alpha in alphas:
        weights = penalty_weights(n_classes - 1, n_features, alpha,
                                  penalize_first=penalize_first, free_slopes=True)
        result = solve(loss, weights, theta, tol=tol, max_iter=max_iter,
                       warm_boundary=warm)
        results.append(result)
        theta = result.theta
        warm = result.at_boundary and result.polished
        if result.at_boundary and not result.polished:
            theta = (1.0 - RECENTER) * theta + RECENTER * null  # step back inside
    return results
