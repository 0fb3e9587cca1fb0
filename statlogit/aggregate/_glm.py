"""Model maths of the aggregate GLM: objective, standardisation, L-BFGS checks, covariance.

See :class:`statlogit.AggregateGLMRegressor` for the objective.
"""

import warnings

import numpy as np
import scipy.special
from sklearn.exceptions import ConvergenceWarning

from statlogit.aggregate._inference import frequency_correction, numerical_hessian
from statlogit.inference import sandwich_covariance

__all__ = ["BINOMIAL", "POISSON", "bag_csr", "bag_glm_loss_grad", "check_range",
           "glm_covariance", "glm_objective", "inverse_link", "standardisation",
           "warn_if_failed", "weighted_bag_glm_loss_grad"]

#: Family codes: logistic link (bag responses are proportions in [0, 1]) and log link
#: (bag responses are mean counts).
BINOMIAL = 0
POISSON = 1
FAMILIES = {"binomial": BINOMIAL, "poisson": POISSON}
#: Relative step of the central differences that give the Hessian for the covariance.
HESSIAN_STEP = 1e-5


def inverse_link(eta, family):
    return scipy.special.expit(eta) if family == BINOMIAL else np.exp(eta)


def _xlogy_ratio(y, log_mu):
    """``y * (log(y) - log_mu)`` elementwise with ``0 * log 0 = 0``."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(y == 0.0, 0.0, y * (np.log(np.where(y > 0, y, 1.0)) - log_mu))


def _bag_log_mean_exp(values, codes, weights, active, n_bags, size):
    """Per bag ``log(sum(w * exp(values)) / W)`` over the rows with ``w > 0``, shifted by
    the bag maximum (``-inf`` for a bag without such rows)."""
    top = np.full(n_bags, -np.inf)
    np.maximum.at(top, codes[active], values[active])
    shift = np.where(np.isfinite(top), top, 0.0)
    terms = np.zeros(values.shape[0])
    terms[active] = weights[active] * np.exp(values[active] - shift[codes[active]])
    total = np.bincount(codes, weights=terms, minlength=n_bags)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(top), shift + np.log(total / size), -np.inf)


def bag_glm_loss_grad(eta, order, bag_ptr, ybar, family, rho):
    """Unweighted :func:`weighted_bag_glm_loss_grad` (every instance weight one)."""
    return weighted_bag_glm_loss_grad(eta, order, bag_ptr, ybar, family, rho,
                                      np.ones(eta.shape[0]))


def weighted_bag_glm_loss_grad(eta, order, bag_ptr, ybar, family, rho, weights):
    r"""Loss and its gradient in the linear predictor ``eta``, with instance weights.

    The loss is :math:`\sum_a K_a\, d(\bar y_a, \bar\mu_a) + \rho \sum_a \sum_{i\in
    B_a} w_i(\mu_i - \bar\mu_a)^2` with :math:`\mu_i = g^{-1}(\eta_i)`, :math:`K_a =
    \sum_{i\in B_a} w_i`, :math:`\bar\mu_a` the weighted bag mean of the :math:`\mu_i`
    and :math:`d` the unit deviance divided by two (binomial: Kullback-Leibler
    divergence of Bernoulli means; Poisson: :math:`\bar\mu - \bar y - \bar
    y\log(\bar\mu/\bar y)`). Log-means are computed by log-sum-exp, so extreme
    ``eta`` does not produce ``log(0)``. Integer weights equal repeated rows. Bags come
    in CSR form (bag ``a`` owns ``order[bag_ptr[a]:bag_ptr[a + 1]]``). Vectorised numpy
    (bag reductions by ``bincount``): as fast as a compiled loop, without compiling.

    Returns
    -------
    loss : float
    grad : numpy.ndarray of shape (n,)
        :math:`\partial\,\mathrm{loss}/\partial\eta_i` (per instance; their bag sums
        are the bags' score contributions).
    """
    eta = np.asarray(eta, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    n_bags = bag_ptr.shape[0] - 1
    codes = np.empty(eta.shape[0], dtype=np.int64)
    codes[order] = np.repeat(np.arange(n_bags), np.diff(bag_ptr))
    if family == BINOMIAL:
        log_mu, log_one_minus = -np.logaddexp(0.0, -eta), -np.logaddexp(0.0, eta)
    else:
        log_mu, log_one_minus = eta, np.zeros_like(eta)
    size = np.bincount(codes, weights=weights, minlength=n_bags)
    used = size > 0.0
    active = (weights > 0) & used[codes]
    size_safe = np.where(used, size, 1.0)
    log_mean = _bag_log_mean_exp(log_mu, codes, weights, active, n_bags, size_safe)
    mean = np.exp(log_mean)
    if family == BINOMIAL:
        log_mean_c = _bag_log_mean_exp(log_one_minus, codes, weights, active, n_bags,
                                       size_safe)
        bag_loss = size * (_xlogy_ratio(ybar, log_mean) + _xlogy_ratio(1.0 - ybar, log_mean_c))
    else:
        bag_loss = size * (mean - ybar + _xlogy_ratio(ybar, log_mean))
    a, w = codes[active], weights[active]
    lm, lmc = log_mu[active], log_one_minus[active]
    mu, y = np.exp(lm), ybar[a]
    with np.errstate(over="ignore", invalid="ignore"):
        if family == BINOMIAL:
            log_slope = lm + lmc
            slope = np.exp(log_slope)
            data = -y * np.exp(log_slope - log_mean[a]) + (1.0 - y) * np.exp(
                log_slope - log_mean_c[a])
        else:
            slope = mu
            data = mu - y * np.exp(lm - log_mean[a])
        spread = mu - mean[a]
        loss = float(np.sum(bag_loss[used]) + rho * np.sum(w * spread**2))
        grad = np.zeros(eta.shape[0])
        grad[active] = w * (data + 2.0 * rho * spread * slope)
    return loss, grad


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
