"""The fast Walsh-Hadamard transform behind the SRHT sketch (numba, cache-blocked).

:func:`fwht_inplace` transforms the rows of a C-contiguous float64 array in place
(``a <- H_n a``, unnormalised); :func:`fwht` is the checked, allocating wrapper.
"""

import numpy as np

from statlogit.kernels._numba import njit

# Cache budgets of the FWHT, in doubles: a sub-block that stays in L1 (32 KiB) and a
# level-2 gather buffer that stays in L2 (512 KiB).
_L1_DOUBLES = 4096
_L2_DOUBLES = 65536


@njit
def _butterfly_level(a, start, stop, h):
    """One Walsh–Hadamard butterfly level of width ``h`` on rows ``start:stop``."""
    k = a.shape[1]
    for i in range(start, stop, 2 * h):
        for r in range(i, i + h):
            u = a[r]
            v = a[r + h]
            for j in range(k):
                x = u[j]
                y = v[j]
                u[j] = x + y
                v[j] = x - y


@njit
def _butterfly_two_levels(a, start, stop, h):
    """Levels ``h`` and ``2h`` in one sweep (radix 4: half the loads and stores)."""
    k = a.shape[1]
    for i in range(start, stop, 4 * h):
        for r in range(i, i + h):
            p0 = a[r]
            p1 = a[r + h]
            p2 = a[r + 2 * h]
            p3 = a[r + 3 * h]
            for j in range(k):
                s0 = p0[j] + p1[j]
                s1 = p0[j] - p1[j]
                s2 = p2[j] + p3[j]
                s3 = p2[j] - p3[j]
                p0[j] = s0 + s2
                p1[j] = s1 + s3
                p2[j] = s0 - s2
                p3[j] = s1 - s3


@njit
def _butterfly_levels(a, start, stop, h, top):
    """Levels ``h, 2h, ...`` below ``top`` on rows ``start:stop``, in radix-4 sweeps."""
    while 4 * h <= top:
        _butterfly_two_levels(a, start, stop, h)
        h *= 4
    if h < top:
        _butterfly_level(a, start, stop, h)


@njit
def _pow2_at_most(x):
    """The largest power of two ``<= x`` (1 for ``x < 2``)."""
    p = 1
    while 2 * p <= x:
        p *= 2
    return p


@njit
def _fwht_rows(a, start, stop):
    """In-place FWHT of the power-of-two row range ``start:stop`` of ``a``.

    The narrow levels run on sub-blocks that fit in L1, the wide ones sweep the range
    (which callers keep about L2-sized).
    """
    size = stop - start
    sub = min(size, max(2, _pow2_at_most(_L1_DOUBLES // a.shape[1])))
    for s in range(start, stop, sub):
        _butterfly_levels(a, s, s + sub, 1, sub)
    _butterfly_levels(a, start, stop, sub, size)


@njit
def _fwht_split(n, k):
    """Rows per level-1 block and rows gathered per level-2 pass for an (n, k) FWHT.

    ``n = block * groups`` with ``block = 2**ceil(log2(n)/2)``; the level-2 pass
    gathers ``chunk`` consecutive rows from each of the ``groups`` blocks, as many as
    fit in L2 and at least a cache line.
    """
    block = 1
    while block * block < n:
        block *= 2
    groups = n // block
    chunk = max(_pow2_at_most(_L2_DOUBLES // (groups * k)), _pow2_at_most(8 // k + 1))
    return block, groups, min(chunk, block)


@njit
def _gather_strided(a, buf, first, stride, chunk):
    """``buf[t] = a[first + t*stride : first + t*stride + chunk].ravel()``."""
    k = a.shape[1]
    for t in range(buf.shape[0]):
        base = first + t * stride
        for i in range(chunk):
            for j in range(k):
                buf[t, i * k + j] = a[base + i, j]


@njit
def _scatter_strided(buf, a, first, stride, chunk):
    """The inverse of :func:`_gather_strided`."""
    k = a.shape[1]
    for t in range(buf.shape[0]):
        base = first + t * stride
        for i in range(chunk):
            for j in range(k):
                a[base + i, j] = buf[t, i * k + j]


@njit
def fwht_inplace(a):
    r"""Unnormalised fast Walsh–Hadamard transform of the columns of ``a``, in place.

    ``a`` is an (n, k) C-contiguous array with ``n`` a power of two; the result is
    ``H_n @ a`` with ``H_n`` the Sylvester-ordered Hadamard matrix
    (``scipy.linalg.hadamard``). Every butterfly works on whole rows, so all columns
    are transformed in one pass (the columns are the SIMD dimension), with radix-4
    butterflies. Small arrays are transformed in cache directly. Larger ones use the
    two-level ("four-step") split :math:`H_n = (H_G \otimes I_B)(I_G \otimes H_B)`,
    :math:`n = GB`: level 1 transforms each block of ``B`` contiguous rows in cache;
    level 2 gathers rows ``j, j+B, j+2B, ...`` into an L2-sized buffer, transforms
    it and scatters it back. Each level reads and writes the array once.
    Only call it on arrays you own.
    """
    n, k = a.shape
    if n * k <= _L2_DOUBLES:
        _fwht_rows(a, 0, n)
        return a
    block, groups, chunk = _fwht_split(n, k)
    for start in range(0, n, block):
        _fwht_rows(a, start, start + block)
    buf = np.empty((groups, chunk * k))
    for first in range(0, block, chunk):
        _gather_strided(a, buf, first, block, chunk)
        _fwht_rows(buf, 0, groups)
        _scatter_strided(buf, a, first, block, chunk)
    return a


def fwht(a, *, overwrite=False):
    """Return ``H_n @ a`` for a 1-D or 2-D float array with a power-of-two first axis.

    Parameters
    ----------
    a : array_like of shape (n,) or (n, k)
        ``n`` a power of two; finite values.
    overwrite : bool, default=False
        Transform ``a`` itself when it is already a C-contiguous float64 array (no
        copy: the benchmark times the transform alone this way); otherwise a copy is
        transformed and ``a`` is not modified.

    Returns
    -------
    ndarray
        The unnormalised transform; applying it twice gives ``n * a``.
    """
    inplace = (overwrite and isinstance(a, np.ndarray) and a.dtype == np.float64
               and a.flags.c_contiguous and a.flags.writeable)
    if not inplace:
        raw = np.asarray(a)
        if np.iscomplexobj(raw) or raw.dtype.kind not in "biuf":
            raise ValueError(f"fwht input must be real numbers; got dtype {raw.dtype}.")
    arr = a if inplace else np.array(raw, dtype=np.float64, order="C", copy=True)
    if arr.ndim not in (1, 2):
        raise ValueError(f"fwht needs a 1-D or 2-D array; got a {arr.ndim}-D array.")
    n = arr.shape[0]
    if n == 0 or n & (n - 1):
        raise ValueError(f"fwht needs a power-of-two number of rows; got {n}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError("fwht input contains NaN or infinite values; remove them first.")
    vector = arr.ndim == 1
    out = fwht_inplace(arr.reshape(n, -1))
    return out.ravel() if vector else out
