"""Property-based tests of CheckeredClassifier on bad and extreme input (issue 14).

Every outcome must be either a ValueError/TypeError whose message names the argument
(and says what to change), or a fit whose probabilities are finite, in [0, 1], sum to 1
and come in ``classes_`` (sorted) order. The scale tests check the exact identities of
the penalised objective: shifting a column changes nothing (intercepts are unpenalised),
multiplying X by ``a`` and C by ``1/a**2`` changes nothing, and with a StandardScaler in
a Pipeline per-column units change nothing.
"""

import re
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from statlogit import CheckeredClassifier
from statlogit.datasets import make_xor_mixture

CHEAP = {"n_restarts": 1, "max_iter": 30, "random_state": 0}
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
#: A fit of these sizes takes well under a second; ten seconds means a hang.
HANG = 10.0


def _outcome(make, fit_args, *, names, predict_X=None):
    """Fit; return the fitted model, or check the error names one of ``names``."""
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = make().fit(*fit_args[:2], **fit_args[2] if len(fit_args) > 2 else {})
            proba = model.predict_proba(fit_args[0] if predict_X is None else predict_X)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        assert re.search(r"\b(" + "|".join(map(re.escape, names)) + r")\b", message), (
            f"{type(exc).__name__} does not name any of {names}: {message}")
        return None
    finally:
        assert time.perf_counter() - start < HANG
    assert np.all(np.isfinite(proba)) and np.all(proba >= 0) and np.all(proba <= 1)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-10)
    assert list(model.classes_) == sorted(model.classes_)
    assert proba.shape[1] == len(model.classes_)
    return model


extreme_floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, 1e-300, -1e-300, 1e300, -1e300, 5e-324, 1.7e308]),
)


@SETTINGS
@given(shape=st.tuples(st.integers(0, 12), st.integers(0, 4)), data=st.data(),
       n_classes=st.integers(1, 4))
def test_any_float_matrix_fits_or_names_x_or_y(shape, data, n_classes):
    X = data.draw(hnp.arrays(np.float64, shape, elements=extreme_floats))
    y = data.draw(hnp.arrays(np.int64, shape[0], elements=st.integers(0, n_classes - 1)))
    _outcome(lambda: CheckeredClassifier(**CHEAP), (X, y), names=["X", "y"])


@SETTINGS
@given(log_scales=st.lists(st.integers(-300, 300), min_size=3, max_size=3),
       shifts=st.lists(st.sampled_from([0.0, 1.0, -1e4, 1e4, 1e100]), min_size=3,
                       max_size=3),
       m=st.integers(1, 3))
def test_extreme_and_mixed_column_scales_give_valid_probabilities(log_scales, shifts, m):
    X, y = make_xor_mixture(60, random_state=0)
    X = np.c_[X, X[:, 0] * X[:, 1]] * 10.0 ** np.array(log_scales) + np.array(shifts)
    assume(np.all(np.isfinite(X)))
    model = _outcome(lambda: CheckeredClassifier(n_hyperplanes=m, **CHEAP), (X, y),
                     names=["X", "y"])
    assert model is not None


@pytest.mark.parametrize("kind", ["object", "str", "complex", "bool", "object-mixed",
                                  "str-letters", "dict-cells"])
def test_dtypes_fit_or_name_x(kind):
    X, y = make_xor_mixture(40, random_state=1)
    cast = {
        "object": lambda: X.astype(object),
        "str": lambda: X.astype(str),
        "complex": lambda: X + 1j,
        "bool": lambda: X > 0,
        "object-mixed": lambda: np.c_[X.astype(object), np.array(["a"] * 40, object)],
        "str-letters": lambda: np.full(X.shape, "a"),
        "dict-cells": lambda: np.array([[{"a": 1}, 1.0]] * 40, dtype=object),
    }[kind]()
    model = _outcome(lambda: CheckeredClassifier(**CHEAP), (cast, y), names=["X"])
    if kind in ("complex", "object-mixed", "str-letters", "dict-cells"):
        assert model is None  # refused, with X named


@pytest.mark.parametrize("case", ["constant", "duplicated", "n<d", "separable",
                                  "two rows", "one row", "empty"])
