r"""What the ordinal estimators share: input checks, label order, probabilities.

Labels follow scikit-learn's contract: ``classes_`` is sorted (``np.unique`` order) and
``predict_proba``'s columns follow it, so every scorer, ``GridSearchCV`` and
``cross_val_score`` is right. The ordinal order, lowest first, is ``categories_``: the
``categories=`` argument, else a pandas ordered ``Categorical``'s order, else the sorted
labels (numeric labels order numerically; labels that are not numbers get a warning,
since their sorted order is rarely the intended one). The rare class is
``categories_[-1]``.
"""

import re
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from statlogit._validation import check_labels, check_sample_weight, check_scalar
from statlogit.kernels.common import sigmoid_array
from statlogit.ordinal._kernels import cdf_matrix
from statlogit.ordinal._loss import LINKS

__all__ = ["OrdinalPredictorMixin", "class_probabilities", "cumulative_probabilities"]


class OrdinalLabelWarning(UserWarning):
    """String labels were given without an order."""


def _ordered_categories(y, categories):
    """The explicit class order: ``categories`` or a pandas ordered Categorical's."""
    if categories is not None:
        return list(categories)
    dtype = getattr(y, "dtype", None)
    if getattr(dtype, "ordered", False):
        return list(dtype.categories)
    return None


def check_link(link):
    if link not in LINKS:
        raise ValueError(f"link must be one of {tuple(LINKS)}; got {link!r}.")
    return link


def prepare(estimator, X, y, categories, sample_weight=None):
    """Validate ``X, y, sample_weight``.

    Returns ``(X, codes, categories, classes, weights)``: ``codes`` index the ordinal
    ``categories``; ``classes`` are the sorted labels; ``weights`` is None without
    ``sample_weight`` (rows of weight zero are dropped later, by the fit itself).
    """
    order = _ordered_categories(y, categories)
    X, y = _validated(estimator, X, y)
    check_classification_targets(y)
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError("y has only 1 class; ordinal models need at least 2 classes.")
    if order is None and y.dtype.kind not in "biuf":
        warnings.warn(
            f"y's labels are not numbers and have no order; their sorted order "
            f"{classes.tolist()[:6]} is used as the ordinal order, so the rare (last) "
            f"class is {classes[-1]!r}. Pass categories=[lowest, ..., highest] or an "
            "ordered pandas Categorical to state the order.",
            OrdinalLabelWarning, stacklevel=3)
    categories, codes = check_labels(y, categories=order)
    weights = None
    if sample_weight is not None:
        weights = check_sample_weight(sample_weight, X.shape[0])
    counts = np.bincount(codes, weights=weights, minlength=len(categories))
    if np.any(counts == 0):
        empty = [str(c) for c in np.asarray(categories)[counts == 0]]
        raise ValueError(
            f"categories {empty} have no rows (of positive sample_weight) in y; drop "
            "them from categories (the intercepts of an empty class are not "
            "identified)."
        )
    return X, codes, np.asarray(categories), classes, weights


def _validated(estimator, X, y):
    """``validate_data`` with messages that name X or y (same exception type)."""
    try:
        return validate_data(estimator, X, y, dtype=np.float64, order="C")
    except (TypeError, ValueError) as exc:
        message = str(exc)
        if re.search(r"\b[Xy]\b", message):
            raise
        raise type(exc)(f"X and y must be a numeric 2-D array and a 1-D array of "
                        f"labels with the same number of rows: {message}") from exc


def check_flags(**flags):
    """Boolean options must be bools (``standardize="no"`` would silently be True)."""
    for name, value in flags.items():
        if not isinstance(value, bool | np.bool_):
            raise ValueError(f"{name} must be True or False; got {value!r}.")


def check_options(tol, max_iter):
    return (check_scalar(tol, name="tol", lower=0.0, include_lower=False),
            check_scalar(max_iter, name="max_iter", lower=1, integer=True))


def warn_if_not_converged(result, what):
    if not result.converged:
        warnings.warn(
            f"{what} did not converge in {result.n_iter} proximal-Newton iterations; "
            "increase max_iter, loosen tol, or raise alpha (the data may be "
            "separable).",
            ConvergenceWarning,
            stacklevel=3,
        )


