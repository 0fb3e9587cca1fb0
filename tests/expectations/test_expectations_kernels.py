"""numba kernels of the expectations family against plain numpy twins."""

import numpy as np
import pytest
from scipy import special, stats

from statlogit import GaussianCopula
from statlogit.expectations._gaussian_kernels import gaussian_logpdf, weighted_moments
from statlogit.solvers.simplex_newton import inverse_affine_objective as alpha_objective


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


@pytest.mark.parametrize("separation", [1.0, 5.0, 1e5])
def test_gaussian_logpdf_product_and_centred_paths_agree_with_scipy(separation):
    """The one-product path (moderate spread), its fallback to the centred kernel
    (components 1e5 standard deviations apart) and the shared slope term."""
    from statlogit.expectations._gaussian_kernels import SPREAD_MAX, gaussian_logpdf_centred

    rng = np.random.default_rng(3)
    covs, chols = _random_chols(rng, 20, 3)  # 20 components: the product pays
    means = separation * rng.standard_normal((20, 3)) * np.sqrt(np.einsum("kii->ki", covs))
    X = means[rng.integers(20, size=60)] + rng.standard_normal((60, 3))
    twin = np.column_stack([stats.multivariate_normal(m, c).logpdf(X)
                            for m, c in zip(means, covs, strict=True)])
    np.testing.assert_allclose(gaussian_logpdf(X, means, chols), twin, rtol=1e-11, atol=1e-9)
    np.testing.assert_allclose(gaussian_logpdf_centred(X, means, chols), twin, rtol=1e-12,
                               atol=1e-10)
    slope = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(gaussian_logpdf(X, means, chols, slope=slope),
                               twin + (X @ slope)[:, None], rtol=1e-11, atol=1e-9)
    white = np.linalg.solve(chols, (means - means.mean(axis=0))[:, :, None])[..., 0]
    assert (np.max(np.sum(white**2, axis=1)) > SPREAD_MAX) == (separation > 100)


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


@pytest.mark.parametrize("separation", [1.0, 1e4])
def test_weighted_moments_product_path_and_its_fallback(separation):
    """Far-apart weight columns (offsets 1e4 sd from the common centre) switch to the
    centred kernel; both paths equal the numpy formula."""
    from statlogit.expectations._gaussian_kernels import weighted_moments_centred

    rng = np.random.default_rng(4)
    X = rng.standard_normal((300, 3))
    X[150:] += separation
    W = np.zeros((300, 20))  # 20 columns (the product pays), 10 on each cluster
    W[:150, :10] = rng.exponential(size=(150, 10))
    W[150:, 10:] = rng.exponential(size=(150, 10))
    means, covs = weighted_moments(X, W, False)
    exact_means, exact_covs = weighted_moments_centred(X, W, False)
    for k in range(20):
        np.testing.assert_allclose(means[k], np.average(X, axis=0, weights=W[:, k]),
                                   rtol=1e-12, atol=1e-12 * separation)
        np.testing.assert_allclose(covs[k], np.cov(X, rowvar=False, aweights=W[:, k],
                                                   bias=True), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(covs, exact_covs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(means, exact_means, rtol=1e-13)


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
    value, grad, den = alpha_objective(alpha, c, G.T.copy(), b)
    np.testing.assert_allclose(den, G @ alpha + b, rtol=1e-14)
    np.testing.assert_allclose(value, np.sum(c / den), rtol=1e-13)
    np.testing.assert_allclose(grad, -(c / den**2) @ G, rtol=1e-12)
    step = 1e-7
    numeric = [(alpha_objective(alpha + step * e, c, G.T.copy(), b)[0]
                - alpha_objective(alpha - step * e, c, G.T.copy(), b)[0]) / (2 * step)
               for e in np.eye(4)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6)


def test_alpha_objective_infeasible_is_inf():
    value, _, _ = alpha_objective(np.array([0.0, 1.0]), np.ones(2),
                                  np.array([[1.0, 1.0], [0.0, 0.0]]), np.zeros(2))
    assert value == np.inf


def test_copulas_on_the_log_scale_match_each_laws_own_evaluation():
    """Stacked laws as Gaussians on the log scale (one numba pass) against each law's
    marginal-by-marginal evaluation (itself checked against scipy's multivariate
    normal of the ppf(cdf) scores in test_expectations)."""
    from statlogit.datasets import make_cantilever_beam_laws
    from statlogit.expectations._problem import ExpectationProblem

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
    from statlogit.expectations._problem import ExpectationProblem

    corr = np.array([[1.0, 0.3], [0.3, 1.0]])
    laws = [GaussianCopula([stats.lognorm(0.2, loc=loc), stats.norm(1.0, 2.0)], corr)
            for loc in (0.0, 0.5)]
    problem = ExpectationProblem(lambda X: X[:, :1], laws)
    assert problem._log_scale is None
    X = np.column_stack([np.linspace(0.6, 2.0, 7), np.linspace(-1.0, 3.0, 7)])
    expected = np.column_stack([law.logpdf(X) for law in laws])
    np.testing.assert_allclose(problem.log_laws(X), expected, rtol=1e-12)


def test_gaussian_mixture_logpdf_is_the_log_sum_of_components():
    from statlogit.expectations._gaussian_kernels import gaussian_mixture_logpdf

    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 3)) * 4  # a block boundary and far points included
    means = rng.standard_normal((5, 3))
    covs, chols = _random_chols(rng, 5, 3, scale=0.1)
    log_w = np.log(rng.dirichlet(np.ones(5)))
    log_w[2] = -np.inf  # a component with zero weight is skipped
    dens = np.column_stack([stats.multivariate_normal(m, c).logpdf(X)
                            for m, c in zip(means, covs, strict=True)])
    expected = special.logsumexp(dens + log_w, axis=1)
    np.testing.assert_allclose(gaussian_mixture_logpdf(X, means, chols, log_w), expected,
                               rtol=1e-12)


