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

# ==== checkered — section owned by the checkered family ====

# ==== aggregate — section owned by the aggregate family ====

# ==== R3D — section owned by the R3D family ====

# ==== expectations — section owned by the expectations family ====

# ==== sketched — section owned by the sketched family ====
