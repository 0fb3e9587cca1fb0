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

__all__ = ["INIT_SCALE", "SOLVE", "StandardCoordinates", "random_start", "solve_em",
           "solve_lbfgs", "solve_xgd"]

INIT_SCALE = 2.0
M_STEP_MAX_ITER = 50


class StandardCoordinates:
    r"""The exact affine reparametrisation in which L-BFGS and EM work.

    With the weighted column means :math:`\bar x_j` and standard deviations :math:`s_j`
    (``s_j = 1`` for constant or negligible columns),

    .. math::

        W_{k\cdot j} = V_{k\cdot j} / s_j, \qquad
        b_k = c_k - \sum_j W_{k\cdot j} \bar x_j ,

    so :math:`W x + b = V \tilde x + c` with :math:`\tilde x_j = (x_j - \bar x_j)/s_j`.
    The objective is unchanged (the penalty :math:`\lVert W\rVert^2 =
    \lVert V / s\rVert^2` is still on the original coefficients and intercepts stay
    unpenalised): only the coordinates the optimiser walks in change. Shifting a column,
    or rescaling all columns together with ``C``, then gives the same iterates, and the
    stopping test ``tol`` is on the gradient in standardised units.
    """

    def __init__(self, objective):
        X, w = objective.X, objective.weights
        # moments of X / max|X| per column, so that 1e300-sized columns cannot overflow
        size = np.max(np.abs(X), axis=0)
        size[size == 0.0] = 1.0
        centre = w @ (X / size)
        spread = np.sqrt(w @ (X / size - centre) ** 2)
        self.centre = centre * size
        spread = np.minimum(spread * size, np.finfo(float).max)
        spread[spread <= 1e-12 * (1.0 + np.abs(self.centre))] = 1.0
        self.spread = spread
        self.n_coef, self.shape = objective.n_coef, objective.shape

    def to_theta(self, phi):
        """Original parameters ``concat(W, b)`` from standardised ``concat(V, c)``."""
        coef = phi[: self.n_coef].reshape(self.shape) / self.spread
        intercept = phi[self.n_coef:].reshape(self.shape[:2]) - coef @ self.centre
        return np.concatenate([coef.ravel(), intercept.ravel()])

    def to_phi(self, theta):
        """Standardised parameters from original ones (the inverse of :meth:`to_theta`)."""
        coef = theta[: self.n_coef].reshape(self.shape)
        intercept = theta[self.n_coef:].reshape(self.shape[:2]) + coef @ self.centre
        return np.concatenate([(coef * self.spread).ravel(), intercept.ravel()])

    def gradient(self, grad_theta):
        """The gradient in standardised coordinates (the chain rule through
        :meth:`to_theta`)."""
        grad_coef = grad_theta[: self.n_coef].reshape(self.shape)
        grad_intercept = grad_theta[self.n_coef:].reshape(self.shape[:2])
        grad_v = (grad_coef - grad_intercept[..., None] * self.centre) / self.spread
        return np.concatenate([grad_v.ravel(), grad_intercept.ravel()])

    def minimize(self, fun, theta0, options, args=(), callback=None):
        """``scipy.optimize.minimize(method="L-BFGS-B")`` of ``fun(theta, *args) ->
        (value, grad)`` in standardised coordinates; returns the result with ``x`` in
        the original ones."""

        def standardised(phi, *extra):
            value, grad = fun(self.to_theta(phi), *extra)
            return value, self.gradient(grad)

        result = minimize(
            standardised, self.to_phi(theta0), args=args, jac=True, method="L-BFGS-B",
            callback=None if callback is None else (
                lambda phi: callback(self.to_theta(phi))),
            options=options,
        )
        result.x = self.to_theta(result.x)
        return result


def random_start(objective, rng):
    """A random non-zero start whose hyperplanes cut through the data.

    In standardised coordinates (:class:`StandardCoordinates`: weighted mean and
    standard deviation, so a weight of 2 and a duplicated row give the same start),
    two-class hyperplanes get a random unit normal times ``INIT_SCALE`` and pass within
    one standard deviation of the centre; softmax coins get Gaussian logit matrices of
    the same scale.
    """
    m, g, d = objective.shape
    if g == 1:
        normal = rng.standard_normal((m, g, d))
        coef = INIT_SCALE * normal / np.linalg.norm(normal, axis=-1, keepdims=True)
        offset = -INIT_SCALE * rng.uniform(-1.0, 1.0, size=(m, g))
    else:
        coef = INIT_SCALE * rng.standard_normal((m, g, d)) / np.sqrt(d)
        offset = INIT_SCALE * rng.standard_normal((m, g))
    return StandardCoordinates(objective).to_theta(
        np.concatenate([coef.ravel(), offset.ravel()]))


def solve_lbfgs(objective, theta0, max_iter, tol, callback=None):
    """L-BFGS-B on the exact gradient, in :class:`StandardCoordinates`; returns
    ``(theta, n_iter, converged)``."""
    result = StandardCoordinates(objective).minimize(
        objective.value_and_grad, theta0, callback=callback,
        options={"maxiter": max_iter, "maxfun": 2 * max_iter + 20, "gtol": tol,
                 "ftol": 64 * np.finfo(float).eps, "maxls": 50},
    )
    return result.x, result.nit, result.status != 1


def solve_xgd(objective, theta0, max_iter, tol, callback=None):
    """The paper's XGD: mu fixed at the start, steps D / (B sqrt(t)).

    Run in :class:`StandardCoordinates` (sum-log-concavity and Theorem 4.2 survive an
    affine reparametrisation, Prop. 3.1), with :math:`D` and :math:`B` measured there.
    """
    coords = StandardCoordinates(objective)
    q_ref = objective.posterior(theta0)[2]
    phi0 = coords.to_phi(theta0)
    standard_rows = (objective.X - coords.centre) / coords.spread
    result = xgd(
        lambda phi: coords.gradient(objective.surrogate(coords.to_theta(phi), q_ref)[1]),
        phi0, radius=max(1.0, float(np.linalg.norm(phi0))),
        lipschitz=objective.lipschitz(standard_rows), tol=tol, max_iter=max_iter,
        objective=lambda phi: objective.value(coords.to_theta(phi)),
        callback=None if callback is None else (
            lambda t, phi: callback(coords.to_theta(phi))),
    )
    return coords.to_theta(result.x), result.n_iter, result.converged


def solve_em(objective, theta0, max_iter, tol, callback=None):
    """EM (beyond the paper): refresh mu, then minimise the convex majoriser."""
    coords = StandardCoordinates(objective)
    theta, value = theta0, objective.value(theta0)
    for iteration in range(1, max_iter + 1):
        q_ref = objective.posterior(theta)[2]
        theta = coords.minimize(
            objective.surrogate, theta, args=(q_ref,),
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
