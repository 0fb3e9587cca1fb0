"""Numba loops of the model-agnostic solvers."""

import numpy as np

from statlogit.kernels._numba import njit


def lasso_qp_cd(hess, grad, theta, start, penalty, tol, max_sweeps):
    r"""Coordinate descent for the proximal-Newton subproblem.

    Minimises over :math:`z`

    .. math:: g^\top (z - \theta) + \tfrac12 (z - \theta)^\top H (z - \theta)
              + \sum_j w_j |z_j|

    from ``start``, where ``penalty`` holds :math:`w_j` (0: unpenalised, ``inf``:
    fixed at its starting value, which must then be 0). Coordinates with
    :math:`H_{jj} \le 0` are left unchanged.

    Returns
    -------
    z : ndarray
        The minimiser, to ``tol`` in the largest change of the last sweep.
    sweeps : int
        Sweeps performed.
    """
    q = grad + hess @ (start - theta)  # gradient of the quadratic model at z (BLAS)
    return _lasso_cd(hess, q, start.copy(), penalty, tol, max_sweeps)


@njit
def _lasso_cd(hess, q, z, penalty, tol, max_sweeps):
    """The sweeps of :func:`lasso_qp_cd` from ``z`` (updated in place) with ``q`` the
    model's gradient there (numba's own matrix product is left out: it doubled the
    compilation time)."""
    d = z.shape[0]
    sweeps = 0
    while sweeps < max_sweeps:
        sweeps += 1
        biggest = 0.0
        for j in range(d):
            h = hess[j, j]
            w = penalty[j]
            if h <= 0.0 or w == np.inf:
                continue
            u = z[j] - q[j] / h
            thresh = w / h
            if u > thresh:
                new = u - thresh
            elif u < -thresh:
                new = u + thresh
            else:
                new = 0.0
            delta = new - z[j]
            if delta != 0.0:
                z[j] = new
                for r in range(d):
                    q[r] += hess[r, j] * delta
                if abs(delta) > biggest:
                    biggest = abs(delta)
        if biggest <= tol:
            break
    return z, sweeps
