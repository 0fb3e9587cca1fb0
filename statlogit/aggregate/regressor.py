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

from dataclasses import dataclass

import numpy as np
import scipy.linalg
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import GroupKFold
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from statlogit._validation import check_scalar
from statlogit.aggregate._bags import (
    bag_responses,
    encode_bags,
    resolve_bags_argument,
    singleton_bags,
    subset_bags,
)

__all__ = [
    "AggregateRegressor",
    "AggregateRegressorCV",
    "aggregate_rho_path",
    "debiased_bag_mse",
]

#: Rows per block when forming the centred Gram matrix (no copy of X is made).
GRAM_BLOCK_ROWS = 65_536
#: Relative gap under which CV scores count as tied (the first rho in the grid wins).
TIE_RTOL = 1e-10
#: Smallest pivot 1 + (rho - 1) lambda accepted before a rho is called infeasible.
PIVOT_TOL = 1e-10


def _check_rho(rho, name="rho"):
    return check_scalar(rho, name=name, lower=0.0)


def _check_alpha(alpha):
    return check_scalar(alpha, name="alpha", lower=0.0)


# --------------------------------------------------------------------------- path


@dataclass
class RhoPath:
    r"""One generalised eigendecomposition serving every :math:`\rho`.

    With :math:`H = X^\top X + n\alpha I` (centred when there is an intercept),
    :math:`A_2 = X^\top(I-P)X` the within-bag scatter and :math:`b = X^\top P y`,
    the pencil :math:`A_2 v = \lambda H v` with :math:`V^\top H V = I` gives
    :math:`A_1 + n\alpha I + \rho A_2 = V^{-\top}(I + (\rho-1)\Lambda)V^{-1}`, so

    .. math:: \hat\theta_\rho = V \operatorname{diag}\bigl(1/(1 + (\rho-1)\lambda_j)\bigr)
              V^\top b ,

    :math:`O(p^2)` per :math:`\rho` after the :math:`O(p^3)` decomposition. Directions
    outside the range of :math:`H` (a rank-deficient design with ``alpha=0``) are
    dropped, which gives the minimum-norm solution.

    Attributes
    ----------
    basis : numpy.ndarray of shape (p, r)
        :math:`V`, restricted to the numerical range of :math:`H`.
    eigenvalues : numpy.ndarray of shape (r,)
        :math:`\lambda_j \in [0, 1]`, the share of within-bag scatter per direction.
    projected_target : numpy.ndarray of shape (r,)
        :math:`V^\top b`.
    x_mean : numpy.ndarray of shape (p,)
        Column means of ``X`` (zeros without intercept).
    y_mean : float
        Size-weighted mean of the bag responses (zero without intercept).
    """

    basis: np.ndarray
    eigenvalues: np.ndarray
    projected_target: np.ndarray
    x_mean: np.ndarray
    y_mean: float

    @property
    def rank(self):
        return self.basis.shape[1]

    def pivots(self, rhos):
        """The pivots :math:`1 + (\\rho-1)\\lambda_j`, shape (len(rhos), r)."""
        return 1.0 + (np.asarray(rhos, dtype=float)[:, None] - 1.0) * self.eigenvalues

    def feasible(self, rhos):
        """Whether the objective has a unique minimiser at each ``rho``."""
        return np.all(self.pivots(rhos) > PIVOT_TOL, axis=1)

    def coefs(self, rhos):
        """Coefficients and intercepts for every ``rho``: (len(rhos), p), (len(rhos),).

        Raises
        ------
        ValueError
            If some ``rho`` has no unique minimiser (bag-level loss with fewer bags
            than features).
        """
        rhos = np.asarray(rhos, dtype=float)
        bad = ~self.feasible(rhos)
        if np.any(bad):
            raise ValueError(
                f"rho={rhos[bad][0]:g} has no unique minimiser: the bag-mean design "
                "is rank deficient (fewer bags than features, or collinear bag "
                "means). Use rho > 0, alpha > 0 or more bags."
            )
        coefs = (self.projected_target / self.pivots(rhos)) @ self.basis.T
        return coefs, self.y_mean - coefs @ self.x_mean


