r"""PRESTO: rare-event ordinal regression that shrinks towards proportional odds.

Faletto & Bien (2023), *Predicting Rare Events by Shrinking Towards Proportional
Odds*, ICML, PMLR 202:9547-9602.

Ordered classes :math:`c_1 < \dots < c_K`. Boundary :math:`k = 1, \dots, K-1` has its
own intercept and weight vector,

.. math:: P(y \le c_k \mid x) = \sigma(a_k + \beta_k^\top x),

so :math:`P(y = c_k) = \sigma(\eta_k) - \sigma(\eta_{k-1})` with
:math:`\eta_k = a_k + \beta_k^\top x`, :math:`\sigma(\eta_0) = 0`,
:math:`\sigma(\eta_K) = 1`. PRESTO minimises

.. math:: \frac1n \sum_{i=1}^n -\log P(y_i \mid x_i)
          + \alpha \Big( \sum_j |\beta_{1j}| + \sum_{k=2}^{K-1} \sum_j
          |\beta_{kj} - \beta_{k-1,j}| \Big),

intercepts unpenalised, over the parameters for which every training row has a
positive probability for every class.
"""

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from statlogit._validation import check_labels, check_scalar
from statlogit.kernels.common import sigmoid_array
from statlogit.ordinal import _solver as solver

__all__ = [
    "PrestoClassifier",
    "PrestoClassifierCV",
    "ProportionalOddsClassifier",
    "presto_path",
]

SCORINGS = ("rare_brier", "brier", "log_loss")


# ---------------------------------------------------------------- shared helpers


def _ordered_categories(y, categories):
    """The explicit class order: ``categories`` or a pandas ordered Categorical's."""
    if categories is not None:
        return list(categories)
    dtype = getattr(y, "dtype", None)
    if getattr(dtype, "ordered", False):
        return list(dtype.categories)
    return None


def _prepare(estimator, X, y, categories):
    """Validate ``X, y``; return ``(X, codes, classes)`` with every class present."""
    order = _ordered_categories(y, categories)
    X, y = validate_data(estimator, X, y, dtype=np.float64, order="C")
    check_classification_targets(y)
    if np.unique(y).size < 2:
        raise ValueError("y has only 1 class; ordinal models need at least 2 classes.")
    classes, codes = check_labels(y, categories=order)
    counts = np.bincount(codes, minlength=len(classes))
    if np.any(counts == 0):
        empty = [str(c) for c in np.asarray(classes)[counts == 0]]
        raise ValueError(
            f"categories {empty} have no rows in y; drop them from categories (the "
            "intercepts of an empty class are not identified)."
        )
    return X, codes, classes


def _check_options(tol, max_iter):
    return (check_scalar(tol, name="tol", lower=0.0, include_lower=False),
            check_scalar(max_iter, name="max_iter", lower=1, integer=True))


def _warn_if_not_converged(result, what):
    if not result.converged:
        warnings.warn(
            f"{what} did not converge in {result.n_iter} proximal-Newton iterations; "
            "increase max_iter, loosen tol, or raise alpha (the data may be "
            "separable).",
            ConvergenceWarning,
            stacklevel=3,
        )


def cumulative_probabilities(X, intercept, coef):
    r"""Monotone cumulative probabilities :math:`P(y \le c_k \mid x)`, (n, K-1).

    Where fitted boundaries cross (possible on new rows), the values
    :math:`\sigma(a_k + \beta_k^\top x)` are sorted along ``k``: the rearrangement
    that turns any set of curves into a valid distribution function.
    """
    eta = X @ coef.T + intercept
    values = sigmoid_array(np.ascontiguousarray(eta).ravel()).reshape(eta.shape)
    return np.sort(values, axis=1)


def class_probabilities(X, intercept, coef):
    """Class probabilities (n, K) from the rearranged cumulative probabilities."""
    cumulative = cumulative_probabilities(X, intercept, coef)
    n = cumulative.shape[0]
    padded = np.hstack([np.zeros((n, 1)), cumulative, np.ones((n, 1))])
    return np.diff(padded, axis=1)


