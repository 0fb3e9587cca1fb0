"""Property-based tests (hypothesis) for every public name of the aggregate family.

Every outcome must be a ``ValueError``/``TypeError`` whose message names the offending
argument, or a finite, correct result (scale-invariant predictions where the model is
unpenalised or internally standardised).
"""

import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from statlogit import (
    AggregateClassifier,
    AggregateGLMRegressor,
    AggregateRegressor,
    AggregateRegressorCV,
    aggregate_rho_path,
    aggregate_risk,
    debiased_bag_mse,
    instance_vs_bag_snr_threshold,
    laplace_bag_mechanism,
    laplace_bag_scale,
    optimal_bag_size,
    optimal_rho,
    private_aggregate_risk,
)

FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def outcome(call, names):
    """Run ``call``: a finite result, or a ValueError/TypeError naming one of ``names``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return call()
        except (ValueError, TypeError) as exc:
            message = str(exc)
            assert any(re.search(rf"\b{re.escape(n)}\b", message) for n in names), message
            return None


def assert_finite(*arrays):
    for a in arrays:
        assert np.all(np.isfinite(np.asarray(a, dtype=float)))


# ------------------------------------------------------------------ strategies

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
any_float = st.one_of(finite, st.sampled_from([np.nan, np.inf, -np.inf, 1e300, -1e300,
                                               1e-300, 0.0]))


@st.composite
def designs(draw, bad_values=True):
    n = draw(st.integers(0, 14))
    d = draw(st.integers(1, 4))
    elements = any_float if bad_values else finite
    X = draw(hnp.arrays(np.float64, (n, d), elements=elements))
    kind = draw(st.sampled_from(["float", "float", "float", "object", "str", "complex",
                                 "bool", "1d", "3d"]))
    if kind == "object":
        X = X.astype(object)
        if n:
            X[0, 0] = "a"
    elif kind == "str":
        X = X.astype(str)
    elif kind == "complex":
        X = X + 1j
    elif kind == "bool":
        X = X > 0
    elif kind == "1d":
        X = X[:, 0]
    elif kind == "3d":
        X = X[..., None]
    return X


@st.composite
def bag_labels(draw, n):
    kind = draw(st.sampled_from(["int", "int", "str", "mixed", "none", "nan", "short",
                                 "single", "2d"]))
    size = draw(st.integers(1, 4))
    codes = np.arange(n) // size
    if kind == "str":
        return np.array([f"b{c}" for c in codes])
    if kind == "mixed":
        return [int(c) if i % 2 else f"b{c}" for i, c in enumerate(codes)]
    if kind == "none":
        return [None if i == 0 else int(c) for i, c in enumerate(codes)]
    if kind == "nan":
        out = codes.astype(float)
        if n:
            out[0] = np.nan
        return out
    if kind == "short":
        return codes[:-1]
    if kind == "single":
        return np.zeros(n, dtype=int)
    if kind == "2d":
        return codes[:, None]
    return codes


def bag_mean_response(X, bags, rng):
    """A per-instance response constant within bags (or anything when bags are odd)."""
    n = np.shape(X)[0]
    raw = rng.standard_normal(n)
    try:
        labels = np.asarray(bags)
        if labels.ndim == 1 and labels.shape[0] == n and labels.dtype.kind in "iU":
            _, codes = np.unique(labels, return_inverse=True)
            codes = codes.ravel()
            return (np.bincount(codes, weights=raw) / np.bincount(codes))[codes]
    except TypeError:
        pass
    return raw


def draw_problem(data, seed):
    """A design, bag labels and a bag-constant response (all possibly malformed)."""
    X = data.draw(designs())
    bags = data.draw(bag_labels(np.shape(X)[0]))
    return X, bags, bag_mean_response(X, bags, np.random.default_rng(seed))


NAMES = ["X", "y", "bags", "sample_weight", "rho", "alpha", "cv", "rhos", "cov_type",
         "family", "max_iter", "tol", "features", "feature", "samples", "sample"]


def check_linear_fit(model, X, y):
    assert_finite(model.coef_, [model.intercept_], model.predict(X))
    if model.std_errors_ is not None:
        assert_finite(model.std_errors_)


# ------------------------------------------------------------- estimators: bad input


@FAST
@given(data=st.data())
def test_estimators_on_arbitrary_input(data):
    X, bags, y = draw_problem(data, seed=0)
    n = np.shape(X)[0]
    rng = np.random.default_rng(0)
    weights = data.draw(st.sampled_from([None, "ones", "negative", "nan", "zeros",
                                         "short", "ints"]))
    sw = {None: None, "ones": np.ones(n), "negative": -np.ones(n),
          "nan": np.full(n, np.nan), "zeros": np.zeros(n), "short": np.ones(max(n - 1, 0)),
          "ints": rng.integers(0, 3, n)}[weights]
    for make in (lambda: AggregateRegressor(rho=0.5),
                 lambda: AggregateRegressorCV(rhos=[0.0, 1.0], cv=2),
                 lambda: AggregateGLMRegressor(family="poisson", rho=0.5)):
        target = np.abs(y) if "GLM" in type(make()).__name__ else y
        model = outcome(lambda m=make, t=target: m().fit(X, t, bags=bags, sample_weight=sw),
                        NAMES)
        if model is not None:
            assert_finite(model.coef_, [model.intercept_], model.predict(X))
    labels = (np.asarray(y) > 0).astype(int)
    for loss in ("proportion", "exact"):
        model = outcome(lambda lo=loss: AggregateClassifier(loss=lo, rho=0.5).fit(
            X, labels, bags=bags, sample_weight=sw), NAMES + ["classes", "class"])
        if model is not None:
            proba = model.predict_proba(X)
            assert_finite(proba)
            np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_cv_fold_without_training_weight_is_a_value_error():
    """Found by the property test above: a fold whose training rows all have weight 0
    used to reach LAPACK's "A has a NaN entry"; now a ValueError naming the way out."""
    X, bags, y = np.arange(4.0)[:, None], np.array([0, 0, 0, 1]), np.array([1.0, 1, 1, 2])
    weights = np.array([1.0, 1.0, 1.0, 0.0])  # GroupKFold(2) trains on bag 1 alone once
    with pytest.raises(ValueError, match=r"sample_weight .* fewer folds \(cv\)"):
        AggregateRegressorCV(rhos=[0.0, 1.0], cv=2).fit(X, y, bags=bags,
                                                      sample_weight=weights)
    model = AggregateRegressorCV(rhos=[0.0, 1.0], cv=2).fit(X, y, bags=bags,
                                                           sample_weight=weights + 1.0)
    assert_finite(model.coef_, [model.intercept_])


