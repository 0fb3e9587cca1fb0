"""Issue 14 (R3D items): degenerate designs, extreme scales, bad input types."""

import warnings

import numpy as np
import pandas as pd
import pytest

from statlogit import R3D, from_long
from statlogit.datasets import make_r3d_package

DECILES = np.arange(1, 10) / 10


@pytest.fixture(scope="module")
def small():
    # n = 60: the designs where the selected bandwidth used to collapse
    x, Y, _ = make_r3d_package(60, 20, delta=1.0, random_state=0)
    return x, Y


def test_perfectly_compliant_fuzzy_equals_sharp_without_a_collapsed_bandwidth(small):
    x, Y = small
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fuzzy = R3D(quantiles=DECILES, random_state=0).fit(
            x, Y, treatment=(x >= 0).astype(int))
    assert fuzzy.first_stage_ == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.isfinite(fuzzy.tau_)) and np.all(fuzzy.bandwidth_ > 0)
    sharp = R3D(quantiles=DECILES, bandwidth=fuzzy.bandwidth_,
                random_state=0).fit(x, Y)
    np.testing.assert_allclose(fuzzy.tau_, sharp.tau_, atol=1e-10)


@pytest.mark.parametrize("levels", [(0.0, 1.0), (2.0, 2.0)])
def test_outcomes_constant_on_each_side_fall_back_to_the_rule_of_thumb(small, levels):
    x, _ = small
    Y = [np.full(5, levels[1] if xi >= 0 else levels[0]) for xi in x]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est = R3D(quantiles=DECILES, random_state=0).fit(x, Y)
    # Silverman's fallback 1.06 sd(x) n^(-1/3) (the MSE criterion is degenerate),
    # at least the window holding 3 distinct units per side (midpoint of the 3rd and
    # 4th distances to the cutoff)
    fallback = 1.06 * np.std(x, ddof=1) * x.size ** (-1 / 3)
    floor = max(np.mean(np.sort(np.abs(x[side]))[2:4]) for side in (x >= 0, x < 0))
    np.testing.assert_allclose(est.bandwidth_, max(fallback, floor), rtol=1e-12)
    np.testing.assert_allclose(est.tau_, levels[1] - levels[0], atol=1e-10)


def test_too_narrow_plug_in_is_enlarged_with_a_warning():
    x = np.linspace(-1, 1, 41)
    x = x[x != 0]
    Y = [np.full(3, 1.0 if xi >= 0 else 0.0) + 1e-3 * xi ** 3 for xi in x]
    with pytest.warns(UserWarning, match="enlarged"):
        est = R3D(quantiles=DECILES, p=2, random_state=0).fit(x * 1e-3, Y)
    assert np.all(est.n_effective_ >= 3)


@pytest.mark.parametrize("scale", [1e-200, 1e-8, 1e8, 1e200])
def test_scale_of_x_changes_only_the_bandwidths(small, scale):
    x, Y = small
    x, Y = x[:], Y
    x2, Y2, _ = make_r3d_package(300, 20, delta=1.0, random_state=3)
    ref = R3D(quantiles=DECILES, random_state=0).fit(x2, Y2)
    est = R3D(quantiles=DECILES, random_state=0).fit(x2 * scale, Y2)
    np.testing.assert_allclose(est.tau_, ref.tau_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(est.bandwidth_, ref.bandwidth_ * scale, rtol=1e-10)
    assert est.critical_value_ == pytest.approx(ref.critical_value_, rel=1e-10)
    shifted = R3D(quantiles=DECILES, cutoff=1e4, random_state=0).fit(x2 + 1e4, Y2)
    np.testing.assert_allclose(shifted.tau_, ref.tau_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("scale", [1e-200, 1e200, 1e300])
def test_scale_of_Y_is_equivariant(scale):
    x, Y, _ = make_r3d_package(300, 20, delta=1.0, random_state=3)
    ref = R3D(quantiles=DECILES, random_state=0).fit(x, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = R3D(quantiles=DECILES, random_state=0).fit(x, [y * scale for y in Y])
    np.testing.assert_allclose(est.bandwidth_, ref.bandwidth_, rtol=1e-10)
    np.testing.assert_allclose(est.tau_ / scale, ref.tau_, rtol=1e-9)


def test_x_minus_cutoff_overflow_is_refused(small):
    x, Y = small
    with pytest.raises(ValueError, match="cutoff overflows"):
        R3D(cutoff=-1.7e308).fit(x * 1e308, Y)


def test_string_treatment_is_refused_with_a_recipe(small):
    x, Y = small
    with pytest.raises(ValueError, match=r"treatment must be 0/1.*Encode it"):
        R3D().fit(x, Y, treatment=np.where(x >= 0, "yes", "no"))


def test_discrete_running_variable_messages(small):
    x, Y = small
    with pytest.raises(ValueError, match="distinct value.*discrete running variable"):
        R3D(quantiles=DECILES).fit(np.round(x), Y)
    with pytest.warns(UserWarning, match="mass points"):
        R3D(quantiles=DECILES, random_state=0).fit(np.round(x * 5) / 5, Y)


def test_complex_samples_are_refused(small):
    x, Y = small
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="Y must be real-valued"):
            R3D().fit(x, [y + 0j for y in Y])
        with pytest.raises(ValueError, match="Y must be real-valued"):
            R3D(quantiles=DECILES).fit(x, np.zeros((x.size, 9)) + 1j)
        with pytest.raises(ValueError, match="treatment must be real-valued"):
            R3D().fit(x, Y, treatment=(x >= 0) + 0j)


def test_from_long_on_a_dict_is_a_type_error():
    with pytest.raises(TypeError, match="df must be a pandas DataFrame"):
        from_long({"unit": [1], "x": [0.1], "y": [2.0]}, unit="unit", x="x", y="y")
    frame = from_long(pd.DataFrame({"unit": [1], "x": [0.1], "y": [2.0]}),
                      unit="unit", x="x", y="y")
    assert frame[0].tolist() == [0.1]


def test_donut_weights_and_mapping_messages(small):
    x, Y = small
    with pytest.raises(ValueError, match="donut=5 leaves 0 unit"):
        R3D(donut=5.0).fit(x, Y)
    with pytest.raises(ValueError, match="weights must be non-negative"):
        R3D().fit(x, Y, weights=-np.ones(x.size))
    with pytest.raises(ValueError, match="Y must be a sequence"):
        R3D().fit(x, {"unit": Y[0]})
