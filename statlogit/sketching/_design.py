r"""The designs the sketched solvers read: dense (in memory or memory-mapped) and sparse.

Every design represents the *effective* matrix

.. math:: A = \operatorname{diag}(\sqrt w)\,(X - \mathbf 1 \mu^\top)\,
          \operatorname{diag}(c)\,T

without forming it: :math:`\sqrt w` the square roots of the sample weights (``root``),
:math:`\mu` the (weighted) column means (centring for the intercept), :math:`c` a
power-of-two column scaling (exact in floating point) and :math:`T` an optional
:math:`d \times r` reduction onto the row space of a rank-deficient design. The solvers
only need four things from it: the sketch :math:`S[A_0 \mid v]` of the unscaled design
:math:`A_0 = \operatorname{diag}(\sqrt w)(X - \mathbf 1\mu^\top)`, the Gram matrix of
:math:`A` (possibly preconditioned), the residual norm and gradient
:math:`A^\top(b - Az)` and, for robust standard errors, weighted Gram matrices of
:math:`[\sqrt w \mid A_0]`. Dense designs do all of them in cache-sized row chunks
(a memory map is never read whole); sparse designs with sparse products, never densified.
"""

import math

import numpy as np
import scipy.linalg
import scipy.sparse
from scipy.linalg.blas import dtrmm

from statlogit.sketching._kernels import compensated_gradient, csr_weighted_gram, sparse_sketch
from statlogit.sketching._memmap import row_chunks

_CHUNK_BYTES = 1 << 23  # a row chunk of about 8 MB: in (L3) cache for its second read
_FSUM_ENTRIES = 1 << 12  # gradient entries summed exactly over the chunks
_B_ROWS = 1 << 10  # rows per chunk of the AW pass (trmm then syrk): measured fastest


