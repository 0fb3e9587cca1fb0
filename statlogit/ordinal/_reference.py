"""PRESTO's objective as a cvxpy problem: the independent reference of the tests.

cvxpy is imported inside each function (importing statlogit stays fast)."""

import numpy as np

from statlogit.reference import solve_clarabel


def presto(X, y, alpha, n_classes, *, penalize_first=True, l1_ratio=1.0,
           penalty_factor=None, sample_weight=None):
    r"""PRESTO's objective by exponential cones: the independent reference.

    Minimises, with :math:`\eta_{ik} = a_k + x_i^\top \beta_k` and
    :math:`P(y \le k \mid x) = \sigma(\eta_k)`,

    .. math:: \frac1W \sum_i w_i (-\log P(y_i \mid x_i)) + \alpha \sum_j v_j
              \sum_k \Big(\rho |d_{kj}| + \frac{1-\rho}{2} d_{kj}^2\Big),

    :math:`d_{1j} = \beta_{1j}` (when ``penalize_first``), :math:`d_{kj} = \beta_{kj} -
    \beta_{k-1,j}`, :math:`\rho` = ``l1_ratio``, :math:`v` = ``penalty_factor``,

    subject to :math:`\eta_{ik} \ge \eta_{i,k-1}` on every row (no training row may get
    a negative probability). A middle class uses
    :math:`\log(\sigma(b) - \sigma(a)) = b - \log(1+e^a) - \log(1+e^b) + s` with
    :math:`s \le \log(1 - e^{a-b})` written as :math:`e^s + e^{a-b} \le 1`.

    Parameters
    ----------
    X : ndarray (n, p)
    y : ndarray of int (n,)
        Class codes ``0..n_classes-1``.
    alpha : float
    n_classes : int
    penalize_first : bool
        Include the first block :math:`d_{1j} = \beta_{1j}`.
    l1_ratio : float
    penalty_factor : ndarray (p,), optional
    sample_weight : ndarray (n,), optional

    Returns
    -------
    coef : ndarray (K-1, p)
    intercept : ndarray (K-1,)
    objective : float
    """
    import cvxpy as cp

    n, p = X.shape
    m = n_classes - 1
    intercept = cp.Variable(m)
    diffs = cp.Variable((m, p))
    slopes = [cp.sum(diffs[: k + 1], axis=0) for k in range(m)]
    eta = [intercept[k] + X @ slopes[k] for k in range(m)]
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    factor = np.ones(p) if penalty_factor is None else np.asarray(penalty_factor, float)
    terms, constraints = [], [eta[k] >= eta[k - 1] for k in range(1, m)]
    for c in range(n_classes):
        rows = np.flatnonzero((y == c) & (w > 0))
        if rows.size == 0:
            continue
        if c == 0:
            terms.append(w[rows] @ cp.logistic(-eta[0][rows]))
        elif c == m:
            terms.append(w[rows] @ cp.logistic(eta[m - 1][rows]))
        else:
            low, high = eta[c - 1][rows], eta[c][rows]
            s = cp.Variable(rows.size)
            constraints.append(cp.exp(s) + cp.exp(low - high) <= 1)
            terms.append(w[rows] @ (cp.logistic(low) + cp.logistic(high) - high - s))
    blocks = diffs if penalize_first else diffs[1:]
    penalty = 0.0
    if blocks.shape[0] > 0:
        scaled = blocks @ np.diag(factor)
        penalty = l1_ratio * cp.sum(cp.abs(scaled))
        if l1_ratio < 1.0:
            penalty = penalty + (1.0 - l1_ratio) / 2 * cp.sum(
                cp.multiply(np.tile(factor, (blocks.shape[0], 1)), cp.square(blocks)))
    problem = cp.Problem(cp.Minimize(sum(terms) / w.sum() + alpha * penalty), constraints)
    value = solve_clarabel(problem)
    coef = np.cumsum(np.asarray(diffs.value), axis=0)
    return coef, np.asarray(intercept.value), value
