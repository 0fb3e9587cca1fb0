r"""Classification from label proportions: DLLP proportion loss or exact bag likelihood."""

import numpy as np
import pandas as pd
import scipy.optimize
import scipy.special
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from statlogit._validation import as_float_array, check_sample_weight, check_scalar
from statlogit.aggregate._bags import (
    encode_bags,
    resolve_bags_argument,
    singleton_bags,
    validated_X,
)
from statlogit.aggregate._glm import bag_csr, standardisation, warn_if_failed
from statlogit.aggregate._inference import (
    AggregateInferenceMixin,
    Equilibration,
    check_aggregate_cov_type,
    frequency_correction,
    numerical_hessian,
)
from statlogit.aggregate._llp import check_exact_size, llp_loss_grad, logits
from statlogit.aggregate.regressor import warn_if_bags_missing
from statlogit.inference import sandwich_covariance

__all__ = ["AggregateClassifier"]

LOSSES = ("proportion", "exact")
#: Counts K_a * P_ac must be integers to this tolerance for the exact likelihood.
COUNT_ATOL = 1e-8
#: Relative step of the central differences that give the Hessian for the covariance.
HESSIAN_STEP = 1e-5


class AggregateClassifier(AggregateInferenceMixin, ClassifierMixin, BaseEstimator):
    r"""Logistic / softmax classifier fitted from bag-level class proportions.

    Minimises :math:`C\,(L_{bag} + \rho R) + \tfrac12\lVert W\rVert_F^2` where
    :math:`L_{bag}` is either the DLLP proportion loss :math:`-\sum_a K_a \sum_c
    P_{ac}\log\bar p_{ac}` (cross-entropy of the bag proportions against the mean
    predicted probabilities) or the exact bag likelihood :math:`-\sum_a\log P(N_a)`
    of the class counts (Poisson-binomial for two classes, Poisson-multinomial for
    more, by a recursive convolution in log space), and :math:`R = L_{inst} -
    L_{prop} \ge 0` the gap to the instance-level soft-label cross-entropy
    :math:`L_{inst} = -\sum_i w_i\sum_c P_{a(i)c}\log p_{ic}`, as in the linear case.
    With bags of size one every loss is the logistic log loss, and the estimator is
    scikit-learn's ``LogisticRegression`` (same ``C``; binary: one coefficient
    vector, multiclass: softmax with one vector per class).

    Parameters
    ----------
    rho : float, default=0.0
        Weight :math:`\rho \ge 0` of the instance-level gap :math:`R`.
    loss : {"proportion", "exact"}, default="proportion"
        The bag loss. ``"exact"`` needs integer class counts per bag (instance labels,
        or proportions times bag sizes that are integers) and costs
        :math:`O(k\prod_{c\ne c^*}(N_c + 1))` per bag of size :math:`k`; a bag whose
        tables would exceed 2 GiB, or more than :math:`10^{10}` steps per evaluation,
        is refused with a ValueError that names it.
    C : float, default=1.0
        Inverse ridge strength, as in scikit-learn; ``numpy.inf`` fits without penalty
        (then predictions do not depend on the units of the features).
    fit_intercept : bool, default=True
    max_iter : int, default=1000
        Largest number of L-BFGS iterations (a ConvergenceWarning reports hitting it).
    tol : float, default=1e-10
        Gradient tolerance of L-BFGS, in standardised feature units.
    cov_type : {"cluster", "nonrobust"}, default="cluster"
        Covariance of the (penalised) estimates: ``"cluster"`` the sandwich with bags
        as clusters, ``"nonrobust"`` the inverse Hessian (a likelihood covariance only
        for ``loss="exact"``, refused for the quasi-likelihood proportion loss).

    Attributes
    ----------
    classes_ : numpy.ndarray of shape (n_classes,)
        Sorted class labels; ``predict_proba`` columns follow this order.
    coef_ : numpy.ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : numpy.ndarray of shape (1,) or (n_classes,)
    n_iter_ : int
    n_bags_ : int
    bag_sizes_ : numpy.ndarray of shape (n_bags,)
    cov_, std_errors_, param_names_
        Covariance and standard errors of ``(intercept, coef)`` per output (names
        ``"<class>:<feature>"`` for several classes).
    n_features_in_ : int
    feature_names_in_ : numpy.ndarray
        Only with pandas input.
    """

    __metadata_request__fit = {"groups": False}

    def __init__(self, rho=0.0, loss="proportion", C=1.0, fit_intercept=True,
                 max_iter=1000, tol=1e-10, cov_type="cluster"):
        self.rho = rho
        self.loss = loss
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cov_type = cov_type

    def fit(self, X, y=None, *, bags=None, groups=None, proportions=None,
            sample_weight=None):
        """Fit from instance labels (aggregated per bag) or from bag proportions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), optional
            Instance labels; only their per-bag counts are used.
        bags, groups : array-like of shape (n_samples,), optional
            Bag labels (``groups`` is an alias); ``None`` means singleton bags.
        proportions : array-like of shape (n_bags, n_classes) or (n_bags,), optional
            Instead of ``y``: class proportions per bag, rows ordered as the sorted
            unique bag labels (a DataFrame indexed by bag label is aligned; its columns
            are the classes). A 1-D array is the share of class 1 of classes (0, 1).
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative instance weights (integers only for ``loss="exact"``: they
            repeat rows).

        Returns
        -------
        self
        """
        rho = check_scalar(self.rho, name="rho", lower=0.0)
        C = _check_C(self.C)
        max_iter = check_scalar(self.max_iter, name="max_iter", lower=1, integer=True)
        tol = check_scalar(self.tol, name="tol", lower=0.0, include_lower=False)
        cov_type = check_aggregate_cov_type(self.cov_type)
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}; got {self.loss!r}.")
        X = validated_X(self, X)
        labels = resolve_bags_argument(bags, groups)
        coded = (singleton_bags(X.shape[0]) if labels is None
                 else encode_bags(labels, X.shape[0], min_bags=1))
        weights = (np.ones(X.shape[0]) if sample_weight is None
                   else check_sample_weight(sample_weight, X.shape[0]))
        P = self._proportions(y, proportions, coded, weights)
        if labels is None:
            warn_if_bags_missing(labels, rho, type(self).__name__, neutral=None)
        if self.loss == "exact":
            X, coded, weights, kept = _repeat_rows(X, coded, weights)
            P = P[kept]
        sizes = coded.sums(weights)
        counts = self._counts(P, sizes)
        self._solve(X, P, counts, coded, weights, rho, C, max_iter, tol, cov_type)
        self.n_bags_ = coded.n_bags
        self.bag_sizes_ = sizes
        return self

    def _proportions(self, y, proportions, bags, weights):
        if y is None and proportions is None:
            raise ValueError("AggregateClassifier requires y to be passed, but the target "
                             "y is None: pass instance labels y or proportions=.")
        if y is not None and proportions is not None:
            raise ValueError("Pass either y (instance labels) or proportions= (class "
                             "proportions per bag), not both.")
        if y is not None:
            y = np.asarray(y)
            if y.ndim == 2 and y.shape[1] == 1:
                y = column_or_1d(y, warn=True)
            if y.ndim != 1 or y.shape[0] != bags.n_samples:
                raise ValueError(f"y must be one label per row of X ({bags.n_samples}); "
                                 f"got shape {y.shape}.")
            check_classification_targets(y)
            self.classes_, codes = np.unique(y, return_inverse=True)
            if self.classes_.shape[0] < 2:
                raise ValueError("y has one class; at least two classes are needed.")
            onehot = np.zeros((y.shape[0], self.classes_.shape[0]))
            onehot[np.arange(y.shape[0]), codes.ravel()] = weights
            sizes = bags.sums(weights)
            return bags.sums(onehot) / np.where(sizes > 0, sizes, 1.0)[:, None]
        if isinstance(proportions, pd.DataFrame):
            frame = proportions.reindex(bags.labels)
            if frame.isna().to_numpy().any():
                raise ValueError("proportions lacks rows for some bags (index = bag labels).")
            self.classes_ = np.asarray(frame.columns)
            order = np.argsort(self.classes_, kind="stable")
            self.classes_ = self.classes_[order]
            P = as_float_array(frame.to_numpy()[:, order], name="proportions", ndim=2)
        else:
            P = as_float_array(proportions, name="proportions")
            if P.ndim == 1:
                P = np.column_stack([1.0 - P, P])
            self.classes_ = np.arange(P.shape[1])
        if P.shape != (bags.n_bags, self.classes_.shape[0]) or P.shape[1] < 2:
            raise ValueError(f"proportions must have one row per bag ({bags.n_bags}) and "
                             f"at least two class columns; got shape {P.shape}.")
        if np.any(P < -1e-12) or np.any(np.abs(P.sum(axis=1) - 1.0) > 1e-8):
            raise ValueError("proportions must be non-negative and sum to one per bag.")
        return np.clip(P, 0.0, 1.0)

    def _counts(self, P, sizes):
        if self.loss != "exact":
            return np.zeros(P.shape, dtype=np.int64)
        raw = P * sizes[:, None]
        counts = np.rint(raw)
        if np.any(np.abs(raw - counts) > COUNT_ATOL * np.maximum(1.0, sizes[:, None])):
            raise ValueError('loss="exact" needs integer class counts per bag: '
                             "proportions times bag sizes must be whole numbers.")
        counts = counts.astype(np.int64)
        check_exact_size(counts)
        return counts

    def _solve(self, X, P, counts, coded, weights, rho, C, max_iter, tol, cov_type):
        n_classes = self.classes_.shape[0]
        n_out = 1 if n_classes == 2 else n_classes
        p = X.shape[1]
        shift, scale = standardisation(X, self.fit_intercept)
        Z = (X - shift) / scale
        order, bag_ptr = bag_csr(coded)
        with np.errstate(over="ignore", divide="ignore"):
            penalty = np.minimum(np.tile(1.0 / scale**2, n_out), 1e300) / C
        total = weights.sum()

        def objective(params):
            eta, _ = logits(Z, params, p, n_classes, self.fit_intercept)
            value, grad_eta = llp_loss_grad(eta, P, counts, weights, order, bag_ptr,
                                            coded.codes, self.loss, rho)
            return self._penalised(params, value, grad_eta, Z, penalty, n_classes, total)

        start = np.zeros(n_out * p + (n_out if self.fit_intercept else 0))
        result = scipy.optimize.minimize(
            objective, start, jac=True, method="L-BFGS-B",
            options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15, "maxcor": 30})
        warn_if_failed(result, max_iter)
        self.n_iter_ = int(result.nit)
        W = result.x[:n_out * p].reshape(n_out, p) / scale
        if self.fit_intercept:
            result.x[n_out * p:] -= result.x[n_out * p:].mean() if n_out > 1 else 0.0
        b = result.x[n_out * p:] if self.fit_intercept else np.zeros(n_out)
        self.coef_ = W
        self.intercept_ = b - W @ shift if self.fit_intercept else np.zeros(n_out)
        names = list(getattr(self, "feature_names_in_", [f"x{j}" for j in range(p)]))
        labels = (["intercept"] if self.fit_intercept else []) + names
        if n_out > 1:
            labels = [f"{c}:{name}" for c in self.classes_ for name in labels]
        self._param_labels = labels
        self._set_inference(lambda: self._covariance(result.x, objective, Z, P, counts,
                                                     weights, order, bag_ptr, coded,
                                                     rho, total, shift, scale, cov_type))

    def _penalised(self, params, value, grad_eta, Z, penalty, n_classes, total):
        """``C (L + rho R + ||W||^2 / (2C)) / n``: scikit-learn's objective over ``n``
        (``C=inf``: the unpenalised loss over ``n``)."""
        n_out = 1 if n_classes == 2 else n_classes
        p = Z.shape[1]
        W = params[:n_out * p]
        g_out = grad_eta[:, 1:] if n_classes == 2 else grad_eta
        grad = (g_out.T @ Z).ravel() + penalty * W
        obj = value + 0.5 * np.sum(penalty * W**2)
        if self.fit_intercept:
            grad = np.append(grad, g_out.sum(axis=0))
        factor = _loss_factor(self.C) / total
        return obj * factor, grad * factor

    def _covariance(self, params, objective, Z, P, counts, weights, order, bag_ptr,
                    coded, rho, total, shift, scale, cov_type):
        if cov_type == "nonrobust" and self.loss != "exact":
            raise ValueError('cov_type="nonrobust" is a likelihood covariance: use '
                             'loss="exact", or cov_type="cluster".')
        k = params.shape[0]
        hessian = numerical_hessian(lambda b: objective(b)[1], params, step=HESSIAN_STEP,
                                    factor=total / _loss_factor(self.C))
        n_classes = self.classes_.shape[0]
        n_out = 1 if n_classes == 2 else n_classes
        p = Z.shape[1]
        if n_out > 1 and not np.isfinite(_check_C(self.C)):
            raise ValueError("Without penalty (C=inf) the softmax coefficients are only "
                             "identified up to a common shift; use a finite C.")
        if n_out > 1 and self.fit_intercept:
            # softmax intercepts are identified up to a common shift: constrain their sum
            null = np.zeros(k)
            null[n_out * p:] = 1.0 / np.sqrt(n_out)
            bread_inv = np.linalg.inv(hessian + np.outer(null, null)) - np.outer(null, null)
        else:
            bread_inv = np.linalg.pinv(hessian, hermitian=True)
        if cov_type == "nonrobust":
            cov = bread_inv
        else:
            eta, _ = logits(Z, params, p, n_classes, self.fit_intercept)
            _, grad_eta = llp_loss_grad(eta, P, counts, weights, order, bag_ptr,
                                        coded.codes, self.loss, rho)
            g_out = grad_eta[:, 1:] if n_classes == 2 else grad_eta
            scores = (g_out[:, :, None] * Z[:, None, :]).reshape(Z.shape[0], n_out * p)
            if self.fit_intercept:
                scores = np.column_stack([scores, g_out])
            rows = weights > 0
            if np.sum(rows) <= k or np.unique(coded.codes[rows]).shape[0] < 2:
                raise ValueError(f"Standard errors need more rows than parameters ({k}) "
                                 "and at least two bags.")
            cov = sandwich_covariance(bread_inv, scores[rows], cov_type="cluster",
                                      groups=coded.codes[rows])
            cov *= frequency_correction(int(np.sum(rows)), float(total), k)
        return self._back_transform(cov, n_out, p, shift, scale)

    def _back_transform(self, cov, n_out, p, shift, scale):
        """Per output block (intercept, coef) in user units; blocks are stacked."""
        eq = Equilibration(shift, scale, self.fit_intercept)
        blocks = []
        for o in range(n_out):
            idx = list(range(o * p, (o + 1) * p))
            idx = ([n_out * p + o] + idx) if self.fit_intercept else idx
            blocks.append(idx)
        order = np.concatenate(blocks)
        width = p + (1 if self.fit_intercept else 0)
        A = np.zeros((order.shape[0], order.shape[0]))
        for o in range(n_out):
            sl = slice(o * width, (o + 1) * width)
            A[sl, sl] = _affine(eq, p)
        sub = cov[np.ix_(order, order)]
        values, vectors = np.linalg.eigh((sub + sub.T) / 2)
        root = A @ (vectors * np.sqrt(np.clip(values, 0.0, None)))
        return root @ root.T, np.sqrt(np.sum(root**2, axis=1))

    def _set_inference(self, compute):
        super()._set_inference(compute)
        self.param_names_ = self._param_labels

    def _params(self):
        rows = [np.concatenate([[b], w]) if self.fit_intercept else w
                for w, b in zip(self.coef_, self.intercept_, strict=True)]
        return np.concatenate(rows)

    def decision_function(self, X):
        """Linear predictors: shape (n,) for two classes, (n, n_classes) otherwise."""
        check_is_fitted(self)
        X = validated_X(self, X, reset=False)
        scores = X @ self.coef_.T + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            scores = np.column_stack([np.zeros_like(scores), scores])
        return scipy.special.softmax(scores, axis=1)

    def predict_log_proba(self, X):
        """Log class probabilities (stable), columns in the order of ``classes_``."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            scores = np.column_stack([np.zeros_like(scores), scores])
        return scores - scipy.special.logsumexp(scores, axis=1, keepdims=True)

    def predict(self, X):
        """Most probable class of every instance."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def predict_bag_proportions(self, X, bags):
        """Mean predicted class probabilities per bag (rows: sorted unique bags)."""
        proba = self.predict_proba(X)
        return encode_bags(bags, proba.shape[0], min_bags=1).means(proba)

    def _summary_info(self):
        info = super()._summary_info()
        info["loss"] = self.loss
        return info


