"""Selected bandwidths wider than the data: kept, with a warning naming the numbers."""

import re
import warnings

import numpy as np
import pytest

from statlogit import R3D
from statlogit.datasets import make_r3d_package

DECILES = np.arange(1, 10) / 10
WIDE = "exceeds the range of x on a side"


def _linear_design(n=300, seed=0):
    """Quantiles linear in x: no curvature, so the plug-in bandwidth explodes."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    Y = [1.0 + 0.5 * xi + (xi >= 0) + rng.normal(0, 1, 40) for xi in x]
    return x, Y


def test_wide_bandwidth_is_kept_and_the_warning_gives_the_numbers():
    x, Y = _linear_design()
    with pytest.warns(UserWarning, match=WIDE) as record:
        est = R3D(quantiles=DECILES, bandwidth="mse", n_bootstrap=50,
                  random_state=0).fit(x, Y)
    message = next(str(r.message) for r in record if WIDE in str(r.message))
    below, above = -x.min(), x.max()
    wide = (est.bandwidth_ > below) | (est.bandwidth_ > above)
    assert wide.any()
    assert f"{int(wide.sum())} of 9 quantile level(s)" in message
    assert f"largest h = {est.bandwidth_.max():.4g}" in message
    assert f"{below:.4g} below and {above:.4g} above" in message
    # kept, not capped: the same fit as with the selected bandwidths given
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fixed = R3D(quantiles=DECILES, bandwidth=est.bandwidth_, n_bootstrap=50,
                    random_state=0).fit(x, Y)
    np.testing.assert_array_equal(fixed.tau_, est.tau_)


def test_warning_in_original_units_of_x():
    x, Y = _linear_design(seed=1)
    with pytest.warns(UserWarning, match=WIDE) as record:
        est = R3D(quantiles=DECILES, bandwidth="mse", n_bootstrap=20,
                  random_state=0).fit(1000 * x, Y)
    message = next(str(r.message) for r in record if WIDE in str(r.message))
    largest = float(re.search(r"largest h = ([0-9.e+]+)", message).group(1))
    assert largest == pytest.approx(est.bandwidth_.max(), rel=1e-3)
    assert largest > 1000 * x.max()


def test_capping_changes_nothing_with_the_uniform_kernel_but_does_otherwise():
    x, Y = _linear_design(seed=2)
    reach = max(-x.min(), x.max())
    fits = {}
    for kernel in ("uniform", "epanechnikov"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            wide = R3D(quantiles=DECILES, kernel=kernel, bandwidth=3.0 * reach,
                       n_bootstrap=20, random_state=0).fit(x, Y)
            capped = R3D(quantiles=DECILES, kernel=kernel, bandwidth=reach,
                         n_bootstrap=20, random_state=0).fit(x, Y)
        fits[kernel] = np.max(np.abs(wide.tau_ - capped.tau_))
    assert fits["uniform"] < 1e-12
    assert fits["epanechnikov"] > 1e-3


def test_no_warning_when_the_bandwidths_fit_inside_the_data():
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, 400)
    Y = [np.sin(4 * xi) + (xi >= 0) + rng.normal(0, 0.3, 40) for xi in x]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = R3D(quantiles=DECILES, n_bootstrap=20, random_state=0).fit(x, Y)
    assert np.all(est.bandwidth_ < min(-x.min(), x.max()))


def test_fixed_bandwidths_wider_than_the_data_do_not_warn():
    x, Y, _ = make_r3d_package(200, 20, random_state=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        R3D(quantiles=DECILES, bandwidth=5.0, n_bootstrap=20, random_state=0).fit(x, Y)


def test_restrict_bandwidth_caps_at_the_larger_side_range_without_warning():
    x, Y = _linear_design(seed=5)
    reach = max(-x.min(), x.max())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        kept = R3D(quantiles=DECILES, bandwidth="mse", n_bootstrap=20,
                   random_state=0).fit(x, Y)
    assert np.any(kept.bandwidth_ > reach)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        capped = R3D(quantiles=DECILES, bandwidth="mse", restrict_bandwidth=True,
                     n_bootstrap=20, random_state=0).fit(x, Y)
    np.testing.assert_array_equal(capped.bandwidth_, np.minimum(kept.bandwidth_, reach))
    fixed = R3D(quantiles=DECILES, bandwidth=capped.bandwidth_, n_bootstrap=20,
                random_state=0).fit(x, Y)
    np.testing.assert_array_equal(fixed.tau_, capped.tau_)
    np.testing.assert_array_equal(capped.bandwidth_selection_.outcome, capped.bandwidth_)