class _CumulativeLogitPredictor:
    """Prediction methods shared by the cumulative-logit classifiers."""

    def _boundary_coef(self):
        return self.coef_

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Where the fitted cumulative curves cross at a row, the cumulative
        probabilities are sorted first, so the result is always non-negative with
        rows summing to one.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64, order="C")
        return class_probabilities(X, self.intercept_, self._boundary_coef())

    def predict_rare_proba(self, X):
        """Probability of the last (rare) class, :math:`1 - \\sigma(\\eta_{K-1})`."""
        return self.predict_proba(X)[:, -1]

    def predict(self, X):
        """The most probable class for each row."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


# ---------------------------------------------------------------- PRESTO


class PrestoClassifier(_CumulativeLogitPredictor, ClassifierMixin, BaseEstimator):
    r"""PRESTO: L1 plus fused-L1 penalised cumulative logit (Faletto & Bien, 2023).

    Model, for ordered classes :math:`c_1 < \dots < c_K` (sorted labels, or the order
    given by ``categories`` / a pandas ordered Categorical):
    :math:`P(y \le c_k \mid x) = \sigma(a_k + \beta_k^\top x)`, ``intercept_[k]`` =
    :math:`a_{k+1}`, ``coef_[k]`` = :math:`\beta_{k+1}`. With ``standardize=False``
    the fit minimises

    .. math:: \frac1n \sum_i -\log P(y_i \mid x_i) + \alpha \Big( \sum_j
              |\beta_{1j}| + \sum_{k\ge2} \sum_j |\beta_{kj} - \beta_{k-1,j}| \Big)

    (the first sum only when ``penalize_first``), intercepts unpenalised, over the
    parameters that give every training row a positive probability for every class.
    ``standardize=True`` solves the same problem on columns centred and divided by
    their population standard deviation :math:`s_j` (so feature ``j``'s penalty is
    weighted by :math:`s_j`, as in the reference code) and reports ``coef_`` and
    ``intercept_`` on the original scale, all :math:`K-1` intercepts included.
    With :math:`K = 2` this is L1 logistic regression of :math:`1\{y = c_2\}` with
    ``C = 1 / (n alpha)`` and coefficients ``-coef_``.

    The rare class is the last one. It is solved by proximal Newton: exact Hessian,
    coordinate descent on the lasso-penalised quadratic model, backtracking that
    rejects any step giving a training row a non-positive probability.

    Parameters
    ----------
    alpha : float, default=0.01
        Penalty strength :math:`\alpha \ge 0`.
    penalize_first : bool, default=True
        Penalise :math:`\beta_1` itself. With ``False`` and large ``alpha`` the fit is
        the proportional-odds model.
    standardize : bool, default=True
        Fit on standardised columns (see above).
    tol : float, default=1e-8
        Stop when the largest entry of the Newton direction (standardised scale) is
        below ``tol``.
    max_iter : int, default=100
        Maximum proximal-Newton iterations.
    warm_start : bool, default=False
        Start from the previous solution when it is feasible for the new data.
    categories : sequence, optional
        Explicit class order, lowest first.

    Attributes
    ----------
    coef_ : ndarray of shape (K-1, n_features)
        :math:`\beta_k` on the original scale.
    intercept_ : ndarray of shape (K-1,)
        :math:`a_k` on the original scale.
    classes_ : ndarray of shape (K,)
        The labels in their order.
    n_iter_ : int
        Proximal-Newton iterations.
    objective_ : float
        Final value of the objective (on the scale that was solved).
    n_features_in_, feature_names_in_
        As in scikit-learn.

    Examples
    --------
    >>> from statlogit import PrestoClassifier
    >>> from statlogit.datasets import make_presto_ordinal
    >>> X, y, _, _ = make_presto_ordinal(500, 5, random_state=0)
    >>> model = PrestoClassifier(alpha=0.01).fit(X, y)
    >>> model.predict_proba(X[:2]).sum(axis=1)
    array([1., 1.])
    """

    def __init__(self, alpha=0.01, *, penalize_first=True, standardize=True, tol=1e-8,
                 max_iter=100, warm_start=False, categories=None):
        self.alpha = alpha
        self.penalize_first = penalize_first
        self.standardize = standardize
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.categories = categories

    def fit(self, X, y):
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Ordered labels.

        Returns
        -------
        self
        """
        alpha = check_scalar(self.alpha, name="alpha", lower=0.0)
        tol, max_iter = _check_options(self.tol, self.max_iter)
        previous = self._previous_solution()
        X, codes, classes = _prepare(self, X, y, self.categories)
        scaling = solver.Scaling.fit(X, self.standardize)
        loss = solver.CumulativeLogitLoss(scaling.transform(X), codes, len(classes))
        start = self._start(loss, scaling, previous, len(classes))
        weights = solver.penalty_weights(len(classes) - 1, X.shape[1], alpha,
                                         penalize_first=self.penalize_first,
                                         free_slopes=True)
        result = solver.solve(loss, weights, start, tol=tol, max_iter=max_iter)
        _warn_if_not_converged(result, "PrestoClassifier")
        self.classes_ = classes
        self.intercept_, self.coef_ = scaling.to_original(result.theta)
        self.n_iter_ = result.n_iter
        self.objective_ = result.objective
        return self

    def _previous_solution(self):
        if self.warm_start and hasattr(self, "coef_"):
            return self.intercept_, self.coef_
        return None

    @staticmethod
    def _start(loss, scaling, previous, n_classes):
        null = solver.null_theta(loss.y, n_classes, loss.X.shape[1])
        if previous is None or previous[1].shape != (n_classes - 1, loss.X.shape[1]):
            return null
        theta = scaling.to_internal(*previous)
        return theta if np.isfinite(loss.value(theta)) else null


