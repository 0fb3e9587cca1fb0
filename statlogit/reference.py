"""Tight Clarabel solves of cvxpy problems: the independent references of the tests.

cvxpy is imported lazily, so importing statlogit stays fast. Each family keeps the cvxpy
formulation of its own convex objectives in ``statlogit/<family>/_reference.py`` and
solves it here, so tests compare the fast solver with an interior-point solution of the
same problem.
"""


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
