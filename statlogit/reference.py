"""cvxpy formulations as independent references, solved tightly with Clarabel.

cvxpy is imported lazily, so importing statlogit stays fast. Each family adds the
cvxpy formulation of its convex objective here (one function per objective), so tests
can compare the fast solver with an interior-point solution of the same problem.
"""

import numpy as np

TIGHT = 1e-10


def solve_clarabel(problem, *, tol=TIGHT, max_iter=500):
    """Solve a cvxpy ``problem`` with Clarabel at tight tolerance; insist on optimality.

    Parameters
    ----------
    problem : cvxpy.Problem
        A DCP problem.
    tol : float
        Clarabel's absolute and relative gap and feasibility tolerances.
    max_iter : int
        Clarabel's iteration limit.

    Returns
    -------
    float
        The optimal value.

    Raises
    ------
    RuntimeError
        If the status is anything but ``optimal`` (``optimal_inaccurate`` included):
        a loose reference proves nothing.
    """
    import cvxpy as cp

    problem.solve(
        solver=cp.CLARABEL,
        tol_gap_abs=tol,
        tol_gap_rel=tol,
        tol_feas=tol,
        max_iter=max_iter,
    )
    if problem.status != cp.OPTIMAL:
        raise RuntimeError(f"Clarabel returned status {problem.status!r}, not optimal.")
    return float(problem.value)


def lasso(X, y, alpha, *, fit_intercept=True):
    r"""scikit-learn's lasso, :math:`\frac{1}{2n}\|y - Xw - b\|^2 + \alpha\|w\|_1`.

    Returns
    -------
    coef : numpy.ndarray
    intercept : float
    objective : float
    """
    import cvxpy as cp

    n, p = X.shape
    w = cp.Variable(p)
    b = cp.Variable() if fit_intercept else 0.0
    loss = cp.sum_squares(y - X @ w - b) / (2 * n)
    value = solve_clarabel(cp.Problem(cp.Minimize(loss + alpha * cp.norm1(w))))
    intercept = float(b.value) if fit_intercept else 0.0
    return np.asarray(w.value), intercept, value


# ==== PRESTO (ordinal) — section owned by the PRESTO family ====


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

# ==== checkered — section owned by the checkered family ====

# ==== aggregate — section owned by the aggregate family ====


def aggregate_regression(X, y_bag, bags, rho, *, alpha=0.0, fit_intercept=True):
    r"""The aggregate-response objective of ``AggregateRegressor``, solved by Clarabel.

    .. math:: \frac1n\sum_a k_a(\bar y_a - \bar x_a^\top\theta - c)^2
              + \frac{\rho}{n}\sum_i \bigl((x_i - \bar x_{a(i)})^\top\theta\bigr)^2
              + \alpha\lVert\theta\rVert^2

    Parameters
    ----------
    X : numpy.ndarray of shape (n, d)
    y_bag : numpy.ndarray of shape (m,)
        Bag means in the order of the sorted unique bag labels.
    bags : numpy.ndarray of shape (n,)
        Bag labels.
    rho, alpha : float
    fit_intercept : bool

    Returns
    -------
    coef : numpy.ndarray
    intercept : float
    objective : float
    """
    import cvxpy as cp

    n, d = X.shape
    _, codes, sizes = np.unique(bags, return_inverse=True, return_counts=True)
    codes = codes.ravel()
    bag_means = np.zeros((sizes.shape[0], d))
    np.add.at(bag_means, codes, X)
    bag_means /= sizes[:, None]
    within = X - bag_means[codes]
    theta = cp.Variable(d)
    c = cp.Variable() if fit_intercept else 0.0
    root = np.sqrt(sizes)
    bag_loss = cp.sum_squares(cp.multiply(root, y_bag - bag_means @ theta - c)) / n
    spread = cp.sum_squares(within @ theta) / n
    objective = bag_loss + rho * spread + alpha * cp.sum_squares(theta)
    value = solve_clarabel(cp.Problem(cp.Minimize(objective)))
    intercept = float(c.value) if fit_intercept else 0.0
    return np.asarray(theta.value), intercept, value

# ==== R3D — section owned by the R3D family ====

# ==== expectations — section owned by the expectations family ====


def mixture_weights(c, G, b, *, lower=9e-12):
    r"""The aISCV mixture-weight sub-problem.

    :math:`\min_\alpha \sum_i c_i / (G_i^\top\alpha + b_i)` over the simplex with
    :math:`\alpha_k \ge` ``lower``; convex because ``inv_pos`` of an affine function
    is convex (c >= 0).

    Returns
    -------
    alpha : numpy.ndarray
    objective : float
    """
    import cvxpy as cp

    alpha = cp.Variable(G.shape[1])
    # c is normalised to sum 1 (the argmin is unchanged): Clarabel 0.11 then reaches
    # 'optimal' at a 1e-9 gap on the power cones of inv_pos; the raw scale does not.
    scale = float(np.sum(c))
    objective = cp.sum(cp.multiply(c / scale, cp.inv_pos(G @ alpha + b)))
    constraints = [alpha >= lower, cp.sum(alpha) == 1]
    value = scale * solve_clarabel(cp.Problem(cp.Minimize(objective), constraints), tol=1e-9)
    return np.asarray(alpha.value), value


# ==== sketched — section owned by the sketched family ====