# ---------------------------------------------------------------- proportional odds


class ProportionalOddsClassifier(_CumulativeLogitPredictor, ClassifierMixin,
                                 BaseEstimator):
    r"""Unpenalised proportional-odds (cumulative logit) model.

    :math:`P(y \le c_k \mid x) = \sigma(a_k + \beta^\top x)`, one slope vector for
    all boundaries: PRESTO's limit as the penalty on the differences grows. Fitted by
    maximum likelihood (proximal Newton with no penalty). statsmodels'
    ``OrderedModel(distr="logit")`` writes the same model as
    :math:`F(\text{cut}_k - x^\top b)`, so its ``b`` is ``-coef_`` and its cut
    points are ``intercept_``.

    Parameters
    ----------
    tol : float, default=1e-10
        Stop when the largest Newton step entry is below ``tol``.
    max_iter : int, default=100
        Maximum Newton iterations.
    categories : sequence, optional
        Explicit class order, lowest first.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        The common slope :math:`\beta`.
    intercept_ : ndarray of shape (K-1,)
        Increasing intercepts :math:`a_k`.
    classes_ : ndarray of shape (K,)
    n_iter_ : int
    n_features_in_, feature_names_in_
    """

    def __init__(self, *, tol=1e-10, max_iter=100, categories=None):
        self.tol = tol
        self.max_iter = max_iter
        self.categories = categories

    def fit(self, X, y):
        """Fit by maximum likelihood; returns ``self``."""
        tol, max_iter = _check_options(self.tol, self.max_iter)
        X, codes, classes = _prepare(self, X, y, self.categories)
        scaling = solver.Scaling.fit(X, True)
        loss = solver.CumulativeLogitLoss(scaling.transform(X), codes, len(classes))
        weights = solver.penalty_weights(len(classes) - 1, X.shape[1], 0.0,
                                         penalize_first=False, free_slopes=False)
        start = solver.null_theta(codes, len(classes), X.shape[1])
        result = solver.solve(loss, weights, start, tol=tol, max_iter=max_iter)
        _warn_if_not_converged(result, "ProportionalOddsClassifier")
        self.classes_ = classes
        self.intercept_, coef = scaling.to_original(result.theta)
        self.coef_ = coef[0]
        self.n_iter_ = result.n_iter
        return self

    def _boundary_coef(self):
        return np.tile(self.coef_, (len(self.intercept_), 1))

    def __sklearn_tags__(self):
        # One common slope cannot separate scikit-learn's unordered toy blobs.
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags


# ---------------------------------------------------------------- path and CV


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


def _grid(alpha_top, n_alphas, ratio):
    top = alpha_top if alpha_top > 0 else 1.0
    return np.geomspace(top, top * ratio, n_alphas)


def _path_on(loss, n_classes, alphas, grid_spec, *, penalize_first, tol, max_iter):
    """``(alphas, results)`` of a warm-started path on one prepared problem."""
    n_features = loss.X.shape[1]
    top, restricted = solver.alpha_max(loss, n_classes, n_features,
                                       penalize_first=penalize_first, tol=tol,
                                       max_iter=max_iter)
    if alphas is None:
        alphas = _grid(top, *grid_spec)
    results = solver.path(loss, n_classes, n_features, alphas,
                          penalize_first=penalize_first, tol=tol, max_iter=max_iter,
                          start=restricted.theta)
    return alphas, results, top


