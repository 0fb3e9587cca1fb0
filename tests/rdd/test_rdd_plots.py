"""Every R3D figure (estimator, result objects, validation checks, studies) is readable.

Each plot is drawn from a small fit with warnings turned into errors, saved with a plain
``savefig`` and checked by the shared ``assert_readable_figure`` fixture (no text cut).
The fitted names (the running variable's Series name) must appear in the labels.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from statlogit import R3D
from statlogit.datasets import make_r3d_package
from statlogit.rdd import bandwidth_sensitivity, density_test, placebo_cutoffs, plot_checks

DECILES = np.arange(1, 10) / 10


@pytest.fixture(scope="module")
def fitted():
    x, Y, _ = make_r3d_package(200, 20, delta=1.0, random_state=0)
    x = pd.Series(x, name="vote margin")
    est = R3D(quantiles=DECILES, n_bootstrap=50, random_state=0).fit(x, Y)
    return est, x, Y


@pytest.fixture(scope="module")
def checks(fitted):
    est, x, Y = fitted
    return {"placebo": placebo_cutoffs(est, x, Y, [-0.5, 0.5]),
            "sensitivity": bandwidth_sensitivity(est, x, Y, [0.75, 1.0, 1.5])}


@pytest.fixture
def strict():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _texts(fig):
    from matplotlib.text import Text

    return " | ".join(t.get_text() for t in fig.findobj(Text))


def _legend_labels(ax):
    legend = ax.get_legend()
    assert legend is not None, "several artists drawn without a legend"
    return [t.get_text() for t in legend.get_texts()]


def test_effect_curve(fitted, pyplot, strict, assert_readable_figure):
    est = fitted[0]
    ax = est.plot()
    assert ax.figure.get_layout_engine() is not None
    assert _legend_labels(ax)[:2] == ["95% uniform band", "95% pointwise"]
    assert "quantile level q" in ax.get_xlabel()
    assert_readable_figure(ax.figure)


def test_binned_data_uses_the_running_variable_name(fitted, pyplot, strict,
                                                    assert_readable_figure):
    est = fitted[0]
    assert est.running_variable_name_ == "vote margin"
    axes = est.plot_data()
    assert len(axes) == 3
    assert all(ax.get_xlabel() == "vote margin" for ax in axes)
    assert len(_legend_labels(axes[0])) == 4
    assert_readable_figure(axes[0].figure)


def test_unnamed_running_variable_has_no_name():
    x, Y, _ = make_r3d_package(150, 20, random_state=1)
    est = R3D(quantiles=DECILES, n_bootstrap=20, random_state=0).fit(x, Y)
    assert est.running_variable_name_ is None
    frame = pd.DataFrame({"score": x})
    named = R3D(quantiles=DECILES, n_bootstrap=20, random_state=0).fit(frame, Y)
    assert named.running_variable_name_ == "score"
    np.testing.assert_allclose(named.tau_, est.tau_)


def test_density_test_plot(fitted, pyplot, strict, assert_readable_figure):
    result = density_test(fitted[1])
    ax = result.plot()
    assert ax.get_xlabel() == "vote margin"
    assert set(_legend_labels(ax)) >= {"local fit below", "local fit above"}
    assert_readable_figure(ax.figure)


@pytest.mark.parametrize("check", ["placebo", "sensitivity"])
def test_validation_checks_plot(checks, check, pyplot, strict, assert_readable_figure):
    ax = plot_checks(checks[check])
    assert len(_legend_labels(ax)) == 3
    assert ax.figure.get_layout_engine() is not None
    assert_readable_figure(ax.figure)


def test_study_figures(fitted, checks, pyplot, strict, assert_readable_figure):
    r3d_study = pytest.importorskip("simulations.r3d")
    est, x, _ = fitted
    rows = [dict(design=d, n=n, method=m, parity="paper", delta=0, coverage=0.9,
                 R3D_coverage=ref[0])
            for (d, n, m), ref in r3d_study.REFERENCE.items()]
    coverage = r3d_study._coverage_figure(pd.DataFrame(rows))
    table = pd.DataFrame({"quantile": DECILES, "truth": np.ones(9),
                          "pooled_quantile_rd": est.tau_})
    example = r3d_study._example_figure({"simple": est, "frechet": est}, table)
    checklist = r3d_study._checklist_figure(
        est, density_test(x), checks["placebo"], checks["sensitivity"])
    for fig in (coverage, example, checklist):
        assert fig.get_layout_engine() is not None
        assert_readable_figure(fig)
    assert "vote margin" in _texts(checklist)
    for ax in example.axes:
        assert "true tau(q)" in _legend_labels(ax)
