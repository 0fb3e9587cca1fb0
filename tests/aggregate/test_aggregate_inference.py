"""Standard errors of the aggregate estimators against statsmodels; sample weights."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from statlogit import AggregateRegressor, AggregateRegressorCV


def problem(seed=0, n=150, d=3, n_bags=40):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * [1.0, 3.0, 0.2] + [0.0, 1.0, -2.0]
    bags = np.concatenate([np.arange(n_bags), rng.integers(0, n_bags, n - n_bags)])
    rng.shuffle(bags)
    y = X @ np.array([1.0, -0.5, 2.0]) + 0.3 + rng.standard_normal(n) * (1 + X[:, 0] ** 2)
    labels, codes, sizes = np.unique(bags, return_inverse=True, return_counts=True)
    ybar = np.bincount(codes, weights=y) / sizes
    return X, ybar, bags, codes, sizes


def bag_means(X, codes, sizes):
    return np.column_stack([np.bincount(codes, weights=c) for c in X.T]) / sizes[:, None]


@pytest.mark.parametrize("cov_type, sm_cov", [("cluster", "HC1"), ("nonrobust", "nonrobust")])
def test_rho_zero_equals_wls_on_bag_means(cov_type, sm_cov):
    X, ybar, bags, codes, sizes = problem()
    model = AggregateRegressor(rho=0.0, cov_type=cov_type).fit(X, ybar[codes], bags=bags)
    wls = sm.WLS(ybar, sm.add_constant(bag_means(X, codes, sizes)), weights=sizes).fit(
        cov_type=sm_cov)
    np.testing.assert_allclose(model._params(), wls.params, rtol=1e-10)
    np.testing.assert_allclose(model.std_errors_, wls.bse, rtol=1e-8)
    np.testing.assert_allclose(model.cov_, wls.cov_params(), rtol=1e-8, atol=1e-14)


def test_rho_one_equals_clustered_ols_on_broadcast_means():
    X, ybar, bags, codes, _ = problem(1)
    model = AggregateRegressor().fit(X, ybar[codes], bags=bags)
    ols = sm.OLS(ybar[codes], sm.add_constant(X)).fit(cov_type="cluster",
                                                       cov_kwds={"groups": codes})
    np.testing.assert_allclose(model._params(), ols.params, rtol=1e-10)
    np.testing.assert_allclose(model.std_errors_, ols.bse, rtol=1e-8)


@pytest.mark.parametrize("factor", [1e-150, 1e150])
def test_standard_errors_scale_equivariant(factor):
    X, ybar, bags, codes, _ = problem(2)
    base = AggregateRegressor(rho=0.4).fit(X, ybar[codes], bags=bags)
    moved = AggregateRegressor(rho=0.4).fit(X * factor, ybar[codes], bags=bags)
    np.testing.assert_allclose(moved.std_errors_[1:] * factor, base.std_errors_[1:],
                               rtol=1e-8)
    np.testing.assert_allclose(moved.std_errors_[0], base.std_errors_[0], rtol=1e-8)


def test_conf_int_and_summary_use_feature_names():
    X, ybar, bags, codes, _ = problem(3)
    frame = pd.DataFrame(X, columns=["age", "income", "score"])
    model = AggregateRegressor(rho=0.3).fit(frame, ybar[codes], bags=bags)
    ci = model.conf_int(alpha=0.1)
    assert list(ci.index) == ["intercept", "age", "income", "score"]
    assert list(ci.columns) == ["lower", "upper"]
    half = 1.6448536269514722 * model.std_errors_
    np.testing.assert_allclose(ci["upper"] - ci["lower"], 2 * half, rtol=1e-10)
    text = model.summary().as_text()
    assert "income" in text and "No. Bags" in text
    cv = AggregateRegressorCV(rhos=[0.0, 1.0], cv=3).fit(frame, ybar[codes], bags=bags)
    assert cv.conf_int().shape == (4, 2)


def test_unavailable_standard_errors_explain_why():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 8))
    bags = np.repeat(np.arange(5), 8)
    y = np.repeat(rng.standard_normal(5), 8)
    model = AggregateRegressor(rho=0.5, cov_type="nonrobust").fit(X, y, bags=bags)
    assert model.std_errors_ is None
    with pytest.raises(ValueError, match="more bags"):
        model.conf_int()


def test_bad_cov_type_raises():
    X, ybar, bags, codes, _ = problem()
    with pytest.raises(ValueError, match="cov_type"):
        AggregateRegressor(cov_type="HC0").fit(X, ybar[codes], bags=bags)


@pytest.mark.parametrize("rho", [0.0, 0.5, 1.0])
def test_integer_weights_equal_repeated_rows(rho):
    X, ybar, bags, codes, _ = problem(4)
    rng = np.random.default_rng(1)
    w = rng.integers(0, 3, X.shape[0])
    w[np.flatnonzero(np.bincount(codes, weights=w)[codes] == 0)] = 1
    weighted = AggregateRegressor(rho=rho).fit(X, ybar[codes], bags=bags, sample_weight=w)
    repeated = AggregateRegressor(rho=rho).fit(np.repeat(X, w, axis=0),
                                               np.repeat(ybar[codes], w),
                                               bags=np.repeat(bags, w))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-9)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-9)
    np.testing.assert_allclose(weighted.std_errors_, repeated.std_errors_, rtol=1e-8)


def test_cv_integer_weights_equal_repeated_rows():
    X, ybar, bags, codes, _ = problem(5)
    w = np.random.default_rng(2).integers(1, 3, X.shape[0])
    from sklearn.model_selection import GroupKFold

    splits_w = list(GroupKFold(3).split(X, None, bags))
    rows = np.repeat(np.arange(X.shape[0]), w)
    splits_r = [(np.flatnonzero(np.isin(rows, tr)), np.flatnonzero(np.isin(rows, te)))
                for tr, te in splits_w]
    weighted = AggregateRegressorCV(rhos=[0.0, 0.3, 1.0], cv=_Fixed(splits_w)).fit(
        X, ybar[codes], bags=bags, sample_weight=w)
    repeated = AggregateRegressorCV(rhos=[0.0, 0.3, 1.0], cv=_Fixed(splits_r)).fit(
        X[rows], ybar[codes][rows], bags=bags[rows])
    np.testing.assert_allclose(weighted.cv_scores_, repeated.cv_scores_, rtol=1e-9)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-9)


class _Fixed:
    def __init__(self, splits):
        self.splits = splits

    def split(self, X, y=None, groups=None):
        return iter(self.splits)


@pytest.mark.parametrize("factor", [1e-300, 1e300])
def test_standard_errors_finite_at_extreme_scales(factor):
    X, ybar, bags, codes, _ = problem(6)
    base = AggregateRegressor(rho=0.4).fit(X, ybar[codes], bags=bags)
    moved = AggregateRegressor(rho=0.4).fit(X * factor, ybar[codes], bags=bags)
    assert np.all(np.isfinite(moved.std_errors_))
    np.testing.assert_allclose(moved.std_errors_[1:] * factor, base.std_errors_[1:],
                               rtol=1e-8)


# ----------------------------------------------------------------------------- GLM


def glm_problem(seed=0, n=300, n_bags=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2)) * [1.0, 2.0] + [0.5, -1.0]
    eta = 0.3 + X @ np.array([0.8, -0.4])
    return X, eta, rng


@pytest.mark.parametrize("cov_type, sm_cov", [("cluster", "cluster"),
                                              ("nonrobust", "nonrobust")])
def test_glm_singleton_bags_equal_statsmodels_logit(cov_type, sm_cov):
    from statlogit import AggregateGLMRegressor

    X, eta, rng = glm_problem()
    y = (rng.random(X.shape[0]) < 1 / (1 + np.exp(-eta))).astype(float)
    model = AggregateGLMRegressor(cov_type=cov_type).fit(X, y, bags=np.arange(len(y)))
    kwds = {"groups": np.arange(len(y))} if sm_cov == "cluster" else None
    logit = sm.Logit(y, sm.add_constant(X)).fit(disp=0, cov_type=sm_cov, cov_kwds=kwds,
                                                tol=1e-12)
    np.testing.assert_allclose(model._params(), logit.params, rtol=1e-6)
    np.testing.assert_allclose(model.std_errors_, logit.bse, rtol=1e-6)


def test_glm_poisson_bag_totals_equal_statsmodels_glm_with_offset():
    """Features constant within bags: the bag model is a Poisson GLM of the totals with
    offset log(k_a), so the model-based covariances agree."""
    from statlogit import AggregateGLMRegressor

    rng = np.random.default_rng(3)
    n_bags = 80
    sizes = rng.integers(1, 6, n_bags)
    bags = np.repeat(np.arange(n_bags), sizes)
    x_bag = rng.standard_normal((n_bags, 2))
    totals = rng.poisson(sizes * np.exp(0.2 + x_bag @ np.array([0.5, -0.3])))
    model = AggregateGLMRegressor(family="poisson", cov_type="nonrobust").fit(
        x_bag[bags], totals / sizes, bags=bags)
    ref = sm.GLM(totals, sm.add_constant(x_bag), family=sm.families.Poisson(),
                 offset=np.log(sizes)).fit(tol=1e-12)
    np.testing.assert_allclose(model._params(), ref.params, rtol=1e-6)
    np.testing.assert_allclose(model.std_errors_, ref.bse, rtol=1e-6)


@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_glm_integer_weights_equal_repeated_rows(family):
    from statlogit import AggregateGLMRegressor

    X, eta, rng = glm_problem(4, n=120)
    bags = np.arange(120) // 4
    mu = 1 / (1 + np.exp(-eta)) if family == "binomial" else np.exp(eta)
    y = rng.binomial(1, mu) if family == "binomial" else rng.poisson(mu)
    w = rng.integers(1, 4, 120)
    ybar = np.bincount(bags, weights=w * y) / np.bincount(bags, weights=w)
    weighted = AggregateGLMRegressor(family=family, rho=0.5).fit(
        X, ybar[bags], bags=bags, sample_weight=w)
    repeated = AggregateGLMRegressor(family=family, rho=0.5).fit(
        np.repeat(X, w, axis=0), np.repeat(ybar[bags], w), bags=np.repeat(bags, w))
    np.testing.assert_allclose(weighted._params(), repeated._params(), rtol=1e-5)
    np.testing.assert_allclose(weighted.std_errors_, repeated.std_errors_, rtol=1e-5)
