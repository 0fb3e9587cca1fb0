"""Asymptotic risk formulas and the private-bag mechanism."""

import numpy as np
import pytest

from statlogit import (
    aggregate_risk,
    instance_vs_bag_snr_threshold,
    laplace_bag_mechanism,
    laplace_bag_scale,
    optimal_bag_size,
    optimal_rho,
    private_aggregate_risk,
)

# Reference table (r^2 = sigma^2 = 1) from the method notes, section 4.4:
# psi, k, rho, s, kappa, bias^2, variance, risk.
REFERENCE = [
    (2, 2, 0.1, 3.1623, 0.7597, 0.2403, 1.5811, 1.8214),
    (2, 2, 0.25, 2.0000, 0.6667, 0.3333, 1.0000, 1.3333),
    (2, 5, 0.5, 1.7457, 0.2543, 0.7850, 0.3295, 1.1145),
    (10, 2, 0.25, 0.1847, 0.7794, 0.0623, 0.1398, 0.2021),
    (10, 2, 1.0, 0.1111, 0.5000, 0.2778, 0.0556, 0.3333),
    (10, 5, 0.0, 1.0000, 1.0000, 0.0000, 1.0000, 1.0000),
    (10, 5, 0.1, 0.4709, 0.6403, 0.1720, 0.2632, 0.4351),
    (10, 5, 0.5, 0.1872, 0.3153, 0.5014, 0.0558, 0.5572),
    (10, 5, 1.0, 0.1111, 0.2000, 0.6578, 0.0222, 0.6800),
]


@pytest.mark.parametrize("row", REFERENCE)
def test_reference_table(row):
    psi, k, rho, *expected = row
    got = aggregate_risk(psi, k, rho)
    np.testing.assert_allclose([got.s, got.kappa, got.bias, got.variance, got.risk],
                               expected, atol=6e-5)


def test_issue_table_psi10_k5_snr1():
    risks = aggregate_risk(10, 5, [0.0, 0.1, 1.0], snr=1.0).risk
    np.testing.assert_allclose(risks, [1.0, 0.435, 0.680], atol=6e-4)


@pytest.mark.parametrize(("psi", "k"), [(3, 2), (10, 5), (20, 10), (7.5, 3)])
def test_closed_forms_at_the_two_extremes(psi, k):
    sigma2, snr = 1.7, 0.6
    bag = aggregate_risk(psi, k, 0.0, snr=snr, sigma2=sigma2)
    inst = aggregate_risk(psi, k, 1.0, snr=snr, sigma2=sigma2)
    assert bag.bias == 0.0
    assert bag.variance == pytest.approx(sigma2 * k / (psi - k), rel=1e-12)
    assert inst.kappa == pytest.approx(1 / k, rel=1e-12)
    assert inst.variance == pytest.approx(sigma2 / (k * (psi - 1)), rel=1e-10)
    expected_bias = snr * sigma2 * ((1 - 1 / k) ** 2 + (k - 1) / (k**2 * (psi - 1)))
    assert inst.bias == pytest.approx(expected_bias, rel=1e-10)


def test_singleton_bags_are_ols_for_every_rho():
    for rho in (0.0, 0.3, 1.0, 3.0):
        got = aggregate_risk(5.0, 1, rho, snr=2.0)
        assert got.bias == pytest.approx(0.0, abs=1e-14)
        assert got.variance == pytest.approx(1 / (5.0 - 1), rel=1e-12)


def test_bag_level_infeasible_when_psi_at_most_k():
    got = aggregate_risk(4, 5, 0.0)
    assert np.isinf(got.risk) and np.isinf(got.variance)
    assert np.isfinite(aggregate_risk(4, 5, 0.01).risk)


@pytest.mark.parametrize(("psi", "k", "expected"),
                         [(10, 2, 0.700), (10, 3, 0.835), (10, 5, 1.486), (6, 2, 1.333),
                          (6, 5, 7.381), (20, 5, 0.498)])
def test_snr_threshold_values_and_tie(psi, k, expected):
    threshold = instance_vs_bag_snr_threshold(psi, k)
    assert threshold == pytest.approx(expected, abs=6e-4)
    at = aggregate_risk(psi, k, [0.0, 1.0], snr=threshold).risk
    assert at[0] == pytest.approx(at[1], rel=1e-10)
    below = aggregate_risk(psi, k, [0.0, 1.0], snr=0.9 * threshold).risk
    assert below[1] < below[0]


def test_optimal_rho_matches_notes():
    rho, risk = optimal_rho(10, 5, snr=1.0)
    assert rho == pytest.approx(0.13, abs=0.005)
    assert risk == pytest.approx(0.430, abs=1e-3)
    grid = np.linspace(0, 1, 2001)
    assert risk <= aggregate_risk(10, 5, grid).risk.min() + 1e-12
    assert optimal_rho(5, 2, snr=0.5)[0] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("kwargs", [dict(psi=1.0, k=2, rho=0.5),
                                    dict(psi=5.0, k=0.5, rho=0.5),
                                    dict(psi=5.0, k=2, rho=-0.1),
                                    dict(psi=5.0, k=2, rho=np.nan)])
