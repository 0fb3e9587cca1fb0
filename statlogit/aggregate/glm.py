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

import numpy as np
import scipy.optimize
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from statlogit._validation import check_sample_weight, check_scalar
from statlogit.aggregate._bags import (
    bag_responses,
    encode_bags,
    resolve_bags_argument,
    singleton_bags,
    validated_X,
)
from statlogit.aggregate._glm import (
    BINOMIAL,
    FAMILIES,
    bag_csr,
    check_range,
    glm_covariance,
    glm_objective,
    inverse_link,
    standardisation,
    warn_if_failed,
)
from statlogit.aggregate._inference import (
    AggregateInferenceMixin,
    Equilibration,
    check_aggregate_cov_type,
)
from statlogit.aggregate._path import require_finite_coefficients
from statlogit.aggregate.regressor import warn_if_bags_missing

__all__ = ["AggregateGLMRegressor", "glm_objective"]


class AggregateGLMRegressor(AggregateInferenceMixin, RegressorMixin, BaseEstimator):
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
        L-BFGS projected-gradient tolerance (in standardised units: the features are
        centred and scaled internally, so the fit does not depend on their units).
    cov_type : {"cluster", "nonrobust"}, default="cluster"
        ``"cluster"``: sandwich with bags as clusters (statsmodels' small-sample
        factor); ``"nonrobust"``: inverse Hessian, the model-based covariance for
        Poisson bag totals and singleton bags (for binomial bags the loss is a
        quasi-likelihood: use ``"cluster"``).

    Attributes
    ----------
    coef_ : numpy.ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
    n_bags_ : int
    bag_sizes_ : numpy.ndarray of shape (n_bags,)
        Bag sizes (total sample weight per bag).
    cov_, std_errors_, param_names_
        As in :class:`AggregateRegressor` (``(intercept, *coef)``).
    n_features_in_ : int
    """

    __metadata_request__fit = {"groups": False}

    def __init__(self, family="binomial", rho=0.0, fit_intercept=True, alpha=0.0,
                 max_iter=1000, tol=1e-10, cov_type="cluster"):
        self.family = family
        self.rho = rho
        self.fit_intercept = fit_intercept
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.cov_type = cov_type

    def _family_code(self):
        if not isinstance(self.family, str) or self.family not in FAMILIES:
            raise ValueError(
                f"family must be one of {sorted(FAMILIES)}; got {self.family!r}."
            )
        return FAMILIES[self.family]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = self.family == "poisson"
        return tags

    def fit(self, X, y, *, bags=None, groups=None, sample_weight=None):
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
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative instance weights (integer weights equal repeated rows).

        Returns
        -------
        self
        """
        family = self._family_code()
        rho = check_scalar(self.rho, name="rho", lower=0.0)
        alpha = check_scalar(self.alpha, name="alpha", lower=0.0)
        max_iter = check_scalar(self.max_iter, name="max_iter", lower=1, integer=True)
        tol = check_scalar(self.tol, name="tol", lower=0.0, include_lower=False)
        cov_type = check_aggregate_cov_type(self.cov_type)
        X = validated_X(self, X)
        labels = resolve_bags_argument(bags, groups)
        coded = singleton_bags(X.shape[0]) if labels is None else encode_bags(
            labels, X.shape[0])
        ybar = bag_responses(y, coded)
        check_range(ybar, family)
        weights = (np.ones(X.shape[0]) if sample_weight is None
                   else check_sample_weight(sample_weight, X.shape[0]))
        warn_if_bags_missing(labels, rho, type(self).__name__, neutral=None)
        shift, scale = standardisation(X, self.fit_intercept)
        Z = (X - shift) / scale
        order, bag_ptr = bag_csr(coded)
        with np.errstate(over="ignore", divide="ignore"):
            penalty = np.minimum(alpha / scale**2, 1e300) if alpha > 0 else 0.0
        args = (Z, order, bag_ptr, ybar, family, rho, penalty, self.fit_intercept, weights)
        result = scipy.optimize.minimize(
            glm_objective, self._start(X.shape[1], coded, ybar, family, weights),
            jac=True, method="L-BFGS-B", args=args,
            options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15, "maxcor": 20},
        )
        warn_if_failed(result, max_iter)
        p = X.shape[1]
        self.coef_ = result.x[:p] / scale
        self.intercept_ = (float(result.x[p] - self.coef_ @ shift) if self.fit_intercept
                           else 0.0)
        require_finite_coefficients(self.coef_, self.intercept_)
        self.n_iter_ = int(result.nit)
        self.n_bags_ = coded.n_bags
        self.bag_sizes_ = coded.sums(weights)
        eq = Equilibration(shift, scale, self.fit_intercept)
        # internal order (coef, intercept) -> (intercept, coef)
        perm = np.r_[p, :p] if self.fit_intercept else np.arange(p)
        self._set_inference(lambda: eq.covariance_back(glm_covariance(
            result.x, *args, coded.codes, cov_type)[np.ix_(perm, perm)]))
        return self

    def _start(self, p, bags, ybar, family, weights):
        if not self.fit_intercept:
            return np.zeros(p)
        sizes = bags.sums(weights)
        mean = np.clip(sizes @ ybar / sizes.sum(), 1e-6, None)
        if family == BINOMIAL:
            mean = min(mean, 1.0 - 1e-6)
        link = np.log(mean / (1 - mean)) if family == BINOMIAL else np.log(mean)
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
        return inverse_link(X @ self.coef_ + self.intercept_, self._family_code())

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
