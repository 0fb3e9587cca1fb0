"""R3D's Gini test: the trapezoid Gini against closed forms, the test's behaviour, size/power.

The reference fixtures hold no Gini output, so the truths are closed forms: Gini 1/3 for
the uniform distribution on [0, 1], 1/2 for the exponential, :math:`2\\Phi(\\sigma/\\sqrt
2) - 1` for the lognormal, and exact identities of the discrete formula.
"""

import warnings

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import norm

from statlogit import R3D
from statlogit.rdd._inference import R3DGiniTestResult, gini, gini_test

GRID = np.arange(1, 100) / 100


def _fine_grid():
    """[0, 1) evenly, refined geometrically towards 1 (unbounded quantile functions)."""
    return np.unique(np.concatenate([np.linspace(0.0, 0.9999, 100_000),
                                     1.0 - np.geomspace(1e-4, 1e-15, 400)]))


def _lognormal_gini(sigma):
    return 2.0 * norm.cdf(sigma / np.sqrt(2.0)) - 1.0


def _winsorised_gini(ppf, low, high):
    """:math:`\\mu^{-1}\\int_0^1 (2t - 1) Q(t) dt` for Q winsorised at ``low``, ``high``."""
    def q(t):
        return ppf(min(max(t, low), high))
    mean = quad(q, 0, 1, points=[low, high], limit=200)[0]
    moment = quad(lambda t: (2 * t - 1) * q(t), 0, 1, points=[low, high], limit=200)[0]
    return moment / mean


# ------------------------------------------------------------- the formula
@pytest.mark.parametrize(("ppf", "truth"), [
    (lambda t: t, 1 / 3),
    (lambda t: 2.0 + 0 * t, 0.0),
    (lambda t: -np.log1p(-t), 1 / 2),
    (lambda t: 3.0 * np.exp(0.5 * norm.ppf(t)), _lognormal_gini(0.5)),
    (lambda t: np.exp(1.2 * norm.ppf(t)), _lognormal_gini(1.2)),
], ids=["uniform", "constant", "exponential", "lognormal-0.5", "lognormal-1.2"])
@pytest.mark.parametrize("clip", [False, True])
def test_trapezoid_gini_matches_closed_forms(ppf, truth, clip):
    grid = _fine_grid()
    ours = gini(grid, ppf(grid), clip=clip)
    assert ours.shape == (1,)
    assert ours[0] == pytest.approx(truth, abs=2e-5)


def test_trapezoid_gini_of_a_winsorised_curve_matches_quadrature():
    # The grid's ends are carried to 0 and 1: the Gini of the winsorised distribution.
    def ppf(t):
        return -np.log1p(-t)
    grid = 0.01 + 0.98 * np.linspace(0, 1, 20_001)
    truth = _winsorised_gini(ppf, 0.01, 0.99)
    assert gini(grid, ppf(grid), clip=False)[0] == pytest.approx(truth, abs=1e-8)
    assert truth < 0.5


def test_discrete_gini_is_scale_invariant_and_shrinks_with_a_shift_exactly():
    rng = np.random.default_rng(0)
    grid = np.sort(rng.uniform(0.02, 0.98, 15))
    curve = np.sort(rng.exponential(size=15))
    base = gini(grid, curve, clip=False)[0]
    assert gini(grid, 7.5 * curve, clip=False)[0] == pytest.approx(base, rel=1e-13)
    # G(Q + c) = G(Q) mu / (mu + c), mu the trapezoid mean of the padded curve.
    padded_q = np.r_[0.0, grid, 1.0]
    padded = np.r_[curve[0], curve, curve[-1]]
    mean = np.sum(0.5 * (padded[1:] + padded[:-1]) * np.diff(padded_q))
    shifted = gini(grid, curve + 2.0, clip=False)[0]
    assert shifted == pytest.approx(base * mean / (mean + 2.0), rel=1e-12)


