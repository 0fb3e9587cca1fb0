r"""Proximal Newton with a log-barrier polish, for smooth losses on a polyhedral domain.

Minimises

.. math:: F(x) = f(x) + \sum_j w_j |x_j| + \tfrac12 \sum_j r_j x_j^2

over the open domain where :math:`f` is finite, with ``w`` the lasso weights
(0: unpenalised, ``inf``: fixed at 0) and ``r`` optional ridge weights. Each outer
iteration forms the exact gradient and Hessian of the smooth part, solves the
lasso-penalised quadratic model by coordinate descent and backtracks (Armijo) on the
true objective; steps never leave the domain (the loss reports the largest feasible
step). A fit whose optimum lies on the domain's boundary stalls there: it is finished
by a short log-barrier path (:func:`prox_newton` with ``polish``), the barrier
driven to zero.

The solver knows nothing about the model. The ``loss`` object supplies

``derivatives(x, barrier=0.0)``
    ``(value, gradient, hessian)`` of :math:`f` plus ``barrier`` times the loss's
    log-barrier (value ``inf`` and ``None`` derivatives outside the domain);
``value(x, barrier=0.0)``
    the same value alone;
``largest_step(x, direction)``
    the largest :math:`t` with :math:`x + t d` in the closed domain (``inf`` if none);
``min_gap(x)``
    the smallest barrier-guarded slack at ``x`` (``inf`` without barrier terms);
``barrier_weight()``
    the barrier's duality-gap bound per unit of ``barrier`` (number of barrier terms
    over the loss's normaliser; 0 when there are none);
``interior_point()``
    a strictly feasible point the polish steps back towards;
``line(x, direction)`` (optional)
    ``phi(t, barrier)``, the value at ``x + t * direction``, cheaper than ``value``
    (the barrier line search towards the wall calls it a dozen times).
"""

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from statlogit.solvers._kernels import lasso_qp_cd
from statlogit.solvers.result import OptimizeResult

__all__ = ["ProxNewtonResult", "prox_newton"]

ARMIJO = 0.25
MAX_HALVINGS = 60
MAX_SWEEPS = 1_000
RECENTER = 0.1
WARM_RECENTER = 1e-8
TIGHT = 1e-3
STALL = 1e-12
STALL_SHRINK = 0.1
QUADRATIC = 0.1
BARRIER_START = 1e-5
BARRIER_SHRINK = 100.0
BARRIER_GAP = 1e-9
BARRIER_BOUNDARY_FRACTION = 0.99
BOUNDARY_GAP = 1e-6
BARRIER_SWEEPS = 3
STAGE_TOL = 1e-3
GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0
BOUNDARY_SEARCH_RANGE = 1e-12
BARRIER_DECREMENT = 1e-12
BOUNDARY_SEARCH_STEPS = 8


@dataclass
class ProxNewtonResult(OptimizeResult):
    """:class:`~statlogit.solvers.result.OptimizeResult` with the boundary flags.

    ``at_boundary``: the optimum has a (near-)zero barrier slack (plain proximal
    Newton stalled there, or the polished solution ends with a slack below
    ``BOUNDARY_GAP``). ``polished``: ``x`` is the barrier-polished solution.
    ``residual`` is the largest entry of the last Newton direction.
    """

    at_boundary: bool = False
    polished: bool = False


class _Smooth:
    """The loss plus the ridge term :math:`\\tfrac12 \\sum_j r_j x_j^2`."""

    def __init__(self, loss, ridge):
        self.loss = loss
        self.ridge = None if ridge is None or not np.any(ridge) else ridge

    def value(self, x, barrier=0.0):
        value = self.loss.value(x, barrier)
        if self.ridge is not None:
            value += 0.5 * float(self.ridge @ (x * x))
        return value

    def line(self, x, direction):
        """``phi(t, barrier)``: :meth:`value` at ``x + t * direction`` (the loss's own
        cheap ``line`` when it has one)."""
        along = getattr(self.loss, "line", None)
        if along is None:
            return lambda t, barrier=0.0: self.value(x + t * direction, barrier)
        phi = along(x, direction)
        if self.ridge is None:
            return phi
        return lambda t, barrier=0.0: phi(t, barrier) + 0.5 * float(
            self.ridge @ ((x + t * direction) ** 2))

    def derivatives(self, x, barrier=0.0):
        value, grad, hess = self.loss.derivatives(x, barrier)
        if self.ridge is not None and grad is not None:
            value += 0.5 * float(self.ridge @ (x * x))
            grad = grad + self.ridge * x
            hess = hess + np.diag(self.ridge)
        return value, grad, hess