def test_cross_entropy_weights_match_the_direct_formula():
    from statlogit.expectations._weight_kernels import cross_entropy_weights

    rng = np.random.default_rng(4)
    values = rng.exponential(size=(50, 3))
    values[:5, 1] = 0.0
    values[5, 2] = -1.0  # a negative value gets no weight
    log_f, log_h = rng.normal(size=(50, 3)), rng.normal(size=50)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_abs = np.log(np.abs(values)) + log_f
    direct = np.maximum(values, 0) * np.exp(log_f - log_h[:, None])
    ours = cross_entropy_weights(values, log_abs, log_h)
    np.testing.assert_allclose(ours, direct / direct.max(axis=0), rtol=1e-13)
    # shifting every log-density by 1000 changes nothing (no overflow, no underflow)
    np.testing.assert_allclose(cross_entropy_weights(values, log_abs + 1000.0, log_h),
                               ours, rtol=1e-12)


def test_alpha_coefficients_match_the_direct_formula_and_survive_extremes():
    from statlogit.expectations._weight_kernels import alpha_coefficients

    rng = np.random.default_rng(5)
    n, P = 40, 4
    values = rng.normal(size=(n, P))
    log_f, log_g = rng.normal(size=(n, P)), rng.normal(size=(n, P))
    beta, w = rng.normal(size=P), rng.exponential(size=P)
    w[3] = 0.0
    with np.errstate(divide="ignore"):
        log_w = np.log(w)
    shift = log_g.max(axis=1)
    log_abs = np.log(np.abs(values)) + log_f
    G_t, log_s = alpha_coefficients(values, log_abs, log_g, shift, log_w, beta)
    scale = np.exp(-shift)[:, None]
    resid = (values * np.exp(log_f) - beta * np.exp(log_g)) * scale
    np.testing.assert_allclose(G_t, (np.exp(log_g) * scale).T, rtol=1e-13)
    np.testing.assert_allclose(log_s, np.log(np.sum(w * resid**2, axis=1)), rtol=1e-12)
    # densities of 1e-400 and 1e+400 scale: the same answer shifted by 2 * 1000
    for offset in (-1000.0, 1000.0):
        G_far, log_s_far = alpha_coefficients(values, log_abs + offset, log_g + offset,
                                              shift + offset, log_w, beta)
        np.testing.assert_allclose(G_far, G_t, rtol=1e-12)
        np.testing.assert_allclose(log_s_far, log_s, rtol=1e-12, atol=1e-12)