def test_theory_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        aggregate_risk(**kwargs)


# ------------------------------------------------------------------------- privacy


def test_laplace_scale_and_noise():
    assert laplace_bag_scale([1, 4], 0.5, (-2.0, 3.0)) == pytest.approx([10.0, 2.5])
    rng = np.random.default_rng(0)
    n, k = 40_000, 4
    y = rng.uniform(-5, 5, n)
    bags = np.repeat(np.arange(n // k), k)
    released = laplace_bag_mechanism(y, bags, 1.0, clip=(-1.0, 2.0), random_state=3)
    per_bag = released.reshape(-1, k)
    np.testing.assert_array_equal(per_bag, per_bag[:, :1].repeat(k, axis=1))
    noise = per_bag[:, 0] - np.clip(y, -1.0, 2.0).reshape(-1, k).mean(axis=1)
    expected = np.random.default_rng(3).laplace(0.0, 3.0 / (k * 1.0), n // k)
    np.testing.assert_allclose(noise, expected, atol=1e-12)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_brute_force_sensitivity_and_privacy_loss(k):
    """Replacing one label moves a bag mean by at most (hi - lo)/k; ratio e^epsilon."""
    lo, hi, epsilon = -1.5, 2.5, 0.8
    rng = np.random.default_rng(k)
    bag = rng.uniform(lo, hi, k)
    worst = 0.0
    for i in range(k):
        for new in np.linspace(lo, hi, 41):
            other = bag.copy()
            other[i] = new
            worst = max(worst, abs(other.mean() - bag.mean()))
    assert worst <= (hi - lo) / k + 1e-12
    extreme = np.full(k, lo)
    moved = extreme.copy()
    moved[0] = hi
    delta = moved.mean() - extreme.mean()
    assert delta == pytest.approx((hi - lo) / k)
    scale = laplace_bag_scale([k], epsilon, (lo, hi))[0]
    outputs = np.linspace(-10, 10, 2001)
    log_ratio = (np.abs(outputs - moved.mean()) - np.abs(outputs - extreme.mean())) / scale
    assert np.max(np.abs(log_ratio)) == pytest.approx(epsilon, rel=1e-12)
    printed = scale / 2  # the paper's C sqrt(log n)/(k eps) with range 2 C sqrt(log n)
    assert np.max(np.abs(log_ratio * scale / printed)) == pytest.approx(2 * epsilon)


@pytest.mark.parametrize(("psi", "k", "rho", "epsilon", "expected"),
                         [(10, 5, 1.0, 1.0, 1.869), (6, 3, 0.5, 0.5, 44.77),
                          (10, 2, 0.0, 1.0, 33.68)])
def test_private_risk_reference_values(psi, k, rho, epsilon, expected):
    n = int(psi * 100)
    got = private_aggregate_risk(psi, k, rho, epsilon=epsilon, n_samples=n,
                                 clip_constant=2.2)
    assert got.risk == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize(("epsilon", "expected"),
                         [(0.5, [1, 10, 10, 10]), (1.0, [1, 10, 10, 10]),
                          (2.0, [1, 10, 10, 9]), (5.0, [1, 7, 4, 2])])
def test_optimal_bag_size_finite_n_table(epsilon, expected):
    got = [optimal_bag_size(10, rho, epsilon=epsilon, n_samples=1000,
                            clip_constant=2.2)[0] for rho in (0.0, 0.2, 0.5, 1.0)]
    assert got == expected


def test_optimal_bag_size_dp_dominated_phase_transition():
    def best(rho):
        return optimal_bag_size(10, rho, epsilon=1.0, n_samples=10**15, snr=0.0,
                                sigma2=1e-6, max_bag_size=5)[0]

    assert best(0.0) == 1
    assert all(best(rho) == 5 for rho in (0.05, 0.2, 0.5, 1.0))


@pytest.mark.parametrize("epsilon", [0.0, -1.0, np.inf])
def test_privacy_rejects_bad_epsilon(epsilon):
    with pytest.raises(ValueError, match="epsilon"):
        laplace_bag_mechanism(np.zeros(4), [0, 0, 1, 1], epsilon, clip=(0, 1))


def test_privacy_rejects_bad_clip_and_nan():
    with pytest.raises(ValueError, match="clip"):
        laplace_bag_mechanism(np.zeros(4), [0, 0, 1, 1], 1.0, clip=(1, 0))
    with pytest.raises(ValueError, match="NaN"):
        laplace_bag_mechanism([0, np.nan, 1, 1], [0, 0, 1, 1], 1.0, clip=(0, 1))
