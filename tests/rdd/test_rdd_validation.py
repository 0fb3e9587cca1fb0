"""Validation checklist: plot_data, placebo cutoffs, bandwidth sensitivity (issue 16)."""

import joblib
import numpy as np
import pytest

from statlogit import R3D
from statlogit.datasets import make_r3d_package
from statlogit.rdd import bandwidth_sensitivity, placebo_cutoffs, plot_checks

LEVELS = np.array([0.25, 0.5, 0.75])


@pytest.fixture(scope="module")
def design():
    x, Y, _ = make_r3d_package(400, 30, delta=1.0, random_state=12)
    return x, Y


@pytest.fixture(scope="module")
def fitted(design):
    x, Y = design
    return R3D(quantiles=LEVELS, n_bootstrap=100, random_state=0).fit(x, Y)


def test_placebo_cutoffs_refit_on_each_side_and_do_not_depend_on_n_jobs(design, fitted,
                                                                         pyplot):
    x, Y = design
    frame = placebo_cutoffs(fitted, x, Y, [-0.4, 0.4], n_jobs=1)
    assert list(frame.columns[:4]) == ["cutoff", "quantile", "tau", "std_error"]
    assert frame.shape[0] == 2 * LEVELS.size
    keep = x >= 0
    by_hand = R3D(quantiles=LEVELS, n_bootstrap=100, cutoff=0.4, random_state=0).fit(
        x[keep], [y for y, k in zip(Y, keep, strict=True) if k])
    mine = frame[frame["cutoff"] == 0.4]
    np.testing.assert_array_equal(mine["tau"], by_hand.tau_)
    np.testing.assert_array_equal(mine["band_upper"], by_hand.band_[:, 1])
    assert mine["n_units"].iloc[0] == keep.sum()
    with joblib.parallel_config(backend="threading"):  # no worker start-up cost
        parallel = placebo_cutoffs(fitted, x, Y, [-0.4, 0.4], n_jobs=2)
    assert parallel.equals(frame)
    ax = plot_checks(frame)
    assert ax.get_xlabel() == "placebo cutoff" and len(ax.get_legend().get_texts()) == 3
    with pytest.raises(ValueError, match="placebo cutoff 1.5"):
        placebo_cutoffs(fitted, x, Y, [1.5])


def test_bandwidth_sensitivity_scales_the_selected_bandwidths(design, fitted, pyplot):
    x, Y = design
    frame = bandwidth_sensitivity(fitted, x, Y, scales=[0.8, 1.0])
    one = frame[frame["scale"] == 1.0]
    np.testing.assert_allclose(one["tau"], fitted.tau_, rtol=1e-12)
    np.testing.assert_allclose(one["bandwidth"], fitted.bandwidth_)
    scaled = R3D(quantiles=LEVELS, n_bootstrap=100, random_state=0,
                 bandwidth=0.8 * fitted.bandwidth_).fit(x, Y)
    np.testing.assert_allclose(frame[frame["scale"] == 0.8]["tau"], scaled.tau_,
                               rtol=1e-12)
    assert plot_checks(frame).get_xlabel() == "bandwidth scale"
    with pytest.raises(ValueError, match="scales"):
        bandwidth_sensitivity(fitted, x, Y, scales=[0.0])


def test_plot_data_shows_binned_unit_quantiles_and_the_fits(design, fitted, pyplot):
    x, Y = design
    axes = fitted.plot_data(quantiles=(0.25, 0.5), bins=10)
    assert len(axes) == 2 and axes[1].get_ylabel() == "unit quantile at q = 0.5"
    points = axes[1].lines[0]  # binned means below the cutoff
    below = x < 0
    edges = np.linspace(x[below].min(), x[below].max(), 11)
    first = below & (x <= edges[1])
    median = np.array([np.quantile(y, 0.5) for y in Y])
    assert points.get_ydata()[0] == pytest.approx(median[first].mean())
    fit_line = axes[1].lines[1]
    assert fit_line.get_ydata()[-1] == pytest.approx(fitted.coef_minus_[0, 1])
    with pytest.raises(ValueError, match="quantiles"):
        fitted.plot_data(quantiles=(0.05,))
    with pytest.raises(ValueError, match="bins"):
        fitted.plot_data(quantiles=(0.25,), bins=0)