def _centred_gram(X, shift):
    """:math:`\\sum_i (x_i - s)(x_i - s)^\\top` block by block, without copying X."""
    if not np.any(shift):
        return X.T @ X
    gram = np.zeros((X.shape[1], X.shape[1]))
    for start in range(0, X.shape[0], GRAM_BLOCK_ROWS):
        block = X[start:start + GRAM_BLOCK_ROWS] - shift
        gram += block.T @ block
    return gram


def _range_basis(H):
    """:math:`W` with :math:`W^\\top H W = I` on the numerical range of PSD ``H``."""
    values, vectors = scipy.linalg.eigh(H)
    top = max(values[-1], 0.0) if values.size else 0.0
    keep = values > top * H.shape[0] * np.finfo(float).eps
    return vectors[:, keep] / np.sqrt(values[keep])


def build_rho_path(X, ybar, bags, *, fit_intercept=True, alpha=0.0):
    """Form the two Gram matrices once and decompose the pencil (see :class:`RhoPath`).

    ``X`` is C-contiguous float64 (n, p), ``ybar`` the per-bag responses (m,).
    """
    n, p = X.shape
    x_mean = X.mean(axis=0) if fit_intercept else np.zeros(p)
    y_mean = float(bags.sizes @ ybar / n) if fit_intercept else 0.0
    centred_sums = bags.sums(X) - bags.sizes[:, None] * x_mean
    between = centred_sums.T @ (centred_sums / bags.sizes[:, None])
    total = _centred_gram(X, x_mean)
    within = total - between
    H = total + n * alpha * np.eye(p)
    W = _range_basis(H)
    lam, E = scipy.linalg.eigh(W.T @ within @ W) if W.size else (np.zeros(0), np.zeros((0, 0)))
    basis = W @ E
    target = centred_sums.T @ (ybar - y_mean)
    return RhoPath(basis, np.clip(lam, 0.0, 1.0), basis.T @ target, x_mean, y_mean)


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
    X, bags, ybar = _validated_problem(None, X, y, bags)
    rhos = np.array([_check_rho(r, "rhos") for r in np.ravel(rhos)])
    path = build_rho_path(X, ybar, bags, fit_intercept=fit_intercept,
                          alpha=_check_alpha(alpha))
    return path.coefs(rhos)


def _validated_problem(estimator, X, y, bags, *, reset=True):
    """Validate ``X`` (through ``validate_data`` when an estimator is given)."""
    if estimator is None:
        X = check_array(X, dtype=np.float64, order="C")
    else:
        X = validate_data(estimator, X, dtype=np.float64, order="C", reset=reset)
    coded = singleton_bags(X.shape[0]) if bags is None else encode_bags(bags, X.shape[0])
    return X, coded, bag_responses(y, coded)


def debiased_bag_mse(ybar, fbar, sizes):
    r"""Estimate the instance-level mean squared error from bag aggregates only.

    For a fixed predictor with instance errors :math:`e_i = y_i - f_i` of mean
    :math:`\mu` and variance :math:`v`, the bag residual :math:`r_a = \bar y_a -
    \bar f_a` has :math:`E[k_a r_a^2] = v + k_a\mu^2`, while the instance MSE is
    :math:`v + \mu^2`. Hence

    .. math:: \widehat{\mathrm{MSE}} = \frac1m\sum_a k_a r_a^2
              - \Bigl(\frac1m\sum_a (k_a - 1)\Bigr)\hat\mu^2,
              \qquad \hat\mu = \frac{\sum_a k_a r_a}{\sum_a k_a},

    unbiased up to the :math:`O(1/n)` bias of :math:`\hat\mu^2`. With equal bags it is
    the debiased square loss :math:`\overline{k r^2} - (k-1)\bar r^2`.

    Parameters
    ----------
    ybar : array-like of shape (m,)
        Observed bag responses.
    fbar : array-like of shape (m,) or (m, n_models)
        Bag means of the predictions (one column per model).
    sizes : array-like of shape (m,)
        Bag sizes.

    Returns
    -------
    float or numpy.ndarray of shape (n_models,)
    """
    ybar = np.asarray(ybar, dtype=float)
    fbar = np.asarray(fbar, dtype=float)
    sizes = np.asarray(sizes, dtype=float)
    resid = (ybar if fbar.ndim == 1 else ybar[:, None]) - fbar
    weights = sizes if fbar.ndim == 1 else sizes[:, None]
    mu = np.sum(weights * resid, axis=0) / np.sum(sizes)
    return np.mean(weights * resid**2, axis=0) - np.mean(sizes - 1.0) * mu**2


