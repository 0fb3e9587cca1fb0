"""The whole rho path of AggregateRegressor against one OLS fit (numpy lstsq).

Acceptance target: the full path (101 values of rho, one eigendecomposition) at
n = 10^6, d = 100 costs at most about 2x one ``numpy.linalg.lstsq`` on the same data.
Run with ``python -m benchmarks.bench_aggregate``.
"""

import numpy as np

from benchmarks._harness import Case, report
from statlogit import AggregateRegressor, aggregate_rho_path
from statlogit.datasets import make_random_bags

RHOS = np.linspace(0.0, 1.0, 101)


def problem(n, d, k, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    bags = make_random_bags(n, k, random_state=rng)
    y_bag = np.bincount(bags, weights=y) / np.bincount(bags)
    return X, y_bag, bags


def ols_on_broadcast(X, y_bag, bags):
    return np.linalg.lstsq(X, y_bag[bags], rcond=None)[0]


def cases():
    out = []
    for n, d, k in [(100_000, 50, 5), (1_000_000, 100, 5)]:
        X, y_bag, bags = problem(n, d, k)
        out.append(Case(
            name=f"rho path ({RHOS.size} rhos) n={n:.0e} d={d} k={k}",
            ours=lambda X=X, y=y_bag, b=bags: aggregate_rho_path(
                X, y, b, RHOS, fit_intercept=False)[0],
            peer=lambda X=X, y=y_bag, b=bags: ols_on_broadcast(X, y, b),
            peer_name="numpy lstsq (one OLS)",
            check=lambda path, ols: f"max|path(rho=1) - ols|={np.max(np.abs(path[-1] - ols)):.1e}",
        ))
        out.append(Case(
            name=f"one AggregateRegressor fit (intercept) n={n:.0e} d={d}",
            ours=lambda X=X, y=y_bag, b=bags: AggregateRegressor(rho=1.0).fit(
                X, y, bags=b).coef_,
            peer=lambda X=X, y=y_bag, b=bags: ols_on_broadcast(X, y, b),
            peer_name="numpy lstsq (one OLS, no intercept)",
        ))
    return out


if __name__ == "__main__":
    report(cases(), repeats=3, title="Aggregate rho path vs one OLS fit")
