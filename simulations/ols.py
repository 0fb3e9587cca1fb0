"""Example study: coverage of OLS confidence intervals (exercises the whole pipeline)."""

import numpy as np
import statsmodels.api as sm

from simulations._registry import StudyResult, study
from statlogit.simulation import monte_carlo


def _one_replication(rng, n, errors):
    x = rng.uniform(-1.0, 1.0, size=n)
    noise = {
        "normal": rng.standard_normal(n),
        "t3": rng.standard_t(3, size=n) / np.sqrt(3.0),
        "heteroskedastic": rng.standard_normal(n) * (0.2 + 2.0 * np.abs(x)),
    }[errors]
    y = 1.0 + 2.0 * x + noise
    design = sm.add_constant(x)
    covered = {}
    for cov_type in ("nonrobust", "HC3"):
        low, high = sm.OLS(y, design).fit(cov_type=cov_type).conf_int(0.05)[1]
        covered[f"covered_{cov_type}"] = float(low <= 2.0 <= high)
    return covered


@study("ols-coverage", reps=2000, quick_reps=200)
def run(reps, *, n_jobs=None, seed=0, quick=False):
    """Coverage of 95% OLS slope intervals, classical vs HC3 (pipeline example)."""
    grid = {"n": [20, 100] if quick else [20, 50, 200],
            "errors": ["normal", "t3", "heteroskedastic"]}
    raw = monte_carlo(_one_replication, reps, grid=grid, seed=seed, n_jobs=n_jobs)
    table = raw.groupby(["errors", "n"], sort=False)[
        ["covered_nonrobust", "covered_HC3"]].mean().reset_index()
    table["nominal"] = 0.95
    table["mc_se"] = np.sqrt(0.95 * 0.05 / reps)
    return StudyResult(raw=raw, table=table, figure=_figure(table),
                       notes="Classical intervals under-cover with heteroskedastic "
                             "errors; HC3 restores nominal coverage as n grows.")


def _figure(table):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
    for errors, part in table.groupby("errors", sort=False):
        ax.plot(part["n"], part["covered_nonrobust"], "o-", label=f"{errors}, classical")
        ax.plot(part["n"], part["covered_HC3"], "s--", label=f"{errors}, HC3")
    ax.axhline(0.95, color="k", lw=0.8)
    ax.set(xscale="log", xlabel="n", ylabel="coverage of 95% interval")
    ax.legend(fontsize=7)
    return fig
