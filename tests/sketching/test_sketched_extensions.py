"""Issues 14 and 18: rank hidden by centring, scale invariance, ridge, several responses,
weights, standard errors (statsmodels), scipy.sparse designs."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import statsmodels.api as sm
from sklearn.linear_model import Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from statlogit import SketchedLinearRegression
from statlogit.sketching import sketch_size_rule

_N_BELOW_D = {"check_sample_weight_equivalence_on_dense_data":
              "refuses n_samples < n_features by design",
              "check_sample_weight_equivalence_on_sparse_data":
              "refuses n_samples < n_features by design"}


def regression(n, d, seed, noise=1.0, intercept=3.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + rng.uniform(-2, 2, d)
    y = intercept + X @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    return X, y


@parametrize_with_checks([
    SketchedLinearRegression(alpha=2.0),
    SketchedLinearRegression(cov_type="HC1", sketch="countsketch"),
], expected_failed_checks=lambda estimator: _N_BELOW_D)
def test_sklearn_compatible_with_ridge_and_weights(estimator, check):
    check(estimator)


# ------------------------------------------------------------ issue 14, item 3
@pytest.mark.parametrize("seed", range(4))
def test_duplicated_column_with_intercept_gives_the_minimum_norm_solution(seed):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.standard_normal((5000, 3)), columns=list("abc"))
    X["a_copy"] = X.a
    y = X.a - 2 * X.b + rng.standard_normal(5000)
    centred = X.to_numpy() - X.to_numpy().mean(axis=0)
    truth = np.linalg.lstsq(centred, y - y.mean(), rcond=None)[0]
    model = SketchedLinearRegression(random_state=seed)
    with pytest.warns(UserWarning, match="rank 3 < 4"):
        model.fit(X, y)
    assert model.rank_ == 3
    np.testing.assert_allclose(model.coef_, truth, rtol=1e-10, atol=1e-12)
    fast = SketchedLinearRegression(solver="sketch-and-solve", random_state=seed)
    with pytest.warns(UserWarning, match="rank 3 < 4"):
        fast.fit(X, y)
    assert fast.rank_ == 3 and abs(fast.coef_[0] - fast.coef_[3]) < 1e-10
    assert np.all(np.abs(fast.coef_) < 5)


def test_constant_column_with_intercept_is_dropped_not_blown_up():
    X, y = regression(3000, 3, 1)
    X = np.column_stack([X, np.full(3000, 0.1)])
    with pytest.warns(UserWarning, match="rank 3 < 4"):
        model = SketchedLinearRegression(random_state=0).fit(X, y)
    assert model.coef_[3] == pytest.approx(0.0, abs=1e-12)
    truth = np.linalg.lstsq(np.column_stack([np.ones(3000), X[:, :3]]), y, rcond=None)[0]
    np.testing.assert_allclose(model.coef_[:3], truth[1:], rtol=1e-10)


def test_string_response_and_tiny_eps_get_clear_errors():
    X, _ = regression(50, 2, 0)
    with pytest.raises(ValueError, match="y must be numeric"):
        SketchedLinearRegression().fit(X, np.array(["a", "b"] * 25))
    with pytest.raises(ValueError, match="eps=1e-200"):
        sketch_size_rule(5, eps=1e-200)


@pytest.mark.parametrize("solver", ["precondition", "sketch-and-solve"])
def test_predictions_invariant_to_column_scale_and_shift(solver):
    X, y = regression(4000, 5, 2)
    base = SketchedLinearRegression(solver=solver, random_state=1).fit(X, y).predict(X)
    scales = np.array([1e-8, 1e8, 1.0, 1e-3, 1e5])
    scaled = SketchedLinearRegression(solver=solver, random_state=1).fit(X * scales, y)
    np.testing.assert_allclose(scaled.predict(X * scales), base, rtol=1e-6)
    shifted = SketchedLinearRegression(solver=solver, random_state=1).fit(X + 1e4, y)
    np.testing.assert_allclose(shifted.predict(X + 1e4), base, rtol=1e-6)


# ----------------------------------------------------------------- issue 18
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_ridge_equals_sklearn_cholesky(fit_intercept, weighted):
    X, y = regression(3000, 6, 3)
    w = np.random.default_rng(0).uniform(0.2, 3.0, 3000) if weighted else None
    for alpha in (0.5, 300.0):
        ours = SketchedLinearRegression(alpha=alpha, fit_intercept=fit_intercept,
                                        random_state=0).fit(X, y, sample_weight=w)
        peer = Ridge(alpha=alpha, solver="cholesky", fit_intercept=fit_intercept).fit(
            X, y, sample_weight=w)
        np.testing.assert_allclose(ours.coef_, peer.coef_, rtol=1e-8)
        assert ours.intercept_ == pytest.approx(peer.intercept_, rel=1e-8, abs=1e-10)
        fast = SketchedLinearRegression(alpha=alpha, solver="sketch-and-solve",
                                        random_state=0).fit(X, y, sample_weight=w)
        assert np.all(np.isfinite(fast.coef_))


@pytest.mark.parametrize("solver", ["precondition", "sketch-and-solve"])
def test_several_responses_equal_column_by_column_fits(solver):
    X, y = regression(3000, 5, 4)
    Y = np.column_stack([y, -2 * y + X[:, 0], np.random.default_rng(1).normal(size=3000)])
    model = SketchedLinearRegression(solver=solver, random_state=2).fit(X, Y)
    assert model.coef_.shape == (3, 5) and model.intercept_.shape == (3,)
    for k in range(3):
        single = SketchedLinearRegression(solver=solver, random_state=2).fit(X, Y[:, k])
        np.testing.assert_allclose(model.coef_[k], single.coef_, rtol=1e-10)
        assert model.intercept_[k] == pytest.approx(single.intercept_, rel=1e-10)
    assert model.predict(X).shape == (3000, 3)


def test_integer_weights_equal_repeated_rows():
    X, y = regression(2000, 4, 5)
    w = np.random.default_rng(3).integers(0, 4, 2000)
    weighted = SketchedLinearRegression(random_state=0).fit(X, y, sample_weight=w)
    repeated = SketchedLinearRegression(random_state=0).fit(np.repeat(X, w, axis=0),
                                                            np.repeat(y, w))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-10)
    assert weighted.intercept_ == pytest.approx(repeated.intercept_, rel=1e-10)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC1"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_exact_mode_standard_errors_equal_statsmodels(cov_type, fit_intercept):
    X, y = regression(2500, 4, 6)
    y = y + np.abs(X[:, 0]) * np.random.default_rng(2).standard_normal(2500)  # hetero
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = SketchedLinearRegression(cov_type=cov_type, fit_intercept=fit_intercept,
                                     random_state=0).fit(frame, y)
    design = sm.add_constant(frame) if fit_intercept else frame
    peer = sm.OLS(y, design).fit(cov_type=cov_type)
    np.testing.assert_allclose(model.std_errors_, peer.bse.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(model.cov_, peer.cov_params().to_numpy(), rtol=1e-8,
                               atol=1e-14)
    ours = model.conf_int(alpha=0.1)
    theirs = peer.conf_int(alpha=0.1)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-8)
    assert list(ours.index) == list(theirs.index)[: len(ours)] or fit_intercept
    text = model.summary().as_text()
    assert "a" in text and ("const" in text) == fit_intercept


def test_weighted_standard_errors_equal_statsmodels_wls():
    X, y = regression(2000, 3, 7)
    w = np.random.default_rng(4).uniform(0.5, 2.0, 2000)
    model = SketchedLinearRegression(random_state=0).fit(X, y, sample_weight=w)
    peer = sm.WLS(y, sm.add_constant(X), weights=w).fit()
    np.testing.assert_allclose(model.std_errors_, peer.bse, rtol=1e-8)


def test_ridge_and_several_responses_have_no_naive_standard_errors():
    X, y = regression(500, 3, 8)
    model = SketchedLinearRegression(alpha=1.0).fit(X, y)
    with pytest.raises(ValueError, match="alpha=0"):
        model.summary()


@pytest.mark.parametrize("density", [1e-3, 1e-2, 1e-1])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_design_equals_dense_fit(density, fit_intercept):
    rng = np.random.default_rng(9)
    n, d = 40000, 12
    X = scipy.sparse.random(n, d, density=density, format="csr", random_state=rng,
                            data_rvs=rng.standard_normal)
    X = scipy.sparse.hstack([X, scipy.sparse.random(n, 1, density=0.5, format="csr",
                                                    random_state=rng)]).tocsr()
    y = X @ rng.standard_normal(d + 1) + 2.0 + rng.standard_normal(n)
    dense = SketchedLinearRegression(fit_intercept=fit_intercept, cov_type="HC1",
                                     random_state=0).fit(X.toarray(), y)
    for fmt in ("csr", "csc"):
        sparse = SketchedLinearRegression(fit_intercept=fit_intercept, cov_type="HC1",
                                          random_state=0).fit(X.asformat(fmt), y)
        np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10)
        assert sparse.intercept_ == pytest.approx(dense.intercept_, rel=1e-10, abs=1e-12)
        np.testing.assert_allclose(sparse.std_errors_, dense.std_errors_, rtol=1e-8)
        np.testing.assert_allclose(sparse.predict(X.asformat(fmt)), dense.predict(X),
                                   rtol=1e-9)
    fast = SketchedLinearRegression(solver="sketch-and-solve", sketch="countsketch",
                                    random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fast.fit(X, y)
    assert np.all(np.isfinite(fast.coef_))


def test_sparse_sketch_is_a_sparse_product():
    """CountSketch of a CSR matrix equals the sketch of its dense copy."""
    from statlogit.sketching import CountSketch, SparseSign

    rng = np.random.default_rng(1)
    X = scipy.sparse.random(3000, 7, density=0.01, format="csr", random_state=rng)
    for operator in (CountSketch(50, random_state=0), SparseSign(50, random_state=0)):
        np.testing.assert_allclose(operator.apply(X), operator.apply(X.toarray()),
                                   atol=1e-13)