def cumulative_probabilities(X, intercept, coef, link="logit"):
    r"""Monotone cumulative probabilities :math:`P(y \le c_k \mid x)`, (n, K-1).

    Where fitted boundaries cross (possible on new rows), the values
    :math:`F(a_k + \beta_k^\top x)` are sorted along ``k``: the rearrangement that
    turns any set of curves into a valid distribution function.
    """
    eta = np.ascontiguousarray(X @ coef.T + intercept)
    if link == "logit":
        values = sigmoid_array(eta.ravel()).reshape(eta.shape)
    else:
        values = cdf_matrix(eta, LINKS[link])
    return np.sort(values, axis=1)


def class_probabilities(X, intercept, coef, link="logit"):
    """Class probabilities (n, K), ordinal order, from the cumulative probabilities."""
    cumulative = cumulative_probabilities(X, intercept, coef, link)
    n = cumulative.shape[0]
    padded = np.hstack([np.zeros((n, 1)), cumulative, np.ones((n, 1))])
    return np.diff(padded, axis=1)


class OrdinalPredictorMixin:
    """Prediction methods shared by the cumulative-link classifiers."""

    def _boundary_coef(self):
        return self.coef_

    def _ordinal_proba(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64, order="C")
        return class_probabilities(X, self.intercept_, self._boundary_coef(),
                                   getattr(self, "link", "logit"))

    def predict_proba(self, X):
        """Class probabilities, columns in the (sorted) order of ``classes_``.

        Where the fitted cumulative curves cross at a row, the cumulative
        probabilities are sorted first, so the result is always non-negative with
        rows summing to one. Use :meth:`predict_ordinal_proba` for the columns in
        the ordinal order of ``categories_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        proba = self._ordinal_proba(X)
        return proba[:, self._columns()]

    def predict_ordinal_proba(self, X):
        """Class probabilities with columns in the ordinal order of ``categories_``."""
        return self._ordinal_proba(X)

    def _columns(self):
        """Ordinal column of each entry of ``classes_``."""
        categories = getattr(self, "categories_", self.classes_)
        position = {c: k for k, c in enumerate(np.asarray(categories).tolist())}
        return np.array([position[c] for c in self.classes_.tolist()], dtype=np.int64)

    def predict_rare_proba(self, X):
        """Probability of the last (rare) class of ``categories_``,
        :math:`1 - F(\\eta_{K-1})`."""
        return self._ordinal_proba(X)[:, -1]

    def predict(self, X):
        """The most probable class for each row."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


def check_penalty_factor(penalty_factor, n_features):
    """``None`` or finite non-negative weights, one per feature."""
    if penalty_factor is None:
        return None
    factor = np.asarray(penalty_factor, dtype=np.float64)
    if factor.shape != (n_features,) or not np.all(np.isfinite(factor)) or np.any(
            factor < 0):
        raise ValueError(
            f"penalty_factor must hold {n_features} finite non-negative weights, one "
            f"per feature; got {np.shape(penalty_factor)} values.")
    return factor


def build_problem(estimator, X, y, sample_weight, *, penalized=True, **options):
    """The one fit sequence's first half: validate, then scale and set up the loss.

    ``options`` are the estimator's ``categories``, ``standardize``, ``link``,
    ``penalize_first``, ``l1_ratio``, ``penalty_factor``, ``tol`` and ``max_iter``
    (missing ones take :class:`~statlogit.PrestoClassifier`'s defaults).
    Returns ``(problem, categories, classes, data)`` with ``data = (X, codes,
    weights)`` as validated (all rows, also those of weight zero).
    """
    from statlogit.ordinal._fit import CumulativeProblem

    tol, max_iter = check_options(options.get("tol", 1e-8), options.get("max_iter", 100))
    check_flags(**{name: options[name] for name in ("standardize", "penalize_first",
                                                    "warm_start") if name in options})
    link = check_link(options.get("link", "logit"))
    l1_ratio = check_scalar(options.get("l1_ratio", 1.0), name="l1_ratio", lower=0.0,
                            upper=1.0)
    X, codes, categories, classes, weights = prepare(
        estimator, X, y, options.get("categories"), sample_weight)
    factor = check_penalty_factor(options.get("penalty_factor"), X.shape[1])
    problem = CumulativeProblem(
        X, codes, len(categories), standardize=options.get("standardize", True),
        link=link, sample_weight=weights,
        penalize_first=options.get("penalize_first", True) if penalized else False,
        l1_ratio=l1_ratio, penalty_factor=factor, tol=tol, max_iter=max_iter)
    return problem, categories, classes, (X, codes, weights)
