r"""Choosing :math:`\rho` from aggregates only: the debiased bag criterion and bag-level CV.

For a fixed predictor the held-out bags' residuals :math:`r_a = \bar y_a - \bar f_a`
estimate the instance-level test error without any instance response
(:func:`debiased_bag_mse`); :class:`AggregateRegressorCV` minimises it over a grid of
:math:`\rho`, one decomposition per fold serving the whole grid.
"""

import numbers

import numpy as np
from sklearn.utils.validation import check_is_fitted

from statlogit._validation import as_float_array
from statlogit.aggregate._bags import resolve_bags_argument, subset_bags
from statlogit.aggregate._inference import AggregateInferenceMixin, check_aggregate_cov_type
from statlogit.aggregate._path import build_rho_path
from statlogit.aggregate.regressor import (
    _AggregateBase,
    _check_alpha,
    _check_rho,
    fit_linear,
    validated_problem,
)

__all__ = ["AggregateRegressorCV", "debiased_bag_mse"]

#: Relative gap under which CV scores count as tied (the first rho in the grid wins).
TIE_RTOL = 1e-10


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
    ybar = as_float_array(ybar, name="ybar", ndim=1)
    fbar = as_float_array(fbar, name="fbar")
    sizes = as_float_array(sizes, name="sizes", ndim=1)
    if fbar.ndim not in (1, 2):
        raise ValueError(f"fbar must be 1- or 2-dimensional; got shape {fbar.shape}.")
    if not (ybar.shape[0] == fbar.shape[0] == sizes.shape[0]):
        raise ValueError(
            f"ybar, fbar and sizes must have one entry per bag; got lengths "
            f"{ybar.shape[0]}, {fbar.shape[0]} and {sizes.shape[0]}.")
    if np.any(sizes <= 0):
        raise ValueError("sizes must all be positive (bag sizes or total weights).")
    resid = (ybar if fbar.ndim == 1 else ybar[:, None]) - fbar
    weights = sizes if fbar.ndim == 1 else sizes[:, None]
    mu = np.sum(weights * resid, axis=0) / np.sum(sizes)
    with np.errstate(over="ignore", invalid="ignore"):
        value = np.mean(weights * resid**2, axis=0) - np.mean(sizes - 1.0) * mu**2
    if not np.all(np.isfinite(value)):
        raise ValueError("The criterion overflows float64 at this scale of ybar, fbar and "
                         "sizes; rescale the responses or the sizes.")
    return value




def _criterion_or_inf(ybar, fbar, sizes):
    """:func:`debiased_bag_mse` per column of ``fbar``; ``inf`` (infeasible) for the
    columns whose criterion overflows float64."""
    try:
        return debiased_bag_mse(ybar, fbar, sizes)
    except ValueError:
        out = np.full(fbar.shape[1], np.inf)
        for j in range(fbar.shape[1]):
            try:
                out[j] = debiased_bag_mse(ybar, fbar[:, j], sizes)
            except ValueError:
                pass
        return out


