"""R3D: independent truths (rdrobust, numpy twins), invariances, contract, bad input."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import isotonic_regression
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from statlogit import R3D, R3DTestResult, from_long
from statlogit.datasets import make_r3d_package, make_r3d_two_level, r3d_two_level_effect
from statlogit.rdd._fit import (
    EPANECHNIKOV,
    TRIANGULAR,
    UNIFORM,
    _fit_shared,
    kernel_weights,
    local_poly_per_quantile,
    rearrange,
)
from statlogit.rdd._inputs import ragged_quantiles
from statlogit.rdd._kernels import isotonic_rows

DECILES = np.arange(1, 10) / 10
KERNELS = {"epanechnikov": EPANECHNIKOV, "triangular": TRIANGULAR, "uniform": UNIFORM}


@pytest.fixture(scope="module")
def sharp_data():
    return make_r3d_package(300, 30, delta=1.0, random_state=1)


@pytest.fixture(scope="module")
def fitted(sharp_data):
    x, Y, _ = sharp_data
    return R3D(quantiles=DECILES, random_state=0).fit(x, Y)


# ---------------------------------------------------------------- numpy twins
def test_ragged_quantiles_match_numpy_type7():
    rng = np.random.default_rng(0)
    samples = [rng.standard_normal(k) * 10.0**e for k, e in
               [(1, 0), (2, 300), (7, -300), (50, 0), (3, 5)]]
    samples.append(np.array([2.0, 2.0, 2.0, -1.0]))
    probs = np.array([0.0, 1e-12, 0.1, 0.5, 0.9, 1 - 1e-12, 1.0])
    values = np.concatenate(samples)
    offsets = np.cumsum([0] + [s.size for s in samples]).astype(np.int64)
    ours = ragged_quantiles(values, offsets, probs)
    twin = np.array([np.quantile(s, probs) for s in samples])
    np.testing.assert_allclose(ours, twin, rtol=1e-13, atol=0)
    assert ours.shape == (len(samples), probs.size)


def kernel_value(u, kernel):
    """Scalar closed form of the kernels (the twin of the vectorised kernel_weights)."""
    a = abs(u)
    if a > 1.0:
        return 0.0
    return {TRIANGULAR: 1.0 - a, EPANECHNIKOV: 0.75 * (1.0 - u * u)}.get(kernel, 0.5)


def test_kernel_value_matches_numpy_twin():
    u = np.array([-2.0, -1.0, -0.999, -0.3, 0.0, 0.5, 1.0, 1.0 + 1e-15, 7.0])
    for code in KERNELS.values():
        ours = np.array([kernel_value(v, code) for v in u])
        np.testing.assert_array_equal(ours, kernel_weights(u, code))


def _twin_local_poly(x, Q, w_unit, h, order, kernel, plus):
    """Per-quantile weighted least squares with numpy.linalg.lstsq."""
    side = (x >= 0) if plus else (x < 0)
    n, m = Q.shape
    coef = np.zeros((order + 1, m))
    weights = np.zeros((n, m))
    for j in range(m):
        w = np.where(side, w_unit * kernel_weights(x / h[j], kernel), 0.0)
        idx = w > 0
        R = np.vander(x[idx] / h[j], order + 1, increasing=True)
        root = np.sqrt(w[idx])[:, None]
        coef[:, j] = np.linalg.lstsq(R * root, Q[idx, j] * root[:, 0], rcond=None)[0]
        hat = np.linalg.solve(R.T @ (R * w[idx, None]), np.eye(order + 1)[0])
        weights[idx, j] = w[idx] * (R @ hat)
    return coef, weights


@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("plus", [True, False])
def test_local_poly_kernel_matches_lstsq(kernel, plus):
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, 120)
    Q = np.sort(rng.standard_normal((120, 6)), axis=1) + x[:, None] ** 2
    w_unit = rng.uniform(0.5, 2.0, 120)
    h = np.array([0.3, 0.5, 0.8, 1.5, 100.0, 0.5])
    coef, weights, n_window, ok = local_poly_per_quantile(
        x, Q, w_unit, h, 2, KERNELS[kernel], plus)
    twin_coef, twin_weights = _twin_local_poly(x, Q, w_unit, h, 2, KERNELS[kernel], plus)
    assert ok.all()
    np.testing.assert_allclose(coef, twin_coef, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(weights, twin_weights, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(weights.sum(axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose((weights * Q).sum(axis=0), coef[0], atol=1e-10)
    shared = _fit_shared(x, Q, w_unit, 0.5, 2, KERNELS[kernel], plus)
    np.testing.assert_allclose(shared[0][:, 1], coef[:, 1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(shared[1][:, 1], weights[:, 1], rtol=1e-10, atol=1e-13)


def test_local_poly_kernel_flags_singular_windows():
    x = np.array([-0.5, -0.1, 0.05, 0.2, 0.9])
    Q = np.ones((5, 2))
    _, _, n_window, ok = local_poly_per_quantile(
        x, Q, np.ones(5), np.array([0.1, 2.0]), 2, TRIANGULAR, True)
    assert n_window.tolist() == [1, 3]
    assert ok.tolist() == [False, True]


def test_isotonic_rows_match_scipy():
    rng = np.random.default_rng(4)
    Y = np.vstack([rng.standard_normal((20, 15)), np.full((1, 15), 3.0),
                   np.arange(15.0)[None, ::-1] * 1e200, np.arange(15.0)[None, :]])
    twin = np.vstack([isotonic_regression(row).x for row in Y])
    np.testing.assert_allclose(isotonic_rows(Y), twin, rtol=1e-13, atol=0)


def test_isotonic_dispatch_small_scipy_large_numba_agree():
    from statlogit.rdd import _fit

    rng = np.random.default_rng(5)
    small = np.vstack([rng.standard_normal((30, 20)), np.arange(20.0)[None, :]])
    assert small.size <= _fit.SMALL_ISOTONIC
    ours = _fit.isotonic_rows(small)
    np.testing.assert_allclose(ours, isotonic_rows(small), rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(ours[-1], small[-1])  # monotone rows untouched
    large = rng.standard_normal((_fit.SMALL_ISOTONIC // 50 + 1, 50))
    assert large.size > _fit.SMALL_ISOTONIC
    rows = [0, 7, large.shape[0] - 1]
    twin = np.vstack([isotonic_regression(large[i]).x for i in rows])
    np.testing.assert_allclose(_fit.isotonic_rows(large)[rows], twin, rtol=1e-13,
                               atol=1e-15)


def test_parity_rearrangement_is_monotone_and_default_sorts():
    q = DECILES
    curve = np.array([1.0, 0.5, 2.0, 2.1, 1.9, 3.0, 3.5, 3.2, 4.0])
    assert np.all(np.diff(rearrange(curve, q, parity=True)) >= 0)
    np.testing.assert_array_equal(rearrange(curve, q, parity=False), np.sort(curve))


# ------------------------------------------------------- rdrobust (independent)
@pytest.mark.parametrize(("kernel", "rd_kernel"),
                         [("epanechnikov", "epa"), ("triangular", "tri"),
                          ("uniform", "uni")])
@pytest.mark.parametrize("p", [1, 2])
def test_single_observation_per_unit_equals_rdrobust(kernel, rd_kernel, p):
    rdrobust = pytest.importorskip("rdrobust").rdrobust
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, 600)
    y = 1 + x + 0.5 * x**2 + 2 * (x >= 0) + rng.normal(0, 0.3, 600)
    # One draw per unit: point-mass distributions, flat quantile curves; both
    # limitation warnings fire by design.
    with pytest.warns(UserWarning) as record:
        est = R3D(p=p, kernel=kernel, bandwidth=0.4, quantiles=[0.25, 0.5, 0.75],
                  n_bootstrap=10, random_state=0).fit(x, y)
    messages = " ".join(str(w.message) for w in record)
    assert "constant on [0.25, 0.75]" in messages and "only 1 observation" in messages
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        conventional = rdrobust(y, x, c=0, p=p, h=0.4, kernel=rd_kernel).coef.iloc[0, 0]
        bias_corrected = rdrobust(y, x, c=0, p=1, q=2, h=0.4, b=0.4,
                                  kernel=rd_kernel).coef.iloc[1, 0]
    np.testing.assert_allclose(est.tau_, conventional, rtol=0, atol=1e-10)
    if p == 2:
        np.testing.assert_allclose(est.tau_, bias_corrected, rtol=0, atol=1e-10)


# ------------------------------------------------------------- invariances
def test_shift_above_cutoff_shifts_effect_exactly(sharp_data):
    x, Y, _ = sharp_data
    shifted = [y + 0.7 if xi >= 0 else y for xi, y in zip(x, Y, strict=True)]
    base = R3D(quantiles=DECILES, random_state=2).fit(x, Y)
    moved = R3D(quantiles=DECILES, random_state=2).fit(x, shifted)
    np.testing.assert_allclose(moved.tau_, base.tau_ + 0.7, atol=1e-10)
    np.testing.assert_allclose(moved.bandwidth_, base.bandwidth_, rtol=1e-9)
    np.testing.assert_allclose(moved.critical_value_, base.critical_value_, rtol=1e-8)


def test_samples_and_quantile_matrix_give_the_same_fit(sharp_data, fitted):
    x, Y, _ = sharp_data
    Q = np.array([np.quantile(y, DECILES) for y in Y])
    from_matrix = R3D(quantiles=DECILES, random_state=0).fit(x, Q)
    np.testing.assert_allclose(from_matrix.tau_, fitted.tau_, rtol=1e-12)
    np.testing.assert_allclose(from_matrix.band_, fitted.band_, rtol=1e-12)


def test_fuzzy_with_deterministic_treatment_equals_sharp(sharp_data):
    x, Y, _ = sharp_data
    h = 0.6
    sharp = R3D(quantiles=DECILES, bandwidth=h, random_state=4).fit(x, Y)
    fuzzy = R3D(quantiles=DECILES, bandwidth=h, random_state=4).fit(
        x, Y, treatment=(x >= 0).astype(int))
    assert fuzzy.first_stage_ == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(fuzzy.tau_, sharp.tau_, atol=1e-12)
    np.testing.assert_allclose(fuzzy.band_, sharp.band_, atol=1e-12)


def test_fuzzy_design_recovers_complier_effect():
    x, Y, t = make_r3d_package(1500, 40, delta=2.0, fuzzy=True, random_state=7)
    est = R3D(quantiles=DECILES, random_state=0).fit(x, Y, treatment=t)
    assert 0.6 < est.first_stage_ < 1.0
    assert np.all(est.band_[:, 0] < 2.0) and np.all(est.band_[:, 1] > 2.0)
    assert est.treatment_bandwidth_ > 0


def test_unit_weights_equal_duplicated_units(sharp_data):
    x, Y, _ = sharp_data
    weights = np.where(np.arange(x.size) % 3 == 0, 2.0, 1.0)
    dup = np.flatnonzero(weights == 2.0)
    x_dup = np.concatenate([x, x[dup]])
    Y_dup = list(Y) + [Y[i] for i in dup]
    weighted = R3D(quantiles=DECILES, bandwidth=0.5).fit(x, Y, weights=weights)
    duplicated = R3D(quantiles=DECILES, bandwidth=0.5).fit(x_dup, Y_dup)
    np.testing.assert_allclose(weighted.tau_, duplicated.tau_, atol=1e-11)


def test_frechet_limits_are_monotone_with_one_bandwidth():
    x, Y = make_r3d_two_level(400, 30, delta=1.0, delta_rate=0.5, random_state=3)
    est = R3D(method="frechet", quantiles=DECILES, random_state=0).fit(x, Y)
    assert np.all(np.diff(est.m_plus_) >= 0) and np.all(np.diff(est.m_minus_) >= 0)
    assert np.unique(est.bandwidth_).size == 1
    truth = r3d_two_level_effect(DECILES, delta=1.0, delta_rate=0.5)
    assert np.mean(np.abs(est.tau_ - truth)) < 2.0


def test_simple_limits_are_monotone_with_per_quantile_bandwidths(sharp_data):
    x, Y, _ = sharp_data
    fitted = R3D(quantiles=DECILES, bandwidth="mse", random_state=0).fit(x, Y)
    assert np.all(np.diff(fitted.m_plus_) >= 0) and np.all(np.diff(fitted.m_minus_) >= 0)
    assert fitted.bandwidth_.shape == (9,) and np.unique(fitted.bandwidth_).size > 1


# ------------------------------------------------------------------ results
def test_results_tests_summary_and_plot(fitted, pyplot):
    assert fitted.tau_.shape == (9,) and fitted.band_.shape == (9, 2)
    np.testing.assert_allclose(fitted.band_[:, 1] - fitted.band_[:, 0],
                               2 * fitted.critical_value_)
    nullity = fitted.test_nullity()
    assert isinstance(nullity, R3DTestResult)
    assert nullity.p_value == 0.0 and nullity.statistic == np.max(np.abs(fitted.tau_))
    homogeneity = fitted.test_homogeneity(range=(0.2, 0.8))
    assert homogeneity.n_quantiles == 7 and 0.0 <= homogeneity.p_value <= 1.0
    table = fitted.summary()
    assert list(table.columns[:3]) == ["tau", "band_lower", "band_upper"]
    assert table.index.name == "quantile" and table.attrs["design"] == "sharp"
    ax = fitted.plot()
    assert ax.get_xlabel() == "quantile level q"


def test_nullity_test_accepts_under_the_null():
    x, Y, _ = make_r3d_package(400, 30, delta=0.0, random_state=11)
    est = R3D(quantiles=DECILES, random_state=0).fit(x, Y)
    assert est.test_nullity().p_value > 0.01


def test_from_long_builds_inputs():
    df = pd.DataFrame({"firm": [3, 3, 1, 1, 1, 2], "score": [0.5, 0.5, -0.2, -0.2, -0.2, 0.1],
                       "wage": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "t": [1, 1, 0, 0, 0, 1]})
    x, Y, t = from_long(df, unit="firm", x="score", y="wage", treatment="t")
    assert x.index.tolist() == [1, 2, 3] and x.tolist() == [-0.2, 0.1, 0.5]
    assert [y.tolist() for y in Y] == [[3.0, 4.0, 5.0], [6.0], [1.0, 2.0]]
    assert t.tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match="constant within each unit"):
        from_long(df.assign(score=np.arange(6.0)), unit="firm", x="score", y="wage")
    with pytest.raises(ValueError, match="no column"):
        from_long(df, unit="plant", x="score", y="wage")


# ----------------------------------------------------------------- contract
def test_contract_clone_pickle_determinism(sharp_data):
    x, Y, _ = sharp_data
    est = R3D(quantiles=DECILES.tolist(), n_bootstrap=50, random_state=9)
    with pytest.raises(NotFittedError):
        est.test_nullity()
    with pytest.raises(NotFittedError):
        est.summary()
    assert clone(est).get_params() == est.get_params()
    first = est.fit(x, Y)
    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(restored.band_, first.band_)
    again = clone(est).fit(x, Y)
    np.testing.assert_array_equal(again.bootstrap_draws_, first.bootstrap_draws_)
    other = R3D(quantiles=DECILES, n_bootstrap=50, random_state=10).fit(x, Y)
    assert not np.array_equal(other.bootstrap_draws_, first.bootstrap_draws_)


def test_pandas_running_variable_keeps_its_name(sharp_data):
    x, Y, _ = sharp_data
    est = R3D(quantiles=DECILES, n_bootstrap=20).fit(pd.DataFrame({"score": x}), Y)
    assert est.feature_names_in_.tolist() == ["score"] and est.n_features_in_ == 1


# ---------------------------------------------------------------- bad input
def _small():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 60)
    return x, [rng.standard_normal(5) + xi for xi in x]


@pytest.mark.parametrize(("change", "message"), [
    (lambda x, Y: (x, [np.array([])] + Y[1:], {}), "empty sample"),
    (lambda x, Y: (np.r_[np.nan, x[1:]], Y, {}), "x contains 1 NaN"),
    (lambda x, Y: (x, [np.array([np.nan, 1.0])] + Y[1:], {}), "Y contains 1 NaN"),
    (lambda x, Y: (x, np.full((60, 9), np.nan), {}), "Y contains 540 NaN"),
    (lambda x, Y: (np.abs(x), Y, {}), "each side of the cutoff"),
    (lambda x, Y: (x, Y, {"treatment": np.full(60, 2)}), "treatment must be 0/1"),
    (lambda x, Y: (x, Y, {"treatment": np.ones(60)}),
     "no jump at the cutoff"),
    (lambda x, Y: (x, np.zeros((60, 4)), {}), "must have shape"),
    (lambda x, Y: (x, Y[:-1], {}), "Y has 59 units but x has 60"),
])
def test_bad_data_raises(change, message):
    x, Y, kwargs = change(*_small())
    with pytest.raises(ValueError, match=message):
        R3D(quantiles=DECILES, bandwidth=0.8, n_bootstrap=10).fit(x, Y, **kwargs)


@pytest.mark.parametrize(("params", "message"), [
    ({"quantiles": [0.0, 0.5]}, "strictly between 0 and 1"),
    ({"quantiles": [0.5, 1.2]}, "strictly between 0 and 1"),
    ({"quantiles": [0.5, 0.2]}, "strictly increasing"),
    ({"bandwidth": 0.0}, "bandwidth must be positive"),
    ({"bandwidth": [-0.5] * 9}, "bandwidth must be positive"),
    ({"bandwidth": [0.5, 0.6]}, "1 or 9 values"),
    ({"bandwidth": "silverman"}, "bandwidth must be 'mse'"),
    ({"bandwidth": 0.02}, "needs at least 3 distinct"),
    ({"method": "frechet", "bandwidth": np.linspace(0.5, 0.9, 9)}, "one bandwidth"),
    ({"method": "wasserstein"}, "method must be"),
    ({"kernel": "gaussian"}, "kernel must be one of"),
    ({"parity": "r3d"}, "parity must be"),
    ({"p": 0}, "p must be >= 1"),
    ({"alpha": 1.0}, "alpha must be < 1"),
    ({"n_bootstrap": 0}, "n_bootstrap must be >= 1"),
])
def test_bad_parameters_raise(params, message):
    x, Y = _small()
    with pytest.raises(ValueError, match=message):
        R3D(**{"quantiles": DECILES, "n_bootstrap": 10, **params}).fit(x, Y)


def test_bad_test_range_raises(fitted):
    with pytest.raises(ValueError, match="widen it"):
        fitted.test_nullity(range=(0.41, 0.49))
    with pytest.raises(ValueError, match="pair"):
        fitted.test_homogeneity(range=0.5)


def test_coverage_rule_scales_mse_bandwidths(sharp_data):
    x, Y, _ = sharp_data
    mse = R3D(quantiles=DECILES, n_bootstrap=10, bandwidth="mse").fit(x, Y)
    cer = R3D(quantiles=DECILES, n_bootstrap=10, bandwidth="cer").fit(x, Y)
    np.testing.assert_allclose(cer.bandwidth_, mse.bandwidth_ * x.size ** (-1 / 20),
                               rtol=1e-12)


def test_bad_multipliers_raise(sharp_data):
    x, Y, _ = sharp_data
    with pytest.raises(ValueError, match="one row per unit"):
        R3D(quantiles=DECILES).fit(x, Y, multipliers=np.ones((5, 20)))


# ------------------------------------------------------- limitation warnings
def _no_warning_fit(x, Y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # these designs are linear in x: the plug-in bandwidth exceeds the data range,
        # which has its own warning (tests/rdd/test_rdd_bandwidth_range.py)
        warnings.filterwarnings("ignore", message="The selected bandwidth exceeds")
        return R3D(**{"n_bootstrap": 20, "random_state": 0, **params}).fit(x, Y)


FLAT_TOP = r"(above|below) the cutoff is constant on \[0\.\d+, 0\.99\]"


def _top_coded(cap):
    rng = np.random.default_rng(21)
    x = rng.uniform(-1, 1, 300)
    Y = 0.3 * x[:, None] + 0.5 * (x >= 0)[:, None] + rng.standard_normal((300, 50))
    return x, list(np.minimum(Y, cap))


@pytest.mark.parametrize("method", ["simple", "frechet"])
def test_top_coded_outcomes_warn_of_a_flat_quantile_curve(method):
    # About half of every unit's draws sit at the cap: both average quantile curves
    # are exactly constant at the top of the grid.
    x, Y = _top_coded(cap=0.0)
    with pytest.warns(UserWarning, match=FLAT_TOP):
        est = R3D(method=method, n_bootstrap=20, random_state=0).fit(x, Y)
    assert est.coef_plus_[0, -1] == pytest.approx(0.0, abs=1e-12)
    _no_warning_fit(*_top_coded(cap=np.inf), method=method)


def test_flat_stretch_needs_more_than_five_percent_of_the_grid():
    x, Y = _top_coded(cap=np.inf)
    Q = np.array([np.quantile(y, DECILES) for y in Y])
    Q[:, -2:] = Q[:, -1:]            # tie the 0.8 and 0.9 levels: 12.5 % of the span
    with pytest.warns(UserWarning, match=r"constant on \[0\.8, 0\.9\] \(12%"):
        R3D(quantiles=DECILES, n_bootstrap=20).fit(x, Q)
    grid = np.arange(1, 100) / 100
    Q = np.array([np.quantile(y, grid) for y in Y])
    Q[:, 60:65] = Q[:, 60:61]        # 0.61..0.65 tied: 4 % of the span
    _no_warning_fit(x, Q, quantiles=grid)


def test_units_with_three_draws_warn_and_thirty_do_not(sharp_data):
    x, Y, _ = sharp_data
    few = [y[:3] for y in Y]
    with pytest.warns(UserWarning, match=r"only 3 observation\(s\), fewer than max\(10"):
        R3D(quantiles=DECILES, n_bootstrap=20).fit(x, few)
    _no_warning_fit(x, Y, quantiles=DECILES)
    # A quantile matrix carries no sample sizes: nothing to check.
    _no_warning_fit(x, np.array([np.quantile(y, DECILES) for y in few]),
                    quantiles=DECILES)


def test_small_sample_warning_counts_units_inside_the_window_only(sharp_data):
    x, Y, _ = sharp_data
    far, near = int(np.argmax(x)), int(np.argmin(np.abs(x)))
    params = {"quantiles": DECILES, "bandwidth": 0.5}
    outside = [y[:3] if i == far else y for i, y in enumerate(Y)]
    _no_warning_fit(x, outside, **params)
    inside = [y[:3] if i == near else y for i, y in enumerate(Y)]
    with pytest.warns(UserWarning, match="only 3 observation"):
        R3D(n_bootstrap=20, **params).fit(x, inside)


def test_small_sample_threshold_grows_with_the_effective_units():
    # 25 draws per unit: fine for 300 units (sqrt(n_eff) < 25), not for 2000 units
    # with a wide bandwidth (n_eff = 2000, sqrt = 44.7).
    x, Y, _ = make_r3d_package(300, 25, random_state=5)
    _no_warning_fit(x, Y, quantiles=DECILES, bandwidth=1.0)
    x, Y, _ = make_r3d_package(2000, 25, random_state=5)
    with pytest.warns(UserWarning, match=r"effective units = 2000\)\) = 44.7"):
        R3D(quantiles=DECILES, bandwidth=1.0, n_bootstrap=20).fit(x, Y)


# ------------------------------------------------- public building blocks (issue 13)
def test_local_polynomial_and_select_bandwidth_are_r3ds_steps(sharp_data):
    from statlogit.rdd import local_polynomial, select_bandwidth

    x, Y, _ = sharp_data
    est = R3D(quantiles=DECILES, kernel="triangular", n_bootstrap=20,
              random_state=0).fit(x, Y)
    Q = np.array([np.quantile(y, DECILES) for y in Y])
    # the default bandwidth is the one integrated-MSE ("frechet") selection
    sel = select_bandwidth(x, Q, quantiles=DECILES, kernel="triangular",
                           method="frechet")
    np.testing.assert_allclose(sel.outcome, est.bandwidth_, rtol=1e-12)
    fit = local_polynomial(x, Q, est.bandwidth_, p=2, kernel="triangular")
    np.testing.assert_allclose(fit.above.coef, est.coef_plus_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fit.below.coef, est.coef_minus_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fit.jump, est.coef_plus_[0] - est.coef_minus_[0])
    # the residual process: each unit's residual from its own side, zero outside
    inside = fit.weight_difference != 0
    np.testing.assert_allclose(fit.residuals[inside],
                               (Q - fit.fitted(x - 0.0))[inside], atol=1e-12)
    assert np.all(fit.residuals[~inside] == 0)
    with pytest.raises(ValueError, match="side must be"):
        from statlogit.rdd._fit import fit_side
        fit_side(x, Q, np.ones(x.size), [0.5], 1, 0, side=True)
