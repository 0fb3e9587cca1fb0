"""Issue 16: covariates, clusters, kinks, donuts and pointwise inference.

Independent truth: rdrobust in the single-observation case (each unit one draw, so R3D
is scalar RD), at a fixed bandwidth, p = 1 and 2, three kernels.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from statlogit import R3D
from statlogit.datasets import make_r3d_package

KERNELS = [("triangular", "tri"), ("epanechnikov", "epa"), ("uniform", "uni")]
CASES = ["plain", "covariates", "cluster", "covariates+cluster", "deriv1", "fuzzy",
         "fuzzy+covariates+cluster", "fuzzy+deriv1"]
LEVELS = [0.25, 0.5, 0.75]


@pytest.fixture(scope="module")
def scalar_design():
    rng = np.random.default_rng(5)
    n = 600
    x = rng.uniform(-1, 1, n)
    z = rng.normal(size=(n, 2)) + 0.3 * x[:, None]
    g = rng.integers(0, 40, n)
    y = 1 + x + 0.5 * x**2 + 2 * (x >= 0) + z @ [0.5, -0.3] + rng.normal(0, 0.3, n)
    t = ((x >= 0) ^ (rng.uniform(size=n) < 0.2)).astype(float)
    return x, y, z, g, t


def _fit_quietly(est, *args, **kwargs):
    with warnings.catch_warnings():
        # one draw per unit: flat quantile curves and tiny samples warn by design
        warnings.simplefilter("ignore", UserWarning)
        return est.fit(*args, **kwargs)


def _ours_and_rdrobust(scalar_design, kernel, rd_kernel, p, case, vce):
    """R3D and rdrobust on the single-observation design, at h = 0.4."""
    rdrobust = pytest.importorskip("rdrobust").rdrobust
    x, y, z, g, t = scalar_design
    ours, theirs = {}, {}
    if "covariates" in case:
        ours["covariates"] = theirs["covs"] = z
    if "cluster" in case:
        ours["cluster"] = theirs["cluster"] = g
    if "fuzzy" in case:
        ours["treatment"] = theirs["fuzzy"] = t
    deriv = 1 if "deriv1" in case else 0
    est = _fit_quietly(R3D(p=p, kernel=kernel, bandwidth=0.4, quantiles=LEVELS,
                           n_bootstrap=10, deriv=deriv, vce=vce, random_state=0),
                       x, y, **ours)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = rdrobust(y, x, c=0, p=p, h=0.4, kernel=rd_kernel, vce=vce,
                       deriv=deriv or None, **theirs)
    return est, ref


@pytest.mark.parametrize(("kernel", "rd_kernel"), KERNELS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("case", CASES)
def test_single_observation_equals_rdrobust(scalar_design, kernel, rd_kernel, p, case):
    est, ref = _ours_and_rdrobust(scalar_design, kernel, rd_kernel, p, case, "hc1")
    np.testing.assert_allclose(est.tau_, ref.coef.iloc[0, 0], rtol=0, atol=1e-8)
    np.testing.assert_allclose(est.std_errors_, ref.se.iloc[0, 0], rtol=1e-6)


def test_donut_equals_the_fit_on_the_units_outside_it():
    x, Y, _ = make_r3d_package(400, 30, delta=1.0, random_state=2)
    z = np.column_stack([np.sin(3 * x), np.arange(x.size) % 3])
    g = np.arange(x.size) % 25
    est = R3D(quantiles=LEVELS, donut=0.1, random_state=0).fit(x, Y, covariates=z,
                                                              cluster=g)
    keep = np.abs(x) >= 0.1
    subset = R3D(quantiles=LEVELS, random_state=0).fit(
        x[keep], [y for y, k in zip(Y, keep, strict=True) if k], covariates=z[keep],
        cluster=g[keep])
    np.testing.assert_array_equal(est.bandwidth_, subset.bandwidth_)
    np.testing.assert_array_equal(est.tau_, subset.tau_)
    np.testing.assert_array_equal(est.std_errors_, subset.std_errors_)
    np.testing.assert_array_equal(est.band_, subset.band_)
    assert est.n_units_ == keep.sum()


def test_one_multiplier_per_cluster():
    x, Y, _ = make_r3d_package(300, 20, delta=1.0, random_state=4)
    g = np.arange(x.size) // 10
    est = R3D(quantiles=LEVELS, n_bootstrap=50, random_state=0).fit(x, Y, cluster=g)
    # relabelling the clusters (same partition) changes nothing
    relabel = R3D(quantiles=LEVELS, n_bootstrap=50, random_state=0).fit(
        x, Y, cluster=np.array([f"c{99 - v}" for v in g]))
    np.testing.assert_allclose(est.std_errors_, relabel.std_errors_, rtol=1e-12)
    assert est.n_clusters_ == 30
    with pytest.raises(ValueError, match="multipliers and cluster"):
        R3D(quantiles=LEVELS).fit(x, Y, cluster=g, multipliers=np.ones((x.size, 5)))
    with pytest.raises(ValueError, match="single cluster"):
        R3D(quantiles=LEVELS).fit(x, Y, cluster=np.zeros(x.size))


def test_covariate_names_and_bad_covariates():
    x, Y, _ = make_r3d_package(300, 20, delta=1.0, random_state=4)
    frame = pd.DataFrame({"age": np.sin(5 * x), "size": np.cos(7 * x)})
    est = R3D(quantiles=LEVELS, random_state=0).fit(x, Y, covariates=frame)
    assert est.covariate_names_ == ["age", "size"]
    assert est.covariate_coef_.shape == (2, 3)
    with pytest.raises(ValueError, match="collinear"):
        R3D(quantiles=LEVELS).fit(x, Y, covariates=frame.assign(copy=frame["age"]))
    with pytest.raises(ValueError, match="covariates"):
        R3D(quantiles=LEVELS).fit(x, Y, covariates=np.ones((5, 2)))


# ------------------------------------------------------------ pointwise inference
@pytest.fixture(scope="module")
def fitted_cluster():
    x, Y, _ = make_r3d_package(400, 30, delta=1.0, random_state=6)
    est = R3D(quantiles=LEVELS, n_bootstrap=199, random_state=0).fit(
        x, Y, covariates=pd.DataFrame({"age": np.sin(4 * x)}),
        cluster=np.arange(x.size) // 8)
    return est


def test_conf_int_pointwise_and_uniform(fitted_cluster):
    from scipy import stats

    est = fitted_cluster
    pointwise = est.conf_int(alpha=0.1)
    assert list(pointwise.columns) == ["lower", "upper"]
    assert pointwise.index.name == "quantile" and pointwise.attrs["kind"] == "pointwise"
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(pointwise["upper"], est.tau_ + z * est.std_errors_)
    uniform = est.conf_int(kind="uniform")
    np.testing.assert_allclose(uniform.to_numpy(), est.band_)
    # a band at another level: the ceil((1 - alpha)(B + 1))-th smallest sup-norm
    sup = np.sort(np.max(np.abs(est.bootstrap_draws_), axis=1))
    wide = est.conf_int(alpha=0.01, kind="uniform")
    np.testing.assert_allclose(wide["upper"] - est.tau_, sup[197])
    with pytest.raises(ValueError, match="kind"):
        est.conf_int(kind="simultaneous")
    with pytest.raises(ValueError, match="alpha"):
        est.conf_int(alpha=1.5)


def test_summary_reports_inference_and_small_p_values(fitted_cluster):
    est = fitted_cluster
    summary = est.summary(alpha=0.05)
    text = summary.as_text()
    for piece in ("No. units", "Effective units below", "Effective units above",
                  "Bandwidth", "Clusters", "age", "< 1/(B+1) = 0.005", "std err",
                  "uniform lower", "q=0.25"):
        assert piece in text, piece
    assert "0.000" not in text.split("Nullity p-value:")[1].split("\n")[0]
    assert summary.as_html().startswith("<table")
    # the per-level table stays reachable
    assert list(summary.columns[:3]) == ["tau", "band_lower", "band_upper"]
    np.testing.assert_array_equal(summary["std_error"], est.std_errors_)


def test_sign_test_is_one_sided():
    x, Y, _ = make_r3d_package(400, 30, delta=0.5, random_state=8)
    est = R3D(quantiles=LEVELS, n_bootstrap=199, random_state=0).fit(x, Y)
    positive, negative = est.test_sign("positive"), est.test_sign("negative")
    assert positive.p_value > 0.5 and negative.p_value < 0.01
    assert positive.statistic == pytest.approx(-np.min(est.tau_))
    assert negative.statistic == pytest.approx(np.max(est.tau_))
    flipped = R3D(quantiles=LEVELS, n_bootstrap=199, random_state=0).fit(
        x, [-y for y in Y])
    assert flipped.test_sign("positive").p_value == pytest.approx(negative.p_value)
    with pytest.raises(ValueError, match="direction"):
        est.test_sign("up")


def test_kinks_frechet_and_covariates_with_selected_bandwidths():
    x, Y, _ = make_r3d_package(400, 30, delta=1.0, random_state=9)
    z = np.sin(4 * x) + np.random.default_rng(0).normal(size=x.size)
    frechet = R3D(method="frechet", quantiles=LEVELS, random_state=0).fit(
        x, Y, covariates=z)
    assert np.all(np.diff(frechet.m_plus_) >= 0) and np.all(np.isfinite(frechet.tau_))
    kink = R3D(deriv=1, quantiles=LEVELS, random_state=0).fit(x, Y)
    # package DGP 1: slope 5 on both sides, no kink
    assert np.all(np.abs(kink.tau_) < 4 * kink.std_errors_ + 1e-12)
    plain = R3D(quantiles=LEVELS, random_state=0).fit(x, Y)
    assert plain.covariate_coef_ is None and plain.covariate_names_ is None
    # a covariate unrelated to the outcome barely moves the estimate
    np.testing.assert_allclose(
        R3D(quantiles=LEVELS, random_state=0).fit(x, Y, covariates=z).tau_,
        plain.tau_, atol=3 * plain.std_errors_.max())
    with pytest.raises(ValueError, match="deriv"):
        R3D(deriv=1, parity="R3D").fit(x, Y)
    with pytest.raises(ValueError, match="covariates"):
        R3D(parity="R3D").fit(x, Y, covariates=z)


@pytest.mark.parametrize("shared", [True, False])
def test_derivative_weights_match_a_numpy_twin(shared):
    from statlogit.rdd._fit import KERNEL_CODES, fit_side, kernel_weights

    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, 150)
    Q = np.sort(rng.standard_normal((150, 3)), axis=1) + x[:, None] ** 2
    h = np.full(3, 0.6) if shared else np.array([0.4, 0.6, 0.9])
    code = KERNEL_CODES["triangular"]
    fit = fit_side(x, Q, np.ones(x.size), h, 2, code, side="above", deriv=1)
    for j in range(3):
        w = np.where(x >= 0, kernel_weights(x / h[j], code), 0.0)
        R = np.vander(x / h[j], 3, increasing=True)
        row = np.linalg.solve(R.T @ (R * w[:, None]), np.eye(3)[1])
        twin = w * (R @ row) / h[j]  # weights of the slope d m / d x
        np.testing.assert_allclose(fit.weights[:, j], twin, atol=1e-10)
        np.testing.assert_allclose(fit.estimate[j], twin @ Q[:, j], rtol=1e-10)


def test_local_polynomial_derivative_is_the_kink_estimate(pyplot):
    from statlogit.rdd import local_polynomial

    x, Y, _ = make_r3d_package(300, 20, delta=1.0, random_state=2)
    est = R3D(deriv=1, quantiles=LEVELS, bandwidth=0.6, random_state=0).fit(x, Y)
    fit = local_polynomial(x, est.unit_quantiles_, 0.6, p=2, kernel="epanechnikov",
                           deriv=1)
    np.testing.assert_allclose(fit.jump, est.tau_, rtol=1e-10)
    ax = est.plot()
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == [
        "95% uniform band", "95% pointwise"]


@pytest.mark.parametrize(("kernel", "rd_kernel"), KERNELS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("case", ["plain", "covariates", "fuzzy", "deriv1",
                                  "fuzzy+covariates", "fuzzy+deriv1"])
def test_hc3_equals_rdrobust_hc3(scalar_design, kernel, rd_kernel, p, case):
    est, ref = _ours_and_rdrobust(scalar_design, kernel, rd_kernel, p, case, "hc3")
    np.testing.assert_allclose(est.tau_, ref.coef.iloc[0, 0], rtol=0, atol=1e-8)
    np.testing.assert_allclose(est.std_errors_, ref.se.iloc[0, 0], rtol=1e-6)
    # HC3 residuals are larger than the fitted ones: the band widens
    hc1, _ = _ours_and_rdrobust(scalar_design, kernel, rd_kernel, p, case, "hc1")
    assert est.critical_value_ > hc1.critical_value_


def test_imse_bandwidth_is_the_frechet_selection():
    x, Y, _ = make_r3d_package(300, 30, delta=1.0, random_state=3)
    q = np.arange(1, 10) / 10
    one = R3D(quantiles=q, bandwidth="imse", n_bootstrap=20, random_state=0).fit(x, Y)
    frechet = R3D(quantiles=q, method="frechet", n_bootstrap=20, random_state=0).fit(x, Y)
    per_level = R3D(quantiles=q, bandwidth="mse", n_bootstrap=20,
                    random_state=0).fit(x, Y)
    np.testing.assert_array_equal(one.bandwidth_, frechet.bandwidth_)
    assert np.ptp(one.bandwidth_) == 0 and np.ptp(per_level.bandwidth_) > 0
    fixed = R3D(quantiles=q, bandwidth=float(one.bandwidth_[0]), n_bootstrap=20,
                random_state=0).fit(x, Y)
    np.testing.assert_array_equal(one.tau_, fixed.tau_)


def test_default_bandwidth_is_imse_and_the_r_packages_mse_with_parity():
    x, Y, _ = make_r3d_package(300, 30, delta=1.0, random_state=3)
    q = np.arange(1, 10) / 10

    def fit(**params):
        return R3D(quantiles=q, n_bootstrap=20, random_state=0, **params).fit(x, Y)

    assert R3D().bandwidth is None
    np.testing.assert_array_equal(fit().bandwidth_, fit(bandwidth="imse").bandwidth_)
    np.testing.assert_array_equal(fit().tau_, fit(bandwidth="imse").tau_)
    np.testing.assert_array_equal(fit(parity="R3D").bandwidth_,
                                  fit(parity="R3D", bandwidth="mse").bandwidth_)
    assert np.ptp(fit(parity="R3D").bandwidth_) > 0


def test_vce_choices_are_checked(scalar_design):
    x, y, _, g, _ = scalar_design
    with pytest.raises(ValueError, match="vce must be"):
        R3D(vce="hc2", bandwidth=0.4).fit(x, y)
    with pytest.raises(ValueError, match="with cluster= use"):
        _fit_quietly(R3D(vce="hc3", bandwidth=0.4), x, y, cluster=g)
    with pytest.raises(ValueError, match="parity='R3D'"):
        R3D(vce="hc3", parity="R3D", bandwidth=0.4).fit(x, y)
    with pytest.raises(ValueError, match="'imse'"):
        R3D(bandwidth="rot").fit(x, y)
    with pytest.raises(ValueError, match="restrict_bandwidth must be"):
        R3D(restrict_bandwidth="yes").fit(x, y)


def test_summary_names_the_variance_estimator(scalar_design):
    x, y, *_ = scalar_design
    notes = {vce: str(_fit_quietly(R3D(vce=vce, bandwidth=0.4, quantiles=LEVELS,
                                       n_bootstrap=10, random_state=0), x, y).summary())
             for vce in ("hc1", "hc3")}
    assert "HC1 standard errors" in notes["hc1"]
    assert "HC3 standard errors" in notes["hc3"]
