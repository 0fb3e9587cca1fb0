"""numba kernels of the expectations family against plain numpy twins."""

import numpy as np
import pytest
from scipy import stats

from statlogit import GaussianCopula
from statlogit.kernels.expectations import (
    alpha_objective,
    gaussian_logpdf,
    weighted_moments,
)


def _random_chols(rng, n_comp, d, scale=1.0):
    A = rng.standard_normal((n_comp, d, d))
    covs = scale * (A @ np.swapaxes(A, 1, 2) + 0.5 * np.eye(d))
    return covs, np.linalg.cholesky(covs)


@pytest.mark.parametrize("d", [1, 3, 6])
def test_gaussian_logpdf_matches_scipy(d):
    rng = np.random.default_rng(d)
    X = rng.standard_normal((40, d)) * 3
    means = rng.standard_normal((4, d))
    covs, chols = _random_chols(rng, 4, d)
    ours = gaussian_logpdf(X, means, chols)
    twin = np.column_stack([stats.multivariate_normal(m, c).logpdf(X).reshape(-1)
                            for m, c in zip(means, covs, strict=True)])
    np.testing.assert_allclose(ours, twin, rtol=1e-12, atol=1e-10)


def test_gaussian_logpdf_extreme_arguments():
    """Far points and tiny/huge scales stay finite and exact (no exp inside)."""
    X = np.array([[1e6, -1e6], [0.0, 0.0], [1e-8, 1e-8]])
    means = np.zeros((2, 2))
    covs = np.stack([np.eye(2) * 1e-12, np.eye(2) * 1e12])
    ours = gaussian_logpdf(X, means, np.linalg.cholesky(covs))
    twin = np.column_stack([stats.multivariate_normal(np.zeros(2), c).logpdf(X)
                            for c in covs])
    np.testing.assert_allclose(ours, twin, rtol=1e-12)
    assert np.all(np.isfinite(ours))


@pytest.mark.parametrize("diag_only", [False, True])
def test_weighted_moments_match_numpy(diag_only):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 3)) + 5.0
    W = rng.exponential(size=(50, 4))
    W[:10, 0] = 0.0
    means, covs = weighted_moments(X, W, diag_only)
    for k in range(4):
        m = np.average(X, axis=0, weights=W[:, k])
        c = np.cov(X, rowvar=False, aweights=W[:, k], bias=True)
        if diag_only:
            c = np.diag(np.diag(c))
        np.testing.assert_allclose(means[k], m, rtol=1e-12)
        np.testing.assert_allclose(covs[k], c, rtol=1e-10, atol=1e-13)


def test_weighted_moments_single_point_column():
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    means, covs = weighted_moments(X, np.array([[1.0], [0.0]]), False)
    np.testing.assert_array_equal(means[0], X[0])
    np.testing.assert_array_equal(covs[0], np.zeros((2, 2)))


def test_alpha_objective_value_and_gradient():
    rng = np.random.default_rng(2)
    G = rng.uniform(size=(30, 4))
    c = rng.exponential(size=30)
    b = rng.uniform(size=30) * 0.1
    alpha = rng.dirichlet(np.ones(4))
    value, grad = alpha_objective(alpha, c, G, b)
    den = G @ alpha + b
    np.testing.assert_allclose(value, np.sum(c / den), rtol=1e-13)
    np.testing.assert_allclose(grad, -(c / den**2) @ G, rtol=1e-12)
    step = 1e-7
    numeric = [(alpha_objective(alpha + step * e, c, G, b)[0]
                - alpha_objective(alpha - step * e, c, G, b)[0]) / (2 * step)
               for e in np.eye(4)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6)


def test_alpha_objective_infeasible_is_inf():
    value, _ = alpha_objective(np.array([0.0, 1.0]), np.ones(2),
                               np.array([[1.0, 0.0], [1.0, 0.0]]), np.zeros(2))
    assert value == np.inf


def test_copulas_on_the_log_scale_match_each_laws_own_evaluation():
    """Stacked laws as Gaussians on the log scale (one numba pass) against each law's
    marginal-by-marginal evaluation (itself checked against scipy's multivariate
    normal of the ppf(cdf) scores in test_expectations)."""
    from statlogit.datasets import make_cantilever_beam_laws
    from statlogit.estimators._expectations_base import ExpectationProblem

    laws = make_cantilever_beam_laws(5, random_state=2)[0]
    problem = ExpectationProblem(lambda X: X[:, :1], laws)
    assert problem._log_scale is not None
    X = laws[0].rvs(200, random_state=0)
    X[0, 0] = -1.0  # outside the lognormal support
    X[1, 3] = 10.0  # far in a normal tail
    ours = problem.log_laws(X)
    for law in laws:
        law._closed = None  # per-marginal evaluation instead of the stacked Gaussians
    twin = np.column_stack([law.logpdf(X) for law in laws])
    assert np.all(ours[0] == -np.inf) and np.all(twin[0] == -np.inf)
    np.testing.assert_allclose(ours[1:], twin[1:], rtol=1e-9)


def test_shifted_lognormal_copulas_are_not_stacked():
    """A lognormal with a location is not Gaussian on the log scale: per-law path."""
    from statlogit.estimators._expectations_base import ExpectationProblem

    corr = np.array([[1.0, 0.3], [0.3, 1.0]])
    laws = [GaussianCopula([stats.lognorm(0.2, loc=loc), stats.norm(1.0, 2.0)], corr)
            for loc in (0.0, 0.5)]
    problem = ExpectationProblem(lambda X: X[:, :1], laws)
    assert problem._log_scale is None
    X = np.column_stack([np.linspace(0.6, 2.0, 7), np.linspace(-1.0, 3.0, 7)])
    expected = np.column_stack([law.logpdf(X) for law in laws])
    np.testing.assert_allclose(problem.log_laws(X), expected, rtol=1e-12)
