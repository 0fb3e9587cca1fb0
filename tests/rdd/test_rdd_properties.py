"""Property-based tests of R3D and the rdd functions on bad and extreme input (issue 14).

Every outcome is either a ValueError/TypeError whose message names the argument, or a
finite result that is correct where a truth is known (equivariance under rescaling,
the band around the estimate, a positive bandwidth).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statlogit import R3D, from_long
from statlogit.rdd import local_polynomial, select_bandwidth

QUANTILES = (0.25, 0.5, 0.75)
FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _design(seed, n=40, draws=12):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    Y = [rng.normal(x_i + (x_i >= 0), 1.0, draws) for x_i in x]
    return x, Y


def _est(**params):
    return R3D(quantiles=QUANTILES, n_bootstrap=30, random_state=0, **params)


def _fit_or_refuse(names, est, *args, **kwargs):
    """Fit; a refusal must be a ValueError/TypeError naming one of ``names``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("error", RuntimeWarning)
            return est.fit(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in names), str(exc)
        return None


def _check_result(est):
    assert np.all(np.isfinite(est.tau_)) and np.all(np.isfinite(est.band_))
    assert np.all(est.band_[:, 0] <= est.tau_) and np.all(est.tau_ <= est.band_[:, 1])
    assert np.all(est.bandwidth_ > 0) and np.isfinite(est.critical_value_)


# --------------------------------------------------------------- NaN / inf
@FAST
@given(seed=st.integers(0, 10**6), where=st.sampled_from(["x", "Y", "treatment"]),
       bad=st.sampled_from([np.nan, np.inf, -np.inf]), index=st.integers(0, 39))
def test_nan_and_inf_are_refused_naming_the_argument(seed, where, bad, index):
    x, Y = _design(seed)
    t = (x >= 0).astype(float)
    if where == "x":
        x[index] = bad
    elif where == "Y":
        Y[index][0] = bad
    else:
        t[index] = bad
    with pytest.raises(ValueError, match=where):
        _est().fit(x, Y, treatment=t)


# ------------------------------------------------------ empty and tiny input
@FAST
@given(n=st.integers(0, 3))
def test_empty_and_tiny_samples_are_refused(n):
    x, Y = _design(0)
    with pytest.raises(ValueError, match=r"x|units|side"):
        _est().fit(x[:n], Y[:n])


@FAST
@given(seed=st.integers(0, 10**6),
       sizes=st.lists(st.integers(0, 8), min_size=40, max_size=40))
def test_ragged_and_empty_unit_samples(seed, sizes):
    x, _ = _design(seed)
    rng = np.random.default_rng(seed)
    Y = [rng.normal(size=k) for k in sizes]
    est = _fit_or_refuse(["Y", "bandwidth", "distinct", "side"], _est(), x, Y)
    if 0 in sizes:
        assert est is None
    elif est is not None:
        _check_result(est)


# ------------------------------------------------------- wrong shapes/dtypes
BAD_ARRAYS = {
    "object": lambda a: np.array([{"v": v} for v in a], dtype=object),
    "str": lambda a: np.array([f"v{v:.3f}" for v in a]),
    "complex": lambda a: a + 1j,
    "2d": lambda a: np.column_stack([a, a]),
    "short": lambda a: a[:-1],
}


@FAST
@given(seed=st.integers(0, 10**6), kind=st.sampled_from(sorted(BAD_ARRAYS)),
       where=st.sampled_from(["x", "treatment", "weights", "Y"]))
def test_wrong_dtypes_and_shapes_are_refused(seed, kind, where):
    x, Y = _design(seed)
    args = {"x": x, "Y": Y, "treatment": (x >= 0).astype(float),
            "weights": np.ones(x.size)}
    if where == "Y":
        args["Y"] = [BAD_ARRAYS[kind](y) for y in Y] if kind != "short" else Y[:-1]
    else:
        args[where] = BAD_ARRAYS[kind](args[where])
    names = [where, "sample_weight"] if where == "weights" else [where]
    if where == "Y" and kind == "2d":
        # a (draws, 2) array per unit is flattened: a valid, larger sample
        est = _fit_or_refuse(names, _est(), args.pop("x"), args.pop("Y"), **args)
        _check_result(est)
        return
    with pytest.raises((ValueError, TypeError)) as info:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _est().fit(args.pop("x"), args.pop("Y"), **args)
    assert any(name in str(info.value) for name in names), str(info.value)


