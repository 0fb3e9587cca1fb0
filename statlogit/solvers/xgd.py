r"""Cross-gradient descent (XGD) for sum-log-concave objectives (Achab, 2023).

For :math:`F(\theta) = -\log \sum_s p_s(\theta)` with log-concave :math:`p_s` and a
mixing distribution :math:`\mu` held fixed, the cross-gradient is
:math:`\nabla^\mu F(\theta) = \sum_s \mu_s \nabla(-\log p_s)(\theta)`, the gradient of
the convex majoriser :math:`G_\mu = \sum_s \mu_s (-\log p_s)`. XGD iterates
:math:`\theta_t = \theta_{t-1} - \gamma_t \nabla^\mu F(\theta_{t-1})` with
:math:`\gamma_t = D / (B \sqrt{t})` (Theorem 4.2, Remark 4.1 of the paper): if every
:math:`-\log p_s` is :math:`B`-Lipschitz, the :math:`\gamma`-weighted average of
:math:`F(\theta_{t-1}) - F(\eta)` is :math:`O(\log T / \sqrt{T})` for every
:math:`\eta` with :math:`\pi(\eta) = \mu` within distance :math:`D` of
:math:`\theta_0`. It does not promise the global minimum of :math:`F`.

The solver knows nothing about the model: it receives the cross-gradient (with
:math:`\mu` already fixed inside it) and, optionally, the objective :math:`F` so the
best iterate can be returned (the theorem bounds an average over iterates, and the best
iterate is at least as good as that average).

References
----------
M. Achab (2023), *Beyond log-concavity: theory and algorithm for sum-log-concave
optimization*, arXiv:2309.15298.
"""

import math

import numpy as np

from statlogit.solvers.result import OptimizeResult

__all__ = ["xgd"]


def xgd(cross_gradient, x0, *, radius, lipschitz, tol=1e-6, max_iter=1000,
        objective=None, callback=None):
    r"""Minimise by cross-gradient descent with the theorem's step rule.

    Parameters
    ----------
    cross_gradient : callable
        ``cross_gradient(x) -> ndarray``, :math:`\nabla^\mu F(x)` for the fixed
        :math:`\mu`.
    x0 : ndarray
        Starting point :math:`\theta_0`.
    radius : float
        :math:`D > 0`, the radius around ``x0`` in which the comparison points live.
    lipschitz : float
        :math:`B > 0`, a Lipschitz constant of every :math:`-\log p_s`.
    tol : float
        Stop when the sup norm of the cross-gradient is at most ``tol``.
    max_iter : int
        Maximum number of steps.
    objective : callable, optional
        ``objective(x) -> float``, :math:`F(x)`; if given, the iterate with the lowest
        objective is returned instead of the last one.
    callback : callable, optional
        Called as ``callback(t, x)`` after every step.

    Returns
    -------
    OptimizeResult
        ``x``, ``n_iter``, ``converged`` (the cross-gradient criterion was met),
        ``residual`` (final sup norm of the cross-gradient) and ``step`` (last
        :math:`\gamma_t`).
    """
    if radius <= 0 or lipschitz <= 0:
        raise ValueError("radius and lipschitz must be positive.")
    x = np.array(x0, dtype=np.float64)
    best_x, best_f = x.copy(), objective(x) if objective else math.inf
    residual, step, t = math.inf, 0.0, 0
    for t in range(1, max_iter + 1):
        g = cross_gradient(x)
        residual = float(np.max(np.abs(g)))
        if residual <= tol:
            t -= 1
            break
        step = radius / (lipschitz * math.sqrt(t))
        x = x - step * g
        if callback is not None:
            callback(t, x)
        if objective is not None:
            f = objective(x)
            if f < best_f:
                best_x, best_f = x.copy(), f
    final = best_x if objective is not None else x
    return OptimizeResult(x=final, n_iter=t, converged=residual <= tol,
                          residual=residual, step=step)