def test_degenerate_designs(case):
    X, y = make_xor_mixture(40, random_state=2)
    X, y = {
        "constant": (np.c_[X, np.ones(40), np.zeros(40)], y),
        "duplicated": (np.c_[X, X], y),
        "n<d": (np.random.default_rng(0).standard_normal((8, 30)), y[:8]),
        "separable": (X, (X[:, 0] > 0).astype(int)),
        "two rows": (X[:2], np.array([0, 1])),
        "one row": (X[:1], y[:1]),
        "empty": (X[:0], y[:0]),
    }[case]
    model = _outcome(lambda: CheckeredClassifier(C=1e6, **CHEAP), (X, y),
                     names=["X", "y"])
    assert (model is None) == (case in ("one row", "empty"))


@settings(SETTINGS, max_examples=15)
@given(n_classes=st.integers(1, 12), m=st.integers(1, 3), labels=st.sampled_from(
    ["int", "str", "categorical"]))
def test_one_to_many_classes(n_classes, m, labels):
    rng = np.random.default_rng(n_classes)
    X = rng.standard_normal((3 * n_classes + 3, 2))
    codes = np.arange(len(X)) % n_classes
    names = np.array([f"c{k:02d}" for k in range(n_classes)])[::-1]
    y = {"int": lambda: codes * 7 - 3, "str": lambda: names[codes],
         "categorical": lambda: pd.Categorical(names[codes], categories=names,
                                               ordered=True)}[labels]()
    model = _outcome(lambda: CheckeredClassifier(n_hyperplanes=m, **CHEAP), (X, y),
                     names=["y"])
    assert (model is None) == (n_classes == 1)
    if model is not None:
        assert list(model.classes_) == sorted(set(np.asarray(y).tolist()))


BAD_WEIGHTS = {
    "negative": lambda n: np.r_[-1.0, np.ones(n - 1)],
    "nan": lambda n: np.r_[np.nan, np.ones(n - 1)],
    "inf": lambda n: np.r_[np.inf, np.ones(n - 1)],
    "zeros": lambda n: np.zeros(n),
    "short": lambda n: np.ones(n - 1),
    "2-D": lambda n: np.ones((n, 2)),
    "strings": lambda n: np.array(["a"] * n),
    "complex": lambda n: np.ones(n) + 1j,
    "sum overflows": lambda n: np.full(n, 1e308),
    "scalar": lambda n: 3.0,
}


@pytest.mark.parametrize("case", BAD_WEIGHTS, ids=list(BAD_WEIGHTS))
def test_bad_sample_weights_name_sample_weight(case):
    X, y = make_xor_mixture(30, random_state=3)
    weight = BAD_WEIGHTS[case](30)
    with pytest.raises((ValueError, TypeError), match="sample_weight"):
        CheckeredClassifier(**CHEAP).fit(X, y, sample_weight=weight)


@settings(SETTINGS, max_examples=15)
@given(weights=hnp.arrays(np.float64, 30, elements=st.sampled_from(
    [0.0, 1e-300, 1e-10, 1.0, 3.0, 1e10, 1e300])))
def test_extreme_but_valid_weights_fit_or_name_sample_weight(weights):
    X, y = make_xor_mixture(30, random_state=3)
    _outcome(lambda: CheckeredClassifier(**CHEAP), (X, y, {"sample_weight": weights}),
             names=["sample_weight", "y"])


BAD_PARAMS = {
    "n_hyperplanes": [0, -1, 1.5, "2", None, True, 10**9],
    "C": [0.0, -1.0, np.nan, np.inf, "1", None],
    "solver": ["sgd", None, 3, "LBFGS"],
    "n_restarts": [0, -2, 2.5, None],
    "max_iter": [0, -1, np.inf, 1.5],
    "tol": [0.0, -1e-4, np.nan, np.inf, "small"],
    "random_state": ["x", -1, 1.5, [1, 2]],
}


@SETTINGS
@given(case=st.sampled_from([(k, v) for k, vs in BAD_PARAMS.items() for v in vs]))
def test_invalid_hyper_parameters_are_named(case):
    name, value = case
    X, y = make_xor_mixture(30, random_state=4)
    with pytest.raises((ValueError, TypeError), match=name):
        CheckeredClassifier(**{**CHEAP, name: value}).fit(X, y)