@FAST
@given(seed=st.integers(0, 10**6))
def test_boolean_treatment_is_accepted_and_non_binary_refused(seed):
    x, Y = _design(seed)
    rng = np.random.default_rng(seed)
    t = (x >= 0) ^ (rng.uniform(size=x.size) < 0.1)
    est = _fit_or_refuse(["treatment", "bandwidth", "distinct"], _est(), x, Y,
                         treatment=t)
    if est is not None:
        _check_result(est)
    with pytest.raises(ValueError, match="treatment"):
        _est().fit(x, Y, treatment=t + 0.5)


# ---------------------------------------------------------- extreme scales
@FAST
@given(seed=st.integers(0, 10**6), log_x=st.integers(-300, 300),
       log_y=st.integers(-300, 300))
def test_extreme_scales_of_x_and_Y_are_equivariant(seed, log_x, log_y):
    x, Y = _design(seed, n=60)
    ref = _fit_or_refuse(["bandwidth"], _est(), x, Y)
    if ref is None:
        return
    sx, sy = 10.0 ** log_x, 10.0 ** log_y
    est = _fit_or_refuse(["Y", "x"], _est(), x * sx, [y * sy for y in Y])
    if est is None:  # only an overflow of the results may be refused
        assert log_y > 300 - 10
        return
    _check_result(est)
    np.testing.assert_allclose(est.bandwidth_ / sx, ref.bandwidth_, rtol=1e-8)
    np.testing.assert_allclose(est.tau_ / sy, ref.tau_, rtol=1e-7,
                               atol=1e-9 * np.max(np.abs(ref.tau_)))


@FAST
@given(seed=st.integers(0, 10**6),
       bad=st.sampled_from(["nan", "rows", "str", "complex", "empty", "constant"]),
       where=st.sampled_from(["covariates", "cluster"]))
