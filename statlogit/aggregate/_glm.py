"""Model maths of the aggregate GLM: objective, standardisation, L-BFGS checks, covariance.

See :class:`statlogit.AggregateGLMRegressor` for the objective.
"""

import warnings

import numpy as np
import scipy.special
from sklearn.exceptions import ConvergenceWarning

from statlogit.aggregate._inference import frequency_correction, numerical_hessian
from statlogit.aggregate._kernels import BINOMIAL, POISSON, weighted_bag_glm_loss_grad
from statlogit.inference import sandwich_covariance

__all__ = ["bag_csr", "check_range", "glm_covariance", "glm_objective", "inverse_link",
           "standardisation", "warn_if_failed"]

FAMILIES = {"binomial": BINOMIAL, "poisson": POISSON}
#: Relative step of the central differences that give the Hessian for the covariance.
HESSIAN_STEP = 1e-5


def inverse_link(eta, family):
    return scipy.special.expit(eta) if family == BINOMIAL else np.exp(eta)


def glm_objective(params, X, order, bag_ptr, ybar, family, rho, alpha, fit_intercept,
                  weights=None):
    """Objective and gradient in ``params = (coef, intercept?)`` for L-BFGS.

    ``alpha`` is the ridge weight, a scalar or one weight per coefficient; the loss is
    divided by the total weight ``n``.
    """
    p = X.shape[1]
    weights = np.ones(X.shape[0]) if weights is None else weights
    n = weights.sum()
    coef = params[:p]
    intercept = params[p] if fit_intercept else 0.0
    loss, grad_eta = weighted_bag_glm_loss_grad(X @ coef + intercept, order, bag_ptr,
                                                ybar, family, rho, weights)
    value = loss / n + np.sum(alpha * coef**2)
    grad = X.T @ grad_eta / n + 2.0 * alpha * coef
    if fit_intercept:
        grad = np.append(grad, grad_eta.sum() / n)
    return value, grad


def bag_csr(bags):
    order = np.argsort(bags.codes, kind="stable").astype(np.int64)
    bag_ptr = np.concatenate([[0], np.cumsum(bags.sizes)]).astype(np.int64)
    return order, bag_ptr


#: A column whose spread is below this fraction of its magnitude counts as constant.
CONSTANT_RTOL = 1e-12
#: Largest gradient (in standardised units) accepted when L-BFGS stops abnormally.
GRADIENT_ATOL = 1e-6


def standardisation(X, fit_intercept):
    """Column shifts and scales: centred columns of unit standard deviation.

    Without intercept columns are only scaled (by their root mean square). Columns
    that are constant up to rounding are left unscaled (and centre to zero).
    """
    top = np.max(np.abs(X), axis=0) if X.shape[0] else np.ones(X.shape[1])
    top = np.where(top > 0, top, 1.0)
    unit = X / top
    shift = unit.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
    spread = np.sqrt(np.mean((unit - shift) ** 2, axis=0))
    constant = spread <= CONSTANT_RTOL
    scale = np.where(constant, 1.0, spread) * top
    shift = shift * top
    if fit_intercept:
        shift = np.where(constant, X[0] if X.shape[0] else 0.0, shift)
    return shift, scale


def warn_if_failed(result, max_iter):
    """Raise on divergence; ConvergenceWarning (with the iteration count) otherwise."""
    if not (np.all(np.isfinite(result.x)) and np.isfinite(result.fun)):
        raise ValueError("L-BFGS diverged (non-finite coefficients); add alpha > 0.")
    if result.nit >= max_iter:
        warnings.warn(
            f"L-BFGS did not converge in {result.nit} iterations (max_iter="
            f"{max_iter}); increase max_iter or alpha.", ConvergenceWarning, stacklevel=3)
    elif not result.success and np.max(np.abs(result.jac)) > GRADIENT_ATOL:
        warnings.warn(
            f"L-BFGS stopped after {result.nit} iterations ({result.message}) with "
            f"gradient {np.max(np.abs(result.jac)):.1e} in standardised units; the fit "
            "may be inaccurate (increase alpha or check for separation).",
            ConvergenceWarning, stacklevel=3)


def check_range(ybar, family):
    if family == BINOMIAL and (np.any(ybar < 0) or np.any(ybar > 1)):
        raise ValueError("family='binomial' needs bag responses (proportions) in [0, 1].")
    if family == POISSON and np.any(ybar < 0):
        raise ValueError("family='poisson' needs non-negative bag responses (mean counts).")




def glm_covariance(params, Z, order, bag_ptr, ybar, family, rho, penalty, fit_intercept,
                   weights, codes, cov_type):
    r"""Covariance of ``params`` (internal order: coefficients, then intercept).

    Bread: the Hessian of the summed objective by central differences of the analytic
    gradient; scores: per-instance :math:`\partial\ell/\partial\eta_i\, z_i` (their bag
    sums are the bags' estimating functions). ``"cluster"``: bags as clusters with
    statsmodels' factor (integer weights count as repeated rows); ``"nonrobust"``: the
    inverse Hessian (the exact likelihood for Poisson bag totals and for singleton
    bags; a quasi-likelihood for binomial bags).
    """
    total = weights.sum()
    args = (Z, order, bag_ptr, ybar, family, rho, penalty, fit_intercept, weights)
    k = params.shape[0]
    hessian = numerical_hessian(lambda b: glm_objective(b, *args)[1], params,
                                step=HESSIAN_STEP, factor=total)
    bread_inv = np.linalg.pinv(hessian, hermitian=True)
    if cov_type == "nonrobust":
        return bread_inv
    p = Z.shape[1]
    eta = Z @ params[:p] + (params[p] if fit_intercept else 0.0)
    _, grad_eta = weighted_bag_glm_loss_grad(eta, order, bag_ptr, ybar, family, rho,
                                             weights)
    design = np.column_stack([Z, np.ones(Z.shape[0])]) if fit_intercept else Z
    rows = weights > 0
    if np.sum(rows) <= k or np.unique(codes[rows]).shape[0] < 2:
        raise ValueError(f"Standard errors need more rows than parameters ({k}) and at "
                         "least two bags.")
    cov = sandwich_covariance(bread_inv, (grad_eta[:, None] * design)[rows],
                              cov_type="cluster", groups=codes[rows])
    return cov * frequency_correction(int(np.sum(rows)), float(total), k)
