r"""Fit helpers of checkered regression: random starts and the three solvers.

Every solver has the signature ``solve(objective, theta0, max_iter, tol,
callback=None) -> (theta, n_iter, converged)`` on a
:class:`~statlogit.checkered.CheckeredObjective` (the penalised negative log-likelihood
divided by :math:`C\sum_i w_i`); :data:`SOLVE` maps the ``solver`` names of
:class:`~statlogit.CheckeredClassifier` to them. The model-agnostic XGD iteration lives
in :func:`statlogit.solvers.xgd`; this module only supplies the model (the
cross-gradient at fixed :math:`\mu`).
"""

import numpy as np
from scipy.optimize import minimize

from statlogit.solvers.xgd import xgd

__all__ = ["INIT_SCALE", "SOLVE", "random_start", "solve_em", "solve_lbfgs", "solve_xgd"]

INIT_SCALE = 2.0
M_STEP_MAX_ITER = 50


def random_start(objective, rng):
    """A random non-zero start whose hyperplanes cut through the data.

    In standardised coordinates (weighted mean and standard deviation, so a weight of 2
    and a duplicated row give the same start), two-class hyperplanes get a random unit
    normal times ``INIT_SCALE`` and pass within one standard deviation of the centre;
    softmax coins get Gaussian logit matrices of the same scale.
    """
    X, w = objective.X, objective.weights
    centre = w @ X
    spread = np.sqrt(w @ (X - centre) ** 2)
    spread[spread <= 1e-12 * (1.0 + np.abs(centre))] = 1.0
    m, g, d = objective.shape
    if g == 1:
        normal = rng.standard_normal((m, g, d))
        coef = INIT_SCALE * normal / np.linalg.norm(normal, axis=-1, keepdims=True)
        offset = -INIT_SCALE * rng.uniform(-1.0, 1.0, size=(m, g))
    else:
        coef = INIT_SCALE * rng.standard_normal((m, g, d)) / np.sqrt(d)
        offset = INIT_SCALE * rng.standard_normal((m, g))
    coef = coef / spread
    intercept = offset - coef @ centre
    return np.concatenate([coef.ravel(), intercept.ravel()])


def solve_lbfgs(objective, theta0, max_iter, tol, callback=None):
    """L-BFGS-B on the exact gradient; returns ``(theta, n_iter, converged)``."""
    result = minimize(
        objective.value_and_grad, theta0, jac=True, method="L-BFGS-B",
        callback=callback,
        options={"maxiter": max_iter, "maxfun": 2 * max_iter + 20, "gtol": tol,
                 "ftol": 64 * np.finfo(float).eps, "maxls": 50},
    )
    return result.x, result.nit, result.status != 1


def solve_xgd(objective, theta0, max_iter, tol, callback=None):
    """The paper's XGD: mu fixed at the start, steps D / (B sqrt(t))."""
    q_ref = objective.posterior(theta0)[2]
    result = xgd(
        lambda theta: objective.surrogate(theta, q_ref)[1], theta0,
        radius=max(1.0, float(np.linalg.norm(theta0))),
        lipschitz=objective.lipschitz(), tol=tol, max_iter=max_iter,
        objective=objective.value,
        callback=None if callback is None else (lambda t, theta: callback(theta)),
    )
    return result.x, result.n_iter, result.converged


def solve_em(objective, theta0, max_iter, tol, callback=None):
    """EM (beyond the paper): refresh mu, then minimise the convex majoriser."""
    theta, value = theta0, objective.value(theta0)
    for iteration in range(1, max_iter + 1):
        q_ref = objective.posterior(theta)[2]
        theta = minimize(
            objective.surrogate, theta, args=(q_ref,), jac=True, method="L-BFGS-B",
            options={"maxiter": M_STEP_MAX_ITER, "gtol": 0.1 * tol},
        ).x
        if callback is not None:
            callback(theta)
        new_value = objective.value(theta)
        if value - new_value <= tol * max(1.0, abs(new_value)):
            return theta, iteration, True
        value = new_value
    return theta, max_iter, False


SOLVE = {"lbfgs": solve_lbfgs, "xgd": solve_xgd, "em": solve_em}