class AggregateRegressorCV(AggregateInferenceMixin, _AggregateBase):
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
    cov_type : {"cluster", "nonrobust"}, default="cluster"
        As in :class:`AggregateRegressor`, for the refit at ``rho_`` (the standard
        errors do not account for the selection of ``rho``).

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
    cov_, std_errors_, param_names_
        As in :class:`AggregateRegressor`, for the refit at ``rho_``.
    """

    def __init__(self, rhos=None, cv=None, fit_intercept=True, alpha=0.0,
                 cov_type="cluster"):
        self.rhos, self.cv = rhos, cv
        self.fit_intercept, self.alpha, self.cov_type = fit_intercept, alpha, cov_type

    def fit(self, X, y, *, bags=None, groups=None, sample_weight=None):
        """Cross-validate ``rho`` over whole bags and refit on all of them.

        Parameters
        ----------
        X, y, bags, groups, sample_weight
            As in :meth:`AggregateRegressor.fit`; bags are required here. With
            weights, folds are scored by :func:`debiased_bag_mse` with the bags'
            total weights as sizes.

        Returns
        -------
        self
        """
        labels = resolve_bags_argument(bags, groups)
        if labels is None:
            raise ValueError("AggregateRegressorCV needs bags= (or groups=) to split.")
        rhos = self._rho_grid()
        alpha = _check_alpha(self.alpha)
        cov_type = check_aggregate_cov_type(self.cov_type)
        splitter = self._splitter()
        X, bags, ybar, weights = validated_problem(self, X, y, labels, sample_weight)
        w = np.ones(X.shape[0]) if weights is None else weights
        scores = np.array([self._fold_scores(X, ybar, bags, w, rows, alpha, rhos)
                           for rows in splitter.split(X, None, bags.codes)])
        self.rhos_, self.cv_scores_ = rhos, scores
        finite = np.all(np.isfinite(scores), axis=0)
        self.cv_mean_ = np.where(finite, scores.mean(axis=0), np.inf)
        spread = np.std(np.where(finite, scores, 0.0), axis=0, ddof=1)
        self.cv_se_ = np.where(finite, spread / np.sqrt(scores.shape[0]), np.inf)
        if not np.any(finite):
            raise ValueError("No rho in the grid is feasible on every fold; add rho > 0.")
        best = np.min(self.cv_mean_)
        self.rho_ = float(rhos[np.flatnonzero(self.cv_mean_ <= best + TIE_RTOL * abs(best))[0]])
        fit_linear(self, X, bags, ybar, weights, self.rho_, alpha, cov_type)
        return self

    def _rho_grid(self):
        rhos = np.linspace(0.0, 1.0, 21) if self.rhos is None else np.ravel(self.rhos)
        if len(rhos) == 0:
            raise ValueError("rhos is empty; give at least one rho >= 0.")
        return np.array([_check_rho(r, "rhos") for r in rhos])

    def _splitter(self):
        # imported here: sklearn.model_selection would add a fifth to every family import
        from sklearn.model_selection import GroupKFold

        cv = self.cv
        if cv is None or (isinstance(cv, numbers.Integral) and not isinstance(cv, bool)):
            n_splits = 5 if cv is None else int(cv)
            if n_splits < 2:
                raise ValueError(f"cv must be at least 2 folds; got {cv!r}.")
            return GroupKFold(n_splits)
        if isinstance(cv, str) or not callable(getattr(cv, "split", None)):
            raise ValueError(
                f"cv must be None, an int >= 2 (GroupKFold) or a group splitter with "
                f"split(X, y, groups) such as GroupKFold(5); got {cv!r}.")
        return cv

    def _fold_scores(self, X, ybar, bags, w, rows, alpha, rhos):
        train, test = rows
        train_bags, train_idx = subset_bags(bags, train)
        test_bags, test_idx = subset_bags(bags, test)
        if not np.sum(w[train]) > 0:
            raise ValueError(
                "sample_weight is zero on every training instance of a cross-validation "
                "fold, so nothing can be fitted there; give those bags positive weight "
                "or use fewer folds (cv).")
        path = build_rho_path(X[train], ybar[train_idx], train_bags,
                              fit_intercept=self.fit_intercept, alpha=alpha,
                              sample_weight=w[train])
        ok = path.feasible(rhos)
        scores = np.full(rhos.shape[0], np.inf)
        sizes = test_bags.sums(w[test])
        kept = sizes > 0
        if np.any(ok) and np.any(kept):
            coefs, intercepts = path.coefs(rhos[ok])
            with np.errstate(over="ignore", invalid="ignore"):
                fbar = test_bags.sums((X[test] @ coefs.T + intercepts) * w[test][:, None])
                fbar = fbar[kept] / sizes[kept, None]
            usable = np.all(np.isfinite(fbar), axis=0)  # overflowing extrapolation: inf
            if np.any(usable):
                fold = np.full(usable.shape[0], np.inf)
                fold[usable] = _criterion_or_inf(ybar[test_idx][kept], fbar[:, usable],
                                                 sizes[kept])
                scores[ok] = fold
        return scores

    def plot(self, ax=None):
        """Plot the cross-validation curve with one-standard-error bars.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw (default: a new figure with constrained layout).

        Returns
        -------
        matplotlib.axes.Axes
        """
        check_is_fitted(self)
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.4), layout="constrained")
        finite = np.isfinite(self.cv_mean_)
        ax.errorbar(self.rhos_[finite], self.cv_mean_[finite], yerr=self.cv_se_[finite],
                    fmt="o-", ms=3, capsize=2, label="debiased bag CV")
        ax.axvline(self.rho_, color="k", ls="--", lw=0.8, label=f"rho = {self.rho_:g}")
        ax.set(xlabel="rho",
               ylabel="estimated instance-level MSE",
               title=f"{type(self).__name__}: {self.n_bags_} bags, "
                     f"{self.cv_mean_.shape[0]} values of rho")
        ax.legend()
        return ax
