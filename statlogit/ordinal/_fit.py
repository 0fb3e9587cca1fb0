r"""One fit sequence for every ordinal entry point.

scaling -> loss -> penalty weights -> solve (:func:`statlogit.solvers.prox_newton`)
-> back-transform, for a single penalty, the proportional-odds restriction, the exact
:math:`\alpha_{\max}` and a warm-started path. :class:`CumulativeProblem` is that
sequence; the estimators, :func:`~statlogit.presto_path` and the cross-validation
folds all call it.
"""

import functools
from dataclasses import dataclass

import numpy as np

from statlogit.ordinal._loss import CumulativeLinkLoss, ParallelLinkLoss, null_theta
from statlogit.solvers.prox_newton import RECENTER, prox_newton

#: Columns whose spread is below this fraction of their largest magnitude are constant.
CONSTANT_SPREAD = 1e-12
#: Problems with n (p+1)^2 below this run BLAS on one thread.
SMALL_WORK = 5e7


def column_moments(X, weights):
    r"""Per column: largest magnitude :math:`b_j`, and the weighted mean and population
    standard deviation of :math:`X_{:j} / b_j` (weights summing to one), so that no
    scale of X under- or overflows. One temporary of the size of X (numpy, BLAS for
    the weighted sums; a compiled loop cost 0.7 s of compilation for no run-time gain).
    """
    big = np.maximum(X.max(axis=0, initial=0.0), -X.min(axis=0, initial=0.0))
    big[big == 0.0] = 1.0
    unit = X / big
    mean = weights @ unit
    unit -= mean
    unit *= unit
    return big, mean, np.sqrt(weights @ unit)


@dataclass
class Scaling:
    r"""Column centring and scaling applied before fitting.

    The (weighted) mean and population standard deviation are computed on each column
    divided by its largest magnitude, so no scale of X under- or overflows
    (``X * 1e-200`` and ``X * 1e300`` give the same standardised columns as ``X``).
    A column whose spread is below ``CONSTANT_SPREAD`` times its largest magnitude is
    constant: it is set to zero (its slope is not identified next to the intercepts).
    """

    mean: np.ndarray
    scale: np.ndarray
    constant: np.ndarray

    @classmethod
    def fit(cls, X, standardize, sample_weight=None):
        n, p = X.shape
        w = np.full(n, 1.0 / n) if sample_weight is None else (
            sample_weight / sample_weight.sum())
        big, mean_unit, spread = column_moments(np.ascontiguousarray(X), w)
        constant = spread <= CONSTANT_SPREAD  # X / big has largest magnitude 1 (or 0)
        scale = np.where(constant, 1.0, spread * big) if standardize else np.ones(p)
        return cls(mean_unit * big, scale, constant)

    def transform(self, X):
        out = (X - self.mean) / self.scale
        out[:, self.constant] = 0.0
        return np.ascontiguousarray(out)

    def to_original(self, theta):
        """``(intercept (K-1,), coef (K-1, p))`` on the original scale of X."""
        with np.errstate(over="ignore", invalid="ignore"):
            coef = np.cumsum(theta[:, 1:], axis=0) / self.scale
            intercept = theta[:, 0] - coef @ self.mean
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
            raise ValueError(
                "The coefficients overflow on the original scale of X (a column's "
                "scale is extreme, e.g. below 1e-290); rescale X's columns.")
        return intercept, coef

    def to_internal(self, intercept, coef):
        """Inverse of :meth:`to_original`."""
        scaled = coef * self.scale
        theta = np.empty((coef.shape[0], coef.shape[1] + 1))
        theta[:, 0] = intercept + coef @ self.mean
        theta[:, 1:] = np.diff(scaled, axis=0, prepend=0.0)
        return theta


