r"""Sketch operators: random :math:`m \times n` matrices :math:`S` applied to tall data.

Every operator has the same small interface: construct it with ``sketch_size`` (:math:`m`)
and ``random_state``; ``apply(A)`` returns :math:`SA` for an (n, k) matrix or an
(n,) vector. The first ``apply`` (or an explicit ``fit(n)``) draws :math:`S`; later
calls reuse the same draw, so ``apply(A)`` and ``apply(b)`` are sketched consistently.
:math:`S` is never formed (``todense()`` does so for small ``n``, for tests).

All operators are *oblivious subspace embeddings*: for a fixed orthonormal
:math:`U \in \mathbb{R}^{n \times d}` and :math:`m` large enough, the singular values of
:math:`SU` lie in :math:`[1 - \varepsilon, 1 + \varepsilon]` with high probability.
Only the dense-mixing ones (:class:`SRHT`, :class:`GaussianSketch`) also spread the
sketching error evenly over coordinates (the :math:`\ell_\infty` guarantee of
sketch-and-solve); the sparse ones (:class:`CountSketch`, :class:`SparseSign`,
:class:`OSNAP`) do not (Price, Song & Woodruff, 2017).

A subsampled randomized *cosine* transform via ``scipy.fft.dct`` was measured as well
and is not offered: on this machine the DCT of a :math:`2^{20} \times 65` array took
3.0 s against 0.2-0.4 s for the whole SRHT.
"""

import math

import numpy as np
import scipy.sparse

from statlogit._validation import as_float_array, check_scalar, resolve_rng
from statlogit.sketching._kernels import sparse_sketch, sparse_sketch_csr, srht_sketch

__all__ = [
    "SketchOperator",
    "SRHT",
    "GaussianSketch",
    "CountSketch",
    "SparseSign",
    "OSNAP",
    "SKETCHES",
    "make_sketch",
    "sketch_size_rule",
    "theory_sketch_size",
]


class SketchOperator:
    """Base class: a random :math:`m \\times n` sketch drawn once, applied many times.

    Parameters
    ----------
    sketch_size : int
        Number of rows :math:`m` of :math:`S`.
    random_state : None, int, SeedSequence or Generator
        Randomness of the draw.

    Attributes
    ----------
    n_rows_ : int
        The :math:`n` the sketch was drawn for (set by :meth:`fit` / first
        :meth:`apply`).
    """

    #: Whether the sketch mixes every input row into every output row (the sketches
    #: for which the coordinate-wise guarantee of sketch-and-solve holds).
    dense_mixing = False

    def __init__(self, sketch_size, random_state=None):
        self.sketch_size = sketch_size
        self.random_state = random_state

    def __repr__(self):
        return (f"{type(self).__name__}(sketch_size={self.sketch_size!r}, "
                f"random_state={self.random_state!r})")

    def fit(self, n_rows):
        """Draw :math:`S` for inputs with ``n_rows`` rows; returns ``self``."""
        n_rows = check_scalar(n_rows, name="n_rows", lower=1, integer=True)
        self._check_size(n_rows)
        self._draw(n_rows, resolve_rng(self.random_state))
        self.n_rows_ = n_rows
        return self

    def apply(self, A, *, check_input=True):
        """Return :math:`SA` for ``A`` of shape (n, k), or :math:`Sa` for shape (n,).

        The first call draws :math:`S` for ``n`` rows; later calls must have the same
        ``n`` and reuse that draw. ``check_input=False`` skips the conversion and the
        finiteness check: only for C-contiguous finite float64 arrays (as
        :class:`~statlogit.sketching.regression.SketchedLinearRegression` passes).
        """
        sparse = scipy.sparse.issparse(A)
        if sparse:
            A = _check_sparse(A, name="A") if check_input else A
        elif check_input:
            A = as_float_array(A, name="A")
        n = A.shape[0]
        if not hasattr(self, "n_rows_"):
            self.fit(n)
        elif n != self.n_rows_:
            raise ValueError(
                f"This {type(self).__name__} was drawn for {self.n_rows_} rows but A has "
                f"{n}; call fit({n}) to draw a new sketch or use a new operator."
            )
        if sparse:
            return self._apply_sparse(A)
        out = self._apply(A.reshape(n, -1))
        return out.ravel() if A.ndim == 1 else out

    def todense(self):
        """The (m, n) matrix :math:`S` itself (only sensible for small ``n``)."""
        if not hasattr(self, "n_rows_"):
            raise ValueError("Call fit(n_rows) or apply(A) before todense().")
        return self.apply(np.eye(self.n_rows_))

    def _check_size(self, n_rows):
        check_scalar(self.sketch_size, name="sketch_size", lower=1, integer=True)
        n_pad = 1 << (n_rows - 1).bit_length()
        if self.sketch_size > n_pad:
            raise ValueError(
                f"sketch_size={self.sketch_size} exceeds the padded length {n_pad} of "
                f"the {n_rows} rows; a sketch is never taller than that: use at most "
                "that many rows.")

    def _draw(self, n_rows, rng):
        raise NotImplementedError

    def _apply_sparse(self, A):
        r""":math:`SA` for a scipy.sparse ``A``, densifying ``_SPARSE_BLOCK`` columns at a time.

        Sparse sketches override this with an :math:`O(\mathrm{nnz})` product.
        """
        A = A.tocsc()
        blocks = [self._apply(np.ascontiguousarray(A[:, j:j + _SPARSE_BLOCK].toarray()))
                  for j in range(0, A.shape[1], _SPARSE_BLOCK)]
        return np.hstack(blocks) if blocks else np.zeros((self.sketch_size, 0))

    def _apply(self, A):
        raise NotImplementedError


