r"""Aggregate learning for binary and count responses (beyond the paper, which is linear).

The bag aggregate is the mean of the instance means, :math:`\bar\mu_a = k_a^{-1}
\sum_{i\in B_a} g^{-1}(x_i^\top\theta + c)`. The objective is

.. math::

    \frac1n \sum_a k_a\, d(\bar y_a, \bar\mu_a)
    + \rho\,\frac1n\sum_a\sum_{i\in B_a} (\mu_i - \bar\mu_a)^2
    + \alpha\lVert\theta\rVert_2^2,

with :math:`d` half the unit deviance. For Poisson responses the bag total is
Poisson with mean :math:`k_a\bar\mu_a`, so the bag term is the exact negative
log-likelihood (up to a constant). For binary responses the exact likelihood of a bag
count is Poisson-binomial; the binomial cross-entropy on :math:`\bar\mu_a` used here is
its quasi-likelihood (the DLLP "proportion loss"). The bag-level loss is not convex in
:math:`\theta`; it is minimised by L-BFGS with gradients from a numba kernel.
"""

import warnings

import numpy as np
import scipy.optimize
import scipy.special
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from statlogit._validation import check_scalar
from statlogit.aggregate._bags import (
    bag_responses,
    encode_bags,
    resolve_bags_argument,
    singleton_bags,
    validated_X,
)
from statlogit.aggregate._kernels import BINOMIAL, POISSON, bag_glm_loss_grad
from statlogit.aggregate.regressor import warn_if_bags_missing

__all__ = ["AggregateGLMRegressor", "glm_objective"]

FAMILIES = {"binomial": BINOMIAL, "poisson": POISSON}


def _inverse_link(eta, family):
    return scipy.special.expit(eta) if family == BINOMIAL else np.exp(eta)


def glm_objective(params, X, order, bag_ptr, ybar, family, rho, alpha, fit_intercept):
    """Objective and gradient in ``params = (coef, intercept?)`` for L-BFGS.

    ``alpha`` is the ridge weight, a scalar or one weight per coefficient.
    """
    n, p = X.shape
    coef = params[:p]
    intercept = params[p] if fit_intercept else 0.0
    loss, grad_eta = bag_glm_loss_grad(X @ coef + intercept, order, bag_ptr, ybar,
                                       family, rho)
    value = loss / n + np.sum(alpha * coef**2)
    grad = X.T @ grad_eta / n + 2.0 * alpha * coef
    if fit_intercept:
        grad = np.append(grad, grad_eta.sum() / n)
    return value, grad


def _csr(bags):
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


def _warn_if_failed(result, max_iter):
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


def _check_range(ybar, family):
    if family == BINOMIAL and (np.any(ybar < 0) or np.any(ybar > 1)):
        raise ValueError("family='binomial' needs bag responses (proportions) in [0, 1].")
    if family == POISSON and np.any(ybar < 0):
        raise ValueError("family='poisson' needs non-negative bag responses (mean counts).")


