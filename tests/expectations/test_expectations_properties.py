"""Bad and extreme input for every public name of the expectations family (issue 14).

Every outcome is a ValueError/TypeError naming the argument and what to change, or a
finite, correct result. Hypothesis drives the classes; budgets stay small (fast).
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import statlogit.expectations as ex
from statlogit.datasets import ishigami

FAST = settings(max_examples=12, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
ESTIMATORS = [ex.MultipleExpectations, ex.MonteCarloExpectations, ex.MixtureISExpectations]
UNIFORM = [stats.uniform(-np.pi, 2 * np.pi)] * 3


def _fit(cls, func, law=None, **params):
    est = cls(**{"budget": 1000, "random_state": 0, **params})
    return est.fit(func, stats.norm() if law is None else law)


# --- regressions of issue 14, each failing on the old main ---------------------------

def test_complex_func_is_refused_not_truncated():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the old ComplexWarning fails the test too
        with pytest.raises(ValueError, match="complex"):
            _fit(ex.MultipleExpectations, lambda X: X[:, 0] ** 2 + 1j)


def test_overflowing_variances_give_finite_standard_errors():
    """1e155 (1 + x^2): the old code returned inf/nan standard errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = ex.MultipleExpectations(budget=2000, random_state=0).fit(
            lambda X: 1e155 * (1 + X[:, 0] ** 2), stats.norm())
    assert np.all(np.isfinite(est.std_errors_)) and np.all(np.isfinite(est.covariance_))
    assert abs(est.estimates_[0] / 1e155 - 2.0) < 4 * est.std_errors_[0] / 1e155


def test_tiny_func_does_not_crash_the_simplex_projection():
    """1e-300 x: the old code raised IndexError inside the capped-simplex projection."""
    est = ex.MultipleExpectations(budget=4000, random_state=0).fit(
        lambda X: 1e-300 * X[:, 0], stats.norm())
    assert abs(est.estimates_[0]) < 4 * est.std_errors_[0]
    assert 0 < est.std_errors_[0] < 1e-300


# --- hypothesis: NaN/inf, shapes, dtypes ---------------------------------------------

BAD_VALUES = st.sampled_from([np.nan, np.inf, -np.inf])


@FAST
@given(cls=st.sampled_from(ESTIMATORS), bad=BAD_VALUES, where=st.integers(0, 199))
def test_nan_or_inf_outputs_are_refused(cls, bad, where):
    def func(X):
        out = X[:, 0] ** 2
        out[where % X.shape[0]] = bad
        return out

    with pytest.raises(ValueError, match="NaN or infinite"):
        _fit(cls, func)


SHAPES = st.sampled_from(["extra row", "3-d", "scalar", "empty"])


def _wrong_shape(kind):
    return {"extra row": lambda X: np.ones(X.shape[0] + 1),
            "3-d": lambda X: np.ones((X.shape[0], 2, 2)),
            "scalar": lambda X: 1.0,
            "empty": lambda X: np.ones((X.shape[0], 0))}[kind]


@FAST
@given(cls=st.sampled_from(ESTIMATORS), kind=SHAPES)
def test_wrong_output_shapes_are_refused(cls, kind):
    with pytest.raises(ValueError, match="func must map|zero at every"):
        _fit(cls, _wrong_shape(kind))


@FAST
@given(kind=SHAPES, method=st.sampled_from(["iscv", "pick-freeze", "saltelli"]))
def test_sobol_wrong_output_shapes_are_refused(kind, method):
    with pytest.raises(ValueError, match="model must map|same value"):
        ex.sobol_indices(_wrong_shape(kind), UNIFORM, 500, method=method, random_state=0)


@FAST
@given(cls=st.sampled_from(ESTIMATORS),
       dtype=st.sampled_from(["object", "str", "complex", "datetime"]))
def test_non_real_outputs_are_refused(cls, dtype):
    def func(X):
        y = X[:, 0] ** 2
        if dtype == "object":
            return y.astype(object)
        if dtype == "str":
            return y.astype(str)
        if dtype == "complex":
            return y + 0j
        return np.full(X.shape[0], np.datetime64("2020-01-01"))

    with pytest.raises(TypeError if dtype != "complex" else ValueError,
                       match="must return numbers|complex"):
        _fit(cls, func)


