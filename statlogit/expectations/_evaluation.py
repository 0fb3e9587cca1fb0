"""Evaluating the user's function: in batches through joblib, with its output checked.

``func`` is where the time goes in real uncertainty quantification (an expensive
simulator), so its rows are cut into batches that joblib may send to workers; with no
hard-coded backend, ``joblib.parallel_config(backend="dask")`` runs them on a
dask.distributed cluster. The batches are fixed by the rows, not by the workers, and
reassembled in order, so the values (and every estimate) are identical for any
``n_jobs`` and backend.
"""

import contextlib
import numbers
import sys

import joblib
import numpy as np

from statlogit._validation import check_scalar


def check_n_jobs(n_jobs):
    """None, or a non-zero integer (joblib's convention; -1 = all cores)."""
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be None or a non-zero integer (-1: all cores); got "
                         f"{n_jobs!r}.")
    return int(n_jobs)


def check_batch_size(batch_size):
    if batch_size is None:
        return None
    return check_scalar(batch_size, name="batch_size", lower=1, integer=True)


def _call(func, X):
    return func(X)


class Evaluator:
    """Calls ``func`` on the rows of X, in batches, and checks what comes back.

    Parameters
    ----------
    func : callable
        (n, d) array -> (n,) or (n, k) numbers (an array, a pandas Series or
        DataFrame; a DataFrame's columns name the outputs).
    n_jobs : int or None
        joblib workers (None: joblib's default, 1 unless a ``parallel_config`` says
        otherwise).
    batch_size : int or None
        Rows per call of ``func`` (None: one call per evaluation when serial, about
        four batches per worker otherwise).
    name : str
        How the function is called in error messages.
    """

    def __init__(self, func, n_jobs=None, batch_size=None, name="func"):
        if not callable(func):
            raise TypeError(f"{name} must be callable; got {type(func).__name__}.")
        self.func = func
        self.n_jobs = check_n_jobs(n_jobs)
        self.batch_size = check_batch_size(batch_size)
        self.name = name
        self.output_names = None
        self.n_outputs = None

    def __call__(self, X, on_error=None):
        """Values of shape (n, k), float64, C-ordered, checked finite and real.

        ``on_error(exc)`` may translate an exception raised inside ``func`` (it
        returns an exception to raise instead, or None to re-raise).
        """
        n = X.shape[0]
        try:
            outputs = self._run(X)
        except Exception as exc:  # the user's own error, maybe with a hint added
            better = on_error(exc) if on_error is not None else None
            if better is None:
                raise
            raise better from exc
        values = np.concatenate([self._as_values(out, X, stop - start)
                                 for out, (start, stop) in outputs], axis=0) \
            if len(outputs) > 1 else self._as_values(outputs[0][0], X, n)
        return values

    def _batches(self, n, n_workers):
        size = self.batch_size
        if size is None:
            size = n if n_workers == 1 else max(1, -(-n // (4 * n_workers)))
        return [(start, min(n, start + size)) for start in range(0, n, size)] or [(0, 0)]

    def _run(self, X):
        if self.n_jobs == 1:  # in this process, whatever joblib's configuration says
            bounds = self._batches(X.shape[0], 1)
            return [(self.func(X[start:stop]), (start, stop)) for start, stop in bounds]
        config = (joblib.parallel_config(n_jobs=self.n_jobs) if self.n_jobs
                  else contextlib.nullcontext())
        with config:
            parallel = joblib.Parallel(return_as="generator")
            n_workers = max(1, joblib.effective_n_jobs(parallel.n_jobs))
            bounds = self._batches(X.shape[0], n_workers)
            if len(bounds) == 1:
                return [(self.func(X), bounds[0])]
            if n_workers == 1:
                results = (self.func(X[start:stop]) for start, stop in bounds)
            else:
                results = parallel(joblib.delayed(_call)(self.func, X[start:stop])
                                   for start, stop in bounds)
            outputs = []
            with _progress(len(bounds)) as bar:
                for out in results:
                    outputs.append(out)
                    bar.update(1)
        return list(zip(outputs, bounds, strict=True))

    def _as_values(self, out, X, n):
        names = None
        if hasattr(out, "columns"):  # a DataFrame: its columns name the outputs
            names = [str(c) for c in out.columns]
        values = np.asarray(out)
        if values.dtype == object or values.dtype.kind in "SUMmV":
            raise TypeError(f"{self.name} must return numbers; got an array of dtype "
                            f"{values.dtype}.")
        if np.iscomplexobj(values):
            raise ValueError(f"{self.name} returned complex values; it must return real "
                             "numbers (take .real or abs() of the output if that is "
                             "what you mean).")
        if values.ndim == 1 and values.shape[0] == n:
            values = values[:, None]
        if values.ndim != 2 or values.shape[0] != n or values.shape[1] == 0:
            raise ValueError(
                f"{self.name} must map an ({n}, {X.shape[1]}) array to an ({n},) or "
                f"({n}, k) array with k >= 1; got shape {values.shape}."
            )
        values = np.array(values, dtype=np.float64, order="C")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{self.name} returned NaN or infinite values; it must be "
                             "finite everywhere the sampler can reach.")
        k = values.shape[1]
        if self.n_outputs is None:
            self.n_outputs, self.output_names = k, names
        elif k != self.n_outputs:
            raise ValueError(f"{self.name} returned {k} outputs after {self.n_outputs}.")
        return values


def _progress(total):
    """A tqdm bar over batches, shown only on a terminal."""
    from tqdm.auto import tqdm

    show = total > 1 and sys.stderr.isatty()
    return tqdm(total=total, disable=not show, unit="batch", leave=False)
