r"""Accelerated proximal gradient (FISTA) with backtracking and adaptive restart.

Solves :math:`\min_x f(x) + g(x)` for a smooth :math:`f` given as a function returning
``(value, gradient)`` and a convex :math:`g` given by its proximal operator
:math:`\operatorname{prox}_{t g}(v) = \arg\min_u g(u) + \lVert u - v\rVert^2 / (2t)`.

References
----------
Beck & Teboulle (2009), *A fast iterative shrinkage-thresholding algorithm*, SIAM J.
Imaging Sci. O'Donoghue & Candès (2015), *Adaptive restart for accelerated gradient
schemes*, Found. Comput. Math.
"""

import math
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning


@dataclass
class OptimizeResult:
    """What a solver returns.

    Attributes
    ----------
    x : numpy.ndarray
        The solution.
    n_iter : int
        Iterations performed.
    converged : bool
        Whether the stopping criterion was met within ``max_iter``.
    residual : float
        Final optimality residual (sup norm of the gradient mapping for FISTA).
    step : float
        Final step size.
    """

    x: np.ndarray
    n_iter: int
    converged: bool
    residual: float
    step: float


def prox_l1(v, t, weights=1.0):
    r"""Soft-thresholding, the prox of :math:`t \sum_j w_j |v_j|`."""
    thresh = t * np.asarray(weights)
    return np.sign(v) * np.maximum(np.abs(v) - thresh, 0.0)


def _backtrack(smooth, prox, y, f_y, g_y, step, shrink):
    """Shrink ``step`` until the quadratic upper bound holds at the prox point.

    A non-finite value of ``f`` (an infeasible point, e.g. a negative probability)
    counts as a failed bound, so the step is shrunk until the iterate is feasible.
    """
    while True:
        x_new = prox(y - step * g_y, step)
        diff = x_new - y
        f_new, g_new = smooth(x_new)
        bound = f_y + float(g_y @ diff) + float(diff @ diff) / (2.0 * step)
        if math.isfinite(f_new) and f_new <= bound + 1e-12 * max(1.0, abs(f_y)):
            return x_new, f_new, g_new, step
        step *= shrink
        if step < 1e-20:
            raise FloatingPointError(
                "FISTA backtracking failed: the smooth part is not finite near the "
                "current point or its gradient is wrong."
            )


def fista(smooth, prox, x0, *, step=1.0, tol=1e-8, max_iter=10_000, shrink=0.5,
          restart=True, warn=True):
    r"""Minimise :math:`f(x) + g(x)` by FISTA with backtracking and restart.

    Parameters
    ----------
    smooth : callable
        ``smooth(x) -> (f(x), grad f(x))``. It may return ``inf`` (or NaN) at points
        outside the domain of :math:`f`; the line search then shrinks the step.
    prox : callable
        ``prox(v, t)``, the proximal operator of :math:`t g` at ``v``.
    x0 : numpy.ndarray
        Starting point, at which ``smooth`` must be finite.
    step : float
        Initial step size; the backtracking line search only shrinks it (by
        ``shrink``) until :math:`f(x^+) \le f(y) + \nabla f(y)^\top (x^+ - y) +
        \lVert x^+ - y\rVert^2/(2t)`.
    tol : float
        Stop when the sup norm of the gradient mapping
        :math:`G_t(y) = (y - \operatorname{prox}_{tg}(y - t\nabla f(y)))/t`, a KKT
        residual that is zero exactly at a minimiser, falls below ``tol``.
    max_iter : int
        Maximum number of iterations.
    shrink : float
        Step-size reduction factor in ``(0, 1)``.
    restart : bool
        Gradient-based adaptive restart (O'Donoghue & Candès): reset the momentum when
        :math:`(y - x^+)^\top (x^+ - x) > 0`.
    warn : bool
        Emit a ``ConvergenceWarning`` if ``max_iter`` is reached.

    Returns
    -------
    OptimizeResult
    """
    x = np.array(x0, dtype=np.float64, copy=True)
    f_y, g_y = smooth(x)
    if not math.isfinite(f_y):
        raise ValueError("The smooth part is not finite at the starting point x0.")
    y, theta = x.copy(), 1.0
    residual, n_iter = math.inf, 0
    while n_iter < max_iter:
        n_iter += 1
        x_new, f_new, g_new, step = _backtrack(smooth, prox, y, f_y, g_y, step, shrink)
        residual = float(np.max(np.abs(y - x_new))) / step if x.size else 0.0
        if residual <= tol:
            x = x_new
            break
        theta_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * theta * theta))
        if restart and float((y - x_new) @ (x_new - x)) > 0.0:
            theta_new, y, (f_y, g_y) = 1.0, x_new, (f_new, g_new)
        else:
            y = x_new + ((theta - 1.0) / theta_new) * (x_new - x)
            f_y, g_y = (f_new, g_new) if theta == 1.0 else smooth(y)
            if not math.isfinite(f_y):
                theta_new, y, f_y, g_y = 1.0, x_new, f_new, g_new
        x, theta = x_new, theta_new
    converged = residual <= tol
    if not converged and warn:
        warnings.warn(
            f"FISTA did not converge in {n_iter} iterations (gradient-mapping residual "
            f"{residual:.2e} > tol={tol:.1e}); increase max_iter or loosen tol.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return OptimizeResult(x=x, n_iter=n_iter, converged=converged, residual=residual,
                          step=step)
