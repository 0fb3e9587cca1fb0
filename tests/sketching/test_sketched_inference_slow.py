"""Monte Carlo calibration of the sketch-and-solve standard errors (issue 18); -m slow."""

import warnings

import numpy as np
import pytest

from statlogit import SketchedLinearRegression

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC1"])
def test_sketch_and_solve_intervals_cover_at_the_nominal_level(cov_type):
    """1,000 draws of noise *and* sketch: 95 % intervals cover 0.95 +- 0.02.

    n = 4096, m = 200: the sketch's error dominates (n/m ~ 20), so intervals that
    ignored it (the full-data OLS ones) would cover far less. HC1 on heteroskedastic
    noise.
    """
    rng = np.random.default_rng(0)
    n, d = 4096, 3
    X = rng.standard_normal((n, d))
    X[:, 1] += 0.5 * X[:, 0]
    truth = np.array([1.0, 1.0, -2.0, 0.5])
    spread = 1 + 0.5 * np.abs(X[:, 0]) if cov_type == "HC1" else np.ones(n)
    hits = []
    for draw in range(1000):
        y = truth[0] + X @ truth[1:] + spread * rng.standard_normal(n)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            model = SketchedLinearRegression(solver="sketch-and-solve", sketch_size=200,
                                             cov_type=cov_type, random_state=draw)
            intervals = model.fit(X, y).conf_int(alpha=0.05).to_numpy()
        hits.append((intervals[:, 0] <= truth) & (truth <= intervals[:, 1]))
    coverage = np.mean(hits, axis=0)
    assert np.all(np.abs(coverage - 0.95) <= 0.02), coverage