def _check_C(C):
    if isinstance(C, int | float | np.floating) and not isinstance(C, bool) and C == np.inf:
        return np.inf
    return check_scalar(C, name="C", lower=0.0, include_lower=False)


def _loss_factor(C):
    """Objective multiplier: ``C`` (scikit-learn's scaling), 1 without penalty."""
    C = _check_C(C)
    return C if np.isfinite(C) else 1.0


def _affine(eq, p):
    if not eq.fit_intercept:
        return np.diag(1.0 / eq.scale)
    A = np.zeros((p + 1, p + 1))
    A[0, 0] = 1.0
    A[0, 1:] = -eq.shift / eq.scale
    A[1:, 1:] = np.diag(1.0 / eq.scale)
    return A


def _repeat_rows(X, bags, weights):
    """Integer weights as repeated rows (the exact likelihood counts instances)."""
    if np.all(weights == 1.0):
        return X, bags, weights, np.arange(bags.n_bags)
    if np.any(weights != np.round(weights)):
        raise ValueError('loss="exact" needs integer sample_weight (repeated rows).')
    reps = weights.astype(np.int64)
    rows = np.repeat(np.arange(X.shape[0]), reps)
    labels = bags.labels[bags.codes[rows]]
    coded = encode_bags(labels, rows.shape[0], min_bags=1)
    kept = np.unique(bags.codes[rows])
    return np.ascontiguousarray(X[rows]), coded, np.ones(rows.shape[0]), kept
