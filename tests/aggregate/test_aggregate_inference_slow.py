"""Coverage of the bag-clustered sandwich for rho strictly between 0 and 1 (slow)."""

import numpy as np
import pytest

from statlogit import AggregateRegressor

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("rho, cov_type", [(0.3, "cluster"), (0.7, "cluster")])
def test_sandwich_coverage_between_bag_and_instance_level(rho, cov_type):
    """Target: plim of theta_rho = theta / (1 + rho (k - 1)) for N(0, I) features and
    equal bags of size k (A1/n -> I/k, A2/n -> (k-1)/k I)."""
    reps, n_bags, k = 1000, 200, 5
    theta = np.array([1.0, -0.5, 0.25])
    target = theta / (1.0 + rho * (k - 1))
    bags = np.repeat(np.arange(n_bags), k)
    rng = np.random.default_rng(20261201)
    hits = np.zeros(theta.size)
    for _ in range(reps):
        X = rng.standard_normal((n_bags * k, theta.size))
        y = X @ theta + 0.5 + rng.standard_normal(n_bags * k)
        ybar = np.bincount(bags, weights=y) / k
        model = AggregateRegressor(rho=rho, cov_type=cov_type).fit(X, ybar[bags], bags=bags)
        ci = model.conf_int(alpha=0.05).to_numpy()[1:]
        hits += (ci[:, 0] <= target) & (target <= ci[:, 1])
    coverage = hits / reps
    assert np.all(np.abs(coverage - 0.95) <= 0.02), coverage


def test_nonrobust_covers_the_conditional_mean():
    """cov_type="nonrobust" is conditional on X (homoskedastic noise): it covers
    E[theta_rho | X], the fit to the noiseless bag means."""
    reps, n_bags, k, rho = 1000, 200, 5, 0.3
    theta = np.array([1.0, -0.5, 0.25])
    bags = np.repeat(np.arange(n_bags), k)
    rng = np.random.default_rng(7)
    hits = np.zeros(theta.size)
    for _ in range(reps):
        X = rng.standard_normal((n_bags * k, theta.size))
        clean = np.bincount(bags, weights=X @ theta + 0.5) / k
        noise = np.bincount(bags, weights=rng.standard_normal(n_bags * k)) / k
        target = AggregateRegressor(rho=rho).fit(X, clean[bags], bags=bags).coef_
        model = AggregateRegressor(rho=rho, cov_type="nonrobust").fit(
            X, (clean + noise)[bags], bags=bags)
        ci = model.conf_int(alpha=0.05).to_numpy()[1:]
        hits += (ci[:, 0] <= target) & (target <= ci[:, 1])
    coverage = hits / reps
    assert np.all(np.abs(coverage - 0.95) <= 0.02), coverage


def test_glm_sandwich_coverage_between_bag_and_instance_level():
    """Poisson GLM with rho=0.5: the bag-clustered sandwich covers the population
    target, estimated once from a very large sample (2e5 bags)."""
    from statlogit import AggregateGLMRegressor

    k, theta = 4, np.array([0.3, 0.4, -0.3])

    def draw(rng, n_bags):
        bags = np.repeat(np.arange(n_bags), k)
        X = rng.standard_normal((n_bags * k, 2))
        counts = rng.poisson(np.exp(theta[0] + X @ theta[1:]))
        return X, (np.bincount(bags, weights=counts) / k)[bags], bags

    rng = np.random.default_rng(11)
    X, y, bags = draw(rng, 200_000)
    target = AggregateGLMRegressor(family="poisson", rho=0.5).fit(X, y, bags=bags)
    target = target._params()
    reps, hits = 1000, np.zeros(3)
    for _ in range(reps):
        X, y, bags = draw(rng, 300)
        model = AggregateGLMRegressor(family="poisson", rho=0.5).fit(X, y, bags=bags)
        ci = model.conf_int().to_numpy()
        hits += (ci[:, 0] <= target) & (target <= ci[:, 1])
    coverage = hits / reps
    assert np.all(np.abs(coverage - 0.95) <= 0.02), coverage
