"""Sobol' indices at equal model evaluations, and the parallel model runs.

Part 1, accuracy at equal cost: the summed variance (over seeded repetitions) of the
first- and total-order estimates of statlogit's three methods against SALib's
Saltelli/Jansen estimators (``SALib.sample.sobol`` + ``SALib.analyze.sobol``, scrambled
Sobol' points) and ``scipy.stats.sobol_indices`` (scrambled Sobol' points, Saltelli
2010 / Jansen), on Ishigami (a = 7, b = 0.1) and the Sobol' G function (d = 8,
a = (0, 1, 4.5, 9, 99, 99, 99, 99)), at 2^k (d + 2) ~ 10^4 model evaluations each. The
bias against the analytic values is printed too. Both peers use quasi-Monte Carlo
points; statlogit's "pick-freeze" and "saltelli" are plain Monte Carlo, or with
``sampling="rqmc"`` 16 independently scrambled Sobol' replicates of 1/16 of the points
(standard errors from the replicates' spread; the peers' single scrambled sequence is
more accurate but gives no error estimate of its own), and "iscv" is adaptive
importance sampling (Monte Carlo).

Part 2, parallel model runs: a model that sleeps 10 ms per call, evaluated in batches
by ``sobol_indices(n_jobs=...)``; wall time of 2 workers over serial (goal <= 0.6).

Run with ``python -m benchmarks.bench_sobol``; SALib must be installed.
"""

import time

import numpy as np
from scipy import stats
from threadpoolctl import threadpool_limits

from statlogit import sobol_indices
from statlogit.datasets import ishigami, ishigami_indices, sobol_g, sobol_g_indices


def g_truth():
    return sobol_g_indices()[:2]


def ishigami_truth():
    return ishigami_indices()[:2]


CASES = {
    "Ishigami": (ishigami, [stats.uniform(-np.pi, 2 * np.pi)] * 3, ishigami_truth(),
                 2048),
    "G (d=8)": (sobol_g, [stats.uniform()] * 8, g_truth(), 1024),
}


def _statlogit(method, **kwargs):
    def run(model, marginals, n, seed):
        res = sobol_indices(model, marginals, n, method=method, random_state=seed,
                            **kwargs)
        return res.first_order.to_numpy(), res.total_order.to_numpy()
    return run


def _salib(model, marginals, n, seed):
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    d = len(marginals)
    lows = [m.ppf(0.0) for m in marginals]
    highs = [m.ppf(1.0) for m in marginals]
    problem = {"num_vars": d, "names": [f"x{r}" for r in range(d)],
               "bounds": [[lo, hi] for lo, hi in zip(lows, highs, strict=True)]}
    X = sample.sample(problem, n, calc_second_order=False, seed=seed)
    Si = analyze.analyze(problem, model(X), calc_second_order=False, num_resamples=2,
                         seed=seed)
    return np.asarray(Si["S1"]), np.asarray(Si["ST"])


def _scipy(model, marginals, n, seed):
    res = stats.sobol_indices(func=lambda x: model(x.T), n=n, dists=marginals,
                              rng=np.random.default_rng(seed))
    return res.first_order, res.total_order


PEERS = {"statlogit iscv": _statlogit("iscv"),
         "statlogit saltelli (MC)": _statlogit("saltelli"),
         "statlogit pick-freeze (MC)": _statlogit("pick-freeze"),
         "statlogit saltelli (RQMC x16)": _statlogit("saltelli", sampling="rqmc"),
         "statlogit pick-freeze (RQMC x16)": _statlogit("pick-freeze", sampling="rqmc"),
         "SALib Saltelli/Jansen (QMC)": _salib,
         "scipy sobol_indices (QMC)": _scipy}


def accuracy_table(n_reps=50):
    rows = []
    for case, (model, marginals, (first, total), n) in CASES.items():
        d = len(marginals)
        for name, run in PEERS.items():
            start = time.perf_counter()
            out = [run(model, marginals, n, seed) for seed in range(n_reps)]
            seconds = (time.perf_counter() - start) / n_reps
            s1, st = (np.array([o[k] for o in out]) for k in (0, 1))
            var = float(np.sum(s1.var(axis=0, ddof=1)) + np.sum(st.var(axis=0, ddof=1)))
            bias = float(np.max(np.abs(np.r_[s1.mean(0) - first, st.mean(0) - total])))
            rows.append((case, name, n * (d + 2), var, bias, seconds))
    return rows


def _sleepy(X):
    time.sleep(0.01)
    return ishigami(X)


def parallel_table(budget=1024, batch_size=32):
    """Serial vs 2 workers on a model sleeping 10 ms per call (batches of 32 rows, 160
    calls)."""
    marginals = [stats.uniform(-np.pi, 2 * np.pi)] * 3
    out = {}
    for n_jobs in (1, 2):
        sobol_indices(_sleepy, marginals, 64, method="saltelli", n_jobs=n_jobs,
                      batch_size=batch_size, random_state=0)  # warm the workers
        start = time.perf_counter()
        res = sobol_indices(_sleepy, marginals, budget, method="saltelli", n_jobs=n_jobs,
                            batch_size=batch_size, random_state=0)
        out[n_jobs] = (time.perf_counter() - start, res.table_["estimate"].to_numpy())
    identical = np.array_equal(out[1][1], out[2][1])
    return out[1][0], out[2][0], identical, budget * 5 // batch_size


def main():
    with threadpool_limits(1):
        rows = accuracy_table()
        print(f"{'case':10s} {'method':33s} {'evals':>6s} {'sum var S1+ST':>14s} "
              f"{'max|bias|':>10s} {'s/run':>7s} {'ratio to best peer':>18s}")
        for case in CASES:
            case_rows = [r for r in rows if r[0] == case]
            best_peer = min(r[3] for r in case_rows if not r[1].startswith("statlogit"))
            for _, name, evals, var, bias, seconds in case_rows:
                print(f"{case:10s} {name:33s} {evals:6d} {var:14.3e} {bias:10.2e} "
                      f"{seconds:7.3f} {var / best_peer:18.2f}")
        serial, two, identical, calls = parallel_table()
        print(f"\nsleeping model (10 ms per call, {calls} calls): serial {serial:.2f} s, "
              f"2 workers {two:.2f} s, ratio {two / serial:.2f} (goal <= 0.6); "
              f"estimates identical: {identical}")


if __name__ == "__main__":
    main()
