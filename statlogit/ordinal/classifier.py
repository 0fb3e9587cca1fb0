r"""PRESTO: rare-event ordinal regression that shrinks towards proportional odds.

Faletto & Bien (2023), *Predicting Rare Events by Shrinking Towards Proportional
Odds*, ICML, PMLR 202:9547-9602.

Ordered classes :math:`c_1 < \dots < c_K` (``categories_``). Boundary
:math:`k = 1, \dots, K-1` has its own intercept and weight vector,

.. math:: P(y \le c_k \mid x) = F(a_k + \beta_k^\top x),

:math:`F` the logistic (default), normal or Gumbel-min distribution function, so
:math:`P(y = c_k) = F(\eta_k) - F(\eta_{k-1})` with :math:`\eta_k = a_k + \beta_k^\top
x`, :math:`F(\eta_0) = 0`, :math:`F(\eta_K) = 1`. PRESTO minimises

.. math:: \frac1W \sum_{i=1}^n w_i \big(-\log P(y_i \mid x_i)\big)
          + \alpha \sum_j v_j \sum_{k=1}^{K-1} \Big(\rho |d_{kj}|
          + \frac{1 - \rho}{2} d_{kj}^2\Big),

:math:`d_{1j} = \beta_{1j}`, :math:`d_{kj} = \beta_{kj} - \beta_{k-1,j}`, intercepts
unpenalised, over the parameters for which every training row has a positive
probability for every class.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from statlogit._validation import check_scalar
from statlogit.ordinal._base import (
    OrdinalPredictorMixin,
    build_problem,
    warn_if_not_converged,
)
from statlogit.ordinal._plots import PlotMixin

__all__ = ["PrestoClassifier"]


class PrestoClassifier(OrdinalPredictorMixin, PlotMixin, ClassifierMixin, BaseEstimator):
    r"""PRESTO: L1 plus fused-L1 penalised cumulative link (Faletto & Bien, 2023).

    Model, for ordered classes :math:`c_1 < \dots < c_K` (``categories_``: the order
    given by ``categories``, a pandas ordered Categorical, or the sorted labels):
    :math:`P(y \le c_k \mid x) = F(a_k + \beta_k^\top x)`, ``intercept_[k]`` =
    :math:`a_{k+1}`, ``coef_[k]`` = :math:`\beta_{k+1}`, :math:`F` the logistic
    (``link="logit"``), standard normal (``"probit"``) or Gumbel-min
    :math:`1 - \exp(-e^\eta)` (``"cloglog"``) distribution function. With
    ``standardize=False`` the fit minimises

    .. math:: \frac1W \sum_i w_i \big(-\log P(y_i \mid x_i)\big) + \alpha \sum_j v_j
              \sum_{k} \Big(\rho |d_{kj}| + \frac{1-\rho}{2} d_{kj}^2\Big),

    with :math:`d_{1j} = \beta_{1j}` (only when ``penalize_first``),
    :math:`d_{kj} = \beta_{kj} - \beta_{k-1,j}` (:math:`k \ge 2`), :math:`\rho` =
    ``l1_ratio`` (scikit-learn's ``ElasticNet`` convention), :math:`v_j` =
    ``penalty_factor[j]`` (0: unpenalised), :math:`w_i` the sample weights and
    :math:`W = \sum_i w_i`; intercepts unpenalised, over the parameters that give
    every training row a positive probability for every class. ``l1_ratio=1``
    (default) is the paper's PRESTO. ``standardize=True`` solves the same problem on
    columns centred and divided by their (weighted) population standard deviation
    :math:`s_j` (so feature ``j``'s penalty is weighted by :math:`s_j`, as in the
    reference code) and reports ``coef_`` and ``intercept_`` on the original scale,
    all :math:`K-1` intercepts included. With :math:`K = 2` and the logit link this is
    L1 logistic regression of :math:`1\{y = c_2\}` with ``C = 1 / (n alpha)`` and
    coefficients ``-coef_``.

    The rare class is ``categories_[-1]``. It is solved by proximal Newton
    (:func:`statlogit.solvers.prox_newton`): exact Hessian, coordinate descent on the
    lasso-penalised quadratic model, backtracking that rejects any step giving a
    training row a non-positive probability, and a log-barrier polish when the
    optimum lies on that boundary.

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
        Maximum proximal-Newton iterations (barrier polish included).
    warm_start : bool, default=False
        Start from the previous solution when it is feasible for the new data.
    categories : sequence, optional
        Explicit class order, lowest first.
    link : {"logit", "probit", "cloglog"}, default="logit"
        The distribution function :math:`F`.
    l1_ratio : float in [0, 1], default=1.0
        Elastic-net mix :math:`\rho` (1: lasso, 0: ridge on the differences).
    penalty_factor : array-like of shape (n_features,), optional
        Per-feature penalty weights :math:`v_j \ge 0` (default all 1).

    Attributes
    ----------
    coef_ : ndarray of shape (K-1, n_features)
        :math:`\beta_k` on the original scale, boundaries in ``categories_`` order.
    intercept_ : ndarray of shape (K-1,)
        :math:`a_k` on the original scale.
    classes_ : ndarray of shape (K,)
        The sorted labels (``predict_proba``'s column order).
    categories_ : ndarray of shape (K,)
        The ordinal order of the labels, lowest first; the rare class is the last.
    n_iter_ : int
        Proximal-Newton iterations (at most ``max_iter``).
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
                 max_iter=100, warm_start=False, categories=None, link="logit",
                 l1_ratio=1.0, penalty_factor=None):
        self.alpha = alpha
        self.penalize_first = penalize_first
        self.standardize = standardize
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.categories = categories
        self.link = link
        self.l1_ratio = l1_ratio
        self.penalty_factor = penalty_factor

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Ordered labels.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights (integer weights equal repeated rows; rows of
            weight zero are dropped).

        Returns
        -------
        self
        """
        alpha = check_scalar(self.alpha, name="alpha", lower=0.0)
        previous = self._previous_solution()
        problem, categories, classes, _ = build_problem(
            self, X, y, sample_weight, **self.get_params())
        start = self._start(problem, previous)
        result = problem.solve(alpha, start)
        warn_if_not_converged(result, "PrestoClassifier")
        self.classes_, self.categories_ = classes, categories
        self.intercept_, self.coef_ = problem.original(result)
        self.n_iter_ = result.n_iter
        self.objective_ = result.objective
        return self

    def _previous_solution(self):
        if self.warm_start and hasattr(self, "coef_"):
            return self.intercept_, self.coef_
        return None

    @staticmethod
    def _start(problem, previous):
        null = problem.null()
        if previous is None or previous[1].shape != (problem.n_classes - 1,
                                                     problem.n_features):
            return null
        theta = problem.scaling.to_internal(*previous)
        return theta if np.isfinite(problem.loss.value(theta)) else null
