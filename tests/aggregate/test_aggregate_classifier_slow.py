"""Monte Carlo consistency of the exact-likelihood AggregateClassifier (slow)."""

import numpy as np
import pytest

from statlogit import AggregateClassifier

pytestmark = pytest.mark.slow

THETA = np.array([-0.5, 1.0, -1.0])  # intercept, slopes


def replicate(rng, n_bags, k=5):
    n = n_bags * k
    X = rng.standard_normal((n, 2))
    y = (rng.random(n) < 1 / (1 + np.exp(-(THETA[0] + X @ THETA[1:])))).astype(int)
    model = AggregateClassifier(loss="exact", C=np.inf).fit(X, y, bags=np.arange(n) // k)
    return model._params(), model.std_errors_


def test_exact_loss_is_consistent_with_calibrated_standard_errors():
    rng = np.random.default_rng(2026)
    reps = 150
    bias, calibration = {}, {}
    for n_bags in (60, 480):
        draws = [replicate(rng, n_bags) for _ in range(reps)]
        estimates = np.array([d[0] for d in draws])
        errors = np.array([d[1] for d in draws])
        bias[n_bags] = np.abs(estimates.mean(axis=0) - THETA)
        sd = estimates.std(axis=0, ddof=1)
        calibration[n_bags] = np.median(errors, axis=0) / sd
        mc_se = sd / np.sqrt(reps)
        if n_bags == 480:
            assert np.all(bias[n_bags] < 3 * mc_se + 0.01), (bias, mc_se)
    assert np.sum(bias[480]) < np.sum(bias[60])
    assert np.all(np.abs(calibration[480] - 1.0) < 0.25), calibration