class SRHT(SketchOperator):
    r"""Subsampled randomized Hadamard transform :math:`S = m^{-1/2} P H D`.

    :math:`D` is a Rademacher (random :math:`\pm 1`) diagonal, :math:`H` the
    unnormalised Walsh-Hadamard matrix of size :math:`N = 2^{\lceil \log_2 n \rceil}`
    (the input is zero-padded to :math:`N` rows) and :math:`P` samples :math:`m` of the
    :math:`N` rows uniformly *without* replacement, so that
    :math:`\mathbb{E}[S^\top S] = I_n`. Cost :math:`O(nk \log n)` for an (n, k) input,
    in a numba kernel that transforms all ``k`` columns at once, cache-blocked, and
    computes only the sampled rows (:func:`statlogit.sketching._kernels.srht_sketch`).

    The diagonal must be Rademacher: with a Gaussian diagonal the coordinate-wise
    guarantee fails (Song & Zhang, 2026).
    """

    dense_mixing = True

    def _draw(self, n_rows, rng):
        self.n_padded_ = 1 << (n_rows - 1).bit_length()
        self.signs_ = rng.choice(np.array([-1.0, 1.0]), size=n_rows)
        rows = rng.choice(self.n_padded_, size=self.sketch_size, replace=False)
        self.rows_ = np.sort(rows).astype(np.int64)

    def _apply(self, A):
        return srht_sketch(A, self.signs_, self.n_padded_, self.rows_,
                           1.0 / math.sqrt(self.sketch_size))