def _blas_threads(loss):
    """One BLAS thread for small problems: their d x d solves and products lose to
    thread start-up (on a loaded 2-core machine a K = 40 fit took 30 s instead of
    0.3 s); large Gram matrices keep the caller's threads."""
    from contextlib import nullcontext

    n, q = loss.X.shape
    if n * (q + 1) ** 2 > SMALL_WORK:
        return nullcontext()
    return _controller().limit(limits=1, user_api="blas")


@functools.cache
def _controller():
    """threadpoolctl's inspection of the loaded libraries, done once per process
    (about 10 ms each time otherwise: a cross-validated path makes 100 fits)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _factors(n_boundaries, n_features, penalize_first, penalty_factor):
    base = np.ones((n_boundaries, n_features + 1))
    base[:, 0] = 0.0
    if not penalize_first:
        base[0, 1:] = 0.0
    if penalty_factor is not None:
        base[:, 1:] *= penalty_factor
    return base


def penalty_weights(n_boundaries, n_features, alpha, *, penalize_first, free_slopes,
                    l1_ratio=1.0, penalty_factor=None):
    r"""Per-coordinate lasso weights in the flattened ``theta``.

    0 for intercepts (and :math:`\psi_1` when not ``penalize_first``),
    ``alpha * l1_ratio * penalty_factor[j]`` for penalised differences.
    ``free_slopes=False`` fixes the differences :math:`\psi_2, \dots` at zero
    (weight ``inf``): the proportional-odds model.
    """
    weights = alpha * l1_ratio * _factors(n_boundaries, n_features, penalize_first,
                                          penalty_factor)
    if not free_slopes:
        weights[1:, 1:] = np.inf
    return weights.ravel()


def ridge_weights(n_boundaries, n_features, alpha, *, penalize_first, l1_ratio=1.0,
                  penalty_factor=None):
    r"""Ridge weights :math:`\alpha (1 - \rho) w_j` of the elastic-net mix (or None)."""
    if l1_ratio >= 1.0:
        return None
    return (alpha * (1.0 - l1_ratio) * _factors(
        n_boundaries, n_features, penalize_first, penalty_factor)).ravel()


class CumulativeProblem:
    r"""A prepared cumulative-link problem: scaled data, loss, penalty structure.

    Parameters
    ----------
    X : ndarray (n, p)
    codes : ndarray of int64 (n,)
        Class codes in the ordinal order.
    n_classes : int
    standardize, link, penalize_first, l1_ratio, penalty_factor, tol, max_iter
        As in :class:`~statlogit.PrestoClassifier`.
    sample_weight : ndarray (n,), optional
        Non-negative weights; rows of weight zero are dropped (they neither count
        in the likelihood nor constrain the domain).
    """

    def __init__(self, X, codes, n_classes, *, standardize=True, link="logit",
                 sample_weight=None, penalize_first=True, l1_ratio=1.0,
                 penalty_factor=None, tol=1e-8, max_iter=100):
        self.n_classes = n_classes
        self.n_features = X.shape[1]
        if sample_weight is not None:  # rows of weight zero do not exist for the fit
            keep = sample_weight > 0
            X, codes, sample_weight = X[keep], codes[keep], sample_weight[keep]
        self.scaling = Scaling.fit(X, standardize, sample_weight)
        self.loss = CumulativeLinkLoss(self.scaling.transform(X), codes, n_classes,
                                       link=link, sample_weight=sample_weight)
        self.penalize_first = penalize_first
        self.l1_ratio = l1_ratio
        self.penalty_factor = penalty_factor
        self.tol = tol
        self.max_iter = max_iter
        self.shape = self.loss.shape
        self._parallel, self._unweighted = None, sample_weight is None

    def null(self):
        return self.loss.interior_point().reshape(self.shape)

    def penalties(self, alpha, free_slopes=True):
        options = dict(penalize_first=self.penalize_first, l1_ratio=self.l1_ratio,
                       penalty_factor=self.penalty_factor)
        m, p = self.n_classes - 1, self.n_features
        ridge = ridge_weights(m, p, alpha, **options) if free_slopes else None
        return penalty_weights(m, p, alpha, free_slopes=free_slopes, **options), ridge

    @property
    def parallel_loss(self):
        """The proportional-odds loss on the same data (parameters ``(a, beta)``)."""
        if self._parallel is None:
            loss = self.loss
            self._parallel = ParallelLinkLoss(
                loss.X, loss.y, self.n_classes, link=loss.link,
                sample_weight=None if self._unweighted else loss.weights)
        return self._parallel

    def solve(self, alpha, start=None, *, free_slopes=True, warm_boundary=False):
        """One fit at ``alpha`` from ``start`` (theta; default the intercept-only fit).

        ``free_slopes=False``: the proportional-odds model (unpenalised, one slope).
        """
        if free_slopes:
            loss, (l1, ridge) = self.loss, self.penalties(alpha, True)
            start = (self.null() if start is None else start).ravel()
        else:
            loss, ridge = self.parallel_loss, None
            l1 = np.zeros(loss.shape[0])
            start = loss.interior_point()
        with _blas_threads(loss):
            result = prox_newton(loss, l1, start, ridge=ridge, tol=self.tol,
                                 max_iter=self.max_iter, warm_boundary=warm_boundary)
        result.theta = loss.full_theta(result.x)
        return result

    def original(self, result):
        """``(intercept, coef)`` of a result on the original scale."""
        return self.scaling.to_original(result.theta)

    def alpha_max(self):
        r"""Smallest alpha with every penalised coordinate zero, from the KKT conditions.

        Returns ``(alpha_max, restricted)``: the largest of :math:`|g_j| / (\rho w_j)`
        over the penalised coordinates at the fit ``restricted`` in which they are all
        zero (coordinates with ``penalty_factor`` 0 fitted freely).
        """
        factors = _factors(self.n_classes - 1, self.n_features, self.penalize_first,
                           self.penalty_factor).ravel()
        penalised = factors > 0
        fixed = np.where(penalised, np.inf, 0.0)
        with _blas_threads(self.loss):
            result = prox_newton(self.loss, fixed, self.null().ravel(), tol=self.tol,
                                 max_iter=self.max_iter)
        result.theta = result.x.reshape(self.shape)
        if not np.any(penalised):
            return 0.0, result
        if self.l1_ratio == 0.0:
            return np.inf, result
        _, grad, _ = self.loss.derivatives(result.x)
        ratios = np.abs(grad[penalised]) / (self.l1_ratio * factors[penalised])
        return float(np.max(ratios)), result

    def path(self, alphas=None, grid_spec=None):
        """``(alphas, results, alpha_max)`` of a warm-started path, largest alpha first.

        Every solution is the exact constrained optimum: the first fit on the
        boundary is polished from its stalled point, and each fit after a polished
        boundary one runs only the last barrier stage from it (``warm_boundary``).
        """
        top, restricted = self.alpha_max()
        if alphas is None:
            if not np.isfinite(top):
                raise ValueError("l1_ratio=0 has no finite alpha_max: pass alphas= "
                                 "explicitly or use l1_ratio > 0.")
            n_alphas, ratio = grid_spec
            base = top if top > 0 else 1.0
            alphas = np.geomspace(base, base * ratio, n_alphas)
        null = self.null()
        theta, warm, results = restricted.theta, False, []
        for alpha in alphas:
            result = self.solve(alpha, theta, warm_boundary=warm)
            results.append(result)
            theta = result.theta
            warm = result.at_boundary and result.polished
            if result.at_boundary and not result.polished:
                theta = (1.0 - RECENTER) * theta + RECENTER * null  # step back inside
        return np.asarray(alphas, dtype=np.float64), results, top


__all__ = ["CumulativeProblem", "Scaling", "null_theta", "penalty_weights",
           "ridge_weights"]