def test_bool_outputs_are_numbers():
    est = _fit(ex.MonteCarloExpectations, lambda X: X[:, 0] > 0, budget=4000)
    assert abs(est.estimates_[0] - 0.5) < 4 * est.std_errors_[0]


# --- laws ----------------------------------------------------------------------------

class _NoLogpdf:
    def rvs(self, size=None, random_state=None):
        return np.zeros(size)


@FAST
@given(cls=st.sampled_from(ESTIMATORS),
       law=st.sampled_from([_NoLogpdf(), object(), "norm", 3.0]))
def test_laws_without_logpdf_are_refused(cls, law):
    with pytest.raises(ValueError, match="logpdf"):
        _fit(cls, lambda X: X[:, 0] ** 2, law)


@pytest.mark.parametrize("bad", [[], [stats.norm(), "x"], [stats.multivariate_normal()]])
def test_bad_marginals_are_refused(bad):
    with pytest.raises(ValueError, match="marginals|univariate"):
        ex.IndependentMarginals(bad)
    with pytest.raises(ValueError, match="marginals|univariate"):
        ex.sobol_indices(ishigami, bad, 500)


@FAST
@given(rho=st.floats(-2.0, 2.0), bad_shape=st.booleans())
def test_gaussian_copula_correlations(rho, bad_shape):
    corr = np.array([[1.0, rho], [rho, 1.0]])
    if bad_shape:
        with pytest.raises(ValueError, match="corr must be 2 x 2"):
            ex.GaussianCopula([stats.norm()] * 2, np.eye(3))
    elif abs(rho) < 1:
        law = ex.GaussianCopula([stats.norm(), stats.lognorm(0.5)], corr)
        assert np.all(np.isfinite(law.logpdf(law.rvs(20, random_state=0))))
    else:
        with pytest.raises(ValueError, match="positive definite"):
            ex.GaussianCopula([stats.norm()] * 2, corr)


def test_pick_freeze_product_needs_a_law():
    with pytest.raises(ValueError, match="logpdf"):
        ex.PickFreezeProduct(object())


# --- extreme scales ------------------------------------------------------------------

@FAST
@given(cls=st.sampled_from(ESTIMATORS), exponent=st.integers(-300, 300))
def test_extreme_scales_are_right_or_refused_clearly(cls, exponent):
    scale = 10.0**exponent
    try:
        est = _fit(cls, lambda X: scale * (1.0 + X[:, 0] ** 2), budget=2000)
    except ValueError as exc:
        assert "Divide func by a constant" in str(exc) and exponent > 150
        return
    assert np.all(np.isfinite(est.std_errors_)) and est.std_errors_[0] > 0
    assert abs(est.estimates_[0] / scale - 2.0) < 4 * est.std_errors_[0] / scale + 1e-12


@FAST
@given(exponent=st.integers(-300, 300),
       method=st.sampled_from(["iscv", "pick-freeze", "saltelli"]))
def test_sobol_extreme_scales_are_finite(exponent, method):
    res = ex.sobol_indices(lambda X: 10.0**exponent * ishigami(X), UNIFORM, 600,
                        method=method, random_state=0)
    assert np.all(np.isfinite(res.table_[["estimate", "std_error"]].to_numpy()))


# --- budgets and hyper-parameters ----------------------------------------------------

BAD_BUDGETS = st.sampled_from([-1, 0, 1, 2.5, "100", None, True, np.nan, 10**30 + 0.5])


@FAST
@given(cls=st.sampled_from(ESTIMATORS), budget=BAD_BUDGETS)
def test_bad_budgets_name_the_argument(cls, budget):
    with pytest.raises(ValueError, match="budget"):
        _fit(cls, lambda X: X[:, 0] ** 2, budget=budget)