@settings(max_examples=12, deadline=None)
@given(problem=st.integers(0, 2**16), log_scales=hnp.arrays(
    np.float64, 3, elements=st.floats(-300, 300)),
       loss=st.sampled_from(["proportion", "exact"]), rho=st.sampled_from([0.0, 1.0]))
def test_classifier_scale_invariant_unpenalised(problem, log_scales, loss, rho):
    """Without penalty (C=inf) the probabilities do not depend on the units of X."""
    rng = np.random.default_rng(problem)
    X = rng.standard_normal((60, 3))
    y = (X @ [1.0, -1.0, 0.5] + 2 * rng.logistic(size=60) > 0).astype(int)
    bags = np.arange(60) // 3
    scales = 10.0 ** np.round(log_scales)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = AggregateClassifier(loss=loss, rho=rho, C=np.inf).fit(X, y, bags=bags)
        moved = AggregateClassifier(loss=loss, rho=rho, C=np.inf).fit(X * scales, y,
                                                                      bags=bags)
    np.testing.assert_allclose(moved.predict_proba(X * scales), base.predict_proba(X),
                               atol=1e-6)


@FAST
@given(rho=st.one_of(any_float, st.just("a"), st.just(None)),
       alpha=st.one_of(any_float, st.just(-1.0)),
       cov_type=st.sampled_from(["cluster", "nonrobust", "HC0", None]))
