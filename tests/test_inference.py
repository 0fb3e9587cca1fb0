"""The shared inference toolkit against statsmodels' OLS on the same data."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from statlogit.inference import (
    WaldInferenceMixin,
    check_cov_type,
    conf_int_frame,
    sandwich_covariance,
    wald_table,
)


@pytest.fixture(scope="module")
def ols_problem():
    rng = np.random.default_rng(0)
    X = sm.add_constant(rng.standard_normal((200, 3)))
    groups = rng.integers(0, 25, 200)
    y = X @ [1.0, 0.5, -2.0, 0.0] + rng.standard_normal(200) * (1 + np.abs(X[:, 1]))
    y += rng.standard_normal(25)[groups]
    coef = np.linalg.lstsq(X, y, rcond=None)[0]
    scores = X * (y - X @ coef)[:, None]
    return X, y, groups, coef, np.linalg.inv(X.T @ X), scores


def test_robust_sandwich_equals_statsmodels_hc1(ols_problem):
    X, y, _, _, bread_inv, scores = ols_problem
    want = sm.OLS(y, X).fit(cov_type="HC1").cov_params()
    got = sandwich_covariance(bread_inv, scores, cov_type="robust")
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_cluster_sandwich_equals_statsmodels_cluster(ols_problem):
    X, y, groups, _, bread_inv, scores = ols_problem
    want = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups}).cov_params()
    got = sandwich_covariance(bread_inv, scores, cov_type="cluster", groups=groups)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_wald_table_and_intervals_equal_statsmodels(ols_problem):
    X, y, _, coef, _, _ = ols_problem
    fit = sm.OLS(y, X).fit(cov_type="HC1")
    table = wald_table(coef, fit.bse, names=["const", "a", "b", "c"], alpha=0.1)
    np.testing.assert_allclose(table["P>|z|"], fit.pvalues, rtol=1e-8)
    np.testing.assert_allclose(table.iloc[:, -2:], fit.conf_int(alpha=0.1), rtol=1e-10)
    t_fit = sm.OLS(y, X).fit()
    intervals = conf_int_frame(coef, t_fit.bse, alpha=0.05, df=t_fit.df_resid)
    np.testing.assert_allclose(intervals, t_fit.conf_int(), rtol=1e-10)
    assert list(intervals.columns) == ["lower", "upper"]


class _Fitted(WaldInferenceMixin):
    def _inference_frame(self):
        return pd.DataFrame({"coef": [1.0, -2.0], "std err": [0.5, 1.0]}, index=["a", "b"])


def test_mixin_summary_is_a_statsmodels_summary_with_names():
    summary = _Fitted().summary(alpha=0.1)
    text = summary.as_text()
    assert "_Fitted results" in text and "[0.05" in text and "b " in text
    assert "<table" in summary.as_html()
    np.testing.assert_allclose(_Fitted().conf_int(0.05).loc["a"], [1 - 0.98, 1 + 0.98],
                               atol=1e-3)


@pytest.mark.parametrize(("cov_type", "groups", "match"), [
    ("hc3", None, "cov_type must be one of"),
    ("cluster", None, "needs groups"),
    ("robust", [0, 1], "set cov_type=\"cluster\""),
])
def test_bad_cov_type_is_named(cov_type, groups, match):
    with pytest.raises(ValueError, match=match):
        check_cov_type(cov_type, groups)


def test_one_cluster_and_bad_alpha_are_refused(ols_problem):
    _, _, _, coef, bread_inv, scores = ols_problem
    with pytest.raises(ValueError, match="at least two clusters"):
        sandwich_covariance(bread_inv, scores, cov_type="cluster", groups=np.zeros(200))
    with pytest.raises(ValueError, match="alpha"):
        wald_table(coef, np.ones(4), alpha=1.5)