def presto_path(X, y, *, alphas=None, n_alphas=20, alpha_min_ratio=0.01,
                penalize_first=True, standardize=True, tol=1e-8, max_iter=100,
                categories=None):
    r"""PRESTO solutions along a decreasing grid of penalties, warm-started.

    The default grid runs log-evenly from :math:`\alpha_{\max}` down to
    ``alpha_min_ratio`` times it. :math:`\alpha_{\max}` is exact: the largest
    absolute gradient of the mean negative log-likelihood over the penalised
    coordinates (standardised scale when ``standardize``) at the fit in which all of
    them are zero (the intercept-only fit, or the proportional-odds fit when
    ``penalize_first=False``). For :math:`\alpha \ge \alpha_{\max}` every penalised
    coordinate is zero; just below, one is not. Every solution is the exact
    constrained optimum that :class:`PrestoClassifier` gives, also where it lies on
    the boundary (a training row's probability for a class going to zero): after
    the first such fit, each one runs only the last stage of the barrier polish,
    warm-started from the previous solution.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    alphas : array-like, optional
        Explicit penalties (sorted decreasingly before use).
    n_alphas : int, default=20
    alpha_min_ratio : float, default=0.01
    penalize_first, standardize, tol, max_iter, categories
        As in :class:`PrestoClassifier`.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        Decreasing penalties.
    coefs : ndarray of shape (n_alphas, K-1, n_features)
        :math:`\beta_k` on the original scale.
    intercepts : ndarray of shape (n_alphas, K-1)
    """
    alphas, grid_spec = _check_alphas(alphas, n_alphas, alpha_min_ratio)
    tol, max_iter = _check_options(tol, max_iter)
    X, codes, classes = _prepare(_Unnamed(), X, y, categories)
    scaling = solver.Scaling.fit(X, standardize)
    loss = solver.CumulativeLogitLoss(scaling.transform(X), codes, len(classes))
    alphas, results, _ = _path_on(loss, len(classes), alphas, grid_spec,
                                  penalize_first=penalize_first, tol=tol,
                                  max_iter=max_iter)
    for result in results:
        _warn_if_not_converged(result, "presto_path")
    originals = [scaling.to_original(r.theta) for r in results]
    intercepts = np.array([o[0] for o in originals])
    coefs = np.array([o[1] for o in originals])
    return alphas, coefs, intercepts


class _Unnamed(BaseEstimator):
    """A throwaway estimator so ``validate_data`` can check plain function input."""


def _score(scoring, proba, codes):
    """Held-out loss (lower is better) of class probabilities ``proba``."""
    n_classes = proba.shape[1]
    if scoring == "rare_brier":
        return float(np.mean((proba[:, -1] - (codes == n_classes - 1)) ** 2))
    if scoring == "brier":
        onehot = np.eye(n_classes)[codes]
        return float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
    observed = proba[np.arange(len(codes)), codes]
    return float(-np.mean(np.log(np.clip(observed, 1e-300, None))))


