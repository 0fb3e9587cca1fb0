r"""Learning from aggregate responses: bag-level, instance-level and interpolating losses.

Javanmard, Chen, Mirrokni, Badanidiyuru and Fu (ICLR 2024), "Learning from Aggregate
Responses: Instance Level versus Bag Level Loss Functions". Instances are grouped into
disjoint bags :math:`B_1, \dots, B_m` of sizes :math:`k_a`; every feature vector
:math:`x_i` is seen, but only the bag means :math:`\bar y_a` of the responses.

With :math:`f_i = x_i^\top\theta + c` and :math:`\bar f_a` the bag mean of the
predictions, the estimators minimise

.. math::

    L_\rho(\theta, c) = \underbrace{\frac1n \sum_a k_a (\bar y_a - \bar f_a)^2}_{L_{bag}}
    + \rho\, \underbrace{\frac1n \sum_a \sum_{i \in B_a} (f_i - \bar f_a)^2}_{R}
    + \alpha \lVert\theta\rVert_2^2 .

Because :math:`\frac1{k}\sum_i(\bar y - f_i)^2 = (\bar y - \bar f)^2 + \frac1k\sum_i
(f_i - \bar f)^2`, the instance-level loss :math:`\frac1n\sum_a\sum_{i\in B_a}(\bar y_a -
f_i)^2` equals :math:`L_{bag} + R` exactly, also with unequal bags: ``rho=0`` is the
bag-level loss, ``rho=1`` the instance-level loss.
"""

import warnings

import numpy as np
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
from statlogit.aggregate._inference import (
    AggregateInferenceMixin,
    check_aggregate_cov_type,
    linear_covariance,
)
from statlogit.aggregate._path import build_rho_path

__all__ = [
    "AggregateRegressor",
    "BagsMissingWarning",
    "aggregate_rho_path",
]


class BagsMissingWarning(UserWarning):
    """``fit`` was called without bags although ``rho`` makes them matter.

    Inside ``cross_val_score``, ``GridSearchCV`` or a ``Pipeline`` this means the bags
    were not routed: enable metadata routing and call ``set_fit_request(bags=True)``
    (see the family page).
    """


def _check_rho(rho, name="rho"):
    return check_scalar(rho, name=name, lower=0.0)


def _check_alpha(alpha):
    return check_scalar(alpha, name="alpha", lower=0.0)


def warn_if_bags_missing(labels, rho, estimator_name, neutral=1.0):
    """Warn when no bags were given and that changes the fit (``rho != neutral``).

    ``neutral=None``: every fit depends on the bags, so always warn without them.
    """
    if labels is None and (neutral is None or rho != neutral):
        warnings.warn(
            f"{estimator_name}.fit got no bags (nor groups): every row is its own bag, "
            f"so rho={rho:g} has no effect. Pass fit(X, y, bags=...); inside "
            "cross_val_score / GridSearchCV / Pipeline enable "
            "sklearn.set_config(enable_metadata_routing=True), call "
            "set_fit_request(bags=True) and pass params={'bags': bags}.",
            BagsMissingWarning, stacklevel=3)


def aggregate_rho_path(X, y, bags, rhos, *, fit_intercept=True, alpha=0.0):
    r"""Coefficients of the :math:`\rho`-estimator for a whole grid of ``rhos``.

    One eigendecomposition serves every :math:`\rho` (see :class:`RhoPath`).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like
        Per-instance (constant within bags) or per-bag responses, as in
        :meth:`AggregateRegressor.fit`.
    bags : array-like of shape (n_samples,)
        Bag label of every instance.
    rhos : array-like of shape (n_rhos,)
        Non-negative regularisation weights.
    fit_intercept : bool
        Fit an unpenalised intercept.
    alpha : float
        Ridge penalty :math:`\alpha\lVert\theta\rVert^2`.

    Returns
    -------
    coefs : numpy.ndarray of shape (n_rhos, n_features)
    intercepts : numpy.ndarray of shape (n_rhos,)
    """
    X, bags, ybar, weights = validated_problem(None, X, y, bags)
    rhos = np.array([_check_rho(r, "rhos") for r in np.ravel(rhos)])
    if rhos.size == 0:
        raise ValueError("rhos is empty; give at least one rho >= 0.")
    path = build_rho_path(X, ybar, bags, fit_intercept=fit_intercept,
                          alpha=_check_alpha(alpha))
    return path.coefs(rhos)


