"""The aISCV mixture-weight sub-problem as a cvxpy problem: the tests' reference.

cvxpy is imported inside each function (importing statlogit stays fast)."""

import numpy as np

from statlogit.reference import solve_clarabel


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
