"""Monte Carlo checks of the asymptotic theory (slow: run with ``-m slow``)."""

import numpy as np
import pytest

from statlogit import (
    AggregateRegressor,
    aggregate_risk,
    laplace_bag_mechanism,
    optimal_rho,
    private_aggregate_risk,
)
from statlogit.datasets import make_aggregate_regression

pytestmark = pytest.mark.slow

D = 200
REPS = 40


def conditional_bias_variance(data, rhos):
    """Exact E[.|X] bias^2 and variance sigma^2 tr(Q A1 Q) per rho, by direct solves."""
    X, bags = data.X, data.bags
    sizes = np.bincount(bags)
    sums = np.zeros((sizes.size, X.shape[1]))
    np.add.at(sums, bags, X)
    A1 = sums.T @ (sums / sizes[:, None])
    A2 = X.T @ X - A1
    out = []
    for rho in rhos:
        Q = np.linalg.inv(A1 + rho * A2)
        bias = Q @ A1 @ data.coef - data.coef
        out.append((bias @ bias, data.noise**2 * np.trace(Q @ A1 @ Q)))
    return np.array(out)


def grid_cells():
    for psi in (2, 4, 6):
        for k in (2, 3, 5):
            rhos = [0.1, 0.3, 0.5, 1.0]
            if psi * D / k - D >= 100:
                rhos = [0.0, *rhos]
            yield psi, k, rhos


@pytest.mark.parametrize(("psi", "k", "rhos"), list(grid_cells()))
def test_bias_and_variance_match_theory(psi, k, rhos):
    rng = np.random.default_rng([psi, k])
    draws = np.array([conditional_bias_variance(
        make_aggregate_regression(psi * D, D, bag_size=k, random_state=rng), rhos)
        for _ in range(REPS)])
    mean, se = draws.mean(axis=0), draws.std(axis=0, ddof=1) / np.sqrt(REPS)
    theory = aggregate_risk(psi, k, rhos)
    for j, rho in enumerate(rhos):
        for col, expected in enumerate((theory.bias[j], theory.variance[j])):
            gap = abs(mean[j, col] - expected)
            ok = gap <= 0.05 * expected + 1e-12 or gap <= 3 * se[j, col]
            assert ok, (psi, k, rho, col, mean[j, col], expected, se[j, col])


def test_estimator_bias_is_conditional_bias():
    """The fitted estimator on noise-free aggregates reproduces the bias part."""
    data = make_aggregate_regression(4 * D, D, bag_size=3, noise=1.0, random_state=0)
    clean = np.bincount(data.bags, weights=data.X @ data.coef) / np.bincount(data.bags)
    for rho, (bias2, _) in zip([0.3, 1.0], conditional_bias_variance(data, [0.3, 1.0]),
                               strict=True):
        fit = AggregateRegressor(rho=rho, fit_intercept=False).fit(data.X, clean,
                                                                  bags=data.bags)
        assert np.sum((fit.coef_ - data.coef) ** 2) == pytest.approx(bias2, rel=1e-8)


def test_empirical_best_rho_near_theory():
    rhos = np.linspace(0.0, 1.0, 101)
    rng = np.random.default_rng(11)
    risk = np.mean([conditional_bias_variance(
        make_aggregate_regression(10 * D, D, bag_size=5, snr=1.0, random_state=rng),
        rhos).sum(axis=1) for _ in range(REPS)], axis=0)
    assert abs(rhos[np.argmin(risk)] - optimal_rho(10, 5, snr=1.0)[0]) <= 0.05


def test_private_risk_matches_monte_carlo():
    d, psi, k, rho, epsilon, C = 100, 10, 5, 1.0, 1.0, 2.2
    n = psi * d
    half = C * np.sqrt(np.log(n))
    rng = np.random.default_rng(5)
    risks = []
    for _ in range(300):
        data = make_aggregate_regression(n, d, bag_size=k, random_state=rng)
        noisy = laplace_bag_mechanism(data.y, data.bags, epsilon, clip=(-half, half),
                                      random_state=rng)
        fit = AggregateRegressor(rho=rho, fit_intercept=False).fit(data.X, noisy,
                                                                  bags=data.bags)
        risks.append(np.sum((fit.coef_ - data.coef) ** 2))
    theory = private_aggregate_risk(psi, k, rho, epsilon=epsilon, n_samples=n,
                                    clip_constant=C).risk
    assert np.mean(risks) == pytest.approx(theory, rel=0.10)


def test_exact_finite_sample_expectations():
    """E[theta_1] = theta_0/k and E tr(Q A1 Q) at rho=1 = d/(k(n-d-1)) (n=60, d=10).

    rho = 1 is OLS on the broadcast bag means (checked exactly in test_aggregate.py),
    so both expectations are computed from the Gram matrices directly.
    """
    n, d, k, reps = 60, 10, 3, 20_000
    rng = np.random.default_rng(3)
    bags = np.repeat(np.arange(n // k), k)
    shrink, trace = [], []
    for _ in range(reps):
        X = rng.standard_normal((n, d))
        theta = rng.standard_normal(d)
        sums = np.zeros((n // k, d))
        np.add.at(sums, bags, X)
        A1 = sums.T @ sums / k
        Q = np.linalg.inv(X.T @ X)
        shrink.append(theta @ Q @ A1 @ theta / (theta @ theta))
        trace.append(np.trace(Q @ A1 @ Q))
    assert np.mean(shrink) == pytest.approx(1 / k, rel=0.01)
    assert np.mean(trace) == pytest.approx(d / (k * (n - d - 1)), rel=0.01)
