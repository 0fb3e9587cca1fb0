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

import os

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

    def _map(self, func, *row_arrays, consts=(), centre=True, rows_per_chunk=None):
        """The per-chunk tasks, computed in waves of one chunk per worker thread.

        Each task reads its block and returns a small result; a wave is finished (its
        blocks released) before the next starts, so a worker never holds more than the
        blocks of one wave, whatever order the scheduler prefers. The chunks are the
        array's own (``rows_per_chunk`` is ignored).
        """
        import dask

        mean = self.mean if (self.centred and centre) else None
        tasks = []
        for block, rows in zip(self._blocks, self._rows, strict=True):
            root = None if self.root is None else self.root[rows]
            tasks.append(dask.delayed(_on_chunk)(
                func, block, mean, root, [a[rows] for a in row_arrays], consts))
        wave = _wave_size()
        out = []
        for start in range(0, len(tasks), wave):
            out.extend(dask.compute(*tasks[start:start + wave]))
        return out

    def raw_chunks(self):
        raise ValueError("A dask design is never gathered chunk by chunk on the client.")

    def sketch(self, operator, *vectors):
        r""":math:`S(\sqrt w X) = \sum_i S_i(\sqrt w X)_i`, one task per chunk."""
        return self._centre_sketch(operator, self._chunked_sketch(operator), vectors)

    def dense(self):
        raise ValueError(
            "This dask design is numerically rank-deficient beyond what the sketch "
            "detected; drop collinear columns of X.")


def _wave_size():
    """Worker threads of the active dask.distributed client, else the local cores."""
    try:
        from distributed import default_client

        return max(1, sum(default_client().nthreads().values()))
    except (ImportError, ValueError):
        return os.cpu_count() or 1


def dask_moments(X, y, weights, fit_intercept):
    """Validated sizes, the (weighted) column means and ``y`` in memory, in one pass."""
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
    parts = _DaskDesign(X, np.zeros(X.shape[1]))._map(_chunk_moments, w, centre=False)
    if not all(part[0] for part in parts):
        raise ValueError("Input X contains NaN or infinity; remove or impute them.")
    if not fit_intercept:
        return X, y, np.zeros(X.shape[1]), np.zeros(y.shape[1:])
    sums = np.sum([part[1] for part in parts], axis=0)
    return X, y, sums / w.sum(), np.asarray(w @ y / w.sum())


def _chunk_moments(raw, root, w):
    return bool(np.all(np.isfinite(raw))), w @ raw


class WorkerChunkMonitor:
    """Largest number of chunk-sized values each dask.distributed worker held at once.

    A context manager: on entry it registers a worker plugin on every worker of
    ``client`` that, after every task transition into or out of memory, counts the
    values in the worker's memory of at least ``min_bytes`` bytes (``dask.sizeof``),
    and keeps the maximum. :meth:`max_held` reads the maxima; on exit the plugin is
    removed. It observes what the workers actually store (inputs fetched from other
    workers included), so a test can check that a fit streams its chunks.

    Parameters
    ----------
    client : distributed.Client
    min_bytes : int
        Values at least this large count as chunks (e.g. half a chunk's size).

    Examples
    --------
    >>> with WorkerChunkMonitor(client, min_bytes=X.nbytes // X.numblocks[0] // 2) as m:
    ...     SketchedLinearRegression().fit(X, y)                  # doctest: +SKIP
    >>> max(m.max_held().values()) <= 2                            # doctest: +SKIP
    """

    def __init__(self, client, min_bytes):
        self.client = client
        self.min_bytes = int(min_bytes)
        self.name = f"statlogit-chunk-monitor-{id(self)}"

    def __enter__(self):
        self.client.register_plugin(_chunk_counter(self.min_bytes), name=self.name)
        return self

    def max_held(self):
        """``{worker address: largest number of chunk-sized values held at once}``."""
        name = self.name
        return self.client.run(lambda dask_worker: dask_worker.plugins[name].max_held)

    def __exit__(self, *exc):
        self.client.unregister_worker_plugin(self.name)
        return False


def _chunk_counter(min_bytes):
    """A ``distributed.WorkerPlugin`` counting chunk-sized values in worker memory."""
    from dask.sizeof import sizeof
    from distributed import WorkerPlugin

    class _ChunkCounter(WorkerPlugin):
        def setup(self, worker):
            self.worker = worker
            self.max_held = 0

        def transition(self, key, start, finish, **kwargs):
            if "memory" not in (start, finish):
                return
            data = self.worker.data
            held = sum(1 for k in list(data.keys()) if sizeof(data[k]) >= min_bytes)
            self.max_held = max(self.max_held, held)

    return _ChunkCounter()