def _reference_gini(quantiles, curve):
    """Loop twin of R3D's ``calculate_gini_from_quantile`` (steps as documented)."""
    q, v = list(quantiles), list(curve)
    if q[0] > 0:
        q, v = [0.0] + q, [v[0]] + v
    if q[-1] < 1:
        q, v = q + [1.0], v + [v[-1]]
    mean = 0.0
    for i in range(len(q) - 1):
        mean += 0.5 * (v[i + 1] + v[i]) * (q[i + 1] - q[i])
    if mean <= 0:
        return np.nan
    lorenz, area = [0.0], 0.0
    for i in range(len(q) - 1):
        area += 0.5 * (v[i + 1] + v[i]) * (q[i + 1] - q[i])
        lorenz.append(area / mean)
    under = sum(0.5 * (lorenz[i] + lorenz[i + 1]) * (q[i + 1] - q[i])
                for i in range(len(q) - 1))
    return max(0.0, min(1.0, 1.0 - 2.0 * under))


def test_vectorised_gini_matches_a_loop_twin_of_the_reference():
    rng = np.random.default_rng(1)
    curves = np.vstack([np.sort(rng.exponential(size=(20, 12)), axis=1),
                        rng.normal(0.3, 1.0, size=(20, 12)),      # some clipped, some NaN
                        -np.ones((1, 12))])
    grid = np.sort(rng.uniform(0, 1, 12))
    ours = gini(grid, curves, clip=True)
    twin = np.array([_reference_gini(grid, c) for c in curves])
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(twin))
    assert np.isnan(twin).sum() > 1 and np.sum(twin == 1.0) + np.sum(twin == 0.0) > 0
    np.testing.assert_allclose(ours[~np.isnan(ours)], twin[~np.isnan(twin)], rtol=0,
                               atol=1e-14)


# --------------------------------------------------------------- the test
def _lognormal_units(n, sigma_below, sigma_above, *, scale_jump=1.5, n_draws=50, rng):
    """Units with lognormal outcomes: log-scale location ``0.3 x + U(-1/2, 1/2)`` (times
    ``scale_jump`` above the cutoff) and log-scale sd ``sigma_below`` / ``sigma_above``.

    The average quantile function on each side is a multiple of the lognormal's, so
    the Gini coefficients at the cutoff are those of the lognormals: equal when the
    sigmas are, whatever ``scale_jump``.
    """
    x = rng.uniform(-1, 1, n)
    above = x >= 0
    mu = 0.3 * x + rng.uniform(-0.5, 0.5, n) + np.log(scale_jump) * above
    sigma = np.where(above, sigma_above, sigma_below)
    return x, list(np.exp(mu[:, None] + sigma[:, None] * rng.standard_normal((n, n_draws))))


def test_estimated_coefficients_equal_the_lognormal_truth():
    # Exact unit quantile functions exp(mu_i) Q_sigma(q) and one bandwidth: each
    # estimated limit is a multiple of Q_sigma, so its Gini is exactly that of Q_sigma on
    # the grid (scale invariance) and matches the winsorised lognormal's by quadrature.
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, 400)
    sigma = np.where(x >= 0, 0.8, 0.5)
    scale = np.exp(0.3 * x + rng.uniform(-0.5, 0.5, 400))
    Q = scale[:, None] * np.exp(sigma[:, None] * norm.ppf(GRID)[None, :])
    est = R3D(bandwidth=0.5, random_state=0).fit(x, Q)
    result = est.test_gini()
    for s, ours in [(0.8, result.gini_above), (0.5, result.gini_below)]:
        assert ours == pytest.approx(gini(GRID, np.exp(s * norm.ppf(GRID)), clip=False)[0],
                                     abs=1e-12)
        truth = _winsorised_gini(lambda t, s=s: np.exp(s * norm.ppf(t)), 0.01, 0.99)
        assert ours == pytest.approx(truth, abs=1e-3)
        assert ours == pytest.approx(_lognormal_gini(s), abs=0.02)
    assert result.statistic == pytest.approx(result.gini_above - result.gini_below)
    assert result.p_value == 0.0


@pytest.fixture(scope="module")
def unequal():
    x, Y = _lognormal_units(500, 0.5, 0.8, rng=np.random.default_rng(3))
    return x, Y