def _penalty(x, weights):
    finite = np.isfinite(weights)
    return float(weights[finite] @ np.abs(x[finite]))


def prox_newton(loss, weights, x0, *, ridge=None, tol, max_iter, polish=True,
                warm_boundary=False):
    """Proximal Newton with backtracking from a feasible ``x0``.

    Parameters
    ----------
    loss : object
        The smooth part (see the module docstring for what it supplies).
    weights : ndarray of shape (d,)
        Lasso weights (0 unpenalised, ``inf`` fixed at zero).
    x0 : ndarray of shape (d,)
        A strictly feasible start.
    ridge : ndarray of shape (d,), optional
        Ridge weights :math:`r_j \\ge 0`.
    tol : float
        Stop when the Newton direction's largest entry is at most ``tol`` (without a
        barrier also after a full step in the quadratic phase whose successor is
        predicted below ``tol / 10``; see :func:`_converges`).
    max_iter : int
        Total Newton iterations, the polish's included.
    polish : bool
        Finish a fit stalled on the boundary by the barrier path; without it the
        stalled (feasible, approximately optimal) point is returned.
    warm_boundary : bool
        ``x0`` is the polished boundary solution of a nearby problem: run only the
        last barrier stage from it.

    Returns
    -------
    ProxNewtonResult
        ``n_iter`` never exceeds ``max_iter``.
    """
    smooth = _Smooth(loss, ridge)
    x0 = np.asarray(x0, dtype=np.float64).ravel()
    if warm_boundary:
        start = ProxNewtonResult(x0, 0, True, 0.0, objective=_objective(smooth, x0, weights),
                                 at_boundary=True)
        return _barrier_polish(smooth, weights, start, tol=tol, max_iter=max_iter,
                               warm=True)
    result = _newton(smooth, weights, x0, tol=tol, max_iter=max_iter)
    if result.at_boundary and polish and result.n_iter < max_iter:
        result = _barrier_polish(smooth, weights, result, tol=tol, max_iter=max_iter)
    return result


def _objective(smooth, x, weights):
    return smooth.value(x) + _penalty(x, weights)


def _newton(smooth, weights, x0, *, tol, max_iter, barrier=0.0, decrement=np.inf):
    """The proximal-Newton loop on the smooth part (+ ``barrier``) + penalty.

    Without a barrier it exits flagging ``at_boundary`` on a stall against the
    domain's boundary; with one the barrier keeps iterates away from it. It stops
    when the direction's largest entry is at most ``tol`` and the model's decrease
    at most ``decrement`` relative to the objective.
    """
    x = x0.copy()
    value, grad, hess = smooth.derivatives(x, barrier)
    if not np.isfinite(value):
        raise ValueError("The starting point is outside the loss's domain.")
    objective = value + _penalty(x, weights)
    converged, at_boundary, n_iter, residual, step = False, False, 0, np.inf, np.nan
    last_largest = previous_residual = np.inf
    while n_iter < max_iter:
        n_iter += 1
        if barrier:
            target = _qp_barrier(hess, grad, x, weights, 0.1 * tol)
        else:
            target, _ = lasso_qp_cd(hess, grad, x, x, weights, 0.1 * tol, MAX_SWEEPS)
        direction = target - x
        residual = float(np.max(np.abs(direction), initial=0.0))
        decrease = grad @ direction + _penalty(target, weights) - (objective - value)
        if residual <= tol and -decrease <= decrement * max(1.0, abs(objective)):
            converged = True
            break
        if not decrease < -1e-14 * max(1.0, abs(objective)):
            # The model's decrease is below the objective's rounding: the line search
            # cannot see it, but the Newton step still refines x (flat directions,
            # e.g. a rare class's boundary); take it if feasible and not worse.
            converged = True
            if smooth.loss.largest_step(x, direction) > 1.0:
                trial = smooth.value(target, barrier) + _penalty(target, weights)
                if trial <= objective + 1e-13 * max(1.0, abs(objective)):
                    x, objective, step = target, trial, 1.0
            break
        largest = smooth.loss.largest_step(x, direction)
        fraction = BARRIER_BOUNDARY_FRACTION if barrier else 0.99
        step = None
        if barrier and largest < 1.0:
            step = _boundary_step(smooth, weights, x, direction, largest, objective,
                                  barrier)
        if step is None:
            step = _line_search(smooth, weights, x, direction, objective, decrease,
                                min(1.0, fraction * largest), barrier)
        if step is None:
            break
        x = x + step * direction
        scale = max(1.0, abs(objective))
        if step == 1.0 and not barrier and _converges(
                residual, previous_residual, decrease, tol=tol,
                decrement=decrement * scale):
            objective = smooth.value(x) + _penalty(x, weights)
            converged = True
            break
        previous_residual = residual
        value, grad, hess = smooth.derivatives(x, barrier)
        previous, objective = objective, value + _penalty(x, weights)
        # without a barrier, a stall against the boundary: no progress, or a second
        # boundary-cut step at a fraction of the first (a gap closing geometrically)
        if barrier == 0.0 and largest < 1.0 and (
                previous - objective <= STALL * max(1.0, abs(objective))
                or largest < STALL_SHRINK * last_largest):
            converged = at_boundary = True
            break
        last_largest = largest
    return ProxNewtonResult(x, n_iter, converged, residual, step, objective, at_boundary)