def test_invalid_hyper_parameters(rho, alpha, cov_type):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 2))
    bags = np.arange(30) // 3
    y = bag_mean_response(X, bags, rng)
    for make in (lambda: AggregateRegressor(rho=rho, alpha=alpha, cov_type=cov_type),
                 lambda: AggregateRegressorCV(rhos=[rho], alpha=alpha, cov_type=cov_type),
                 lambda: AggregateGLMRegressor(family="poisson", rho=rho, alpha=alpha)):
        model = outcome(lambda m=make: m().fit(X, np.abs(y), bags=bags), NAMES)
        if model is not None:
            assert_finite(model.coef_, model.predict(X))


@FAST
@given(family=st.sampled_from(["binomial", "poisson", "gaussian", 3]),
       max_iter=st.sampled_from([0, 1, 50, 2.5, -3]),
       tol=st.sampled_from([0.0, 1e-8, -1.0, np.nan]))
def test_glm_hyper_parameters(family, max_iter, tol):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 2))
    bags = np.arange(30) // 3
    y = (rng.random(30) < 0.5).astype(float)
    y = (np.bincount(bags, weights=y) / 3)[bags]
    model = outcome(lambda: AggregateGLMRegressor(family=family, max_iter=max_iter,
                                                  tol=tol).fit(X, y, bags=bags), NAMES)
    if model is not None:
        assert_finite(model.coef_)
        assert np.all((model.predict(X) >= 0) & (model.predict(X) <= (
            1 if family == "binomial" else np.inf)))


# --------------------------------------------------- correct results: scale, structure


@st.composite
def clean_problems(draw):
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    d = draw(st.integers(1, 4))
    k = draw(st.integers(1, 4))
    n_bags = draw(st.integers(d + 3, 20))
    n = n_bags * k
    X = rng.standard_normal((n, d))
    structure = draw(st.sampled_from(["plain", "constant", "duplicate", "n<d"]))
    if structure == "constant":
        X[:, 0] = 3.0
    elif structure == "duplicate" and d > 1:
        X[:, 1] = X[:, 0]
    elif structure == "n<d":
        n = min(n, 8)
        X = rng.standard_normal((n, n + 2))
    bags = np.arange(n) // k
    y = X @ rng.standard_normal(X.shape[1]) + rng.standard_normal(n)
    ybar = np.bincount(bags, weights=y) / k
    log_scales = draw(hnp.arrays(np.float64, X.shape[1], elements=st.floats(-300, 300)))
    return X, ybar[bags], bags, 10.0 ** np.round(log_scales)


def projection_rss(X, y):
    """Residual sum of squares of y on [1, X] by numpy lstsq on equilibrated columns."""
    centred = X - X.mean(axis=0)
    top = np.max(np.abs(centred), axis=0)
    Z = centred / np.where(top > 0, top, 1.0)
    coef = np.linalg.lstsq(Z, y - y.mean(), rcond=None)[0]
    return float(np.sum((y - y.mean() - Z @ coef) ** 2))


@FAST
@given(problem=clean_problems(), rho=st.sampled_from([0.0, 0.3, 1.0, 3.0]))
def test_linear_predictions_scale_invariant_and_rho_one_is_least_squares(problem, rho):
    X, y, bags, scales = problem
    base = outcome(lambda: AggregateRegressor(rho=rho).fit(X, y, bags=bags), NAMES)
    if base is None:
        return
    check_linear_fit(base, X, y)
    moved = AggregateRegressor(rho=rho).fit(X * scales, y, bags=bags)
    check_linear_fit(moved, X * scales, y)
    np.testing.assert_allclose(moved.predict(X * scales), base.predict(X), rtol=1e-6,
                               atol=1e-6 * (1 + np.max(np.abs(y))))
    if rho == 1.0:
        rss = float(np.sum((y - base.predict(X)) ** 2))
        assert rss <= projection_rss(X, y) * (1 + 1e-8) + 1e-12 * np.sum(y**2)


