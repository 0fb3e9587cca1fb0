"""Property-based tests (hypothesis) of the ordinal family's public names on bad and
extreme input: every outcome is a ValueError/TypeError naming the argument, or a finite,
correct result (valid probabilities; scale-free where the model is)."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from statlogit import (
    PrestoClassifier,
    PrestoClassifierCV,
    ProportionalOddsClassifier,
    presto_path,
)

FAST = settings(max_examples=12, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])

MAKERS = {
    "po": lambda **kw: ProportionalOddsClassifier(**kw),
    "presto": lambda **kw: PrestoClassifier(alpha=0.01, **kw),
    "cv": lambda **kw: PrestoClassifierCV(n_alphas=2, cv=2, random_state=0, **kw),
}


def _data(seed, n=40, p=2, n_classes=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = np.arange(n) % n_classes
    return X, y


def _fit_quietly(model, X, y, **fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        return model.fit(X, y, **fit)


def _valid(model, X):
    proba = model.predict_proba(X)
    assert np.all(np.isfinite(proba)) and np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.intercept_))
    return proba


def _raises_naming(names, call):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    message = str(info.value)
    assert any(re.search(rf"\b{re.escape(n)}\b", message) for n in names), message


# ---------------------------------------------------------------- bad X, y


@FAST
@given(which=st.sampled_from(list(MAKERS)), seed=st.integers(0, 10**6),
       bad=st.sampled_from([np.nan, np.inf, -np.inf]), row=st.integers(0, 39))
def test_nan_and_inf_are_refused(which, seed, bad, row):
    X, y = _data(seed)
    X[row, seed % 2] = bad
    _raises_naming(["X"], lambda: MAKERS[which]().fit(X, y))


@FAST
@given(which=st.sampled_from(list(MAKERS)), n=st.integers(0, 1))
def test_empty_and_one_row(which, n):
    X, y = _data(0)
    _raises_naming(["X", "y"], lambda: MAKERS[which]().fit(X[:n], y[:n]))


@FAST
@given(which=st.sampled_from(list(MAKERS)),
       kind=st.sampled_from(["1d", "3d", "short_y", "y_2d", "complex_X", "complex_y",
                             "object_X", "str_X_words"]))
def test_wrong_shapes_and_dtypes(which, kind):
    X, y = _data(1)
    cases = {
        "1d": (X[:, 0], y), "3d": (X[:, :, None], y), "short_y": (X, y[:-3]),
        "y_2d": (X, np.c_[y, y]), "complex_X": (X + 1j, y),
        "complex_y": (X, y + 0j), "object_X": (np.array([["a", 1]] * 40, dtype=object), y),
        "str_X_words": (np.full(X.shape, "high"), y),
    }
    Xb, yb = cases[kind]
    _raises_naming(["X", "y"], lambda: MAKERS[which]().fit(Xb, yb))


@FAST
@given(which=st.sampled_from(list(MAKERS)), seed=st.integers(0, 10**6))
def test_bool_and_numeric_strings_work(which, seed):
    X, y = _data(seed)
    as_bool = X > 0
    model = _fit_quietly(MAKERS[which](), as_bool, y)
    _valid(model, as_bool)
    as_text = X.astype(str)
    model = _fit_quietly(MAKERS[which](), as_text, y)
    _valid(model, X)


# ---------------------------------------------------------------- scales, structure


@FAST
@given(seed=st.integers(0, 10**6),
       exponents=st.lists(st.integers(-300, 300), min_size=2, max_size=2))
def test_extreme_mixed_scales_are_finite_or_refused(seed, exponents):
    X, y = _data(seed, n=60)
    scaled = X * 10.0 ** np.array(exponents, dtype=np.float64)
    for which in ("po", "presto"):
        try:
            model = _fit_quietly(MAKERS[which](), scaled, y)
        except ValueError as exc:
            assert "rescale X" in str(exc)
            continue
        _valid(model, scaled)


@FAST
@given(seed=st.integers(0, 10**6), exponent=st.integers(-8, 8),
       shift=st.sampled_from([0.0, 1e4, -1e4]))
def test_scale_or_shift_do_not_change_predictions(seed, exponent, shift):
    X, y = _data(seed, n=80)
    changed = X * np.array([10.0**exponent, 1.0]) if shift == 0 else X + shift
    for which in ("po", "presto"):
        base = _fit_quietly(MAKERS[which](tol=1e-10), X, y).predict_proba(X)
        other = _fit_quietly(MAKERS[which](tol=1e-10), changed, y).predict_proba(changed)
        np.testing.assert_allclose(other, base, rtol=1e-6, atol=1e-8)


@FAST
@given(seed=st.integers(0, 10**6), value=st.floats(-1e6, 1e6))
def test_constant_and_duplicated_columns(seed, value):
    X, y = _data(seed, n=60)
    base = {w: _fit_quietly(MAKERS[w](tol=1e-10), X, y).predict_proba(X)
            for w in ("po", "presto")}
    constant = np.column_stack([X, np.full(len(y), value)])
    duplicated = np.column_stack([X, X[:, 0]])
    for which in ("po", "presto"):
        for wider in (constant, duplicated):
            model = _fit_quietly(MAKERS[which](tol=1e-10), wider, y)
            np.testing.assert_allclose(_valid(model, wider), base[which], atol=1e-6)


@FAST
@given(which=st.sampled_from(list(MAKERS)), seed=st.integers(0, 10**6),
       p=st.integers(10, 30))
def test_more_features_than_rows(which, seed, p):
    X, y = _data(seed, n=12, p=p)
    _valid(_fit_quietly(MAKERS[which](), X, y), X)


@FAST
@given(which=st.sampled_from(["po", "presto"]), seed=st.integers(0, 10**6))
def test_separable_data_stay_finite(which, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 2))
    y = np.digitize(X[:, 0], [-0.3, 0.3])
    _valid(_fit_quietly(MAKERS[which](max_iter=30), X, y), X)


@FAST
@given(which=st.sampled_from(list(MAKERS)), n_classes=st.sampled_from([1, 2, 7, 12]))
def test_one_two_and_many_classes(which, n_classes):
    X, y = _data(3, n=72, n_classes=n_classes)
    if n_classes == 1:
        _raises_naming(["y"], lambda: MAKERS[which]().fit(X, y))
        return
    model = _fit_quietly(MAKERS[which](), X, y)
    _valid(model, X)
    assert list(model.classes_) == list(range(n_classes))


@FAST
@given(labels=st.permutations(["high", "low", "mid"]))
def test_unordered_string_labels_warn(labels):
    X, y = _data(4)
    names = np.array(labels)[y]
    with pytest.warns(UserWarning, match="categories="):
        _fit_quietly_keep_label_warning(PrestoClassifier(), X, names)


def _fit_quietly_keep_label_warning(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


# ---------------------------------------------------------------- sample weights


@FAST
@given(which=st.sampled_from(list(MAKERS)),
       kind=st.sampled_from(["negative", "nan", "inf", "short", "2d", "zeros", "text",
                             "class_zero"]))
def test_bad_sample_weights(which, kind):
    X, y = _data(5)
    w = np.ones(len(y))
    bad = {"negative": np.r_[-1.0, w[1:]], "nan": np.r_[np.nan, w[1:]],
           "inf": np.r_[np.inf, w[1:]], "short": w[:-1], "2d": np.c_[w, w],
           "zeros": 0 * w, "text": np.array(["a"] * len(y)),
           "class_zero": np.where(y == 2, 0.0, 1.0)}[kind]
    names = ["sample_weight"] if kind != "class_zero" else ["sample_weight", "y"]
    _raises_naming(names, lambda: MAKERS[which]().fit(X, y, sample_weight=bad))


# ---------------------------------------------------------------- hyper-parameters


BAD_PARAMETERS = [
    ("alpha", -1.0), ("alpha", np.nan), ("alpha", "big"), ("tol", 0.0), ("tol", -1.0),
    ("max_iter", 0), ("max_iter", 2.5), ("link", "logistic"), ("l1_ratio", 1.5),
    ("l1_ratio", -0.1), ("penalty_factor", [1.0]), ("penalty_factor", [-1.0, 1.0]),
    ("standardize", "yes"), ("penalize_first", None), ("categories", [0, 0, 1, 2]),
    ("categories", [0, 1]),
]
BAD_CV_PARAMETERS = [("cv", 1), ("scoring", "accuracy"), ("n_alphas", 0),
                     ("alpha_min_ratio", 0.0), ("alpha_min_ratio", 2.0),
                     ("alphas", [-1.0]), ("verbose", -1), ("l1_ratio", "x")]
BAD_PO_PARAMETERS = [("cov_type", "HC7"), ("link", "identity"), ("tol", "x")]


INVALID = ([(PrestoClassifier, c) for c in BAD_PARAMETERS]
           + [(PrestoClassifierCV, c) for c in BAD_CV_PARAMETERS]
           + [(ProportionalOddsClassifier, c) for c in BAD_PO_PARAMETERS]
           + [(presto_path, c) for c in BAD_PARAMETERS if c[0] != "alpha"])


@pytest.mark.parametrize("case", INVALID, ids=lambda c: f"{c[0].__name__}-{c[1][0]}")
def test_invalid_hyper_parameters_are_named(case):
    entry, (name, value) = case
    X, y = _data(6)
    if entry is presto_path:
        _raises_naming([name], lambda: presto_path(X, y, **{name: value}))
    else:
        _raises_naming([name], lambda: entry(**{name: value}).fit(X, y))


def test_cluster_covariance_needs_groups():
    X, y = _data(9)
    _raises_naming(["groups"], lambda: ProportionalOddsClassifier(
        cov_type="cluster").fit(X, y))
    _raises_naming(["groups"], lambda: ProportionalOddsClassifier().fit(
        X, y, groups=np.arange(len(y))))