class AggregateGLMRegressor(RegressorMixin, BaseEstimator):
    r"""GLM fitted from bag-mean responses (binary or count), bag-level to instance-level.

    Minimises (by L-BFGS, numba gradients)

    .. math::

        \frac1n \sum_a k_a\, d(\bar y_a, \bar\mu_a)
        + \rho\,\frac1n\sum_a\sum_{i\in B_a} (\mu_i - \bar\mu_a)^2
        + \alpha\lVert\theta\rVert_2^2,
        \qquad \bar\mu_a = \frac1{k_a}\sum_{i\in B_a} g^{-1}(x_i^\top\theta + c),

    where :math:`d` is half the binomial or Poisson unit deviance. This extends the
    linear estimator of Javanmard et al. (2024) and is *not* in the paper. With bags of
    size one it is ordinary logistic / Poisson regression. By Lemma 2 of the paper the
    instance-level loss lies between :math:`L_{bag}` and :math:`L_{bag} + (\lambda/2)R`
    for a loss with curvature at most :math:`\lambda`: for the cross-entropy near
    :math:`\bar\mu = 1/2` this means ``rho`` around 2, so tune ``rho`` beyond [0, 1].

    Parameters
    ----------
    family : {"binomial", "poisson"}, default="binomial"
        ``"binomial"``: bag responses are proportions of ones (logistic link).
        ``"poisson"``: bag responses are mean counts (log link).
    rho : float, default=0.0
        Weight of the within-bag spread of the predicted means.
    fit_intercept : bool, default=True
    alpha : float, default=0.0
        Ridge penalty on the slopes.
    max_iter : int, default=1000
        L-BFGS iteration limit.
    tol : float, default=1e-10
        L-BFGS projected-gradient tolerance.

    Attributes
    ----------
    coef_ : numpy.ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
    n_bags_ : int
    n_features_in_ : int
    """

    def __init__(self, family="binomial", rho=0.0, fit_intercept=True, alpha=0.0,
                 max_iter=1000, tol=1e-10):
        self.family = family
        self.rho = rho
        self.fit_intercept = fit_intercept
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol

    def _family_code(self):
        if self.family not in FAMILIES:
            raise ValueError(
                f"family must be one of {sorted(FAMILIES)}; got {self.family!r}."
            )
        return FAMILIES[self.family]

    def fit(self, X, y, *, bags=None, groups=None):
        """Fit from bag-level responses.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_bags,)
            Per-instance values constant within bags, or one value per bag ordered as
            the sorted unique bag labels (proportions for ``"binomial"``, mean counts
            for ``"poisson"``).
        bags, groups : array-like of shape (n_samples,), optional
            Bag labels (``groups`` is an alias); ``None`` means singleton bags.

        Returns
        -------
        self
        """
        family = self._family_code()
        rho = check_scalar(self.rho, name="rho", lower=0.0)
        alpha = check_scalar(self.alpha, name="alpha", lower=0.0)
        max_iter = check_scalar(self.max_iter, name="max_iter", lower=1, integer=True)
        tol = check_scalar(self.tol, name="tol", lower=0.0, include_lower=False)
        X = validated_X(self, X)
        labels = resolve_bags_argument(bags, groups)
        coded = singleton_bags(X.shape[0]) if labels is None else encode_bags(
            labels, X.shape[0])
        ybar = bag_responses(y, coded)
        _check_range(ybar, family)
        warn_if_bags_missing(labels, rho, type(self).__name__, neutral=None)
        shift, scale = standardisation(X, self.fit_intercept)
        Z = (X - shift) / scale
        order, bag_ptr = _csr(coded)
        start = self._start(X.shape[1], coded, ybar, family)
        with np.errstate(over="ignore", divide="ignore"):
            penalty = np.minimum(alpha / scale**2, 1e300) if alpha > 0 else 0.0
        args = (Z, order, bag_ptr, ybar, family, rho, penalty, self.fit_intercept)
        result = scipy.optimize.minimize(
            glm_objective, start, jac=True, method="L-BFGS-B", args=args,
            options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15, "maxcor": 20},
        )
        _warn_if_failed(result, max_iter)
        p = X.shape[1]
        self.coef_ = result.x[:p] / scale
        self.intercept_ = (float(result.x[p] - self.coef_ @ shift) if self.fit_intercept
                           else 0.0)
        self.n_iter_ = int(result.nit)
        self.n_bags_ = coded.n_bags
        return self

    def _start(self, p, bags, ybar, family):
        if not self.fit_intercept:
            return np.zeros(p)
        mean = np.clip(bags.sizes @ ybar / bags.sizes.sum(), 1e-6, None)
        if family == BINOMIAL:
            mean = min(mean, 1.0 - 1e-6)
        link = scipy.special.logit(mean) if family == BINOMIAL else np.log(mean)
        return np.append(np.zeros(p), link)

    def predict(self, X):
        """Instance means :math:`g^{-1}(x_i^\\top\\hat\\theta + \\hat c)`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validated_X(self, X, reset=False)
        return _inverse_link(X @ self.coef_ + self.intercept_, self._family_code())

    def predict_bags(self, X, bags):
        """Bag aggregates :math:`\\bar\\mu_a`, ordered as the sorted unique bags.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        bags : array-like of shape (n_samples,)

        Returns
        -------
        numpy.ndarray of shape (n_bags,)
        """
        means = self.predict(X)
        return encode_bags(bags, means.shape[0], min_bags=1).means(means)
