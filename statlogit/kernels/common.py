"""Numerical primitives shared by several families.

All functions are numba-compiled with the conventions of :mod:`statlogit.kernels._numba`.
Scalar functions (``log1pexp``, ``log_sigmoid``, ``log1mexp``) can be called from other
kernels; the array functions allocate their output.
"""

import math

import numpy as np

from statlogit.kernels._numba import njit


@njit
def log1pexp(z):
    r"""Stable :math:`\log(1 + e^z)` (softplus) for any finite ``z``.

    Uses :math:`e^z` below -37, ``log1p(exp(z))`` up to 18, :math:`z + e^{-z}` up to
    33.3 and ``z`` beyond (Mächler, 2012): never overflows, relative error ~1 ulp.
    """
    if z <= -37.0:
        return math.exp(z)
    if z <= 18.0:
        return math.log1p(math.exp(z))
    if z <= 33.3:
        return z + math.exp(-z)
    return z


@njit
def log_sigmoid(z):
    r"""Stable :math:`\log \sigma(z) = -\log(1 + e^{-z})`."""
    return -log1pexp(-z)


@njit
def log1mexp(x):
    r"""Stable :math:`\log(1 - e^{x})` for :math:`x \le 0` (``-inf`` at 0).

    Switches between ``log(-expm1(x))`` and ``log1p(-exp(x))`` at :math:`-\log 2`
    (Mächler, 2012).
    """
    if x > -0.6931471805599453:
        return math.log(-math.expm1(x))
    return math.log1p(-math.exp(x))


@njit
def log1pexp_array(z):
    """Elementwise :func:`log1pexp` of a 1-D array."""
    out = np.empty(z.shape[0])
    for i in range(z.shape[0]):
        out[i] = log1pexp(z[i])
    return out


@njit
def log_sigmoid_array(z):
    """Elementwise :func:`log_sigmoid` of a 1-D array."""
    out = np.empty(z.shape[0])
    for i in range(z.shape[0]):
        out[i] = -log1pexp(-z[i])
    return out


@njit
def sigmoid_array(z):
    r"""Elementwise :math:`\sigma(z) = 1/(1+e^{-z})` without overflow warnings."""
    out = np.empty(z.shape[0])
    for i in range(z.shape[0]):
        if z[i] >= 0.0:
            out[i] = 1.0 / (1.0 + math.exp(-z[i]))
        else:
            e = math.exp(z[i])
            out[i] = e / (1.0 + e)
    return out


@njit
def logsumexp_rows(a):
    r"""Row-wise :math:`\log \sum_j e^{a_{ij}}` of a 2-D array, shifted by the row max.

    A row of all ``-inf`` gives ``-inf``.
    """
    n, k = a.shape
    out = np.empty(n)
    for i in range(n):
        m = -np.inf
        for j in range(k):
            if a[i, j] > m:
                m = a[i, j]
        if m == -np.inf:
            out[i] = -np.inf
            continue
        s = 0.0
        for j in range(k):
            s += math.exp(a[i, j] - m)
        out[i] = m + math.log(s)
    return out


@njit
def segment_sums(values, codes, n_segments):
    """Sum the rows of ``values`` (n, k) by integer ``codes`` in ``0..n_segments-1``.

    Returns an (n_segments, k) array; codes need not be sorted.
    """
    n, k = values.shape
    out = np.zeros((n_segments, k))
    for i in range(n):
        g = codes[i]
        for j in range(k):
            out[g, j] += values[i, j]
    return out


@njit
def segment_counts(codes, n_segments):
    """Count how many entries of ``codes`` fall in each of ``n_segments`` segments."""
    out = np.zeros(n_segments, dtype=np.int64)
    for i in range(codes.shape[0]):
        out[codes[i]] += 1
    return out


@njit
def _butterfly_level(a, start, stop, h):
    """One Walsh–Hadamard butterfly level of width ``h`` on rows ``start:stop``."""
    k = a.shape[1]
    for i in range(start, stop, 2 * h):
        for r in range(i, i + h):
            for j in range(k):
                x = a[r, j]
                y = a[r + h, j]
                a[r, j] = x + y
                a[r + h, j] = x - y


@njit
def fwht_inplace(a, block_rows=256):
    """Unnormalised fast Walsh–Hadamard transform of the columns of ``a``, in place.

    ``a`` is an (n, k) C-contiguous array with ``n`` a power of two; the result is
    ``H_n @ a`` with ``H_n`` the Sylvester-ordered Hadamard matrix
    (``scipy.linalg.hadamard``). Cache-blocked: the levels narrower than
    ``block_rows`` run block by block so each block stays in cache, then the wide
    levels sweep the whole array; every butterfly works on whole rows, so all columns
    are transformed in one pass. Only call it on arrays you own.
    """
    n = a.shape[0]
    block = min(block_rows, n)
    for start in range(0, n, block):
        h = 1
        while h < block:
            _butterfly_level(a, start, start + block, h)
            h *= 2
    h = block
    while h < n:
        _butterfly_level(a, 0, n, h)
        h *= 2
    return a


def fwht(a):
    """Return ``H_n @ a`` for a 1-D or 2-D float array with a power-of-two first axis.

    The input is not modified. Applying it twice gives ``n * a``.
    """
    arr = np.array(a, dtype=np.float64, order="C", copy=True)
    n = arr.shape[0]
    if n == 0 or n & (n - 1):
        raise ValueError(f"fwht needs a power-of-two number of rows; got {n}.")
    vector = arr.ndim == 1
    out = fwht_inplace(arr.reshape(n, -1))
    return out.ravel() if vector else out