class PrestoClassifierCV(_CumulativeLogitPredictor, ClassifierMixin, BaseEstimator):
    r"""PRESTO with the penalty chosen by K-fold cross-validation on a path.

    The grid is the full-data path of :func:`presto_path`. Each fold fits the whole
    grid warm-started (largest penalty first) on its training part and scores
    held-out probabilities from the cumulative slopes :math:`\beta_k`. The
    selected ``alpha_`` is the **largest** penalty among those with the smallest
    mean held-out score; the final model is the full-data path solution at it.
    Every path solution, on the folds and on the full data, is the exact
    constrained optimum (boundary optima included), so the final model equals
    ``PrestoClassifier(alpha=alpha_)`` and each CV score is that of a single fit
    on the fold.

    Parameters
    ----------
    n_alphas : int, default=20
    alpha_min_ratio : float, default=0.01
    alphas : array-like, optional
        Explicit grid instead of the default one.
    cv : int or cross-validation splitter, default=5
        An integer gives ``StratifiedKFold(cv, shuffle=True)``; every class needs
        at least ``cv`` rows.
    scoring : {"rare_brier", "brier", "log_loss"}, default="rare_brier"
        ``"rare_brier"``: mean of :math:`(\hat p_K - 1\{y = c_K\})^2`, the rare-class
        Brier score; ``"brier"``: the multiclass Brier score
        :math:`\sum_k (\hat p_k - 1\{y = c_k\})^2` (the reference code's); or the
        held-out negative log-likelihood.
    penalize_first, standardize, tol, max_iter, categories
        As in :class:`PrestoClassifier`.
    random_state : None, int or RandomState
        Shuffling of the stratified folds.

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
    coef_, intercept_, classes_, n_iter_
        The final model (as in :class:`PrestoClassifier`).
    """

    def __init__(self, *, n_alphas=20, alpha_min_ratio=0.01, alphas=None, cv=5,
                 scoring="rare_brier", penalize_first=True, standardize=True,
                 tol=1e-8, max_iter=100, categories=None, random_state=None):
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

    def fit(self, X, y):
        """Choose ``alpha_`` by cross-validation, then refit; returns ``self``."""
        if self.scoring not in SCORINGS:
            raise ValueError(f"scoring must be one of {SCORINGS}; got {self.scoring!r}.")
        alphas, grid_spec = _check_alphas(self.alphas, self.n_alphas,
                                          self.alpha_min_ratio)
        tol, max_iter = _check_options(self.tol, self.max_iter)
        X, codes, classes = _prepare(self, X, y, self.categories)
        n_classes = len(classes)
        scaling = solver.Scaling.fit(X, self.standardize)
        loss = solver.CumulativeLogitLoss(scaling.transform(X), codes, n_classes)
        options = dict(penalize_first=self.penalize_first, tol=tol, max_iter=max_iter)
        alphas, results, top = _path_on(loss, n_classes, alphas, grid_spec, **options)
        self.cv_scores_ = np.array([
            self._fold_scores(X, codes, n_classes, train, test, alphas, options)
            for train, test in self._splitter(codes).split(X, codes)
        ])
        self.mean_score_ = self.cv_scores_.mean(axis=0)
        self.std_score_ = self.cv_scores_.std(axis=0)
        best = int(np.argmin(self.mean_score_))
        originals = [scaling.to_original(r.theta) for r in results]
        self.alphas_, self.alpha_max_, self.alpha_ = alphas, top, float(alphas[best])
        self.intercept_path_ = np.array([o[0] for o in originals])
        self.coef_path_ = np.array([o[1] for o in originals])
        final = results[best]
        _warn_if_not_converged(final, "PrestoClassifierCV (final fit)")
        self.classes_ = classes
        self.intercept_, self.coef_ = scaling.to_original(final.theta)
        self.n_iter_ = final.n_iter
        return self

    def _splitter(self, codes):
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

    def _fold_scores(self, X, codes, n_classes, train, test, alphas, options):
        train_codes = codes[train]
        if len(np.unique(train_codes)) < n_classes:
            raise ValueError("A training fold lacks a class; use stratified folds.")
        scaling = solver.Scaling.fit(X[train], self.standardize)
        loss = solver.CumulativeLogitLoss(scaling.transform(X[train]), train_codes,
                                          n_classes)
        _, results, _ = _path_on(loss, n_classes, alphas, None, **options)
        scores = []
        for result in results:
            proba = class_probabilities(X[test], *scaling.to_original(result.theta))
            scores.append(_score(self.scoring, proba, codes[test]))
        return scores

    def plot(self, ax=None):
        """Plot the coefficient path of the rare boundary and the CV curve.

        Parameters
        ----------
        ax : sequence of two matplotlib Axes, optional
            Created (side by side) when omitted.

        Returns
        -------
        ax : the two Axes
        """
        import matplotlib.pyplot as plt

        check_is_fitted(self)
        if ax is None:
            _, ax = plt.subplots(1, 2, figsize=(9, 3.5))
        left, right = ax
        left.plot(self.alphas_, self.coef_path_[:, -1, :])
        left.set(xscale="log", xlabel="alpha", ylabel=r"$\beta_{K-1}$ (original scale)",
                 title="rare-boundary coefficient path")
        right.errorbar(self.alphas_, self.mean_score_, yerr=self.std_score_, fmt="o-",
                       ms=3, capsize=2)
        for axis in (left, right):
            axis.axvline(self.alpha_, color="k", ls="--", lw=0.8)
        right.set(xscale="log", xlabel="alpha", ylabel=f"held-out {self.scoring}",
                  title="cross-validation")
        return ax
