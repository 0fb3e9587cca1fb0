"""Monte Carlo checks of aISCV over repetitions (slow: run with -m slow)."""

import numpy as np
import pytest
from scipy import stats
from test_expectations import (
    MOMENT_TRUTH,
    MU,
    SIGMA,
    exponential_truth,
    exponentials,
    moments,
)

from statlogit import MultipleExpectations

pytestmark = pytest.mark.slow


def _repeat(n_reps, budget, func, law, truth, **options):
    seeds = np.random.SeedSequence(2024).spawn(n_reps)
    fits = [MultipleExpectations(budget=budget, random_state=np.random.default_rng(s),
                                 **options).fit(func, law) for s in seeds]
    estimates = np.array([f.estimates_ for f in fits]) / truth
    std_errors = np.array([f.std_errors_ for f in fits]) / truth
    return estimates, std_errors


def _check(estimates, std_errors):
    spread = estimates.std(axis=0, ddof=1)
    reported = np.sqrt(np.mean(std_errors**2, axis=0))
    # reported standard errors agree with the spread over repetitions within 25 %
    np.testing.assert_array_less(np.abs(reported / spread - 1), 0.25)
    # unbiased: the mean over repetitions is within 3 standard errors of the truth
    mean_se = spread / np.sqrt(estimates.shape[0])
    np.testing.assert_array_less(np.abs(estimates.mean(axis=0) - 1), 3 * mean_se)
    # each run within 4 of its own standard errors (allow 1 % heavy-tail exceptions)
    assert np.mean(np.abs(estimates - 1) > 4 * std_errors) <= 0.01


def test_gaussian_moments_over_repetitions():
    estimates, std_errors = _repeat(100, 20_000, moments, stats.norm(), MOMENT_TRUTH,
                                    weights=1 / MOMENT_TRUTH**2)
    _check(estimates, std_errors)
    assert np.all(estimates.std(axis=0) < 0.025)  # paper: at most 1.89 % for j <= 10


def test_closed_form_d3_over_repetitions():
    estimates, std_errors = _repeat(150, 5000, exponentials,
                                    stats.multivariate_normal(MU, SIGMA),
                                    exponential_truth())
    _check(estimates, std_errors)


def test_unbiased_with_defensive_mixture_and_split_integrand():
    def signed(X):
        return np.column_stack([X[:, 0] ** 3, np.exp(X[:, 1])])

    truth = np.array([MU[0] ** 3 + 3 * MU[0] * SIGMA[0, 0],
                      np.exp(MU[1] + SIGMA[1, 1] / 2)])
    estimates, std_errors = _repeat(150, 4000, signed,
                                    stats.multivariate_normal(MU, SIGMA), truth,
                                    defensive=0.1)
    _check(estimates, std_errors)