class GaussianSketch(SketchOperator):
    r"""Gaussian sketch: :math:`S_{ij} \sim N(0, 1/m)` i.i.d.

    The rigorous reference for the coordinate-wise guarantee: with :math:`U^\top r = 0`,
    :math:`SU` and :math:`Sr` are independent, so every coordinate error of
    sketch-and-solve is exactly Gaussian given :math:`SU`. Costs :math:`2mnk` flops and
    :math:`mn` normal draws: for tests and moderate :math:`mn`. :math:`S` is generated
    in column blocks from a stored seed, never stored whole.
    """

    dense_mixing = True

    def _draw(self, n_rows, rng):
        self.seed_ = int(rng.integers(np.iinfo(np.int64).max))

    def _apply(self, A):
        n, k = A.shape
        m = self.sketch_size
        rng = np.random.default_rng(self.seed_)
        step = max(1, (1 << 20) // m)
        out = np.zeros((m, k))
        for start in range(0, n, step):
            stop = min(start + step, n)
            out += rng.standard_normal((m, stop - start)) @ A[start:stop]
        out /= math.sqrt(m)
        return out


class SparseSign(SketchOperator):
    r"""Sparse sign sketch: each column of :math:`S` has ``nnz_per_col`` nonzeros.

    Column :math:`i` has :math:`s` = ``nnz_per_col`` entries :math:`\pm 1/\sqrt{s}` in
    :math:`s` distinct rows drawn uniformly. One pass over the input,
    :math:`O(s\,nk)`. A subspace embedding for :math:`m = O(d \log d)` with
    :math:`s = O(\log d)`; an excellent *preconditioner* sketch, but without the
    coordinate-wise guarantee.
    """

    def __init__(self, sketch_size, random_state=None, nnz_per_col=8):
        super().__init__(sketch_size, random_state)
        self.nnz_per_col = nnz_per_col

    def __repr__(self):
        return f"{super().__repr__()[:-1]}, nnz_per_col={self.nnz_per_col!r})"

    def _check_size(self, n_rows):
        super()._check_size(n_rows)
        s = check_scalar(self.nnz_per_col, name="nnz_per_col", lower=1, integer=True)
        if s > self.sketch_size:
            raise ValueError(
                f"nnz_per_col={s} exceeds sketch_size={self.sketch_size}; use at most "
                "sketch_size nonzeros per column."
            )

    def _draw(self, n_rows, rng):
        s = self.nnz_per_col
        self.hash_rows_ = _distinct_rows(rng, n_rows, s, self.sketch_size)
        signs = rng.choice(np.array([-1.0, 1.0]), size=(n_rows, s))
        self.hash_values_ = signs / math.sqrt(s)

    def _apply(self, A):
        return sparse_sketch(A, self.hash_rows_, self.hash_values_, self.sketch_size)

    def _apply_sparse(self, A):
        r""":math:`SA` for CSR/CSC ``A`` in :math:`O(s\,\mathrm{nnz}(A))` (numba kernel)."""
        A = A.tocsr()
        A.sort_indices()
        return sparse_sketch_csr(A.indptr.astype(np.int64), A.indices.astype(np.int64),
                                 A.data.astype(np.float64), self.hash_rows_,
                                 self.hash_values_, self.sketch_size, A.shape[1])


class CountSketch(SparseSign):
    r"""CountSketch (Clarkson-Woodruff): one :math:`\pm 1` per column of :math:`S`.

    Row :math:`i` of the input is added, with a random sign, to one uniformly chosen
    output row. The cheapest sketch (one pass, :math:`O(nk)`); a subspace embedding
    only for :math:`m = O(d^2)` in theory. Its coordinate errors have no exponential
    tail: on coherent designs with a spiky residual a single coefficient takes the
    whole error with probability about :math:`d/m`.
    """

    def __init__(self, sketch_size, random_state=None):
        super().__init__(sketch_size, random_state, nnz_per_col=1)

    def __repr__(self):
        return SketchOperator.__repr__(self)


class OSNAP(SparseSign):
    r"""OSNAP (Nelson-Nguyen): ``nnz_per_col`` nonzeros, one in each block of rows.

    The :math:`m` rows are split into :math:`s` = ``nnz_per_col`` nearly equal blocks
    and column :math:`i` of :math:`S` has one entry :math:`\pm 1/\sqrt{s}` in each
    block, at a uniform position. Same cost and guarantees as :class:`SparseSign`.
    """

    def __init__(self, sketch_size, random_state=None, nnz_per_col=4):
        super().__init__(sketch_size, random_state, nnz_per_col=nnz_per_col)

    def _draw(self, n_rows, rng):
        s = self.nnz_per_col
        edges = np.linspace(0, self.sketch_size, s + 1).astype(np.int64)
        widths = np.diff(edges)
        offsets = np.floor(rng.random((n_rows, s)) * widths).astype(np.int64)
        self.hash_rows_ = np.ascontiguousarray(edges[:-1] + offsets)
        signs = rng.choice(np.array([-1.0, 1.0]), size=(n_rows, s))
        self.hash_values_ = signs / math.sqrt(s)


_SPARSE_BLOCK = 8


def _check_sparse(A, *, name):
    """A scipy.sparse matrix as float64 CSR with finite stored values."""
    if A.ndim != 2:
        raise ValueError(f"{name} must be 2-dimensional; got shape {A.shape}.")
    if np.iscomplexobj(A.data) or A.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be real-valued numeric; got dtype {A.dtype}.")
    A = scipy.sparse.csr_matrix(A, dtype=np.float64)
    if not np.all(np.isfinite(A.data)):
        raise ValueError(f"{name} contains NaN or infinite values; remove or impute them.")
    return A


def _distinct_rows(rng, n_rows, s, m):
    """An (n_rows, s) int64 array, each row ``s`` distinct uniform draws from ``range(m)``."""
    rows = rng.integers(0, m, size=(n_rows, s))
    todo = np.arange(n_rows)
    while s > 1 and todo.size:
        ordered = np.sort(rows[todo], axis=1)
        todo = todo[np.any(ordered[:, 1:] == ordered[:, :-1], axis=1)]
        rows[todo] = rng.integers(0, m, size=(todo.size, s))
    return rows.astype(np.int64)


#: Sketch names accepted by :func:`make_sketch` and
#: :class:`~statlogit.sketching.regression.SketchedLinearRegression`.
SKETCHES = {
    "srht": SRHT,
    "gaussian": GaussianSketch,
    "countsketch": CountSketch,
    "sparse_sign": SparseSign,
    "osnap": OSNAP,
}


def make_sketch(sketch, sketch_size, random_state=None):
    """Return a sketch operator from a name in :data:`SKETCHES` (or an operator as is).

    Raises
    ------
    ValueError
        For an unknown name.
    """
    if isinstance(sketch, SketchOperator):
        return sketch
    if not isinstance(sketch, str) or sketch not in SKETCHES:
        raise ValueError(
            f"Unknown sketch {sketch!r}; use one of {sorted(SKETCHES)} or a "
            "SketchOperator instance."
        )
    return SKETCHES[sketch](sketch_size, random_state=random_state)


def sketch_size_rule(n_features, eps=None, delta=0.01, *, multiple=4):
    r"""Practical number of sketch rows for ``n_features`` columns.

    With ``eps`` given, the calibrated rule of the method notes,

    .. math:: m = d + \left\lceil 2d \ln(2d/\delta) / \varepsilon^2 \right\rceil,

    which makes the Gaussian sketch-and-solve error satisfy
    :math:`\sqrt{d}\,\|x' - x^*\|_\infty \le \varepsilon \|r\|_2 \|A^+\|_2` with
    probability about :math:`1-\delta` (each coordinate error is Gaussian with variance
    at most :math:`\|r\|^2\|A^+\|^2/(m-d-1)`; a union bound over :math:`d` coordinates
    gives the :math:`\ln(2d/\delta)`). Without ``eps``, ``multiple * d`` rows (enough
    for a constant-distortion embedding, i.e. for preconditioning).

    Parameters
    ----------
    n_features : int
        :math:`d`.
    eps : float in (0, 1], optional
        Target coordinate-wise accuracy :math:`\varepsilon`.
    delta : float in (0, 1)
        Failure probability :math:`\delta`.
    multiple : int
        Rows per feature when ``eps`` is None.

    Returns
    -------
    int
    """
    d = check_scalar(n_features, name="n_features", lower=1, integer=True)
    delta = check_scalar(delta, name="delta", lower=0.0, upper=1.0, include_lower=False,
                         include_upper=False)
    if eps is None:
        return int(multiple * d)
    eps = check_scalar(eps, name="eps", lower=0.0, upper=1.0, include_lower=False)
    rows = 2.0 * d * math.log(2.0 * d / delta) / eps**2 if eps > 1e-150 else math.inf
    if rows > 1e15:
        raise ValueError(
            f"eps={eps!r} asks for about {rows:.3g} sketch rows; use eps >= 1e-6 (or "
            "solver='precondition' for an exact answer).")
    return int(d + math.ceil(rows))


def theory_sketch_size(n_features, n_samples, eps, delta=0.01):
    r"""The row count :math:`\varepsilon^{-2} d \log^3(n/\delta)` of Song et al. (2023).

    For documentation and comparison only: with natural logarithms it exceeds ``n``
    for every practical problem (e.g. :math:`d = 64`, :math:`\varepsilon = 0.5`,
    :math:`\delta = 0.05`, :math:`n = 10^6` gives about 1.2 million rows), and its proof
    has a gap for the SRHT (Song & Zhang, 2026).
    """
    d = check_scalar(n_features, name="n_features", lower=1, integer=True)
    n = check_scalar(n_samples, name="n_samples", lower=1, integer=True)
    eps = check_scalar(eps, name="eps", lower=0.0, include_lower=False)
    delta = check_scalar(delta, name="delta", lower=0.0, upper=1.0, include_lower=False,
                         include_upper=False)
    rows = d * math.log(n / delta) ** 3 / eps / eps if eps > 1e-150 else math.inf
    if not rows < 1e300:
        raise ValueError(f"eps={eps!r} is too small: the theory's row count overflows.")
    return max(1, int(math.ceil(rows)))

