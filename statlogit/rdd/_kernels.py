"""numba kernels for R3D (distributional regression discontinuity).

* :func:`ragged_quantiles`: type-7 empirical quantiles of every unit's sample, with the
  samples stored as one value array plus offsets (CSR).
* :func:`local_poly_per_quantile`: one-sided local polynomial fits at the cutoff with a
  different bandwidth for each quantile level (one pass over the units per level).
* :func:`isotonic_rows`: unweighted isotonic (PAVA) fit of every row of a matrix.

Kernel codes: 1 triangular, 2 Epanechnikov, 3 uniform.
"""

import numpy as np

from statlogit.kernels._numba import njit

TRIANGULAR, EPANECHNIKOV, UNIFORM = 1, 2, 3


@njit
def kernel_value(u, kernel):
    """Kernel weight ``K(u)`` on ``[-1, 1]`` (0 outside) for a kernel code."""
    a = abs(u)
    if a > 1.0:
        return 0.0
    if kernel == TRIANGULAR:
        return 1.0 - a
    if kernel == EPANECHNIKOV:
        return 0.75 * (1.0 - u * u)
    return 0.5


@njit
def ragged_quantiles(values, offsets, probs):
    """Type-7 quantiles of ragged samples.

    Parameters
    ----------
    values : float64 array of shape (N,)
        All samples, unit after unit.
    offsets : int64 array of shape (n + 1,)
        Unit ``i`` owns ``values[offsets[i]:offsets[i + 1]]`` (at least one value).
    probs : float64 array of shape (m,)
        Levels in ``[0, 1]``.

    Returns
    -------
    float64 array of shape (n, m)
        ``Q[i, j] = y[lo] + (h - lo) (y[lo + 1] - y[lo])`` with ``y`` the sorted sample,
        ``h = (n_i - 1) probs[j]`` and ``lo = floor(h)`` (R's ``quantile(type = 7)``).
    """
    n = offsets.shape[0] - 1
    m = probs.shape[0]
    out = np.empty((n, m))
    for i in range(n):
        y = np.sort(values[offsets[i]:offsets[i + 1]])
        size = y.shape[0]
        for j in range(m):
            h = (size - 1) * probs[j]
            lo = int(np.floor(h))
            if lo >= size - 1:
                out[i, j] = y[size - 1]
            else:
                out[i, j] = y[lo] + (h - lo) * (y[lo + 1] - y[lo])
    return out


@njit
def _solve_spd_columns(gram, rhs):
    """Solve ``gram @ sol = rhs`` (small, symmetric positive definite) by Cholesky.

    Returns ``(sol, ok)``; ``ok`` is False when the matrix is not numerically positive
    definite.
    """
    d = gram.shape[0]
    chol = np.zeros((d, d))
    for j in range(d):
        s = gram[j, j]
        for k in range(j):
            s -= chol[j, k] * chol[j, k]
        if not s > 1e-13 * max(gram[j, j], 1e-300):
            return rhs.copy(), False
        chol[j, j] = np.sqrt(s)
        for i in range(j + 1, d):
            t = gram[i, j]
            for k in range(j):
                t -= chol[i, k] * chol[j, k]
            chol[i, j] = t / chol[j, j]
    sol = rhs.copy()
    for c in range(sol.shape[1]):
        for i in range(d):
            t = sol[i, c]
            for k in range(i):
                t -= chol[i, k] * sol[k, c]
            sol[i, c] = t / chol[i, i]
        for i in range(d - 1, -1, -1):
            t = sol[i, c]
            for k in range(i + 1, d):
                t -= chol[k, i] * sol[k, c]
            sol[i, c] = t / chol[i, i]
    return sol, True


@njit
def local_poly_per_quantile(x, Q, unit_weights, bandwidths, order, kernel, plus_side,
                            deriv=0):
    """One-sided local polynomial fits at 0, one bandwidth per quantile level.

    For level ``j`` and the units on the chosen side (``x >= 0`` for the plus side,
    ``x < 0`` otherwise) with ``w_i = unit_weights[i] K(x_i / h_j) > 0``, regress
    ``Q[:, j]`` on ``(1, x/h_j, ..., (x/h_j)^order)`` with weights ``w``.

    Parameters
    ----------
    x : float64 array of shape (n,)
        Running variable, centred at the cutoff.
    Q : float64 array of shape (n, m)
        Unit quantiles.
    unit_weights : float64 array of shape (n,)
    bandwidths : float64 array of shape (m,)
    order : int
    kernel : int
        Kernel code.
    plus_side : bool
    deriv : int
        Coefficient whose equivalent-kernel weights are returned (0: the intercept).

    Returns
    -------
    coef : float64 array of shape (order + 1, m)
        Coefficients in the scaled basis ``(x/h)^k``.
    intercept_weights : float64 array of shape (n, m)
        ``s_i = w_i e_d' G^{-1} r(x_i/h)`` (``d = deriv``), so
        ``coef[d, j] = s[:, j] @ Q[:, j]``.
    n_window : int64 array of shape (m,)
        Units with positive weight per level.
    ok : bool array of shape (m,)
        False where the Gram matrix is singular (fewer than ``order + 1`` distinct
        units in the window).
    """
    n, m = Q.shape
    d = order + 1
    coef = np.zeros((d, m))
    weights_out = np.zeros((n, m))
    n_window = np.zeros(m, dtype=np.int64)
    ok = np.zeros(m, dtype=np.bool_)
    basis = np.empty(d)
    for j in range(m):
        h = bandwidths[j]
        gram = np.zeros((d, d))
        rhs = np.zeros((d, 2))
        for i in range(n):
            if (x[i] >= 0.0) != plus_side:
                continue
            w = unit_weights[i] * kernel_value(x[i] / h, kernel)
            if w <= 0.0:
                continue
            n_window[j] += 1
            u = x[i] / h
            basis[0] = 1.0
            for k in range(1, d):
                basis[k] = basis[k - 1] * u
            for a in range(d):
                rhs[a, 0] += w * basis[a] * Q[i, j]
                for b in range(d):
                    gram[a, b] += w * basis[a] * basis[b]
        rhs[deriv, 1] = 1.0
        sol, ok[j] = _solve_spd_columns(gram, rhs)
        if not ok[j]:
            continue
        for a in range(d):
            coef[a, j] = sol[a, 0]
        for i in range(n):
            if (x[i] >= 0.0) != plus_side:
                continue
            w = unit_weights[i] * kernel_value(x[i] / h, kernel)
            if w <= 0.0:
                continue
            u = x[i] / h
            acc = 0.0
            power = 1.0
            for a in range(d):
                acc += sol[a, 1] * power
                power *= u
            weights_out[i, j] = w * acc
    return coef, weights_out, n_window, ok


@njit
def isotonic_rows(Y):
    """Unweighted least-squares isotonic (non-decreasing) fit of every row (PAVA)."""
    n, m = Y.shape
    out = np.empty((n, m))
    level = np.empty(m)
    size = np.empty(m, dtype=np.int64)
    for i in range(n):
        blocks = 0
        for j in range(m):
            level[blocks] = Y[i, j]
            size[blocks] = 1
            blocks += 1
            while blocks > 1 and level[blocks - 2] > level[blocks - 1]:
                total = size[blocks - 2] + size[blocks - 1]
                level[blocks - 2] = (level[blocks - 2] * size[blocks - 2]
                                     + level[blocks - 1] * size[blocks - 1]) / total
                size[blocks - 2] = total
                blocks -= 1
        pos = 0
        for b in range(blocks):
            for _ in range(size[b]):
                out[i, pos] = level[b]
                pos += 1
    return out