class _CentredDesign:
    r"""The dense design :math:`A` above; chunks of :math:`A_0` are formed on the fly."""

    def __init__(self, X, mean, root=None):
        self.X = X
        self.mean = mean
        self.root = root
        self.centred = bool(np.any(mean != 0.0))
        self.n_samples, self.n_features = X.shape
        self.scale = None
        self.transform = None
        self.chunk_rows = int(min(1 << 13, max(1 << 9, _CHUNK_BYTES // (8 * max(
            self.n_features, 1)))))

    # --------------------------------------------------------- effective columns
    def set_transform(self, scale, transform=None):
        """Use :math:`A = A_0 \\operatorname{diag}(c) T` from now on."""
        self.scale = scale
        self.transform = transform
        self.n_features = self.X.shape[1] if transform is None else transform.shape[1]

    def expand(self, z):
        """Coefficients of :math:`A` to those of :math:`A_0`: :math:`c \\odot Tz`."""
        x = z if self.transform is None else self.transform @ z
        return x if self.scale is None else _scale_rows(x, self.scale)

    def contract(self, g):
        """Gradients of :math:`A_0` to those of :math:`A`: :math:`T^\\top (c \\odot g)`."""
        g = g if self.scale is None else _scale_rows(g, self.scale)
        return g if self.transform is None else self.transform.T @ g

    # ------------------------------------------------------------------ passes
    def _map(self, func, *row_arrays, consts=(), centre=True, rows_per_chunk=None):
        """``func(raw_block, root_block, *row_blocks, *consts)`` on every row chunk.

        The map half of the map-reduce every pass is written as (the caller sums the
        returned list); :class:`statlogit.sketching._dask._DaskDesign` runs the same
        per-chunk functions as dask tasks.
        """
        mean = self.mean if (self.centred and centre) else None
        out = []
        for rows, block in row_chunks(self.X, rows_per_chunk or self.chunk_rows):
            root = None if self.root is None else self.root[rows]
            out.append(_on_chunk(func, block, mean, root,
                                 [a[rows] for a in row_arrays], consts))
        return out

    def raw_chunks(self):
        """Row blocks of :math:`A_0` with their row slices (copies when centring)."""
        mean = self.mean if self.centred else None
        for rows, block in row_chunks(self.X, self.chunk_rows):
            root = None if self.root is None else self.root[rows]
            yield rows, _raw_block(block, mean, root)

    def residual_gradient(self, b, coef):
        r""":math:`\|r\|_F` and :math:`A^\top r` for :math:`r = b - Az`, in one read.

        ``b`` of shape (n,) or (n, k), ``coef`` (d,) or (d, k). The gradient is nearly
        zero while its terms :math:`a_{ij} r_i` are not: a plain ``r @ A`` accumulates
        rounding errors of about :math:`u\|a_j\|\|r\|` per coordinate, which
        :math:`(A^\top A)^{-1}` magnifies into the error floor of the refinement when
        the residual is large. Compensated (Kahan) sums within each row chunk
        (:func:`~statlogit.sketching._kernels.compensated_gradient`) and an exactly
        rounded sum over the chunks leave about :math:`u\|a_j \circ r\|`, the
        rounding of the products themselves.
        """
        vector = np.ndim(b) == 1
        x = self.expand(coef).reshape(self.X.shape[1], -1)
        parts = self._map(_chunk_residual_gradient, b, consts=(x,))
        squares = math.fsum(part[0] for part in parts)
        gradient = self.contract(_exact_sum([p for part in parts for p in part[1:]]).T)
        return math.sqrt(squares), (gradient.ravel() if vector else gradient)

    def residual_summary(self, b, coef, *, meat):
        r"""``(rss, M)`` of raw coefficients: :math:`\|b - A_0x\|^2` and, if ``meat``,
        :math:`[\sqrt w \mid A_0]^\top \operatorname{diag}(r^2)[\sqrt w \mid A_0]`."""
        parts = self._map(_chunk_residual_summary, b, consts=(coef, meat))
        rss = sum(part[0] for part in parts)
        return rss, (sum(part[1] for part in parts) if meat else None)

    def product_norms(self, M):
        """Column norms of :math:`A_0 M` (one read; ``M`` is (d, j))."""
        return np.sqrt(sum(self._map(_chunk_product_squares, consts=(M,))))

    def weighted_gram(self, v):
        r""":math:`[\sqrt w \mid A_0]^\top \operatorname{diag}(v) [\sqrt w \mid A_0]`."""
        return sum(self._map(_chunk_weighted_gram, v))

    def preconditioned_gram(self, w, penalty, b, *, route):
        r"""``(G, h)``: :math:`W^\top(A^\top A + \operatorname{diag}(p))W` and
        :math:`W^\top A^\top b`, in one read of :math:`A` (:math:`W = R^{-1}`, upper).

        ``route="gram"``: the Gram matrix is accumulated (BLAS ``syrk``, the pass
        normal equations make) and preconditioned afterwards; its rounding, about
        :math:`u\kappa(R)^2`, is removed by the refinement, so the caller takes it
        for modest :math:`\kappa(R)`. ``"b"`` / ``"b32"``: :math:`B = AW` is formed chunk
        by chunk (``trmm``) and the Gram matrix of :math:`B`, well conditioned whatever
        :math:`\kappa(A)`, is accumulated in double or single precision (Cholesky-QR
        on a well-conditioned matrix; the single-precision rounding, about
        :math:`10^{-7}`, is again removed by the refinement).
        """
        scale, transform = self.scale, self.transform
        raw_scaled = transform is None and scale is not None and np.all(
            np.abs(np.frexp(scale)[1]) < 400)
        if route == "gram":
            # powers of two within range: D (X'X) D is exact, and the chunks need no
            # scaled copy
            consts = (None, None, None, False) if raw_scaled else (
                scale, transform, None, False)
            parts = self._map(_chunk_gram, b, consts=consts)
            gram = sum(part[0] for part in parts)
            rhs = _exact_sum([part[1] for part in parts])
            if raw_scaled:
                gram = gram * np.outer(scale, scale)
                rhs = _scale_rows(rhs, scale)
            return _precondition(gram + np.diag(penalty), w), w.T @ rhs
        if raw_scaled:  # (A_0 D) W = A_0 (D W): the powers of two fold into W exactly
            scale, w_raw = None, self.scale[:, None] * w
        else:
            w_raw = w
        parts = self._map(_chunk_gram, b, consts=(scale, transform, np.asfortranarray(w_raw),
                                                   route == "b32"), rows_per_chunk=_B_ROWS)
        gram = sum(part[0] for part in parts)
        gram = 0.5 * (gram + gram.T) + w.T @ (penalty[:, None] * w)
        return gram, _exact_sum([part[1] for part in parts])

    def sketch(self, operator, *vectors):
        r""":math:`S[A_0 \mid v_1 \mid \dots]`, :math:`SA_0 = S(\sqrt w X) - (S\sqrt w)\mu^\top`.

        Also stores ``sketch_reference_``, the largest :math:`|S\sqrt w X|` per column:
        the size of the terms that centring cancels (for the zero-column test).
        """
        if isinstance(self.X, np.memmap) and hasattr(operator, "hash_rows_"):
            # read in chunks, never whole (a dense-mixing sketch reads the map at once)
            return self._centre_sketch(operator, self._chunked_sketch(operator), vectors)
        Xw = np.asarray(self.X, dtype=np.float64)
        if self.root is not None:
            Xw = Xw * self.root[:, None]
        sx = operator.apply(np.ascontiguousarray(Xw), check_input=False)
        return self._centre_sketch(operator, sx, vectors)

    def _chunked_sketch(self, operator):
        r""":math:`S(\sqrt w X) = \sum_i S_i(\sqrt w X)_i` over row chunks (sparse sketches)."""
        if not hasattr(operator, "hash_rows_"):
            raise ValueError(
                f"A memory-mapped or dask X needs a sparse sketch (countsketch, sparse_sign, "
                f"osnap) whose columns are independent per chunk; got "
                f"{type(operator).__name__}. Use solver='precondition' (the default) or "
                "sketch='countsketch'.")
        return sum(self._map(_chunk_sparse_sketch, operator.hash_rows_,
                             operator.hash_values_, consts=(operator.sketch_size,),
                             centre=False))

    def _centre_sketch(self, operator, sx, vectors):
        self.sketch_reference_ = np.max(np.abs(sx), axis=0)
        if not vectors and not self.centred:
            return sx
        root = np.ones(self.n_samples) if self.root is None else self.root
        columns = [v.reshape(self.n_samples, -1) for v in vectors]
        extra = operator.apply(np.ascontiguousarray(np.column_stack([root, *columns])),
                               check_input=False)
        if self.centred:
            sx = sx - np.outer(extra[:, 0], self.mean)
        return np.hstack([sx, extra[:, 1:]])

    def dense(self):
        """:math:`A_0` as one array (the rank-deficient LAPACK fallback only)."""
        return np.vstack([block for _, block in self.raw_chunks()])


