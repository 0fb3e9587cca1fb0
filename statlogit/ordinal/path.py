r"""PRESTO along a path of penalties, and the penalty chosen by cross-validation."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from statlogit._validation import check_scalar
from statlogit.ordinal._base import (
    OrdinalPredictorMixin,
    build_problem,
    class_probabilities,
    warn_if_not_converged,
)
from statlogit.ordinal._fit import CumulativeProblem
from statlogit.ordinal._plots import (
    PlotMixin,
    feature_lines_legend,
    feature_names,
    legend_columns,
    line_style,
)

__all__ = ["PrestoClassifierCV", "presto_path"]

SCORINGS = ("rare_brier", "brier", "log_loss")


def _check_alphas(alphas, n_alphas, alpha_min_ratio):
    if alphas is not None:
        alphas = np.asarray(alphas, dtype=np.float64).ravel()
        if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
            raise ValueError("alphas must be a non-empty sequence of finite values >= 0.")
        return np.sort(alphas)[::-1], None
    n_alphas = check_scalar(n_alphas, name="n_alphas", lower=1, integer=True)
    ratio = check_scalar(alpha_min_ratio, name="alpha_min_ratio", lower=0.0,
                         upper=1.0, include_lower=False)
    return None, (n_alphas, ratio)


def presto_path(X, y, *, sample_weight=None, alphas=None, n_alphas=20,
                alpha_min_ratio=0.01, penalize_first=True, standardize=True, tol=1e-8,
                max_iter=100, categories=None, link="logit", l1_ratio=1.0,
                penalty_factor=None):
    r"""PRESTO solutions along a decreasing grid of penalties, warm-started.

    The default grid runs log-evenly from :math:`\alpha_{\max}` down to
    ``alpha_min_ratio`` times it. :math:`\alpha_{\max}` is exact: the largest
    :math:`|g_j| / (\rho v_j)` over the penalised coordinates, :math:`g` the gradient of
    the mean negative log-likelihood (standardised scale when ``standardize``) at the
    fit in which all of them are zero (the intercept-only fit, or the
    proportional-odds fit when ``penalize_first=False``; coordinates with
    ``penalty_factor`` 0 fitted freely). For :math:`\alpha \ge \alpha_{\max}` every
    penalised coordinate is zero; just below, one is not. Every solution is the exact
    constrained optimum that :class:`~statlogit.PrestoClassifier` gives, also where it
    lies on the boundary (a training row's probability for a class going to zero).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), optional
    alphas : array-like, optional
        Explicit penalties (sorted decreasingly before use).
    n_alphas : int, default=20
    alpha_min_ratio : float, default=0.01
    penalize_first, standardize, tol, max_iter, categories, link, l1_ratio, penalty_factor
        As in :class:`~statlogit.PrestoClassifier`.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        Decreasing penalties.
    coefs : ndarray of shape (n_alphas, K-1, n_features)
        :math:`\beta_k` on the original scale, boundaries in the ordinal order.
    intercepts : ndarray of shape (n_alphas, K-1)
    """
    alphas, grid_spec = _check_alphas(alphas, n_alphas, alpha_min_ratio)
    problem, _, _, _ = build_problem(
        _Unnamed(), X, y, sample_weight, penalize_first=penalize_first,
        standardize=standardize, tol=tol, max_iter=max_iter, categories=categories,
        link=link, l1_ratio=l1_ratio, penalty_factor=penalty_factor)
    alphas, results, _ = problem.path(alphas, grid_spec)
    for result in results:
        warn_if_not_converged(result, "presto_path")
    originals = [problem.original(r) for r in results]
    return (alphas, np.array([o[1] for o in originals]),
            np.array([o[0] for o in originals]))


class _Unnamed(BaseEstimator):
    """A throwaway estimator so ``validate_data`` can check plain function input."""


def _score(scoring, proba, codes, weights):
    """Held-out (weighted) mean loss (lower is better) of ordinal-order ``proba``."""
    n_classes = proba.shape[1]
    if scoring == "rare_brier":
        losses = (proba[:, -1] - (codes == n_classes - 1)) ** 2
    elif scoring == "brier":
        losses = np.sum((proba - np.eye(n_classes)[codes]) ** 2, axis=1)
    else:
        observed = proba[np.arange(len(codes)), codes]
        losses = -np.log(np.clip(observed, 1e-300, None))
    return float(np.average(losses, weights=weights))


def _fold_scores(X, codes, weights, n_classes, train, test, alphas, scoring, options):
    """Held-out scores of one fold's warm-started path (module level: joblib-friendly)."""
    train_codes = codes[train]
    w_train = None if weights is None else weights[train]
    w_test = None if weights is None else weights[test]
    present = np.bincount(train_codes, weights=w_train, minlength=n_classes) > 0
    if not np.all(present):
        raise ValueError("A training fold lacks a class; use stratified folds.")
    problem = CumulativeProblem(X[train], train_codes, n_classes,
                                sample_weight=w_train, **options)
    _, results, _ = problem.path(alphas)
    return [_score(scoring, class_probabilities(X[test], *problem.original(result),
                                                options["link"]), codes[test], w_test)
            for result in results]


class PrestoClassifierCV(OrdinalPredictorMixin, PlotMixin, ClassifierMixin, BaseEstimator):
    r"""PRESTO with the penalty chosen by K-fold cross-validation on a path.

    The grid is the full-data path of :func:`~statlogit.presto_path`. Each fold fits
    the whole grid warm-started (largest penalty first) on its training part and
    scores held-out probabilities from the cumulative slopes :math:`\beta_k`. The
    selected ``alpha_`` is the **largest** penalty among those with the smallest
    mean held-out score; the final model is the full-data path solution at it.
    Every path solution, on the folds and on the full data, is the exact
    constrained optimum (boundary optima included), so the final model equals
    ``PrestoClassifier(alpha=alpha_)`` and each CV score is that of a single fit
    on the fold. Folds run in parallel through joblib (``n_jobs``; any joblib
    backend, e.g. dask, via ``joblib.parallel_config``); the scores do not depend
    on ``n_jobs``.

    Parameters
    ----------
    n_alphas : int, default=20
    alpha_min_ratio : float, default=0.01
    alphas : array-like, optional
        Explicit grid instead of the default one.
    cv : int or cross-validation splitter, default=5
        An integer gives ``StratifiedKFold(cv, shuffle=True)``; every class needs
        at least ``cv`` rows (checked before any fit).
    scoring : {"rare_brier", "brier", "log_loss"}, default="rare_brier"
        ``"rare_brier"``: mean of :math:`(\hat p_K - 1\{y = c_K\})^2`, the rare-class
        Brier score; ``"brier"``: the multiclass Brier score
        :math:`\sum_k (\hat p_k - 1\{y = c_k\})^2` (the reference code's); or the
        held-out negative log-likelihood. Weighted by ``sample_weight`` if given.
    penalize_first, standardize, tol, max_iter, categories, link, l1_ratio, penalty_factor
        As in :class:`~statlogit.PrestoClassifier`.
    random_state : None, int or RandomState
        Shuffling of the stratified folds.
    n_jobs : int, optional
        Folds fitted in parallel (joblib; ``None`` is 1).
    verbose : int, default=0
        ``> 0`` shows a progress bar over the folds (tqdm).

    Attributes
    ----------
    alphas_ : ndarray (n_alphas,)
        The decreasing grid.
    alpha_max_ : float
        Smallest penalty with all penalised coordinates zero (full data).
    cv_scores_ : ndarray (n_folds, n_alphas)
        Held-out scores.
    mean_score_, std_score_ : ndarray (n_alphas,)
    alpha_ : float
        The selected penalty.
    coef_path_ : ndarray (n_alphas, K-1, n_features)
    intercept_path_ : ndarray (n_alphas, K-1)
    coef_, intercept_, classes_, categories_, n_iter_
        The final model (as in :class:`~statlogit.PrestoClassifier`).
    """

    def __init__(self, *, n_alphas=20, alpha_min_ratio=0.01, alphas=None, cv=5,
                 scoring="rare_brier", penalize_first=True, standardize=True,
                 tol=1e-8, max_iter=100, categories=None, random_state=None,
                 link="logit", l1_ratio=1.0, penalty_factor=None, n_jobs=None,
                 verbose=0):
        self.n_alphas = n_alphas
        self.alpha_min_ratio = alpha_min_ratio
        self.alphas = alphas
        self.cv = cv
        self.scoring = scoring
        self.penalize_first = penalize_first
        self.standardize = standardize
        self.tol = tol
        self.max_iter = max_iter
        self.categories = categories
        self.random_state = random_state
        self.link = link
        self.l1_ratio = l1_ratio
        self.penalty_factor = penalty_factor
        self.n_jobs = n_jobs
        self.verbose = verbose

    def fit(self, X, y, sample_weight=None):
        """Choose ``alpha_`` by cross-validation, then refit; returns ``self``."""
        if self.scoring not in SCORINGS:
            raise ValueError(f"scoring must be one of {SCORINGS}; got {self.scoring!r}.")
        alphas, grid_spec = _check_alphas(self.alphas, self.n_alphas,
                                          self.alpha_min_ratio)
        verbose = check_scalar(self.verbose, name="verbose", lower=0, integer=True)
        problem, categories, classes, (X, codes, weights) = build_problem(
            self, X, y, sample_weight, **self.get_params())
        # cheap checks first: the folds exist before any path is computed
        splits = list(self._splitter(codes).split(X, codes))
        alphas, results, top = problem.path(alphas, grid_spec)
        options = dict(standardize=self.standardize, link=problem.loss.link,
                       penalize_first=problem.penalize_first,
                       l1_ratio=problem.l1_ratio, penalty_factor=problem.penalty_factor,
                       tol=problem.tol, max_iter=problem.max_iter)
        self.cv_scores_ = np.array(self._run_folds(
            X, codes, weights, len(categories), splits, alphas, options, verbose))
        self.mean_score_ = self.cv_scores_.mean(axis=0)
        self.std_score_ = self.cv_scores_.std(axis=0)
        best = int(np.argmin(self.mean_score_))
        originals = [problem.original(r) for r in results]
        self.alphas_, self.alpha_max_, self.alpha_ = alphas, top, float(alphas[best])
        self.intercept_path_ = np.array([o[0] for o in originals])
        self.coef_path_ = np.array([o[1] for o in originals])
        final = results[best]
        warn_if_not_converged(final, "PrestoClassifierCV (final fit)")
        self.classes_, self.categories_ = classes, categories
        self.intercept_, self.coef_ = originals[best]
        self.n_iter_ = final.n_iter
        return self

    def _run_folds(self, X, codes, weights, n_classes, splits, alphas, options,
                   verbose):
        from joblib import Parallel, delayed

        jobs = (delayed(_fold_scores)(X, codes, weights, n_classes, train, test, alphas,
                                      self.scoring, options) for train, test in splits)
        runs = Parallel(n_jobs=self.n_jobs, return_as="generator")(jobs)
        if verbose:
            from tqdm.auto import tqdm

            runs = tqdm(runs, total=len(splits), desc="PRESTO CV folds")
        return list(runs)

    def _splitter(self, codes):
        # imported here: sklearn.model_selection would add a fifth to every family import
        from sklearn.model_selection import StratifiedKFold, check_cv

        if isinstance(self.cv, numbers.Integral):
            folds = check_scalar(self.cv, name="cv", lower=2, integer=True)
            smallest = int(np.bincount(codes).min())
            if smallest < folds:
                raise ValueError(
                    f"The smallest class has {smallest} rows, fewer than cv={folds} "
                    "folds; lower cv or merge rare classes."
                )
            return StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        return check_cv(self.cv, codes, classifier=True)

    def plot(self, ax=None):
        """Plot the rare boundary's coefficient path and the CV curve.

        The path has one labelled line per feature (legend with the feature names).

        Parameters
        ----------
        ax : sequence of two matplotlib Axes, optional
            Created (side by side, constrained layout) when omitted.

        Returns
        -------
        ax : the two Axes
        """
        import matplotlib.pyplot as plt

        check_is_fitted(self)
        if ax is None:
            extra = 1.4 * legend_columns(self.n_features_in_) * (self.n_features_in_ > 6)
            _, ax = plt.subplots(1, 2, figsize=(10 + extra, 3.8), layout="constrained")
        left, right = ax
        for j, name in enumerate(feature_names(self)):
            left.plot(self.alphas_, self.coef_path_[:, -1, j], label=name,
                      **line_style(j))
        rare = self.categories_[-1]
        left.set(xscale="log", xlabel="alpha",
                 ylabel=rf"$\beta_{{K-1}}$ (boundary below {rare})",
                 title="rare-boundary coefficient path")
        feature_lines_legend(left, self.n_features_in_)
        right.errorbar(self.alphas_, self.mean_score_, yerr=self.std_score_, fmt="o-",
                       ms=3, capsize=2, label="mean +- sd over folds")
        for axis in (left, right):
            axis.axvline(self.alpha_, color="k", ls="--", lw=0.8,
                         label=f"selected alpha = {self.alpha_:.3g}" if axis is right
                         else "_selected")
        right.set(xscale="log", xlabel="alpha", ylabel=f"held-out {self.scoring}",
                  title="cross-validation")
        right.legend(fontsize="small", loc="best")
        return ax