@settings(max_examples=15, deadline=None)
@given(problem=clean_problems())
def test_cv_and_glm_scale_invariant(problem):
    X, y, bags, scales = problem
    cv = outcome(lambda: AggregateRegressorCV(rhos=[0.0, 0.5, 1.0], cv=2).fit(
        X, y, bags=bags), NAMES)
    if cv is not None:
        moved = AggregateRegressorCV(rhos=[0.0, 0.5, 1.0], cv=2).fit(X * scales, y,
                                                                     bags=bags)
        assert moved.rho_ == cv.rho_
        np.testing.assert_allclose(moved.predict(X * scales), cv.predict(X), rtol=1e-6,
                                   atol=1e-6 * (1 + np.max(np.abs(y))))
    if X.shape[0] <= X.shape[1] + 1:
        return  # the GLM is not identified with n <= d
    counts = np.exp(np.clip(y, -5, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        glm = AggregateGLMRegressor(family="poisson", rho=0.3).fit(X, counts, bags=bags)
        moved = AggregateGLMRegressor(family="poisson", rho=0.3).fit(X * scales, counts,
                                                                     bags=bags)
    assert_finite(glm.predict(X))
    np.testing.assert_allclose(moved.predict(X * scales), glm.predict(X), rtol=1e-5)


# --------------------------------------------------------------------- functions


@FAST
@given(psi=any_float, k=any_float, rho=any_float,
       snr=st.sampled_from([1.0, -1.0, np.nan]))
def test_theory_functions(psi, k, rho, snr):
    result = outcome(lambda: aggregate_risk(psi, k, rho, snr=snr),
                     ["psi", "k", "rho", "snr"])
    if result is not None:
        assert result.risk >= 0 and not np.isnan(result.risk)
        if rho > 0 or psi > k:
            assert_finite([result.risk, result.bias, result.variance])
    best = outcome(lambda: optimal_rho(psi, k), ["psi", "k", "rho_max"])
    if best is not None:
        assert_finite(best)
    thr = outcome(lambda: instance_vs_bag_snr_threshold(psi, k), ["psi", "k"])
    if thr is not None:
        assert not np.isnan(thr)


@FAST
@given(epsilon=any_float, k=any_float, psi=any_float,
       clip=st.sampled_from([(0.0, 1.0), (1.0, 0.0), (np.nan, 1.0), "ab", (0.0,)]),
       n_samples=st.sampled_from([1000, 1, 2.5]))
def test_privacy_functions(epsilon, k, psi, clip, n_samples):
    scale = outcome(lambda: laplace_bag_scale([k, 2.0], epsilon, clip),
                    ["bag_sizes", "epsilon", "clip"])
    if scale is not None:
        assert_finite(scale)
    risk = outcome(lambda: private_aggregate_risk(psi, k, 0.5, epsilon=epsilon,
                                                  n_samples=n_samples),
                   ["psi", "k", "rho", "epsilon", "n_samples", "bag_sizes"])
    if risk is not None:
        assert not np.isnan(risk.risk)
    best = outcome(lambda: optimal_bag_size(psi, 0.5, epsilon=epsilon, n_samples=n_samples),
                   ["psi", "k", "rho", "epsilon", "n_samples", "k_max", "bag_sizes"])
    if best is not None:
        assert_finite([best[0]], best[1])


@FAST
@given(data=st.data())
def test_mechanism_and_path_on_arbitrary_input(data):
    X, bags, y = draw_problem(data, seed=3)
    noisy = outcome(lambda: laplace_bag_mechanism(y, bags, 1.0, clip=(-3, 3),
                                                  random_state=0),
                    ["y", "bags", "epsilon", "clip"])
    if noisy is not None:
        assert_finite(noisy)
    path = outcome(lambda: aggregate_rho_path(X, y, bags, [0.5, 1.0]), NAMES)
    if path is not None:
        assert_finite(*path)


@FAST
@given(ybar=hnp.arrays(np.float64, st.integers(0, 6), elements=any_float),
       fbar=hnp.arrays(np.float64, st.integers(0, 6), elements=any_float),
       sizes=hnp.arrays(np.float64, st.integers(0, 6), elements=any_float))
def test_debiased_bag_mse(ybar, fbar, sizes):
    value = outcome(lambda: debiased_bag_mse(ybar, fbar, sizes), ["ybar", "fbar", "sizes"])
    if value is not None:
        assert not np.isnan(value)


@pytest.mark.parametrize("bags", [[1, "a", 2], np.array([1, "a", 2], dtype=object)])
def test_mixed_bag_types_named(bags):
    X = np.arange(6.0).reshape(3, 2)
    with pytest.raises(ValueError, match="bags mixes label types"):
        AggregateRegressor().fit(X, [1.0, 2.0, 3.0], bags=bags)