def test_predict_input_errors_name_x():
    X, y = make_xor_mixture(40, random_state=5)
    model = CheckeredClassifier(**CHEAP).fit(X, y)
    for bad in (X[:, :1], np.where(X > 1, np.nan, X), X[:0], X.astype(str).astype(object)
                + "z", X[:, 0]):
        with pytest.raises(ValueError, match=r"\bX\b"):
            model.predict_proba(bad)
    huge = model.predict_proba(X * 1e300)
    assert np.all(np.isfinite(huge)) and np.allclose(huge.sum(axis=1), 1.0)


# ------------------------------------------------------------------- column scaling

@pytest.fixture(scope="module")
def xor():
    X, y = make_xor_mixture(300, random_state=0)
    return X, y


@pytest.mark.parametrize("m", [1, 2])
@pytest.mark.parametrize("shift", [1.0, -1e4, 1e4])
def test_shifting_columns_changes_nothing(xor, m, shift):
    """The intercepts are unpenalised: X + shift has the same penalised optimum."""
    X, y = xor
    params = {"n_hyperplanes": m, "random_state": 0, "tol": 1e-8}
    base = CheckeredClassifier(**params).fit(X, y).predict_proba(X)
    moved = X + shift * np.array([1.0, -0.5])
    shifted = CheckeredClassifier(**params).fit(moved, y).predict_proba(moved)
    np.testing.assert_allclose(shifted, base, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("m", [1, 2])
@pytest.mark.parametrize("a", [1e-8, 1e-3, 1e3, 1e8])
def test_scaling_x_and_c_together_changes_nothing(xor, m, a):
    """C sum CE + |W|^2/2 at (a X, C / a^2) is the objective at (X, C) over a^2."""
    X, y = xor
    params = {"n_hyperplanes": m, "random_state": 0, "tol": 1e-8}
    base = CheckeredClassifier(C=1.0, **params).fit(X, y).predict_proba(X)
    scaled = CheckeredClassifier(C=1.0 / a**2, **params).fit(a * X, y)
    np.testing.assert_allclose(scaled.predict_proba(a * X), base, rtol=1e-6, atol=1e-6)


def test_units_matter_without_a_scaler_and_not_with_one(xor):
    """The L2 penalty is on raw coefficients (as in LogisticRegression), so column
    units change the fit; a StandardScaler in a Pipeline removes the dependence."""
    X, y = xor
    units = np.array([1e-8, 1e8])
    params = {"n_hyperplanes": 2, "random_state": 0, "tol": 1e-8}
    raw = CheckeredClassifier(**params).fit(X, y).predict_proba(X)
    unit_raw = CheckeredClassifier(**params).fit(X * units, y).predict_proba(X * units)
    assert np.max(np.abs(unit_raw - raw)) > 0.1
    pipe = make_pipeline(StandardScaler(), CheckeredClassifier(**params))
    base = pipe.fit(X, y).predict_proba(X)
    for scale in (units, np.array([1e8, 1e-8]), np.array([3.0, 1e-3])):
        moved = (X + 1e2) * scale  # a shift of 1e4 on a 1e-8 column would erase it
        np.testing.assert_allclose(pipe.fit(moved, y).predict_proba(moved), base,
                                   rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("solver", ["xgd", "em"])
def test_other_solvers_are_shift_and_scale_equivariant_too(xor, solver):
    """Same iterates in standardised coordinates: X + 1e4 and (3e3 X, C / 9e6) give the
    probabilities of (X, C), converged or not."""
    X, y = xor
    params = {"n_hyperplanes": 2, "random_state": 0, "solver": solver, "n_restarts": 1,
              "max_iter": 60 if solver == "xgd" else 15}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        base = CheckeredClassifier(**params).fit(X, y).predict_proba(X)
        shifted = CheckeredClassifier(**params).fit(X + 1e4, y).predict_proba(X + 1e4)
        scaled = CheckeredClassifier(C=1 / 9e6, **params).fit(3e3 * X, y).predict_proba(
            3e3 * X)
    np.testing.assert_allclose(shifted, base, atol=1e-6)
    np.testing.assert_allclose(scaled, base, atol=1e-6)
