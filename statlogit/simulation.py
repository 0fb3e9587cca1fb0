"""The Monte Carlo engine: replications x parameter grid -> tidy DataFrame.

Every replication gets its own child of one ``numpy.random.SeedSequence``, so the results
are identical for any number of workers, any joblib backend and any chunking. joblib is
called with no hard-coded backend: ``joblib.parallel_config(backend="dask")`` (after
creating a ``dask.distributed.Client``) sends the replications to a cluster.
"""

import contextlib
import itertools
import numbers
import sys

import joblib
import numpy as np
import pandas as pd

__all__ = ["monte_carlo", "expand_grid"]


def expand_grid(grid):
    """All combinations of a parameter grid, as a list of dicts.

    Parameters
    ----------
    grid : dict of str to sequence, list of such dicts, or None
        As scikit-learn's ``ParameterGrid``, but keeping the order of the keys and
        values as given. ``None`` gives one empty parameter set.
    """
    if grid is None:
        return [{}]
    if isinstance(grid, dict):
        grid = [grid]
    points = []
    for sub in grid:
        keys = list(sub)
        for values in itertools.product(*(list(sub[k]) for k in keys)):
            points.append(dict(zip(keys, values, strict=True)))
    return points


def _run_chunk(func, tasks):
    """Run a list of (point index, rep, params, SeedSequence) tasks in one worker."""
    rows = []
    for point, rep, params, seed in tasks:
        metrics = func(np.random.default_rng(seed), **params)
        if not isinstance(metrics, dict):
            raise TypeError(
                f"func must return a dict of metrics; got {type(metrics).__name__}."
            )
        rows.append((point, rep, params, metrics))
    return rows


def _show_progress(progress):
    if progress is None:
        return sys.stderr.isatty()
    return bool(progress)


def monte_carlo(func, n_reps, *, grid=None, seed=0, n_jobs=None, progress=None,
                chunk_size=None):
    """Run ``func`` for ``n_reps`` replications at every point of ``grid``.

    Parameters
    ----------
    func : callable
        ``func(rng, **params) -> dict`` of scalar metrics, where ``rng`` is a
        ``numpy.random.Generator`` private to the replication. It must be picklable
        (a module-level function) to run on several workers.
    n_reps : int
        Replications per grid point.
    grid : dict or list of dict, optional
        Parameter grid (see :func:`expand_grid`).
    seed : int or numpy.random.SeedSequence
        Root of all randomness. Replication ``r`` at grid point ``g`` uses child
        ``g * n_reps + r`` of ``SeedSequence(seed).spawn``: the same numbers whatever
        ``n_jobs`` or backend.
    n_jobs : int, optional
        joblib workers (``None``: joblib's default, 1 unless a ``parallel_config``
        says otherwise; ``-1``: all cores).
    progress : bool, optional
        Show a tqdm bar; by default only when stderr is a terminal.
    chunk_size : int, optional
        Replications per joblib task (default: about four tasks per worker), so that
        each worker imports and compiles once.

    Returns
    -------
    pandas.DataFrame
        One row per (grid point, replication), sorted, with the grid parameters, a
        ``rep`` column and one column per metric.
    """
    if not isinstance(n_reps, numbers.Integral) or n_reps < 1:
        raise ValueError(f"n_reps must be a positive integer; got {n_reps!r}.")
    points = expand_grid(grid)
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    seeds = root.spawn(len(points) * n_reps)
    tasks = [
        (g, r, params, seeds[g * n_reps + r])
        for g, params in enumerate(points)
        for r in range(n_reps)
    ]
    config = joblib.parallel_config(n_jobs=n_jobs) if n_jobs else contextlib.nullcontext()
    with config:
        parallel = joblib.Parallel(return_as="generator_unordered")
        n_workers = max(1, joblib.effective_n_jobs(parallel.n_jobs))
        size = chunk_size or max(1, -(-len(tasks) // (4 * n_workers)))
        chunks = [tasks[i:i + size] for i in range(0, len(tasks), size)]
        results = parallel(joblib.delayed(_run_chunk)(func, c) for c in chunks)
        rows = []
        with _progress_bar(len(tasks), _show_progress(progress)) as bar:
            for chunk_rows in results:
                rows.extend(chunk_rows)
                bar.update(len(chunk_rows))
    rows.sort(key=lambda row: (row[0], row[1]))
    return pd.DataFrame([{**params, "rep": rep, **metrics}
                         for _, rep, params, metrics in rows])


def _progress_bar(total, show):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not show, unit="rep", leave=False)