def test_bad_covariates_and_clusters_are_refused(seed, bad, where):
    x, Y = _design(seed)
    good = {"covariates": np.sin(3 * x), "cluster": np.arange(x.size) % 8}
    value = good[where].astype(float)
    if bad == "nan":
        value[2] = np.nan
    elif bad == "rows":
        value = value[:-2]
    elif bad == "str" and where == "covariates":
        value = np.array([f"v{v}" for v in value])
    elif bad == "str":
        value = np.array([1, "a"] * (x.size // 2), dtype=object)
    elif bad == "complex":
        value = value + 1j
    elif bad == "empty":
        value = np.empty((x.size, 0)) if where == "covariates" else np.array([])
    else:
        value = np.ones(x.size)
    args = {**good, where: value}
    est = _fit_or_refuse([where], _est(), x, Y, **args)
    assert est is None, f"{where}={bad} was accepted"


# ------------------------------------------------------ invalid parameters
INVALID = [
    ("p", 0), ("p", 10), ("p", 1.5), ("p", "2"), ("p", True),
    ("alpha", 0.0), ("alpha", 1.0), ("alpha", np.nan), ("alpha", "0.05"),
    ("n_bootstrap", 0), ("n_bootstrap", -3), ("n_bootstrap", 2.5),
    ("kernel", "gaussian"), ("kernel", None), ("method", "lowess"),
    ("parity", "R"), ("cutoff", np.nan), ("cutoff", np.inf), ("cutoff", "0"),
    ("bandwidth", -1.0), ("bandwidth", 0.0), ("bandwidth", np.nan),
    ("bandwidth", "aic"), ("bandwidth", [0.5, 0.6]), ("bandwidth", [[0.5]]),
    ("treatment_bandwidth", -0.5), ("treatment_bandwidth", np.inf),
    ("quantiles", [0.0, 0.5]), ("quantiles", [0.5, 1.0]), ("quantiles", [0.6, 0.4]),
    ("quantiles", [0.5, 0.5]), ("quantiles", [[0.5]]), ("quantiles", ["a"]),
    ("quantiles", [np.nan]), ("deriv", -1), ("deriv", 3), ("deriv", 0.5),
    ("donut", -0.1), ("donut", np.nan), ("donut", "0"),
]


@pytest.mark.parametrize(("name", "value"), INVALID,
                         ids=[f"{n}={v!r}" for n, v in INVALID])
def test_invalid_hyper_parameters_are_refused_naming_them(name, value):
    x, Y = _design(1)
    params = {"quantiles": QUANTILES, "n_bootstrap": 30, name: value}
    with pytest.raises((ValueError, TypeError), match=name):
        R3D(**params).fit(x, Y)


# ------------------------------------------------------- the other functions
@FAST
@given(seed=st.integers(0, 10**6), bad=st.sampled_from(["nan", "str", "shape", "p",
                                                        "bandwidth", "kernel"]))
def test_local_polynomial_and_select_bandwidth_refuse_bad_input(seed, bad):
    x, Y = _design(seed)
    Q = np.array([np.quantile(y, QUANTILES) for y in Y])
    args = {"x": x, "Y": Q, "bandwidth": 0.5, "p": 1, "kernel": "triangular"}
    if bad == "nan":
        args["x"] = np.where(np.arange(x.size) == 3, np.nan, x)
        name = "x"
    elif bad == "str":
        args["Y"] = np.char.add("v", Q.astype(str))
        name = "Y"
    elif bad == "shape":
        args["Y"] = Q[:-1]
        name = "Y"
    elif bad == "p":
        args["p"] = -1
        name = "p"
    elif bad == "bandwidth":
        args["bandwidth"] = -0.5
        name = "bandwidth"
    else:
        args["kernel"] = "cosine"
        name = "kernel"
    with pytest.raises((ValueError, TypeError), match=name):
        local_polynomial(args.pop("x"), args.pop("Y"), args.pop("bandwidth"), **args)
    if bad in ("nan", "str", "shape", "kernel"):
        kwargs = {"kernel": args.get("kernel", "triangular")}
        with pytest.raises((ValueError, TypeError), match=name):
            select_bandwidth(args.get("x", x) if bad != "nan" else
                             np.where(np.arange(x.size) == 3, np.nan, x),
                             np.char.add("v", Q.astype(str)) if bad == "str" else
                             (Q[:-1] if bad == "shape" else Q), **kwargs)


@FAST
@given(data=st.one_of(st.dictionaries(st.text(max_size=3), st.integers()),
                      st.lists(st.integers()), st.none(), st.text()))
def test_from_long_refuses_non_frames(data):
    with pytest.raises(TypeError, match="df"):
        from_long(data, unit="u", x="x", y="y")


def test_from_long_refuses_missing_and_varying_columns():
    frame = pd.DataFrame({"u": [1, 1, 2], "x": [0.1, 0.2, -0.3], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="constant within each unit"):
        from_long(frame, unit="u", x="x", y="y")
    with pytest.raises(ValueError, match="no column"):
        from_long(frame, unit="u", x="score", y="y")


# ------------------------------------------------------------- density_test
@FAST
@given(seed=st.integers(0, 10**6), log_scale=st.integers(-300, 300),
       shift=st.sampled_from([0.0, 1e4]))
def test_density_test_is_scale_and_shift_equivariant(seed, log_scale, shift):
    from statlogit.rdd import density_test

    x = np.random.default_rng(seed).normal(size=300)
    ref = density_test(x)
    s = 10.0 ** log_scale
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = density_test(x * s + shift * s, cutoff=shift * s)
    assert est.statistic == pytest.approx(ref.statistic, rel=1e-6, abs=1e-9)
    assert est.bandwidth[0] == pytest.approx(ref.bandwidth[0] * s, rel=1e-6)


@FAST
@given(bad=st.sampled_from(["nan", "inf", "str", "complex", "empty", "one", "2d",
                            "bandwidth", "p", "kernel", "cutoff"]))
def test_density_test_refuses_bad_input_naming_it(bad):
    from statlogit.rdd import density_test

    x = np.random.default_rng(0).normal(size=200)
    args, name = {"x": x}, "x"
    if bad in ("nan", "inf"):
        args["x"] = np.r_[x, np.nan if bad == "nan" else np.inf]
    elif bad == "str":
        args["x"] = np.array([f"v{v}" for v in x])
    elif bad == "complex":
        args["x"] = x + 1j
    elif bad in ("empty", "one"):
        args["x"] = x[: 0 if bad == "empty" else 1]
    elif bad == "2d":
        args["x"] = np.column_stack([x, x])
        name = "x|side"
    else:
        name = bad
        args[bad] = {"bandwidth": [0.1, 0.2, 0.3], "p": 9, "kernel": "gauss",
                     "cutoff": np.nan}[bad]
    with pytest.raises((ValueError, TypeError), match=name):
        density_test(**args)


def test_validation_helpers_refuse_bad_grids():
    from statlogit.rdd import bandwidth_sensitivity, placebo_cutoffs

    x, Y = _design(0)
    with pytest.raises(ValueError, match="cutoffs"):
        placebo_cutoffs(_est(), x, Y, [np.nan])
    with pytest.raises(ValueError, match="scales"):
        bandwidth_sensitivity(_est(), x, Y, scales=[-1.0])
    with pytest.raises(ValueError, match="scales"):
        bandwidth_sensitivity(_est(), x, Y, scales=["a"])
