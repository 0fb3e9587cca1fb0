"""PRESTO's objective as a cvxpy problem: the independent reference of the tests.

cvxpy is imported inside each function (importing statlogit stays fast)."""

import numpy as np

from statlogit.reference import solve_clarabel


def presto(X, y, alpha, n_classes, *, penalize_first=True):
    r"""PRESTO's objective by exponential cones: the independent reference.

    Minimises, with :math:`\eta_{ik} = a_k + x_i^\top \beta_k` and
    :math:`P(y \le k \mid x) = \sigma(\eta_k)`,

    .. math:: \frac1n \sum_i -\log P(y_i \mid x_i) + \alpha \Big(\sum_j |\beta_{1j}|
              + \sum_{k\ge2} \sum_j |\beta_{kj} - \beta_{k-1,j}|\Big)

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
        Include :math:`\sum_j |\beta_{1j}|`.

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
    terms, constraints = [], [eta[k] >= eta[k - 1] for k in range(1, m)]
    for c in range(n_classes):
        rows = np.flatnonzero(y == c)
        if rows.size == 0:
            continue
        if c == 0:
            terms.append(cp.sum(cp.logistic(-eta[0][rows])))
        elif c == m:
            terms.append(cp.sum(cp.logistic(eta[m - 1][rows])))
        else:
            low, high = eta[c - 1][rows], eta[c][rows]
            s = cp.Variable(rows.size)
            constraints.append(cp.exp(s) + cp.exp(low - high) <= 1)
            terms.append(cp.sum(cp.logistic(low) + cp.logistic(high) - high - s))
    first = diffs[0] if penalize_first else None
    penalty = cp.sum(cp.abs(diffs[1:])) if m > 1 else 0.0
    if first is not None:
        penalty = penalty + cp.norm1(first)
    problem = cp.Problem(cp.Minimize(sum(terms) / n + alpha * penalty), constraints)
    value = solve_clarabel(problem)
    coef = np.cumsum(np.asarray(diffs.value), axis=0)
    return coef, np.asarray(intercept.value), value
