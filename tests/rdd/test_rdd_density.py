"""density_test: equals rddensity (Cattaneo-Jansson-Ma 2020) at the same bandwidths."""

import warnings

import numpy as np
import pytest

from statlogit.rdd import density_test

KERNELS = ["triangular", "epanechnikov", "uniform"]


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("design", ["continuous", "mass points", "cutoff 0.3"])
def test_equals_rddensity_at_the_same_bandwidths(kernel, p, design):
    rddensity = pytest.importorskip("rddensity").rddensity
    rng = np.random.default_rng(p)
    x = rng.normal(size=1000)
    if design == "mass points":
        x = np.round(x * 20) / 20
    cutoff = 0.3 if design == "cutoff 0.3" else 0.0
    for h in (0.5, (0.4, 0.7)):
        ours = density_test(x, cutoff, bandwidth=h, p=p, kernel=kernel)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = rddensity(x, c=cutoff, p=p, kernel=kernel, bino_flag=False,
                            h=list(np.atleast_1d(h)))
        assert ours.statistic == pytest.approx(ref.test["t_jk"], rel=1e-6)
        assert ours.p_value == pytest.approx(ref.test["p_jk"], rel=1e-6, abs=1e-12)
        assert ours.difference == pytest.approx(ref.hat["diff"], rel=1e-6)
        assert ours.std_error == pytest.approx(ref.sd_jk["diff"], rel=1e-6)
        assert (ours.n_effective_below, ours.n_effective_above) == \
            (ref.n["eff_left"], ref.n["eff_right"])


def test_detects_manipulation_and_plots(pyplot):
    rng = np.random.default_rng(1)
    x = rng.normal(size=2000)
    # bunching: move 60 % of the units just below the cutoff to just above
    moved = (x > -0.3) & (x < 0) & (rng.uniform(size=x.size) < 0.6)
    x[moved] = -x[moved]
    result = density_test(x)
    assert result.p_value < 1e-3 and result.difference > 0
    assert density_test(rng.normal(size=2000)).p_value > 0.01
    ax = result.plot()
    assert ax.get_xlabel() == "running variable x"
    assert len(ax.get_legend().get_texts()) == 3


def test_bad_input():
    x = np.random.default_rng(0).normal(size=200)
    with pytest.raises(ValueError, match="cutoff"):
        density_test(x, cutoff=10.0)
    with pytest.raises(ValueError, match="bandwidth"):
        density_test(x, bandwidth=-1.0)
    with pytest.raises(ValueError, match="bandwidth"):
        density_test(x, bandwidth=0.01)
    with pytest.raises(ValueError, match="kernel"):
        density_test(x, kernel="gauss")
    with pytest.raises(ValueError, match="x"):
        density_test(np.r_[x, np.nan])
    with pytest.raises(ValueError, match="p"):
        density_test(x, p=0)


@pytest.mark.slow
def test_size_without_manipulation_is_nominal():
    rng = np.random.default_rng(2024)
    reps = 1000
    rejections = sum(density_test(rng.normal(size=1000)).p_value < 0.05
                     for _ in range(reps))
    size = rejections / reps
    print(f"density test size at 5%: {size:.3f} over {reps} replications")
    assert abs(size - 0.05) <= 0.02


def test_side_standard_errors_equal_rddensity():
    rddensity = pytest.importorskip("rddensity").rddensity
    x = np.random.default_rng(3).normal(size=800)
    ours = density_test(x, bandwidth=0.6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = rddensity(x, h=[0.6], bino_flag=False)
    assert ours.std_error_below == pytest.approx(ref.sd_jk["left"], rel=1e-6)
    assert ours.std_error_above == pytest.approx(ref.sd_jk["right"], rel=1e-6)
    assert ours.density_below == pytest.approx(ref.hat["left"], rel=1e-6)


@pytest.mark.parametrize("kernel", KERNELS)
def test_default_bandwidth_is_the_documented_normal_reference_rule(kernel):
    factor = {"triangular": 2.576, "epanechnikov": 2.345, "uniform": 1.843}[kernel]
    x = np.random.default_rng(5).normal(size=800)
    spread = min(np.std(x, ddof=1), np.subtract(*np.percentile(x, [75, 25])) / 1.349)
    h = factor * spread * x.size ** (-1 / 5)
    result = density_test(x, kernel=kernel)
    assert result.bandwidth == pytest.approx((h, h), rel=1e-12)
    # the documented floor: at least 20 + p + 1 observations per side
    few = np.r_[np.random.default_rng(6).uniform(-1, 0, 400), np.linspace(5, 9, 23)]
    assert density_test(few, kernel=kernel).n_effective_above == 23


def test_documented_gap_to_rddensity_default_bandwidths():
    """The numbers quoted in density_test's docstring and on the docs page."""
    rddensity = pytest.importorskip("rddensity").rddensity
    x = np.random.default_rng(1).normal(size=1000)
    ours = density_test(x)
    assert ours.bandwidth[0] == pytest.approx(0.637, abs=5e-4)
    assert ours.p_value == pytest.approx(0.339, abs=5e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = rddensity(x)
    h = tuple(np.ravel(ref.h.to_numpy())[:2])
    assert h == pytest.approx((0.928, 1.009), abs=5e-4)
    assert float(ref.test["p_jk"]) == pytest.approx(0.073, abs=5e-4)
    at_theirs = density_test(x, bandwidth=h)
    assert at_theirs.p_value == pytest.approx(float(ref.test["p_jk"]), rel=1e-9)
