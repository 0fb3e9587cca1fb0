"""Property-based tests (hypothesis) for every public name of the sketching family.

Contract (issue 14): every outcome is either a ValueError/TypeError whose message names
the offending argument, or a finite, correct result; nothing hangs. Correct means, for
SketchedLinearRegression, fitted values equal to those of numpy's least squares on the
column-normalised design with an intercept (fitted values are unique even when the
design is rank-deficient), and, for the operators, linearity and exact power-of-two
homogeneity.
"""

import warnings

import numpy as np
import pytest
import scipy.linalg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statlogit import SketchedLinearRegression
from statlogit.datasets import (
    make_coherent_regression,
    make_linear_regression,
    make_sketch_instance,
    make_spike_regression,
)
from statlogit.sketching import (
    OSNAP,
    SRHT,
    CountSketch,
    GaussianSketch,
    SparseSign,
    fwht,
    make_sketch,
    sketch_size_rule,
    theory_sketch_size,
)

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
OPERATORS = [SRHT, GaussianSketch, CountSketch, SparseSign, OSNAP]
BAD_SCALARS = [0, -1, 1.5, True, "3", None, np.nan, np.inf, 10**30, [4]]


def expect_named_error_or(call, names):
    """Run ``call``; an exception must be ValueError/TypeError naming one of ``names``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call()
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in names), str(exc)
        return None


def reference_fitted(X, y, w=None, operator=None):
    """Fitted values of (sketched) least squares with intercept, column-normalised X.

    With ``operator``: the sketch-and-solve answer, least squares on the sketch of the
    weighted, centred problem.
    """
    scale = np.max(np.abs(X), axis=0)
    scale[scale == 0] = 1.0
    Z = X / scale
    root = np.ones(len(y)) if w is None else np.sqrt(w)
    if operator is None:
        design = np.column_stack([np.ones(len(y)), Z])
        coef = np.linalg.lstsq(design * root[:, None], y * root, rcond=None)[0]
        return design @ coef
    weights = root**2
    z_mean, y_mean = weights @ Z / weights.sum(), weights @ y / weights.sum()
    sketched = operator.apply(np.column_stack([Z - z_mean, y - y_mean]) * root[:, None])
    coef = np.linalg.lstsq(sketched[:, :-1], sketched[:, -1], rcond=None)[0]
    return (Z - z_mean) @ coef + y_mean


# --------------------------------------------------------------- the estimator
designs = st.fixed_dictionaries({
    "seed": st.integers(0, 2**16),
    "n": st.integers(12, 80),
    "d": st.integers(1, 5),
    "log_scales": st.lists(st.sampled_from([-300, -150, -8, 0, 8, 150, 300]),
                           min_size=5, max_size=5),
    "shift": st.sampled_from([0.0, 1e4, -1e8]),
    "duplicate": st.booleans(),
    "constant": st.booleans(),
    "solver": st.sampled_from(["precondition", "sketch-and-solve"]),
    "sketch": st.sampled_from(["srht", "gaussian", "countsketch", "sparse_sign"]),
    "weights": st.sampled_from([None, "integers", "uniform"]),
})


@SETTINGS
@given(designs)
def test_fit_is_finite_and_least_squares_at_any_scale(case):
    rng = np.random.default_rng(case["seed"])
    n, d = case["n"], case["d"]
    X = rng.standard_normal((n, d))
    if case["duplicate"] and d > 1:
        X[:, -1] = X[:, 0]
    if case["constant"]:
        X[:, 0] = 0.5
    # a shift only where it leaves the data well determined: predictions X @ coef +
    # intercept cancel to about u * shift / scale (as in any linear model's predict)
    exponents = case["log_scales"][:d]
    shift = case["shift"] if 0 <= min(exponents) and max(exponents) <= 8 else 0.0
    X = X * np.array([10.0**e for e in case["log_scales"][:d]]) + shift
    y = rng.standard_normal(n) + 3.0
    w = {None: None, "integers": rng.integers(0, 3, n).astype(float),
         "uniform": rng.uniform(0.1, 2.0, n)}[case["weights"]]
    if w is not None and np.count_nonzero(w) < d + 2:
        w[: d + 2] = 1.0
    model = SketchedLinearRegression(solver=case["solver"], sketch=case["sketch"],
                                     sketch_size=n, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = expect_named_error_or(
            lambda: model.fit(X, y, sample_weight=w).predict(X), ["sketch_size"])
    if fitted is None:
        return
    assert np.all(np.isfinite(model.coef_)) and np.isfinite(model.intercept_)
    exact = case["solver"] == "precondition" or any(
        "solving exactly" in str(c.message) for c in caught)
    operator = None if exact else make_sketch(case["sketch"], n, random_state=0).fit(n)
    truth = reference_fitted(X, y, w, operator)
    np.testing.assert_allclose(fitted, truth, rtol=0, atol=1e-6 * np.abs(y).max())


bad_arrays = st.sampled_from([
    ("nan", lambda X: np.where(X > 1, np.nan, X)),
    ("inf", lambda X: np.where(X > 1, np.inf, X)),
    ("empty", lambda X: X[:0]),
    ("one-row", lambda X: X[:1]),
    ("3-d", lambda X: X[None]),
    ("object", lambda X: X.astype(object)),
    ("str", lambda X: X.astype(str)),
    ("complex", lambda X: X + 1j),
    ("bool", lambda X: X > 0),
    ("n<d", lambda X: X[:3]),
    ("huge", lambda X: X * 1e300),
    ("tiny", lambda X: X * 1e-300),
])


@SETTINGS
@given(bad_arrays, st.sampled_from(["X", "y", "sample_weight"]),
       st.sampled_from(["precondition", "sketch-and-solve"]))
def test_bad_inputs_give_named_errors_or_finite_fits(bad, target, solver):
    rng = np.random.default_rng(0)
    X, y, w = rng.standard_normal((40, 4)), rng.standard_normal(40), np.ones(40)
    kind, transform = bad
    args = {"X": X, "y": y, "sample_weight": w}
    args[target] = transform(args[target] if target != "y" else y[:, None])
    if target == "y" and np.ndim(args["y"]) == 2 and args["y"].shape[1:] == (1,):
        args["y"] = args["y"][:, 0]
    if target == "sample_weight" and kind in ("huge", "tiny", "bool"):
        args["sample_weight"] = np.abs(args["sample_weight"]).astype(float)
    model = SketchedLinearRegression(solver=solver, random_state=0)
    names = ["X", "y", "sample_weight", "n_samples", "Found input variables",
             "Found array with", "Expected"]
    out = expect_named_error_or(lambda: model.fit(args["X"], args["y"],
                                                  sample_weight=args["sample_weight"]),
                                names)
    if out is not None:
        assert np.all(np.isfinite(model.coef_)) and np.isfinite(model.intercept_)
        assert np.all(np.isfinite(model.predict(np.asarray(args["X"], dtype=float))))


@pytest.mark.parametrize("weights", [[-1.0] * 40, [np.nan] * 40, [1.0] * 39, [0.0] * 40,
                                     "heavy"])
def test_bad_sample_weights_name_the_argument(weights):
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((40, 3)), rng.standard_normal(40)
    with pytest.raises(ValueError, match="sample_weight"):
        SketchedLinearRegression().fit(X, y, sample_weight=weights)


@pytest.mark.parametrize("param", ["sketch_size", "tol", "max_iter", "eps", "delta",
                                   "alpha", "cov_type", "solver", "sketch",
                                   "fit_intercept", "random_state"])
@pytest.mark.parametrize("value", BAD_SCALARS + [-1e-300, "auto"])
def test_invalid_hyper_parameters_are_named(param, value):
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((60, 3)), rng.standard_normal(60)
    model = SketchedLinearRegression(**{param: value})
    out = expect_named_error_or(lambda: model.fit(X, y), [param, "sketch"])
    if out is not None:  # a valid value (e.g. tol=0, eps=None): a finite fit
        assert np.all(np.isfinite(out.coef_))


# --------------------------------------------------------------- the operators
@SETTINGS
@given(st.sampled_from(OPERATORS), st.integers(1, 70), st.integers(1, 4),
       st.integers(1, 70), st.integers(0, 2**16),
       st.sampled_from([-1000, -300, 0, 300, 1000]))
def test_operators_are_linear_and_exactly_homogeneous(cls, n, k, m, seed, exponent):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, k))
    operator = cls(m, random_state=seed)
    out = expect_named_error_or(lambda: operator.apply(A),
                                ["sketch_size", "nnz_per_col", "padded length"])
    if out is None:
        return
    assert out.shape == (m, k) and np.all(np.isfinite(out))
    scaled = operator.apply(np.ldexp(A, exponent))
    np.testing.assert_array_equal(scaled, np.ldexp(out, exponent))
    B = rng.standard_normal((k, 2))
    np.testing.assert_allclose(operator.apply(A @ B), out @ B, atol=1e-10 * (
        1 + np.abs(out).max() * np.abs(B).max() * k))
    np.testing.assert_allclose(operator.apply(A[:, 0]), out[:, 0])


@pytest.mark.parametrize("cls", OPERATORS)
@pytest.mark.parametrize("kind", ["nan", "inf", "empty", "3-d", "object", "str",
                                  "complex", "mismatch"])
def test_operators_refuse_bad_arrays_by_name(cls, kind):
    A = np.random.default_rng(0).standard_normal((16, 2))
    bad = {"nan": np.where(A > 1, np.nan, A), "inf": np.where(A > 1, np.inf, A),
           "empty": A[:0], "3-d": A[None], "object": np.array([[{}]] * 16, dtype=object),
           "str": A.astype(str).astype(object) + "x", "complex": A + 1j,
           "mismatch": A[:8]}[kind]
    operator = cls(8, random_state=0)
    if kind == "mismatch":
        operator.apply(A)
    with pytest.raises((ValueError, TypeError), match="A|rows"):
        operator.apply(bad)


@pytest.mark.parametrize("cls", OPERATORS)
@pytest.mark.parametrize("size", BAD_SCALARS)
def test_operators_refuse_bad_sizes_by_name(cls, size):
    with pytest.raises(ValueError, match="sketch_size|nnz_per_col"):
        cls(size, random_state=0).apply(np.ones((8, 2)))


# ------------------------------------------------------------ the functions
@SETTINGS
@given(st.one_of(st.integers(-3, 10**6), st.floats(allow_nan=True), st.text(max_size=2)),
       st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
       st.floats(allow_nan=True, allow_infinity=True))
def test_size_rules_are_named_errors_or_valid_sizes(d, eps, delta):
    m = expect_named_error_or(lambda: sketch_size_rule(d, eps, delta),
                              ["n_features", "eps", "delta"])
    if m is not None:
        assert isinstance(m, int) and m >= d
    t = expect_named_error_or(lambda: theory_sketch_size(d, 1000, eps or 0.5, delta),
                              ["n_features", "n_samples", "eps", "delta"])
    if t is not None:
        assert isinstance(t, int) and t >= 1


@SETTINGS
@given(st.integers(0, 9), st.integers(1, 3), st.integers(0, 2**16),
       st.sampled_from(["float", "int", "bool", "complex", "str", "nan", "3-d"]))
def test_fwht_equals_the_hadamard_product_or_names_the_problem(log_n, k, seed, kind):
    n = 1 << log_n if seed % 5 else 3 * (1 << log_n) + 1
    a = np.random.default_rng(seed).standard_normal((n, k))
    a = {"float": a, "int": np.round(a * 10).astype(int), "bool": a > 0,
         "complex": a + 1j, "str": a.astype(str), "nan": np.where(a > 1, np.nan, a),
         "3-d": a[None]}[kind]
    out = expect_named_error_or(lambda: fwht(a), ["fwht"])
    if out is not None:
        expected = scipy.linalg.hadamard(n) @ np.asarray(a, dtype=float)
        np.testing.assert_allclose(out, expected, atol=1e-9 * max(1, n))


@pytest.mark.parametrize("name", ["fourier", 3, None, ["srht"]])
def test_make_sketch_names_unknown_sketches(name):
    with pytest.raises(ValueError, match="Unknown sketch"):
        make_sketch(name, 10)


@pytest.mark.parametrize("maker", [make_linear_regression, make_coherent_regression,
                                   make_spike_regression])
@pytest.mark.parametrize("n", BAD_SCALARS)
def test_data_generators_name_bad_sizes(maker, n):
    with pytest.raises(ValueError, match="n_samples"):
        maker(n, 2, random_state=0)


@pytest.mark.parametrize("design", ["gaussian", "coherent", "spike"])
def test_data_generators_are_finite_and_seeded(design):
    X, y = make_sketch_instance(design, 64, 4, random_state=3)
    X2, y2 = make_sketch_instance(design, 64, 4, random_state=3)
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(y))
    np.testing.assert_array_equal(X, X2)
    with pytest.raises(ValueError, match="design"):
        make_sketch_instance(["spike"], 64, 4)
