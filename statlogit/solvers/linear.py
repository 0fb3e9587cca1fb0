"""Dense (weighted) least squares helpers."""

import numpy as np
import scipy.linalg


def weighted_lstsq(X, y, weights=None):
    r"""Solve :math:`\min_b \sum_i w_i (y_i - x_i^\top b)^2` for one or many right-hand sides.

    Parameters
    ----------
    X : numpy.ndarray of shape (n, p)
        Design matrix.
    y : numpy.ndarray of shape (n,) or (n, k)
        Responses; a matrix right-hand side shares one factorisation.
    weights : numpy.ndarray of shape (n,), optional
        Non-negative weights; ``None`` means ordinary least squares.

    Returns
    -------
    coef : numpy.ndarray of shape (p,) or (p, k)
        The minimum-norm solution (LAPACK ``gelsd``), also when ``X`` is
        rank-deficient.
    rank : int
        The numerical rank of the weighted design: singular values below
        ``eps * max(n, p)`` times the largest count as zero (numpy's ``lstsq`` rule;
        scipy's own default cut-off changed between releases).
    """
    if weights is not None:
        root = np.sqrt(weights)
        X = X * root[:, None]
        y = y * (root[:, None] if np.ndim(y) == 2 else root)
    cutoff = np.finfo(np.float64).eps * max(X.shape)
    coef, _, rank, _ = scipy.linalg.lstsq(X, y, cond=cutoff, lapack_driver="gelsd")
    return coef, int(rank)