# ---------------------------------------------------------------------- estimators


class _AggregateBase(RegressorMixin, BaseEstimator):
    """Prediction shared by the linear aggregate estimators."""

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
        X = validate_data(self, X, dtype=np.float64, order="C", reset=False)
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

    def _store(self, bags, coef, intercept):
        self.coef_ = coef
        self.intercept_ = float(intercept)
        self.n_bags_ = bags.n_bags
        self.bag_sizes_ = bags.sizes.copy()


class AggregateRegressor(_AggregateBase):
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

    Attributes
    ----------
    coef_ : numpy.ndarray of shape (n_features,)
    intercept_ : float
    n_bags_ : int
        Number of bags seen in ``fit``.
    bag_sizes_ : numpy.ndarray of shape (n_bags,)
        Their sizes, in the order of the sorted unique bag labels.
    rank_ : int
        Numerical rank of the (centred, ridge-augmented) Gram matrix.
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

    def __init__(self, rho=1.0, fit_intercept=True, alpha=0.0):
        self.rho = rho
        self.fit_intercept = fit_intercept
        self.alpha = alpha

    def fit(self, X, y, *, bags=None, groups=None):
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

        Returns
        -------
        self
        """
        rho = _check_rho(self.rho)
        X, bags, ybar = _validated_problem(self, X, y, resolve_bags_argument(bags, groups))
        path = build_rho_path(X, ybar, bags, fit_intercept=self.fit_intercept,
                              alpha=_check_alpha(self.alpha))
        coefs, intercepts = path.coefs([rho])
        self._store(bags, coefs[0], intercepts[0])
        self.rank_ = path.rank
        return self


class AggregateRegressorCV(_AggregateBase):
    r""":class:`AggregateRegressor` with ``rho`` chosen by cross-validation over bags.

    Each fold holds out whole bags. Only aggregates are needed to score: for every
    :math:`\rho` the held-out bags are scored by the debiased bag criterion
    :func:`debiased_bag_mse`, an estimate of the instance-level test MSE. The
    training fits of a fold share one eigendecomposition for the whole grid. The
    chosen ``rho_`` minimises the mean criterion (ties, e.g. with bags of size one
    where every ``rho`` gives the same fit, go to the first in the grid); the model is
    then refitted on all bags.

    Parameters
    ----------
    rhos : array-like, default=None
        Grid of :math:`\rho \ge 0`; ``None`` means 21 points on [0, 1].
    cv : int or group splitter, default=None
        ``None`` means ``GroupKFold(5)``; an int ``K`` means ``GroupKFold(K)``;
        any splitter with ``split(X, y, groups)`` that keeps bags whole.
    fit_intercept : bool, default=True
    alpha : float, default=0.0
        Ridge penalty on the slopes.

    Attributes
    ----------
    rho_ : float
        The selected :math:`\rho`.
    rhos_ : numpy.ndarray of shape (n_rhos,)
    cv_scores_ : numpy.ndarray of shape (n_splits, n_rhos)
        Debiased held-out criterion per fold (``inf`` where a ``rho`` is infeasible
        on a fold's training bags, e.g. ``rho=0`` with fewer bags than features).
    cv_mean_, cv_se_ : numpy.ndarray of shape (n_rhos,)
        Mean over folds and its standard error.
    coef_, intercept_, n_bags_, bag_sizes_, rank_, n_features_in_
        As in :class:`AggregateRegressor`, for the refit at ``rho_``.
    """

    def __init__(self, rhos=None, cv=None, fit_intercept=True, alpha=0.0):
        self.rhos = rhos
        self.cv = cv
        self.fit_intercept = fit_intercept
        self.alpha = alpha

    def fit(self, X, y, *, bags=None, groups=None):
        """Cross-validate ``rho`` over whole bags and refit on all of them.

        Parameters
        ----------
        X, y, bags, groups
            As in :meth:`AggregateRegressor.fit`; bags are required here.

        Returns
        -------
        self
        """
        labels = resolve_bags_argument(bags, groups)
        if labels is None:
            raise ValueError("AggregateRegressorCV needs bags= (or groups=) to split.")
        rhos = self._rho_grid()
        alpha = _check_alpha(self.alpha)
        X, bags, ybar = _validated_problem(self, X, y, labels)
        scores = np.array([self._fold_scores(X, ybar, bags, rows, alpha, rhos)
                           for rows in self._splits(X, bags)])
        self.rhos_, self.cv_scores_ = rhos, scores
        finite = np.all(np.isfinite(scores), axis=0)
        self.cv_mean_ = np.where(finite, scores.mean(axis=0), np.inf)
        spread = np.std(np.where(finite, scores, 0.0), axis=0, ddof=1)
        self.cv_se_ = np.where(finite, spread / np.sqrt(scores.shape[0]), np.inf)
        if not np.any(finite):
            raise ValueError("No rho in the grid is feasible on every fold; add rho > 0.")
        best = np.min(self.cv_mean_)
        self.rho_ = float(rhos[np.flatnonzero(self.cv_mean_ <= best + TIE_RTOL * abs(best))[0]])
        path = build_rho_path(X, ybar, bags, fit_intercept=self.fit_intercept,
                              alpha=alpha)
        coefs, intercepts = path.coefs([self.rho_])
        self._store(bags, coefs[0], intercepts[0])
        self.rank_ = path.rank
        return self

    def _rho_grid(self):
        rhos = np.linspace(0.0, 1.0, 21) if self.rhos is None else np.ravel(self.rhos)
        if len(rhos) == 0:
            raise ValueError("rhos is empty; give at least one rho >= 0.")
        return np.array([_check_rho(r, "rhos") for r in rhos])

    def _splits(self, X, bags):
        cv = self.cv
        if cv is None or isinstance(cv, int | np.integer):
            cv = GroupKFold(5 if cv is None else int(cv))
        if not hasattr(cv, "split"):
            raise ValueError(f"cv must be None, an int or a group splitter; got {cv!r}.")
        return list(cv.split(X, None, bags.codes))

    def _fold_scores(self, X, ybar, bags, rows, alpha, rhos):
        train, test = rows
        train_bags, train_idx = subset_bags(bags, train)
        test_bags, test_idx = subset_bags(bags, test)
        path = build_rho_path(X[train], ybar[train_idx], train_bags,
                              fit_intercept=self.fit_intercept, alpha=alpha)
        ok = path.feasible(rhos)
        scores = np.full(rhos.shape[0], np.inf)
        if np.any(ok):
            coefs, intercepts = path.coefs(rhos[ok])
            fbar = test_bags.means(X[test] @ coefs.T + intercepts)
            scores[ok] = debiased_bag_mse(ybar[test_idx], fbar, test_bags.sizes)
        return scores

    def plot(self, ax=None):
        """Plot the cross-validation curve with one-standard-error bars.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional

        Returns
        -------
        matplotlib.axes.Axes
        """
        check_is_fitted(self)
        import matplotlib.pyplot as plt

        ax = ax or plt.gca()
        finite = np.isfinite(self.cv_mean_)
        ax.errorbar(self.rhos_[finite], self.cv_mean_[finite], yerr=self.cv_se_[finite],
                    fmt="o-", ms=3, capsize=2, label="debiased bag CV")
        ax.axvline(self.rho_, color="k", ls="--", lw=0.8, label=f"rho = {self.rho_:g}")
        ax.set(xlabel="rho", ylabel="estimated instance-level MSE")
        ax.legend()
        return ax