class _SparseDesign(_CentredDesign):
    r"""A scipy.sparse design: products in :math:`O(\mathrm{nnz})`, never densified.

    Centring and weights enter as rank-one and diagonal corrections of sparse products,
    e.g. :math:`A_0 x = \sqrt w \odot (Xx - \mu^\top x)` and
    :math:`A_0^\top r = X^\top(\sqrt w \odot r) - \mu\,(\sqrt w^\top r)`.
    """

    def __init__(self, X, mean, root=None):
        super().__init__(X.tocsr(), mean, root)
        self._root = np.ones(self.n_samples) if root is None else root

    def _matvec(self, x):
        out = np.asarray(self.X @ x).reshape(self.n_samples, -1) - self.mean @ x.reshape(
            self.X.shape[1], -1)
        return out * self._root[:, None]

    def _rmatvec(self, r):
        rw = r.reshape(self.n_samples, -1) * self._root[:, None]
        return np.asarray(self.X.T @ rw) - np.outer(self.mean, rw.sum(axis=0))

    def residual_gradient(self, b, coef):
        vector = np.ndim(b) == 1
        x = self.expand(coef).reshape(self.X.shape[1], -1)
        residual = b.reshape(self.n_samples, -1) - self._matvec(x)
        gradient = self.contract(self._rmatvec(residual))
        norm = math.sqrt(float(np.sum(residual * residual)))
        return norm, (gradient.ravel() if vector else gradient)

    def residual_summary(self, b, coef, *, meat):
        residual = b - self._matvec(coef.reshape(self.X.shape[1], -1))[:, 0]
        return float(residual @ residual), (self.weighted_gram(residual**2) if meat else None)

    def product_norms(self, M):
        return np.linalg.norm(self._matvec(M), axis=0)

    def weighted_gram(self, v):
        r"""As the dense version, by :math:`X^\top D X` and rank-one corrections."""
        root = self._root
        vw = v * root * root
        X = self.X
        xtx = csr_weighted_gram(X.indptr.astype(np.int64), X.indices.astype(np.int64),
                                X.data, vw, X.shape[1])
        s = np.asarray(X.T @ vw).ravel()
        total = float(vw.sum())
        mu = self.mean
        slopes = xtx - np.outer(s, mu) - np.outer(mu, s) + total * np.outer(mu, mu)
        out = np.empty((mu.size + 1, mu.size + 1))
        out[0, 0] = total
        out[0, 1:] = out[1:, 0] = s - total * mu
        out[1:, 1:] = slopes
        return out

    def preconditioned_gram(self, w, penalty, b, *, route):
        """The Gram route only (:math:`X^\top W X` sparse); the refinement corrects it."""
        gram = self.weighted_gram(np.ones(self.n_samples))[1:, 1:]
        rhs = self._rmatvec(b)
        if self.scale is not None:
            gram = gram * np.outer(self.scale, self.scale)
        if self.transform is not None:
            gram = self.transform.T @ gram @ self.transform
        return _precondition(gram + np.diag(penalty), w), w.T @ self.contract(rhs)

    def sketch(self, operator, *vectors):
        Xw = self.X if self.root is None else scipy.sparse.diags(self.root) @ self.X
        sx = operator.apply(Xw.tocsr(), check_input=False)
        return self._centre_sketch(operator, sx, vectors)

    def dense(self):
        raise ValueError(
            "This sparse design is numerically rank-deficient beyond what the sketch "
            "detected; drop collinear columns of X or pass a dense array.")


