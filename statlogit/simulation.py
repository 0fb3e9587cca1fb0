r"""The Monte Carlo engine: replications x parameter grid -> tidy DataFrame.

Every replication gets its own child of one ``numpy.random.SeedSequence``, so the results
are identical for any number of workers, any joblib backend and any chunking. joblib is
called with no hard-coded backend: ``joblib.parallel_config(backend="dask")`` (after
creating a ``dask.distributed.Client``) sends the replications to a cluster.

What the engine does about cost:

* the first replications run in the calling process, until they have taken
  ``PROBE_SECONDS`` or the rest is known to need more than ``min_parallel_seconds``; if
  the rest would take less than that serially, it is finished in-process too (starting
  workers would cost more than it saves);
* otherwise the remaining replications go to the workers in chunks (a few per worker),
  so each worker starts once per study and imports once;
* the code that runs a chunk is shipped to the workers by value, so a worker imports
  numpy and whatever ``func`` itself needs, not statlogit (the README's toy study runs
  in workers that never import statlogit, scikit-learn or numba).

:func:`summarize` turns the tidy frame into mean, Monte Carlo standard error and count
per grid point.
"""

import contextlib
import inspect
import itertools
import math
import numbers
import sys
import time
import types
import warnings
from collections.abc import Iterable, Mapping

import joblib
import numpy as np
import pandas as pd

__all__ = ["ReplicationError", "expand_grid", "monte_carlo", "summarize"]

#: Seconds of replications run in the calling process to measure their cost.
PROBE_SECONDS = 0.2
ON_ERROR = ("raise", "record")


class ReplicationError(RuntimeError):
    """A replication raised; the message names the grid point and the replication.

    The original exception is chained (``__cause__``, also from a worker when it can be
    pickled); its type, message and traceback are in the message.
    """


def _check_grid_dict(sub, where):
    if not isinstance(sub, Mapping):
        raise TypeError(
            f"grid{where} must be a dict mapping parameter names to sequences of values; "
            f"got {type(sub).__name__}."
        )
    for key, values in sub.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise TypeError(
                f"grid{where} keys must be parameter names of func (identifiers); got "
                f"{key!r}."
            )
        if key == "rep":
            raise ValueError(
                f"grid{where} uses the name 'rep', which is the replication column; "
                "rename the parameter."
            )
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise TypeError(
                f"grid{where}[{key!r}] must be a sequence of values; got {values!r} "
                f"(write [{values!r}] for a single value)."
            )
        if len(list(values)) == 0:
            raise ValueError(
                f"grid{where}[{key!r}] is empty, so the grid has no point; give at least "
                "one value."
            )


def expand_grid(grid):
    """All combinations of a parameter grid, as a list of dicts.

    Parameters
    ----------
    grid : dict of str to sequence, list of such dicts, or None
        As scikit-learn's ``ParameterGrid``, but keeping the order of the keys and
        values as given. ``None`` (or ``{}``) gives one empty parameter set.

    Raises
    ------
    TypeError, ValueError
        Naming the offending part of ``grid``: not a dict, a key that is not a name, a
        value that is not a sequence, an empty sequence or an empty list of grids.
    """
    if grid is None:
        return [{}]
    if isinstance(grid, Mapping):
        grid = [grid]
    elif isinstance(grid, str | bytes) or not isinstance(grid, Iterable):
        raise TypeError(
            "grid must be None, a dict of parameter name -> sequence of values, or a list "
            f"of such dicts; got {type(grid).__name__}."
        )
    grid = list(grid)
    if not grid:
        raise ValueError("grid is an empty list, so it has no point; give at least one "
                         "dict (or None for a study without parameters).")
    points = []
    for i, sub in enumerate(grid):
        where = "" if len(grid) == 1 else f"[{i}]"
        _check_grid_dict(sub, where)
        keys = list(sub)
        for values in itertools.product(*(list(sub[k]) for k in keys)):
            points.append(dict(zip(keys, values, strict=True)))
    return points