def _converges(residual, previous, decrease, *, tol, decrement):
    r"""Whether a full Newton step of size ``residual`` ends the iteration.

    In the quadratic phase (the step at most ``QUADRATIC`` times the previous one)
    the next direction is predicted as :math:`r_k^3 / r_{k-1}^2`; when that is below
    ``tol / 10`` (and the model decrease, which falls with its square, below
    ``decrement``) the point after the step is more accurate than the one at which
    a computed direction of size ``tol`` would stop, so the Hessian that would only
    confirm it is not formed.
    """
    if not (np.isfinite(previous) and residual <= QUADRATIC * previous):
        return False
    predicted = residual * (residual / previous) ** 2
    return predicted <= 0.1 * tol and -decrease * (predicted / residual) ** 2 <= decrement


def _barrier_polish(smooth, weights, start, *, tol, max_iter, warm=False):
    r"""Finish a fit stalled on the boundary by a short log-barrier path.

    Minimises smooth part + penalty + :math:`\mu` (barrier) for :math:`\mu` falling
    by ``BARRIER_SHRINK`` from ``BARRIER_START`` until the barrier's duality-gap bound
    :math:`\mu \cdot` ``barrier_weight()`` is below ``BARRIER_GAP`` relative to the
    objective, warm-started from the stalled (feasible) point moved ``RECENTER`` of
    the way to the loss's interior point. With ``warm`` (``start`` is a polished
    solution of a nearby problem, already close to its barrier path) only that last
    stage runs, from ``start`` moved only ``WARM_RECENTER`` of the way (enough to
    lift slacks far below the barrier's scale, which would stall Newton). Every
    iterate keeps every slack strictly positive; the stages share ``max_iter`` with
    the plain Newton run before them. The result replaces ``start`` only if its
    true objective is lower.
    """
    loss = smooth.loss
    weight = loss.barrier_weight()
    if weight == 0:
        return start
    last = BARRIER_GAP * max(1.0, abs(start.objective)) / weight
    # Step back inside first: the barrier's curvature mu / gap^2 at a gap of
    # ~1e-15 would swamp the quadratic model (Newton would stop there at once).
    interior = loss.interior_point()
    move, mu = RECENTER, BARRIER_START
    if warm:
        tight = loss.min_gap(start.x) < TIGHT * last
        move, mu = (WARM_RECENTER if tight else 0.0), last
    x = (1.0 - move) * start.x + move * interior
    n_iter, stage, final = start.n_iter, None, False
    while n_iter < max_iter:
        final = mu <= last
        # the last stage also needs a small decrease: the barrier's stiff curvature
        # (mu / gap^2) keeps directions short while the model still promises one
        stage = _newton(smooth, weights, x, tol=tol if final else max(tol, STAGE_TOL),
                        max_iter=max_iter - n_iter, barrier=mu,
                        decrement=BARRIER_DECREMENT if final else np.inf)
        x, n_iter = stage.x, n_iter + stage.n_iter
        if final:
            break
        mu /= BARRIER_SHRINK
    reached = stage is not None and final  # the last stage ran within max_iter
    objective = _objective(smooth, x, weights)
    if not objective <= start.objective:
        return ProxNewtonResult(start.x, n_iter, start.converged and reached,
                                start.residual, start.step, start.objective, True)
    return ProxNewtonResult(x, n_iter, reached and stage.converged, stage.residual,
                            stage.step, objective, loss.min_gap(x) < BOUNDARY_GAP, True)


