r"""Distributed and out-of-core designs: a dask array read chunk by chunk, never gathered.

Every pass of the solvers is a map over row chunks followed by a sum of small results
(:meth:`statlogit.sketching._design._CentredDesign._map`): :math:`S_iA_i` (m x d) for the
sketch, :math:`A_i^\top A_i` or :math:`(A_iR^{-1})^\top(A_iR^{-1})` (d x d) for the
Cholesky-QR factor, :math:`(\|r_i\|^2, A_i^\top r_i)` for each refinement step. Here
each chunk is a dask task run where its block lives (a dask.distributed worker when a
``Client`` is active), and only those small results travel: peak memory per worker is
O(chunk + m d). The sketch must be sparse (CountSketch, sparse sign, OSNAP), whose
columns :math:`S_i` are independent per row; ``solver="precondition"`` substitutes a
sparse-sign preconditioner for a dense-mixing sketch (the exact answer does not depend
on the sketch).
"""

import numpy as np

from statlogit.sketching._design import _CentredDesign, _on_chunk


def is_dask_array(X):
    """Whether ``X`` is a dask array (without importing dask when it is not)."""
    return type(X).__module__.startswith("dask.")


class _DaskDesign(_CentredDesign):
    """The design :math:`A` of :mod:`statlogit.sketching._design` over a dask array."""

    def __init__(self, X, mean, root=None):
        X = X.rechunk({1: -1})  # whole rows per chunk: every task sees complete rows
        super().__init__(X, mean, root)
        self._blocks = X.to_delayed().ravel()
        edges = np.concatenate([[0], np.cumsum(X.chunks[0])])
        self._rows = [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]

    def _map(self, func, *row_arrays, consts=(), centre=True):
        import dask

        mean = self.mean if (self.centred and centre) else None
        tasks = []
        for block, rows in zip(self._blocks, self._rows, strict=True):
            root = None if self.root is None else self.root[rows]
            tasks.append(dask.delayed(_on_chunk)(
                func, block, mean, root, [a[rows] for a in row_arrays], consts))
        return list(dask.compute(*tasks))

    def raw_chunks(self):
        raise ValueError("A dask design is never gathered chunk by chunk on the client.")

    def sketch(self, operator, *vectors):
        r""":math:`S(\sqrt w X) = \sum_i S_i(\sqrt w X)_i`, one task per chunk."""
        return self._centre_sketch(operator, self._chunked_sketch(operator), vectors)

    def dense(self):
        raise ValueError(
            "This dask design is numerically rank-deficient beyond what the sketch "
            "detected; drop collinear columns of X.")


def dask_moments(X, y, weights, fit_intercept):
    """Validated sizes, the (weighted) column means and ``y`` in memory, in one pass."""
    import dask
    import dask.array as da

    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional; got shape {X.shape}.")
    if np.iscomplexobj(np.empty(0, dtype=X.dtype)) or X.dtype.kind not in "biuf":
        raise ValueError(f"X must be real-valued numeric; got dtype {X.dtype}.")
    X = X.astype(np.float64)
    y = np.asarray(y.compute() if is_dask_array(y) else y, dtype=np.float64)
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape (n_samples,) or (n_samples, n_targets) with "
                         f"n_samples={X.shape[0]}; got {y.shape}.")
    if not np.all(np.isfinite(y)):
        raise ValueError("Input y contains NaN or infinity; remove or impute them.")
    w = np.ones(X.shape[0]) if weights is None else weights
    finite, sums = dask.compute(da.isfinite(X).all(),
                                (X * da.from_array(w, chunks=(X.chunks[0],))[:, None]).sum(0))
    if not finite:
        raise ValueError("Input X contains NaN or infinity; remove or impute them.")
    if not fit_intercept:
        return X, y, np.zeros(X.shape[1]), np.zeros(y.shape[1:])
    return X, y, np.asarray(sums) / w.sum(), np.asarray(w @ y / w.sum())