def _run_chunk(func, tasks, record):
    """Run (point, rep, params, SeedSequence) tasks; return rows.

    A row is ``(point, rep, params, metrics, error)``, ``error`` ``None`` or ``(text,
    traceback text, exception or None)``. Without ``record`` the chunk stops at its
    first failure (the caller raises). Shipped to workers by value (see
    :func:`_by_value`): it may only use builtins, the standard library and ``np``, so
    that a worker never imports statlogit for it.
    """
    import pickle
    import traceback

    rows = []
    for point, rep, params, seed in tasks:
        try:
            metrics = func(np.random.default_rng(seed), **params)
        except Exception as exc:  # noqa: BLE001 - the error policy decides
            text = f"{type(exc).__name__}: {exc}"
            if record:
                rows.append((point, rep, params, {}, (text, "", None)))
                continue
            detail = "".join(traceback.format_exception(exc)).rstrip()
            try:
                pickle.dumps(exc)
            except Exception:  # noqa: BLE001 - an unpicklable exception stays behind
                exc = None
            rows.append((point, rep, params, {}, (text, detail, exc)))
            return rows
        if not isinstance(metrics, dict):
            raise TypeError(
                "func must return a dict of metrics; got "
                f"{type(metrics).__name__} at replication {rep} of grid point {point} "
                f"{params!r}."
            )
        clash = sorted(set(metrics) & {*params, "rep", "error"})
        if clash:
            raise ValueError(
                f"func returned metrics named {clash}, which are grid parameters or the "
                "engine's 'rep'/'error' columns; rename them in func's dict."
            )
        rows.append((point, rep, params, metrics, None))
    return rows


def _raise_failure(row):
    """Raise the ReplicationError of a failed row (``on_error="raise"``)."""
    point, rep, params, _, (text, detail, exc) = row
    raise ReplicationError(
        f"replication {rep} at grid point {point} {params!r} raised {text}; pass "
        "on_error='record' to keep the other replications and record this error in "
        f"an 'error' column.\n\nOriginal traceback:\n{detail}"
    ) from exc


def _by_value(function):
    """A copy of ``function`` that cloudpickle (loky, dask) ships by value.

    cloudpickle sends a function by reference when it can find it under its module and
    name; the worker then imports that module, here ``statlogit.simulation`` and with it
    the whole package. A copy that is not the module attribute is pickled with its code
    and the globals it names (``np``, the exception class), so workers import numpy
    only.
    """
    copy = types.FunctionType(function.__code__, function.__globals__, function.__name__,
                              function.__defaults__, function.__closure__)
    copy.__qualname__ = f"{function.__qualname__}.<by value>"
    return copy


_RUN_CHUNK_BY_VALUE = _by_value(_run_chunk)


def _check_arguments(func, n_reps, seed, n_jobs, chunk_size, on_error, progress,
                     min_parallel_seconds):
    if not callable(func):
        raise TypeError(
            f"func must be a callable func(rng, **params) -> dict; got {func!r}.")
    if isinstance(n_reps, bool) or not isinstance(n_reps, numbers.Integral) or n_reps < 1:
        raise ValueError(f"n_reps must be a positive integer; got {n_reps!r}.")
    if isinstance(seed, np.random.SeedSequence):
        root = seed
    elif isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        root = np.random.SeedSequence(int(seed))
    else:
        raise TypeError(
            "seed must be a non-negative int or a numpy.random.SeedSequence (one root "
            f"for every replication's generator); got {seed!r}."
        )
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(
            n_jobs, numbers.Integral) or n_jobs == 0):
        raise ValueError(
            "n_jobs must be None, a positive int (workers) or a negative int (-1: all "
            f"cores); got {n_jobs!r}.")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(
            chunk_size, numbers.Integral) or chunk_size < 1):
        raise ValueError(
            f"chunk_size must be None or a positive int (replications per task); got "
            f"{chunk_size!r}.")
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}; got {on_error!r}.")
    if progress is not None and not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be None, True or False; got {progress!r}.")
    if (isinstance(min_parallel_seconds, bool)
            or not isinstance(min_parallel_seconds, numbers.Real)
            or not min_parallel_seconds >= 0 or math.isinf(min_parallel_seconds)):
        raise ValueError(
            "min_parallel_seconds must be a finite number >= 0 (0: always use the "
            f"workers); got {min_parallel_seconds!r}.")
    return root