def _log_s_in_log_space(values, log_abs, log_g, shift, w, beta):
    """The alpha-objective numerators row by row, each row scaled by its largest term."""
    with np.errstate(divide="ignore"):
        log_a = log_abs - shift[:, None]
        log_b = np.log(np.abs(beta)) + log_g - shift[:, None]
    used = w > 0
    top = np.maximum(log_a[:, used], log_b[:, used]).max(axis=1)
    r = (np.sign(values) * np.exp(log_a - top[:, None])
         - np.sign(beta) * np.exp(log_b - top[:, None]))
    return 2 * top + np.log(np.sum(w[used] * r[:, used] ** 2, axis=1))


def test_alpha_coefficients_rows_beyond_the_direct_scale():
    """Rows whose largest term is e^(+-800) times the shift, and rows whose dominant
    term is beta_p g_p with g_p / e^shift = e^-750 (underflows on its own)."""
    from statlogit.expectations._weight_kernels import alpha_coefficients

    rng = np.random.default_rng(7)
    n, P = 30, 4
    values = rng.normal(size=(n, P))
    log_g = rng.normal(size=(n, P))
    shift = log_g.max(axis=1)
    beta, w = rng.normal(size=P), rng.exponential(size=P)
    for offset in (800.0, -800.0):
        log_abs = np.log(np.abs(values)) + rng.normal(size=(n, P)) + offset
        _, log_s = alpha_coefficients(values, log_abs, log_g, shift, np.log(w), beta)
        want = _log_s_in_log_space(values, log_abs, log_g, shift, w, beta)
        np.testing.assert_allclose(log_s, want, rtol=1e-12)
    log_abs = np.log(np.abs(values)) + shift[:, None] - 100.0
    tiny_g = log_g.copy()
    tiny_g[:, 0] = shift - 750.0
    big_beta = np.full(P, 1e-60)
    big_beta[0] = 1e300
    _, log_s = alpha_coefficients(values, log_abs, tiny_g, shift, np.log(w), big_beta)
    want = _log_s_in_log_space(values, log_abs, tiny_g, shift, w, big_beta)
    np.testing.assert_allclose(log_s, want, rtol=1e-12)
    assert np.all(log_s > 2 * (np.log(1e300) - 750.0) - 1.0)


def test_sampler_ratios_match_the_direct_formula():
    from statlogit.expectations._weight_kernels import sampler_ratios

    rng = np.random.default_rng(6)
    n, P = 30, 3
    values, log_f = rng.normal(size=(n, P)), rng.normal(size=(n, P))
    log_g, log_q0 = rng.normal(size=(n, P)), rng.normal(size=n)
    alpha = rng.dirichlet(np.ones(P))
    for defensive in (0.0, 0.3):
        g = defensive * np.exp(log_q0) + (1 - defensive) * np.exp(log_g) @ alpha
        y, a, log_s = sampler_ratios(values, log_f, log_g, log_q0, alpha, defensive)
        np.testing.assert_allclose(log_s, np.log(g), rtol=1e-13)
        np.testing.assert_allclose(y, values * np.exp(log_f) / g[:, None], rtol=1e-12)
        np.testing.assert_allclose(a, np.exp(log_g) / g[:, None], rtol=1e-12)
    # far in the tails (all densities ~ e^-1500): finite, and the same ratios
    y_far, a_far, _ = sampler_ratios(values, log_f - 1500, log_g - 1500, log_q0 - 1500,
                                     alpha, 0.3)
    np.testing.assert_allclose(y_far, y, rtol=1e-12)
    np.testing.assert_allclose(a_far, a, rtol=1e-12)


def test_control_variate_fit_matches_numpy_least_squares():
    from statlogit.expectations._weight_kernels import control_variate_fit

    rng = np.random.default_rng(5)
    a = rng.exponential(size=(500, 3))
    y = 2.0 * a + 1e-6 * rng.standard_normal((500, 3)) + 5.0
    a[:, 2] = 1.0  # a constant control variate: no slope, beta is the mean of y
    beta, sigma2 = control_variate_fit(y, a)
    for p in range(2):
        slope = np.polyfit(a[:, p], y[:, p], 1)[0]
        np.testing.assert_allclose(beta[p], slope, rtol=1e-9)
        np.testing.assert_allclose(sigma2[p], np.var(y[:, p] - slope * a[:, p], ddof=1),
                                   rtol=1e-6)
    assert beta[2] == pytest.approx(y[:, 2].mean(), rel=1e-14)
    assert sigma2[2] == pytest.approx(np.var(y[:, 2] - beta[2], ddof=1), rel=1e-12)

