"""The Monte Carlo engine's overhead: serial vs ``n_jobs=2`` vs a dask LocalCluster.

Run with ``python -m benchmarks.bench_simulation`` (the replication functions are then
defined in ``__main__``, as in the README's example, and are shipped to the workers by
value). Three studies:

* the README's toy study: 1000 replications x 2 grid points of a mean of 10 or 100
  normal draws (microseconds each);
* "50 ms CPU": replications doing a fixed amount of numpy work that takes about 50 ms on
  one core now (calibrated at start; the speed-up is bounded by the free cores);
* "50 ms wait": replications that hold for 50 ms of wall time without using the CPU (so
  the speed-up measures the engine's own overhead, whatever the machine's load).

Columns: wall seconds of ``monte_carlo`` (median of ``REPEATS`` runs, warm workers; the
workers' start-up is timed apart, once) and the speed-up over serial. The dask cluster
(2 worker processes, 1 thread each) is started before the timing; its start-up is
printed. The machine's load average is printed before and after: this is a shared 2-core
machine (processes of one login session share one scheduler group), so the CPU-bound
ratios depend on what else is running.
"""

import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

from statlogit.simulation import monte_carlo

REPEATS = 5
SLOW_REPS = 40


def toy(rng, n):
    x = rng.standard_normal(n)
    return {"covered": abs(x.mean()) < 1.96 / np.sqrt(n)}


def cpu_50ms(rng, rounds):
    a = rng.standard_normal((120, 120))
    for _ in range(rounds):
        a = np.cos(a @ a.T / 120.0)  # entries stay O(1): no denormals
    return {"trace": float(np.trace(a))}


def wait_50ms(rng):
    time.sleep(0.05)
    return {"u": float(rng.random())}


def calibrate_rounds(target=0.05):
    """Rounds of ``cpu_50ms`` that take ``target`` seconds here and now."""
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    cpu_50ms(rng, 20)
    per_round = (time.perf_counter() - start) / 20
    return max(1, round(target / per_round))


def median_time(fn, repeats=REPEATS):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def studies(rounds):
    return {
        "README toy (1000 reps x 2)": lambda **kw: monte_carlo(
            toy, 1000, grid={"n": [10, 100]}, seed=0, **kw),
        f"50 ms CPU ({SLOW_REPS} reps)": lambda **kw: monte_carlo(
            cpu_50ms, SLOW_REPS, grid={"rounds": [rounds]}, seed=0, **kw),
        f"50 ms wait ({SLOW_REPS} reps)": lambda **kw: monte_carlo(
            wait_50ms, SLOW_REPS, seed=0, **kw),
    }


def main():
    import joblib

    print(f"load average before: {os.getloadavg()}, cores: {os.cpu_count()}")
    rounds = calibrate_rounds()
    start = time.perf_counter()
    monte_carlo(wait_50ms, 4, seed=0, n_jobs=2, min_parallel_seconds=0)
    cold = time.perf_counter() - start
    rows = []
    for name, run in studies(rounds).items():
        serial, reference = median_time(lambda run=run: run())
        two, frame = median_time(lambda run=run: run(n_jobs=2))
        assert frame.equals(reference), "n_jobs=2 changed the results"
        rows.append([name, serial, two])
    from dask.distributed import Client, LocalCluster

    start = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster):
        started = time.perf_counter() - start
        with joblib.parallel_config(backend="dask"):
            for row, run in zip(rows, studies(rounds).values(), strict=True):
                on_dask, frame = median_time(run)
                assert frame.equals(run()), "dask changed the results"
                row.append(on_dask)
    print(f"\nworkers' first study (2 loky processes start, 4 x 50 ms): {cold:.2f} s; "
          f"dask LocalCluster (2 processes) started in {started:.2f} s; cpu_50ms "
          f"calibrated to {rounds} rounds\n")
    print("| study | serial (s) | n_jobs=2 (s) | speed-up | dask (s) | speed-up |")
    print("|---|---|---|---|---|---|")
    for name, serial, two, on_dask in rows:
        print(f"| {name} | {serial:.3f} | {two:.3f} | {serial / two:.2f}x | "
              f"{on_dask:.3f} | {serial / on_dask:.2f}x |")
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    with threadpool_limits(limits=1):
        main()