def _check_signature(func, points):
    """Every grid point's parameters must fit ``func(rng, **params)``."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # some builtins and C functions have none
        return
    for keys in dict.fromkeys(tuple(point) for point in points):
        try:
            signature.bind(None, **dict.fromkeys(keys))
        except TypeError as exc:
            raise TypeError(
                f"the grid's parameters {list(keys)} do not fit func{signature} ({exc}); "
                "func is called as func(rng, **params) at every grid point: make the "
                "grid's names match func's parameters."
            ) from None


def _show_progress(progress):
    if progress is None:
        return sys.stderr.isatty()
    return bool(progress)


def monte_carlo(func, n_reps, *, grid=None, seed=0, n_jobs=None, progress=None,
                chunk_size=None, on_error="raise", min_parallel_seconds=1.0):
    """Run ``func`` for ``n_reps`` replications at every point of ``grid``.

    Parameters
    ----------
    func : callable
        ``func(rng, **params) -> dict`` of scalar metrics, where ``rng`` is a
        ``numpy.random.Generator`` private to the replication. It must be picklable
        (a module-level function, or one defined in ``__main__``) to run on several
        workers; workers import the module that defines it.
    n_reps : int
        Replications per grid point.
    grid : dict or list of dict, optional
        Parameter grid (see :func:`expand_grid`).
    seed : int or numpy.random.SeedSequence
        Root of all randomness. Replication ``r`` at grid point ``g`` uses child
        ``g * n_reps + r`` of ``SeedSequence(seed).spawn``: the same numbers whatever
        ``n_jobs``, backend or chunking.
    n_jobs : int, optional
        joblib workers (``None``: joblib's default, 1 unless a ``parallel_config``
        says otherwise; ``-1``: all cores). Not 0.
    progress : bool, optional
        Show a tqdm bar; by default only when stderr is a terminal.
    chunk_size : int, optional
        Replications per joblib task (default: about four tasks per worker), so that
        each worker starts and imports once per study.
    on_error : {"raise", "record"}, default="raise"
        What a replication that raises does. ``"raise"``: stop with a
        :class:`ReplicationError` naming the grid point and the replication (the
        original exception chained). ``"record"``: keep going; the frame gets an
        ``error`` column (``"Type: message"``, ``None`` where the replication
        succeeded; the failed rows have no metrics) and a ``RuntimeWarning`` says how
        many failed.
    min_parallel_seconds : float, default=1.0
        After measuring the first replications in this process, a remainder estimated
        to take less than this many seconds serially is run here instead of on the
        workers (which would cost more to start). ``0`` always uses the workers.

    Returns
    -------
    pandas.DataFrame
        One row per (grid point, replication), sorted, with the grid parameters, a
        ``rep`` column and one column per metric (and ``error`` with
        ``on_error="record"``).

    Raises
    ------
    TypeError, ValueError
        For a bad argument, naming it.
    ReplicationError
        With ``on_error="raise"``, when a replication raises.
    """
    root = _check_arguments(func, n_reps, seed, n_jobs, chunk_size, on_error, progress,
                            min_parallel_seconds)
    points = expand_grid(grid)
    _check_signature(func, points)
    seeds = root.spawn(len(points) * n_reps)
    tasks = [
        (g, r, params, seeds[g * n_reps + r])
        for g, params in enumerate(points)
        for r in range(n_reps)
    ]
    record = on_error == "record"
    rows = []

    def collect(new_rows):
        rows.extend(new_rows)
        if not record and new_rows and new_rows[-1][4] is not None:
            _raise_failure(new_rows[-1])
        bar.update(len(new_rows))

    with _progress_bar(len(tasks), _show_progress(progress)) as bar:
        start, done = time.perf_counter(), 0
        probe = PROBE_SECONDS if min_parallel_seconds > 0 else 0.0
        per_rep = first = 0.0
        # Stop after ``probe`` seconds, or once two replications show that the workers
        # pay. The first replication (warm-up: caches, lazy imports) is left out of the
        # estimate when there are others, so one slow start cannot send a toy study to
        # the workers.
        while done < len(tasks) and time.perf_counter() - start < probe and (
                done < 2 or per_rep * (len(tasks) - done) < min_parallel_seconds):
            collect(_run_chunk(func, tasks[done:done + 1], record))
            done += 1
            elapsed = time.perf_counter() - start
            first = elapsed if done == 1 else first
            per_rep = elapsed if done == 1 else (elapsed - first) / (done - 1)
        rest = tasks[done:]
        small = probe > 0 and per_rep * len(rest) < min_parallel_seconds
        config = (joblib.parallel_config(n_jobs=n_jobs) if n_jobs is not None
                  else contextlib.nullcontext())
        with config:
            n_workers = 1 if small or not rest else max(1, joblib.effective_n_jobs(None))
            if n_workers == 1:
                step = max(1, len(rest) // 100)  # progress updates, little overhead
                for i in range(0, len(rest), step):
                    collect(_run_chunk(func, rest[i:i + step], record))
            else:
                size = chunk_size or max(1, -(-len(rest) // (4 * n_workers)))
                chunks = [rest[i:i + size] for i in range(0, len(rest), size)]
                results = joblib.Parallel(return_as="generator_unordered")(
                    joblib.delayed(_RUN_CHUNK_BY_VALUE)(func, chunk, record)
                    for chunk in chunks)
                try:
                    for chunk_rows in results:
                        collect(chunk_rows)
                finally:
                    with warnings.catch_warnings():  # "tasks ... have been cancelled"
                        warnings.simplefilter("ignore", UserWarning)
                        results.close()
    return _frame(rows, record)


def _frame(rows, record):
    rows.sort(key=lambda row: (row[0], row[1]))
    records = []
    for _, rep, params, metrics, error in rows:
        entry = {**params, "rep": rep, **metrics}
        if record:
            entry["error"] = None if error is None else error[0]
        records.append(entry)
    frame = pd.DataFrame(records)
    if record:
        frame = frame[[c for c in frame.columns if c != "error"] + ["error"]]
        failed = int(frame["error"].notna().sum())
        if failed:
            first = frame.loc[frame["error"].notna(), "error"].iloc[0]
            warnings.warn(
                f"{failed} of {len(frame)} replications raised and are recorded in the "
                f"'error' column (first: {first}).", RuntimeWarning, stacklevel=3)
    return frame


def _progress_bar(total, show):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not show, unit="rep", leave=False)


def summarize(frame, by=None, metrics=None):
    r"""Mean, Monte Carlo standard error and count of every metric per grid point.

    For metric :math:`m` with :math:`R` finite values :math:`m_1, \dots, m_R` at a grid
    point: ``m_mean`` :math:`= \bar m`, ``m_mcse`` :math:`= s_m / \sqrt R` (``s_m`` the
    sample standard deviation, ``ddof=1``; NaN when :math:`R < 2`) and ``m_count``
    :math:`= R`. Boolean metrics are proportions. Missing values (failed replications
    recorded with ``on_error="record"``) are left out of the count.

    Parameters
    ----------
    frame : pandas.DataFrame
        As returned by :func:`monte_carlo`.
    by : str or list of str, optional
        Grouping columns; default: the grid parameters (the columns before ``rep``).
    metrics : list of str, optional
        Columns to summarise; default: every numeric or boolean column after ``rep``
        (not ``error``).

    Returns
    -------
    pandas.DataFrame
        One row per grid point (in the frame's order), the ``by`` columns, then
        ``<metric>_mean``, ``<metric>_mcse``, ``<metric>_count`` per metric.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame; got {type(frame).__name__}.")
    columns = list(frame.columns)
    after = columns[columns.index("rep") + 1:] if "rep" in columns else columns
    if by is None:
        by = columns[:columns.index("rep")] if "rep" in columns else []
    by = [by] if isinstance(by, str) else list(by)
    if metrics is None:
        metrics = [c for c in after if c not in by and c != "error" and (
            pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(
                frame[c]))]
    missing = [c for c in [*by, *metrics] if c not in frame.columns]
    if missing:
        raise ValueError(f"summarize: columns {missing} are not in frame; it has "
                         f"{columns}.")
    values = frame[metrics].astype(float)
    groups = values.groupby([frame[c] for c in by], sort=False, dropna=False) if by \
        else values.groupby(np.zeros(len(frame)), sort=False)
    mean, sd, count = groups.mean(), groups.std(ddof=1), groups.count()
    columns = {}
    for m in metrics:
        columns[f"{m}_mean"] = mean[m]
        columns[f"{m}_mcse"] = sd[m] / np.sqrt(count[m])
        columns[f"{m}_count"] = count[m].astype(int)
    return pd.DataFrame(columns, index=mean.index).reset_index(drop=not by)