def test_result_fields_ranges_and_side_draws(unequal):
    x, Y = unequal
    est = R3D(random_state=0).fit(x, Y)
    np.testing.assert_allclose(est.bootstrap_sides_[1] - est.bootstrap_sides_[0],
                               est.bootstrap_draws_, rtol=0, atol=1e-12)
    result = est.test_gini()
    assert isinstance(result, R3DGiniTestResult)
    assert result.range == (0.01, 0.99) and result.n_quantiles == 99
    assert result.n_dropped == 0 and 0.0 < result.critical_value < result.statistic
    assert result.gini_above > result.gini_below
    upper = est.test_gini(range=(0.5, 0.99))
    assert upper.n_quantiles == 50 and upper.gini_above < result.gini_above
    np.testing.assert_allclose(
        upper.gini_below, gini(GRID[49:], est.m_minus_[49:], clip=False)[0], rtol=1e-14)
    with pytest.raises(ValueError, match="widen it"):
        est.test_gini(range=(0.505, 0.509))


def test_parity_mode_does_not_recentre_and_loses_power(unequal):
    x, Y = unequal
    paper = R3D(random_state=0).fit(x, Y).test_gini()
    parity = R3D(parity="R3D", random_state=0).fit(x, Y).test_gini()
    assert paper.p_value < 0.01
    # Uncentred draws scatter around the estimate itself: p-value near 1/2.
    assert parity.p_value > 0.2
    assert parity.critical_value > parity.statistic > 0.1


def test_gini_test_recentring_by_hand():
    rng = np.random.default_rng(4)
    grid = GRID[::10]
    m_minus, m_plus = np.sort(rng.exponential(size=(2, grid.size)), axis=1) + 1.0
    sides = 0.05 * rng.standard_normal((2, 300, grid.size))
    boot = (gini(grid, m_plus + sides[1], clip=True)
            - gini(grid, m_minus + sides[0], clip=True))
    diff = gini(grid, m_plus, clip=True)[0] - gini(grid, m_minus, clip=True)[0]
    for recentre, draws in [(False, boot), (True, boot - diff)]:
        stat, p_value, crit, g_plus, g_minus, dropped = gini_test(
            grid, m_plus, m_minus, sides, 0.05, recentre=recentre, clip=True)
        assert stat == abs(diff) and g_plus - g_minus == diff and dropped == 0
        assert p_value == np.mean(np.abs(draws) >= abs(diff))
        assert crit == np.quantile(np.abs(draws), 0.95)


def test_narrow_grid_warns_and_non_positive_outcomes_raise():
    rng = np.random.default_rng(5)
    x, Y = _lognormal_units(300, 0.5, 0.5, rng=rng)
    deciles = R3D(quantiles=np.arange(1, 10) / 10, random_state=0).fit(x, Y)
    with pytest.warns(UserWarning, match=r"spans \[0.1, 0.9\].*winsorised"):
        deciles.test_gini()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        deciles.test_gini(range=(0.1, 0.9))     # an explicit range asks for it
    negative = R3D(random_state=0).fit(x, [-y for y in Y])
    with pytest.raises(ValueError, match="cutoff has a non-positive mean"):
        negative.test_gini()


def test_draws_with_a_non_positive_mean_are_dropped_with_a_warning():
    rng = np.random.default_rng(6)
    x = rng.uniform(-1, 1, 300)
    Y = list(0.02 + rng.standard_normal((300, 50)))
    est = R3D(random_state=0).fit(x, Y)
    with pytest.warns(UserWarning, match="non-positive mean and were left out"):
        result = est.test_gini()
    assert 0 < result.n_dropped < est.n_bootstrap


# ----------------------------------------------------------- Monte Carlo
def _rejection_rate(sigma_above, reps, seed):
    rejected = []
    for child in np.random.SeedSequence(seed).spawn(reps):
        rng = np.random.default_rng(child)
        x, Y = _lognormal_units(500, 0.5, sigma_above, rng=rng)
        est = R3D(n_bootstrap=200, random_state=rng).fit(x, Y)
        rejected.append(est.test_gini().p_value < 0.05)
    return float(np.mean(rejected))


@pytest.mark.slow
def test_gini_test_size_and_power():
    # Null: equal log-scale sd on both sides, a 50 % jump in scale (tau != 0, equal
    # Gini). Alternative: sd 0.5 below, 0.8 above (Gini 0.276 vs 0.428). 500 units x 50
    # draws, default grid, 200 draws. MC s.e. of the size at 400 reps: 0.011.
    size = _rejection_rate(0.5, reps=400, seed=11)
    power = _rejection_rate(0.8, reps=100, seed=12)
    print(f"Gini test: size {size:.3f}, power {power:.3f}")
    assert size <= 0.10
    assert power >= 0.95
