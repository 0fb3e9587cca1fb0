"""The aggregate-response objective as a cvxpy problem: the tests' independent reference.

cvxpy is imported inside each function (importing statlogit stays fast)."""

import numpy as np

from statlogit.reference import solve_clarabel


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