# ------------------------------------------------------------- per-chunk functions
def _raw_block(block, mean, root):
    r"""A row block of :math:`A_0 = \operatorname{diag}(\sqrt w)(X - \mathbf 1\mu^\top)`."""
    block = np.asarray(block, dtype=np.float64)
    if mean is not None:
        block = block - mean
    return block if root is None else block * root[:, None]


def _on_chunk(func, block, mean, root, row_blocks, consts):
    return func(_raw_block(block, mean, root), root, *row_blocks, *consts)


def _chunk_sparse_sketch(raw, root, hash_rows, hash_values, m):
    return sparse_sketch(np.ascontiguousarray(raw), hash_rows, hash_values, m)


def _chunk_residual_gradient(raw, root, b, x):
    residual = b.reshape(raw.shape[0], -1) - raw @ x
    flat = residual.ravel()
    return (float(flat @ flat), *compensated_gradient(np.ascontiguousarray(raw),
                                                      np.ascontiguousarray(residual)))


def _chunk_residual_summary(raw, root, b, x, meat):
    residual = b - raw @ x
    rss = float(residual @ residual)
    return rss, (_chunk_weighted_gram(raw, root, residual**2) if meat else None)


def _chunk_product_squares(raw, root, M):
    return np.sum((raw @ M) ** 2, axis=0)


def _chunk_weighted_gram(raw, root, v):
    aug = np.column_stack([np.ones(raw.shape[0]) if root is None else root, raw])
    return aug.T @ (v[:, None] * aug)


def _chunk_gram(raw, root, b, scale, transform, w, single):
    r"""Gram matrix and :math:`\cdot^\top b` of the effective block or of the block
    times :math:`W` (``w`` upper triangular, Fortran order; ``single``: the Gram
    matrix of the product in float32)."""
    block = raw if scale is None else raw * scale
    block = block if transform is None else block @ transform
    b = b.reshape(block.shape[0], -1)
    if w is None:
        return block.T @ block, block.T @ b
    product_t = dtrmm(1.0, w, block.T, side=0, lower=0, trans_a=1)  # (block W)^T
    low = product_t.astype(np.float32) if single else product_t
    return (low @ low.T).astype(np.float64), product_t @ b


def _precondition(gram, w):
    r""":math:`W^\top G W`, symmetrised."""
    out = w.T @ gram @ w
    return 0.5 * (out + out.T)


def _scale_rows(x, scale):
    return x * (scale if x.ndim == 1 else scale[:, None])


def _exact_sum(parts):
    """Sum of a list of equal-shape arrays: correctly rounded (``math.fsum`` per entry)
    up to ``_FSUM_ENTRIES`` entries, numpy's pairwise summation beyond (many responses)."""
    stacked = np.stack(parts).reshape(len(parts), -1)
    if stacked.shape[1] > _FSUM_ENTRIES:
        out = np.ascontiguousarray(stacked.T).sum(axis=1)
    else:
        out = np.array([math.fsum(column) for column in stacked.T])
    return out.reshape(np.shape(parts[0]))