def validated_problem(estimator, X, y, bags, sample_weight=None):
    """Validate ``X`` (through ``validate_data`` when an estimator is given), bags, y.

    Returns ``X`` (C-contiguous float64), the encoded bags, the per-bag responses and
    the instance weights (``None`` when unweighted).
    """
    X = validated_X(estimator, X)
    coded = singleton_bags(X.shape[0]) if bags is None else encode_bags(bags, X.shape[0])
    ybar = bag_responses(y, coded)
    if sample_weight is None:
        return X, coded, ybar, None
    weights = check_sample_weight(sample_weight, X.shape[0])
    if not np.any(coded.sums(weights) > 0):
        raise ValueError("sample_weight is zero on every bag; give positive weights.")
    return X, coded, ybar, weights


# ---------------------------------------------------------------------- estimators


class _AggregateBase(RegressorMixin, BaseEstimator):
    """Prediction shared by the linear aggregate estimators."""

    # ``groups`` (alias of ``bags``) is not requested by default under metadata
    # routing, so params={"bags": b, "groups": b} feeds the splitter and fit once each.
    __metadata_request__fit = {"groups": False}

    def predict(self, X):
        """Instance-level predictions :math:`x_i^\\top\\hat\\theta + \\hat c`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validated_X(self, X, reset=False)
        return X @ self.coef_ + self.intercept_

    def predict_bags(self, X, bags):
        """Bag-level predictions :math:`\\bar f_a`, ordered as the sorted unique bags.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        bags : array-like of shape (n_samples,)
            Bag label of every row (a single bag is allowed here).

        Returns
        -------
        numpy.ndarray of shape (n_bags,)
        """
        predictions = self.predict(X)
        return encode_bags(bags, predictions.shape[0], min_bags=1).means(predictions)

    def _store(self, bags, coef, intercept, weights=None):
        self.coef_ = coef
        self.intercept_ = float(intercept)
        self.n_bags_ = bags.n_bags
        self.bag_sizes_ = bags.sizes.copy() if weights is None else bags.sums(weights)


class AggregateRegressor(AggregateInferenceMixin, _AggregateBase):
    r"""Linear regression from bag-mean responses, bag-level to instance-level.

    Minimises, in closed form,

    .. math::

        \frac1n \sum_a k_a (\bar y_a - \bar f_a)^2
        + \rho\,\frac1n \sum_a \sum_{i \in B_a} (f_i - \bar f_a)^2
        + \alpha \lVert\theta\rVert_2^2, \qquad f_i = x_i^\top\theta + c,

    i.e. :math:`\hat\theta_\rho = (X^\top P X + \rho X^\top(I-P)X + n\alpha I)^{-1}
    X^\top P y` with :math:`P` the projection onto bag-constant vectors (after
    centring when ``fit_intercept``). ``rho=0``: the bag-level loss, bag-size-weighted
    least squares of bag means on bag-mean features (unbiased, needs at least as many
    bags as features). ``rho=1``: the instance-level loss, ordinary least squares of
    every instance on its bag mean (attenuated by about :math:`1/k`, low variance).
    In between: the interpolating estimator of Javanmard et al. (2024); ``rho > 1``
    shrinks further.

    Parameters
    ----------
    rho : float, default=1.0
        Weight :math:`\rho \ge 0` of the within-bag spread of the predictions.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept (the constant is bag-constant, so the spread
        never penalises it).
    alpha : float, default=0.0
        Ridge penalty on the slopes.
    cov_type : {"cluster", "nonrobust"}, default="cluster"
        Covariance of the estimates. ``"cluster"``: sandwich with bags as clusters and
        statsmodels' small-sample factor (at ``rho=1`` statsmodels ``OLS`` of the
        broadcast bag means with ``cov_type="cluster"``; at ``rho=0``, where only the
        bag means enter, statsmodels ``WLS`` of bag means with weights = bag sizes and
        ``cov_type="HC1"``). ``"nonrobust"``: model-based under homoskedastic instance
        noise, :math:`\hat\sigma^2 H^{-1}A_1H^{-1}` with :math:`\hat\sigma^2` from the
        bag-level fit (at ``rho=0`` statsmodels' nonrobust ``WLS``). For ``rho > 0``
        it covers :math:`E[\hat\theta_\rho \mid X]` (conditional on ``X``);
        ``"cluster"`` also covers the population limit.

    Attributes
    ----------
    coef_ : numpy.ndarray of shape (n_features,)
    intercept_ : float
    n_bags_ : int
        Number of bags seen in ``fit``.
    bag_sizes_ : numpy.ndarray of shape (n_bags,)
        Their sizes (total sample weight), in the order of the sorted unique bag labels.
    rank_ : int
        Numerical rank of the centred, column-equilibrated design (decided from its
        singular values as ``numpy.linalg.lstsq`` does).
    cov_ : numpy.ndarray of shape (n_params, n_params) or None
        Covariance of ``(intercept_, *coef_)`` (``None`` when it cannot be estimated,
        e.g. fewer bags than parameters; ``conf_int`` then says why).
    std_errors_ : numpy.ndarray of shape (n_params,) or None
        Square roots of the diagonal of ``cov_``.
    param_names_ : list of str
        ``"intercept"`` (with ``fit_intercept``) and the feature names.
    n_features_in_ : int
    feature_names_in_ : numpy.ndarray
        Only with pandas input.

    See Also
    --------
    AggregateRegressorCV : chooses ``rho`` by cross-validation over whole bags.
    aggregate_risk : asymptotic bias, variance and risk of this estimator.

    References
    ----------
    A. Javanmard, L. Chen, V. Mirrokni, A. Badanidiyuru, G. Fu. Learning from aggregate
    responses: instance level versus bag level loss functions. ICLR 2024.

    Examples
    --------
    >>> from statlogit import AggregateRegressor
    >>> from statlogit.datasets import make_aggregate_regression
    >>> data = make_aggregate_regression(2000, 20, bag_size=5, random_state=0)
    >>> model = AggregateRegressor(rho=0.2).fit(data.X, data.y_bag, bags=data.bags)
    >>> model.coef_.shape
    (20,)
    """

    def __init__(self, rho=1.0, fit_intercept=True, alpha=0.0, cov_type="cluster"):
        self.rho = rho
        self.fit_intercept = fit_intercept
        self.alpha = alpha
        self.cov_type = cov_type

    def fit(self, X, y, *, bags=None, groups=None, sample_weight=None):
        """Fit from bag-level responses.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Instance features.
        y : array-like of shape (n_samples,) or (n_bags,)
            Either one value per instance, equal within each bag to the bag's
            aggregate (mean) response, or one value per bag, ordered as the sorted
            unique bag labels (a pandas Series indexed by bag label is aligned on its
            index). A length of ``n_samples`` is always read per instance: with
            bags of size one (``n_bags == n_samples``) per-bag values must therefore
            be in instance order; broadcasting bag means to instances avoids the
            ambiguity (and lets scikit-learn's cross-validation split ``y``).
        bags : array-like of shape (n_samples,), optional
            Bag label of every instance. ``None`` makes every instance its own bag
            (then every ``rho`` gives ordinary least squares).
        groups : array-like of shape (n_samples,), optional
            Alias of ``bags``, so that scikit-learn group splitters and metadata
            routing pass the same array to the splitter and to ``fit``.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative instance weights (integer weights equal repeated rows).

        Returns
        -------
        self

        Warns
        -----
        BagsMissingWarning
            When neither ``bags`` nor ``groups`` is given and ``rho != 1`` (each row is
            then its own bag, and ``rho`` has no effect).
        """
        rho = _check_rho(self.rho)
        alpha = _check_alpha(self.alpha)
        cov_type = check_aggregate_cov_type(self.cov_type)
        labels = resolve_bags_argument(bags, groups)
        X, bags, ybar, weights = validated_problem(self, X, y, labels, sample_weight)
        warn_if_bags_missing(labels, rho, type(self).__name__)
        fit_linear(self, X, bags, ybar, weights, rho, alpha, cov_type)
        return self


def fit_linear(estimator, X, bags, ybar, weights, rho, alpha, cov_type):
    """Solve at ``rho`` and store coefficients, rank and inference on ``estimator``."""
    path = build_rho_path(X, ybar, bags, fit_intercept=estimator.fit_intercept,
                          alpha=alpha, sample_weight=weights)
    coefs, intercepts = path.coefs([rho])
    estimator._store(bags, coefs[0], intercepts[0], weights)
    estimator.rank_ = path.rank
    bag_level = None
    if cov_type == "nonrobust" and path.feasible([0.0])[0]:
        zero = path.coefs([0.0])
        bag_level = (zero[0][0], zero[1][0])

    def compute():
        return linear_covariance(X, bags, ybar, weights, coefs[0], intercepts[0], rho=rho,
                                 alpha=alpha, fit_intercept=estimator.fit_intercept,
                                 cov_type=cov_type, coef_bag_level=bag_level)

    estimator._set_inference(compute)