@FAST
@given(budget=BAD_BUDGETS, method=st.sampled_from(["iscv", "pick-freeze", "saltelli"]))
def test_sobol_bad_budgets_name_the_argument(budget, method):
    with pytest.raises(ValueError, match="budget"):
        ex.sobol_indices(ishigami, UNIFORM, budget, method=method)


HYPER = st.sampled_from([
    ("weights", "bogus"), ("weights", [-1.0]), ("weights", [np.nan]), ("weights", 3.0),
    ("family", "t"), ("covariance", "low-rank"), ("adaptive_fraction", 0.0),
    ("adaptive_fraction", 1.0), ("adaptive_fraction", "half"), ("n_batches", 1),
    ("n_batches", 2.5), ("stopping", "never"), ("defensive", -0.1), ("defensive", 1.0),
    ("n_jobs", 0), ("n_jobs", 1.5), ("batch_size", 0), ("batch_size", "all"),
])


@FAST
@given(param=HYPER)
def test_bad_hyper_parameters_name_the_argument(param):
    name, value = param
    with pytest.raises(ValueError, match=name):
        _fit(ex.MultipleExpectations, lambda X: X[:, 0] ** 2, **{name: value})


@FAST
@given(cls=st.sampled_from(ESTIMATORS), n_jobs=st.sampled_from([0, 1.5, "two"]))
def test_bad_n_jobs_name_the_argument(cls, n_jobs):
    with pytest.raises(ValueError, match="n_jobs"):
        _fit(cls, lambda X: X[:, 0] ** 2, n_jobs=n_jobs)


@pytest.mark.parametrize("func", [None, 3, "x**2"])
def test_func_must_be_callable(func):
    with pytest.raises(TypeError, match="func must be callable"):
        _fit(ex.MultipleExpectations, func)
    with pytest.raises(TypeError, match="model must be callable"):
        ex.sobol_indices(func, UNIFORM, 500)


# --- shapley_effects ---------------------------------------------------------------

COPULA = ex.GaussianCopula([stats.norm(), stats.lognorm(0.5), stats.uniform()],
                        [[1, 0.3, 0.1], [0.3, 1, -0.2], [0.1, -0.2, 1]])


@FAST
@given(exponent=st.integers(-300, 300))
def test_shapley_extreme_scales_are_finite_and_sum_to_one(exponent):
    from statlogit import shapley_effects

    res = shapley_effects(lambda X: 10.0**exponent * (X[:, 0] + X[:, 1] ** 2), COPULA,
                          1200, random_state=0)
    if not np.all(np.isfinite(res.table_[["estimate", "std_error"]].to_numpy())):
        raise AssertionError(res.table_)
    assert abs(res.shapley_effects.sum() - 1.0) < 1e-9


@FAST
@given(kind=SHAPES, budget=BAD_BUDGETS)
def test_shapley_bad_shapes_and_budgets(kind, budget):
    from statlogit import shapley_effects

    with pytest.raises(ValueError, match="model must map|same value|takes one"):
        shapley_effects(_wrong_shape(kind), COPULA, 600, random_state=0)
    with pytest.raises(ValueError, match="budget"):
        shapley_effects(lambda X: X[:, 0], COPULA, budget)


def test_zero_on_pilot_targets_kept_on_request():
    """zero_targets='keep': an identically zero target is 0 with SE 0, a rare one
    (P(X > 3) = 1.35e-3, rarely seen by the 200-point pilot) is estimated by importance
    sampling within 4 standard errors; the default still refuses."""
    def func(X):
        return np.column_stack([X[:, 0] ** 2, X[:, 0] > 3.0, np.zeros(X.shape[0])])

    with pytest.raises(ValueError, match="zero_targets='keep'"):
        _fit(ex.MultipleExpectations, func, budget=2000)
    est = _fit(ex.MultipleExpectations, func, budget=2000, zero_targets="keep")
    assert est.estimates_[2] == 0.0 and est.std_errors_[2] == 0.0
    assert abs(est.estimates_[1] - stats.norm.sf(3.0)) < 4 * est.std_errors_[1]
    with pytest.raises(ValueError, match="zero_targets"):
        _fit(ex.MultipleExpectations, func, zero_targets="drop")
