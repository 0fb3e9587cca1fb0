"""Timing harness: warm-up excluded, median of repeats, ratios printed.

Run a benchmark module with ``python -m benchmarks.bench_NAME``. Each module builds a
list of :class:`Case` and calls :func:`report`.
"""

import time
import tracemalloc
from dataclasses import dataclass

import numpy as np


@dataclass
class Case:
    """One comparison: ``ours`` against ``peer`` on the same problem.

    ``ours`` and ``peer`` are zero-argument callables. ``check(ours_out, peer_out)``, if
    given, returns a short string (e.g. the maximum coefficient difference) shown in
    the table, so a speed-up at a different answer is visible.
    """

    name: str
    ours: object
    peer: object
    peer_name: str
    check: object = None


def time_call(fn, *, repeats=5, warmup=1, min_time=0.0):
    """Median wall time of ``fn()`` over ``repeats`` runs after ``warmup`` runs.

    Returns ``(median_seconds, last_output)``. Warm-up runs absorb numba compilation
    and first-touch costs.
    """
    out = None
    for _ in range(warmup):
        out = fn()
    times = []
    while len(times) < repeats or sum(times) < min_time:
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def peak_memory(fn):
    """Peak Python-tracked memory (bytes) allocated while running ``fn()`` once.

    numpy allocations are tracked by ``tracemalloc``; numba-allocated arrays are too
    (they come from numpy's allocator).
    """
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def report(cases, *, repeats=5, title=None):
    """Time every case and print a Markdown table with the ratio peer / ours."""
    rows = []
    for case in cases:
        t_ours, out_ours = time_call(case.ours, repeats=repeats)
        t_peer, out_peer = time_call(case.peer, repeats=repeats)
        agreement = case.check(out_ours, out_peer) if case.check else ""
        rows.append((case.name, t_ours, case.peer_name, t_peer, t_peer / t_ours, agreement))
    if title:
        print(f"\n## {title}\n")
    print("| case | statlogit (s) | peer | peer (s) | speed-up | agreement |")
    print("|---|---|---|---|---|---|")
    for name, t_ours, peer, t_peer, ratio, agreement in rows:
        print(f"| {name} | {t_ours:.4g} | {peer} | {t_peer:.4g} | {ratio:.2f}x | {agreement} |")
    return rows