def _qp_barrier(hess, grad, x, weights, tol):
    """The lasso-penalised quadratic model's minimiser for barrier iterations.

    Near-active barrier slacks make the Hessian badly conditioned (curvature
    ``mu / gap^2``), where coordinate descent alone crawls and can stop early. A few
    coordinate-descent sweeps guess the support and signs; an active-set method then
    finishes exactly: minimise the model on the support with the signs fixed (one
    linear solve), stop at the first sign change and drop that coordinate, or, once
    sign-consistent, add the zero coordinates violating their
    KKT conditions most (all within half of the worst violation). A support seen
    before (cycling on rounding noise) ends it with coordinate descent.
    """
    free_weight = np.isfinite(weights)
    z, _ = lasso_qp_cd(hess, grad, x, x, weights, tol, BARRIER_SWEEPS)
    support = free_weight & ((z != 0.0) | (weights == 0.0))
    signs = np.where(weights > 0.0, np.sign(z), 0.0)
    seen = set()
    for _ in range(3 * x.size + 10):
        key = support.tobytes() + signs.tobytes()
        if key in seen:  # cycling on rounding noise: finish by coordinate descent
            break
        seen.add(key)
        rest = ~support
        rhs = -(grad[support] + hess[np.ix_(support, rest)] @ (z[rest] - x[rest])
                + weights[support] * signs[support])
        step = _solve_psd(hess[np.ix_(support, support)], rhs)
        candidate = z.copy()
        candidate[support] = x[support] + step
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
        slope = grad + hess @ (z - x)
        zero = np.flatnonzero(~support & free_weight)
        if zero.size == 0:
            return z
        excess = np.abs(slope[zero]) - weights[zero]
        if np.max(excess) <= tol:
            return z
        # add every violator of its KKT condition at once (one linear solve, not one
        # per coordinate); a wrong guess is dropped again at its sign change
        added = zero[excess > max(tol, 0.5 * float(np.max(excess)))]
        support[added], signs[added] = True, -np.sign(slope[added])
    z, _ = lasso_qp_cd(hess, grad, x, z, weights, tol, MAX_SWEEPS)
    return z


def _solve_psd(matrix, rhs):
    """Solve with a positive semi-definite ``matrix``: Cholesky, or the minimum-norm
    least-squares solution when it is singular (e.g. duplicated columns)."""
    try:
        step = cho_solve(cho_factor(matrix, lower=True, check_finite=False), rhs,
                         check_finite=False)
        if np.all(np.isfinite(step)):
            return step
    except np.linalg.LinAlgError:
        pass
    cutoff = np.finfo(np.float64).eps * matrix.shape[0]
    return np.linalg.lstsq(matrix, rhs, rcond=cutoff)[0]


def _boundary_step(smooth, weights, x, direction, largest, objective, barrier):
    r"""The minimising step along a barrier direction that the domain cuts short.

    With a barrier, a direction that would cross the boundary at ``largest < 1``
    (a gap the quadratic model does not yet see closing) gives a convex objective
    on :math:`(0, \text{largest})` that rises to infinity at the wall. Its minimiser
    is found by golden section in :math:`\log(\text{largest} - t)`, the distance to
    the wall, so that the closing gap lands at its barrier equilibrium in one step
    instead of shrinking by the boundary fraction per iteration (three or four
    Newton iterations per newly active gap). ``None`` if that is no descent (the
    caller backtracks instead).
    """
    phi = smooth.line(x, direction)

    def value(log_distance):
        t = largest - np.exp(log_distance)
        return phi(t, barrier) + _penalty(x + t * direction, weights)

    low, high = np.log(largest) + np.log(BOUNDARY_SEARCH_RANGE), np.log(largest)
    a, b = high - GOLDEN * (high - low), low + GOLDEN * (high - low)
    fa, fb = value(a), value(b)
    for _ in range(BOUNDARY_SEARCH_STEPS):
        if fa < fb:
            high, b, fb = b, a, fa
            a = high - GOLDEN * (high - low)
            fa = value(a)
        else:
            low, a, fa = a, b, fb
            b = low + GOLDEN * (high - low)
            fb = value(b)
    step = float(largest - np.exp(a if fa < fb else b))
    # the step's point recomputed from x (not from the predictors along the line,
    # which round differently a hair from the wall) must be inside and lower
    candidate = x + step * direction
    if not smooth.value(candidate, barrier) + _penalty(candidate, weights) < objective:
        return None
    # gaps already near the wall shrink no faster than the boundary fraction lets
    # them (the search is for gaps the model does not see closing yet)
    loss = smooth.loss
    if loss.min_gap(candidate) < (1.0 - BARRIER_BOUNDARY_FRACTION) * loss.min_gap(x):
        return None
    return step


def _line_search(smooth, weights, x, direction, objective, decrease, step, barrier=0.0):
    slack = 1e-13 * max(1.0, abs(objective))
    for _ in range(MAX_HALVINGS):
        candidate = x + step * direction
        trial = smooth.value(candidate, barrier) + _penalty(candidate, weights)
        if trial <= objective + ARMIJO * step * decrease + slack:
            return step
        step *= 0.5
    return None
