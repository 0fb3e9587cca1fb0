"""numba kernels of the sketch operators (SRHT, sparse sign / CountSketch / OSNAP).

Plain functions over C-contiguous float64 arrays; they allocate their outputs and never
write into their inputs. The randomness (signs, sampled rows, hashed rows) is drawn by
the caller, so every kernel is deterministic.
"""

import numpy as np

from statlogit.kernels._numba import njit
from statlogit.sketching._fwht import _L2_DOUBLES, _fwht_rows, _pow2_at_most, fwht_inplace


@njit
def _parity(x):
    """Parity of the number of set bits of ``x`` (the sign bit of ``H[i, j]``)."""
    parity = 0
    while x:
        parity ^= 1
        x &= x - 1
    return parity


@njit
def _gather_signed(a, signs, buf, first, stride, chunk):
    """``buf[t] = (D a)[first + t*stride : ... + chunk].ravel()``, zero past ``n``."""
    n, k = a.shape
    for t in range(buf.shape[0]):
        base = first + t * stride
        for i in range(chunk):
            row = base + i
            if row < n:
                s = signs[row]
                for j in range(k):
                    buf[t, i * k + j] = s * a[row, j]
            else:
                for j in range(k):
                    buf[t, i * k + j] = 0.0


@njit
def _srht_streaming(a, signs, n_pad, sample, scale, block):
    r"""SRHT for small sketches, never materialising the transform of ``a``.

    Uses :math:`H = (I_G \otimes H_B)(H_G \otimes I_B)` with ``n_pad = G B``: for
    each chunk of offsets ``j``, rows ``j + tB`` of :math:`Da` are gathered into an
    L2-sized buffer and transformed over ``t`` (the strided factor); each sampled
    output row ``i = t_i B + j_i`` then accumulates :math:`H_B[j_i, j]` times row
    ``t_i`` of the buffer. One read of ``a``, :math:`n k \log_2 G` butterflies and
    :math:`m B k` multiply-adds.
    """
    k = a.shape[1]
    groups = n_pad // block
    chunk = min(block, _pow2_at_most(_L2_DOUBLES // (groups * k)))
    m = sample.shape[0]
    out = np.zeros((m, k))
    t_of = sample // block
    j_of = sample % block
    buf = np.empty((groups, chunk * k))
    for first in range(0, block, chunk):
        _gather_signed(a, signs, buf, first, block, chunk)
        _fwht_rows(buf, 0, groups)
        for p in range(m):
            src = buf[t_of[p]]
            dst = out[p]
            for i in range(chunk):
                off = i * k
                if _parity(j_of[p] & (first + i)):
                    for j in range(k):
                        dst[j] -= src[off + j]
                else:
                    for j in range(k):
                        dst[j] += src[off + j]
    for p in range(m):
        for j in range(k):
            out[p, j] *= scale
    return out


def _streaming_block(n_pad, m):
    """Block size ``B`` for the streaming SRHT, or 0 when a full transform is cheaper.

    Per entry of ``a`` the streaming path costs about ``log2(n_pad / B)`` butterfly
    levels plus ``m B / n_pad`` accumulations, minimised near ``B = n_pad / m``; its
    gather buffer holds ``n_pad / B`` rows, capped at 8192 (L3). Past the cap a full
    transform of a padded copy is used.
    """
    block = 1
    while 2 * block * m <= n_pad:
        block *= 2
    return block if n_pad // block <= 8192 else 0


def srht_sketch(a, signs, n_pad, sample, scale, block=None):
    r"""Rows ``sample`` of ``scale * H_{n_pad} [D a; 0]``: the SRHT sketch of ``a``.

    Parameters
    ----------
    a : ndarray of shape (n, k)
        C-contiguous float64; not modified.
    signs : ndarray of shape (n,)
        The Rademacher diagonal :math:`D` (entries +-1).
    n_pad : int
        A power of two ``>= n``; rows ``n..n_pad-1`` are zero padding.
    sample : ndarray of int64, shape (m,)
        Row indices in ``[0, n_pad)``.
    scale : float
        The factor in front (``1/sqrt(m)`` for an SRHT with unnormalised ``H``).
    block : int, optional
        Force a schedule: a power of two ``<= n_pad`` for the streaming one, 0 for the
        full transform; by default chosen by cost.

    Returns
    -------
    ndarray of shape (m, k)

    Notes
    -----
    Two exact schedules of the same product, chosen by cost: for small sketches the
    streaming kernel :func:`_srht_streaming` (one read of ``a``, nothing of size
    ``n_pad`` allocated); for large ones a signed, zero-padded copy transformed in
    full by :func:`statlogit.sketching._fwht.fwht_inplace`, then sampled.
    """
    if block is None:
        block = _streaming_block(n_pad, sample.shape[0])
    if block:
        return _srht_streaming(a, signs, n_pad, sample, scale, block)
    padded = np.zeros((n_pad, a.shape[1]))
    np.multiply(a, signs[:, None], out=padded[: a.shape[0]])
    return scale * fwht_inplace(padded)[sample]


@njit
def sparse_sketch(a, rows, values, m):
    """``S @ a`` for a sparse sketch with ``S[rows[i, l], i] = values[i, l]``.

    Parameters
    ----------
    a : ndarray of shape (n, k)
        C-contiguous float64; not modified.
    rows : ndarray of int64, shape (n, s)
        The output row of each of the ``s`` nonzeros of column ``i`` of ``S``.
    values : ndarray of shape (n, s)
        Their values.
    m : int
        Number of rows of ``S``.

    Returns
    -------
    ndarray of shape (m, k)
        One pass over ``a``; each row is added (scaled) into ``s`` output rows.
    """
    n, k = a.shape
    out = np.zeros((m, k))
    for i in range(n):
        src = a[i]
        for nz in range(rows.shape[1]):
            dst = out[rows[i, nz]]
            v = values[i, nz]
            for j in range(k):
                dst[j] += v * src[j]
    return out


@njit
def sparse_sketch_csr(indptr, indices, data, rows, values, m, d):
    """``S @ X`` for a CSR matrix ``X`` (n, d) and a sparse sketch as in :func:`sparse_sketch`.

    :math:`O(s\\,\\mathrm{nnz}(X))`: each stored entry is added, scaled, into ``s`` output
    rows; the (m, d) result is dense.
    """
    out = np.zeros((m, d))
    for i in range(indptr.shape[0] - 1):
        for nz in range(rows.shape[1]):
            dst = out[rows[i, nz]]
            v = values[i, nz]
            for p in range(indptr[i], indptr[i + 1]):
                dst[indices[p]] += v * data[p]
    return out


@njit
def csr_weighted_gram(indptr, indices, data, weights, d):
    r""":math:`X^\top \operatorname{diag}(w) X` for a CSR matrix ``X`` (n, d), dense (d, d).

    Row by row, the outer product of the row's stored entries:
    :math:`O(\sum_i \mathrm{nnz}_i^2)` work, no sparse intermediate.
    """
    out = np.zeros((d, d))
    for i in range(indptr.shape[0] - 1):
        w = weights[i]
        for p in range(indptr[i], indptr[i + 1]):
            a = w * data[p]
            row = out[indices[p]]
            for q in range(indptr[i], indptr[i + 1]):
                row[indices[q]] += a * data[q]
    return out


@njit
def compensated_gradient(a, r):
    r""":math:`A^\top R` with Kahan-compensated sums, as an unevaluated pair ``hi + lo``.

    Parameters
    ----------
    a : ndarray of shape (c, d)
        C-contiguous float64 row block.
    r : ndarray of shape (c, k)
        Residuals of the block.

    Returns
    -------
    hi, lo : ndarrays of shape (k, d)
        Running sums and their compensations: :math:`\sum_i a_{ij} r_{it} =
        \mathrm{hi} + \mathrm{lo}` up to about :math:`u\sqrt{\sum_i (a_{ij}r_{it})^2}`,
        the rounding of the products themselves (the sum's own error is
        :math:`O(cu^2)`). Each coordinate is an independent scalar recurrence, so the
        loop over ``d`` vectorises without reassociating anything.
    """
    c, d = a.shape
    k = r.shape[1]
    hi = np.zeros((k, d))
    comp = np.zeros((k, d))
    for i in range(c):
        for t in range(k):
            ri = r[i, t]
            h = hi[t]
            e = comp[t]
            for j in range(d):
                y = a[i, j] * ri - e[j]
                s = h[j] + y
                e[j] = (s - h[j]) - y
                h[j] = s
    return hi, -comp
