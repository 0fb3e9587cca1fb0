"""The package's inference convention on the many-expectations estimators:
``conf_int(alpha)`` -> DataFrame[lower, upper] by name, ``summary(alpha)`` -> statsmodels
Summary, a coverage level passed as alpha refused."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.iolib.summary2 import Summary

from statlogit import MixtureISExpectations, MonteCarloExpectations, MultipleExpectations


def named_moments(X):
    x = X[:, 0]
    return pd.DataFrame({"m2": x**2, "m4": x**4})


ESTIMATORS = [MultipleExpectations(budget=4000, random_state=0),
              MonteCarloExpectations(budget=4000, random_state=0),
              MixtureISExpectations(budget=4000, random_state=0)]


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_conf_int_and_summary_follow_the_convention(est):
    est.fit(named_moments, stats.norm())
    ci = est.conf_int(alpha=0.1)
    assert list(ci.columns) == ["lower", "upper"]
    assert list(ci.index) == ["m2", "m4"]
    # independent truth: the normal quantile from scipy, the estimator's own SEs
    half = stats.norm.ppf(0.95) * est.std_errors_
    np.testing.assert_allclose(ci["lower"], est.estimates_ - half, rtol=1e-12)
    np.testing.assert_allclose(ci["upper"], est.estimates_ + half, rtol=1e-12)
    # the exact moments 1 and 3 lie in the 99.9 % intervals
    wide = est.conf_int(alpha=0.001)
    assert np.all((wide["lower"] < [1.0, 3.0]) & ([1.0, 3.0] < wide["upper"]))

    summary = est.summary(alpha=0.1)
    assert isinstance(summary, Summary)
    table = summary.tables[1]
    assert list(table.index) == ["m2", "m4"]
    np.testing.assert_allclose(table["coef"], est.estimates_)
    np.testing.assert_allclose(table["std err"], est.std_errors_)
    np.testing.assert_allclose(table["[0.05"], ci["lower"])
    np.testing.assert_allclose(table["0.95]"], ci["upper"])
    assert "m4" in summary.as_text()


def test_unnamed_outputs_get_positional_names():
    est = MonteCarloExpectations(budget=500, random_state=0)
    est.fit(lambda X: np.column_stack([X[:, 0], X[:, 0] ** 2]), stats.norm())
    assert list(est.conf_int().index) == ["E[0]", "E[1]"]


@pytest.mark.parametrize("alpha", [0.95, 0.9, 0.51])
def test_a_coverage_level_passed_as_alpha_is_refused(alpha):
    est = MonteCarloExpectations(budget=500, random_state=0).fit(named_moments,
                                                                stats.norm())
    with pytest.raises(ValueError, match=r"alpha=.*1 - coverage.*pass alpha="):
        est.conf_int(alpha)
    with pytest.raises(ValueError, match="alpha"):
        est.summary(alpha)


@pytest.mark.parametrize("alpha", [0.0, -0.1, 1.0, float("nan")])
def test_alpha_outside_the_unit_interval_is_refused(alpha):
    est = MonteCarloExpectations(budget=500, random_state=0).fit(named_moments,
                                                                stats.norm())
    with pytest.raises(ValueError, match="alpha"):
        est.conf_int(alpha)
