"""The covariate-adjusted bandwidth selector (rdbwselect's ``covs=``) against its
closed form.

R3D's plug-in is not rdrobust's selector (tests/rdd/test_r3d_parity.py checks it
against the R package R3D, which has no covariates), so the adjustment is tested
against its own definition: the selector with ``covariates=Z`` equals the selector
without them applied to ``Q - Z gamma``, with ``gamma`` the covariates' coefficients
of a numpy weighted least-squares twin (side-specific quadratics in x/h and Z,
Epanechnikov weights, h the unadjusted pilot bandwidth of each column).
"""

import warnings

import numpy as np
import pytest

from statlogit import R3D
from statlogit.rdd import select_bandwidth

LEVELS = np.array([0.25, 0.5, 0.75])


@pytest.fixture(scope="module")
def design():
    rng = np.random.default_rng(11)
    n = 800
    x = rng.uniform(-1, 1, n)
    z = np.column_stack([rng.normal(size=n) + 0.5 * x, rng.normal(size=n)])
    unit = 1 + x + 0.8 * x**2 + 1.0 * (x >= 0) + z @ [1.0, -0.5]
    Y = [u + rng.normal(0, 0.5, 40) for u in unit]
    Q = np.array([np.quantile(y, LEVELS) for y in Y])
    t = ((x >= 0) ^ (rng.uniform(size=n) < 0.2)).astype(float)
    return x, Y, Q, z, t


def _twin_gamma(x, y, Z, h):
    u = x / h
    w = np.where(np.abs(u) <= 1, 0.75 * (1 - u**2), 0.0)
    rows = w > 0
    R = np.vander(u[rows], 3, increasing=True)
    above = (x[rows] >= 0)[:, None]
    D = np.hstack([R * above, R * ~above, Z[rows]]) * np.sqrt(w[rows])[:, None]
    coef = np.linalg.lstsq(D, y[rows] * np.sqrt(w[rows]), rcond=None)[0]
    return coef[6:]


@pytest.mark.parametrize("method", ["simple", "frechet"])
def test_covariate_adjusted_selection_is_the_selection_of_the_adjusted_outcome(
        design, method):
    x, _, Q, z, _ = design
    plain = select_bandwidth(x, Q, quantiles=LEVELS, method=method)
    adjusted = select_bandwidth(x, Q, quantiles=LEVELS, method=method, covariates=z)
    gamma = np.column_stack([_twin_gamma(x, Q[:, j], z, plain.pilot_outcome[j])
                             for j in range(LEVELS.size)])
    np.testing.assert_allclose(adjusted.covariate_coef, gamma, rtol=1e-9, atol=1e-12)
    # the coefficients estimate the true ones (1, -0.5)
    np.testing.assert_allclose(gamma, [[1.0] * 3, [-0.5] * 3], atol=0.1)
    twin = select_bandwidth(x, Q - z @ gamma, quantiles=LEVELS, method=method)
    np.testing.assert_allclose(adjusted.outcome, twin.outcome, rtol=1e-10)
    np.testing.assert_allclose(adjusted.variance_plus, twin.variance_plus, rtol=1e-10)
    # z explains most of the unit variance: the variance term drops, h changes
    assert np.all(adjusted.variance_plus < 0.5 * plain.variance_plus)
    assert not np.allclose(adjusted.outcome, plain.outcome, rtol=1e-3)


def test_fuzzy_first_stage_is_adjusted_too(design):
    x, _, Q, z, t = design
    plain = select_bandwidth(x, Q, quantiles=LEVELS, treatment=t)
    adjusted = select_bandwidth(x, Q, quantiles=LEVELS, treatment=t, covariates=z)
    gamma_t = _twin_gamma(x, t, z, plain.pilot_treatment)
    np.testing.assert_allclose(adjusted.treatment_covariate_coef[:, 0], gamma_t,
                               rtol=1e-9, atol=1e-12)
    twin = select_bandwidth(x, Q, quantiles=LEVELS, treatment=t - z @ gamma_t)
    assert adjusted.treatment == pytest.approx(twin.treatment, rel=1e-10)


def test_r3d_fit_with_covariates_uses_the_adjusted_selection(design):
    x, Y, Q, z, _ = design
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est = R3D(quantiles=LEVELS, n_bootstrap=20, random_state=0).fit(
            x, Y, covariates=z)
    # the default bandwidth is the one integrated-MSE ("frechet") selection
    expected = select_bandwidth(x, Q, quantiles=LEVELS, covariates=z, method="frechet")
    np.testing.assert_allclose(est.bandwidth_, expected.outcome, rtol=1e-12)
    np.testing.assert_allclose(est.bandwidth_selection_.covariate_coef,
                               expected.covariate_coef, rtol=1e-12)
