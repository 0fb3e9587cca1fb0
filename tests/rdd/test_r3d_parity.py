"""Parity of R3D(parity="R3D") with the reference R package's outputs.

The fixtures (and their settings) are described in ``shared/r3d_reference/README.md``,
next to the repository. Tolerances: bandwidths 1e-9 relative, effects, limits, bands
and bootstrap draws 1e-11 absolute.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from statlogit import R3D
from statlogit.rdd._bandwidth import select_bandwidths
from statlogit.rdd._fit import TRIANGULAR

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "r3d_reference"
pytestmark = pytest.mark.skipif(
    not REFERENCE.is_dir(),
    reason=f"R3D reference fixtures not found at {REFERENCE} (the shared/ folder next "
           "to the repository)")

GRID_20 = np.arange(1, 21) / 21
BW_RTOL = 1e-9
ATOL = 1e-11


def _data(name):
    frame = pd.read_csv(REFERENCE / f"ref_data_{name}.csv")
    treatment = frame["T_treat"].to_numpy(float) if "T_treat" in frame else None
    return frame["X"].to_numpy(), frame.filter(regex=r"^Q\d+$").to_numpy(), treatment


def _results(name):
    return pd.read_csv(REFERENCE / f"ref_results_{name}.csv")


CASES = [
    # (results file, data file, R3D parameters)
    ("sharp_simple_epanechnikov", "sharp_simple_20", {}),
    ("sharp_simple_triangular", "sharp_simple_20", {"kernel": "triangular"}),
    ("sharp_simple_uniform", "sharp_simple_20", {"kernel": "uniform"}),
    ("sharp_simple_fixedbw", "sharp_simple_20", {"bandwidth": 0.5}),
    ("sharp_simple_p1", "sharp_simple_20", {"p": 1}),
    ("sharp_simple_p3", "sharp_simple_20", {"p": 3}),
    ("coverage", "sharp_simple_20", {"bandwidth": "cer"}),
    ("sharp_frechet_20", "sharp_simple_20", {"method": "frechet"}),
    ("fuzzy_simple_20", "fuzzy_simple_20", {}),
    ("fuzzy_frechet_20", "fuzzy_simple_20", {"method": "frechet"}),
    ("dgp1", "dgp1", {}),
    ("dgp2", "dgp2", {}),
    ("small_sample", "small_sample", {}),
]


@pytest.mark.parametrize(("result", "data", "params"), CASES, ids=[c[0] for c in CASES])
def test_results_match_reference(result, data, params):
    x, Q, treatment = _data(data)
    ref = _results(result)
    est = R3D(quantiles=ref["q"].to_numpy(), parity="R3D", n_bootstrap=20,
              random_state=0, **params).fit(x, Q, treatment=treatment)
    np.testing.assert_allclose(est.quantiles_, ref["q"], rtol=1e-14)
    np.testing.assert_allclose(est.bandwidth_, ref["bw_num"], rtol=BW_RTOL)
    np.testing.assert_allclose(est.tau_, ref["tau"], rtol=0, atol=ATOL)
    np.testing.assert_allclose(est.m_plus_, ref["int_plus"], rtol=0, atol=ATOL)
    np.testing.assert_allclose(est.m_minus_, ref["int_minus"], rtol=0, atol=ATOL)
    if "bw_den" in ref:
        np.testing.assert_allclose(est.treatment_bandwidth_, ref["bw_den"][0],
                                   rtol=BW_RTOL)


BWSELECT = [("sharp", "sharp_simple_20", "simple"),
            ("frechet", "sharp_simple_20", "frechet"),
            ("fuzzy", "fuzzy_simple_20", "simple")]


@pytest.mark.parametrize(("name", "data", "method"), BWSELECT, ids=[b[0] for b in BWSELECT])
def test_bandwidth_selector_internals_match_reference(name, data, method):
    x, Q, treatment = _data(data)
    ref = pd.read_csv(REFERENCE / f"ref_bwselect_{name}.csv")
    sel = select_bandwidths(x, Q, treatment, GRID_20, method=method,
                            kernel=TRIANGULAR, parity=True)
    checks = {"h_star_num": sel.outcome, "pilot_h_num": sel.pilot_outcome,
              "B_plus": sel.bias_plus, "B_minus": sel.bias_minus,
              "V_plus": sel.variance_plus, "V_minus": sel.variance_minus}
    for column, ours in checks.items():
        np.testing.assert_allclose(ours, ref[column], rtol=BW_RTOL, err_msg=column)
    np.testing.assert_allclose(sel.density, ref["f_X_hat"][0], rtol=1e-12)
    if treatment is not None:
        np.testing.assert_allclose(sel.treatment, ref["h_star_den"][0], rtol=BW_RTOL)
        np.testing.assert_allclose(sel.pilot_treatment, ref["pilot_h_den"][0],
                                   rtol=BW_RTOL)


@pytest.fixture(scope="module")
def deterministic_bootstrap():
    x, Q, _ = _data("sharp_simple_20")
    xi = pd.read_csv(REFERENCE / "ref_xi_matrix.csv").to_numpy()
    return R3D(quantiles=GRID_20, parity="R3D").fit(x, Q, multipliers=xi)


def test_bootstrap_draws_match_reference(deterministic_bootstrap):
    draws = pd.read_csv(REFERENCE / "ref_bootstrap_taus.csv").to_numpy()
    assert deterministic_bootstrap.bootstrap_draws_.shape == (200, 20)
    np.testing.assert_allclose(deterministic_bootstrap.bootstrap_draws_.T, draws,
                               rtol=0, atol=ATOL)


def test_band_and_critical_value_match_reference(deterministic_bootstrap):
    ref = pd.read_csv(REFERENCE / "ref_bootstrap_deterministic.csv")
    est = deterministic_bootstrap
    np.testing.assert_allclose(est.critical_value_, 0.188660924417257, rtol=0, atol=ATOL)
    np.testing.assert_allclose(est.band_[:, 0], ref["cb_lower"], rtol=0, atol=ATOL)
    np.testing.assert_allclose(est.band_[:, 1], ref["cb_upper"], rtol=0, atol=ATOL)


def test_p_values_match_reference(deterministic_bootstrap):
    ref = pd.read_csv(REFERENCE / "ref_pvalues_deterministic.csv").set_index("test")
    nullity = deterministic_bootstrap.test_nullity()
    homogeneity = deterministic_bootstrap.test_homogeneity()
    row_null, row_homo = ref.loc["nullity:[0.05, 0.95]"], ref.loc["homogeneity:[0.05, 0.95]"]
    assert nullity.p_value == row_null["p_value"] == 0.0
    assert homogeneity.p_value == pytest.approx(row_homo["p_value"], abs=1e-12)
    np.testing.assert_allclose(nullity.statistic, row_null["test_stat"], atol=ATOL)
    np.testing.assert_allclose(homogeneity.statistic, row_homo["test_stat"], atol=ATOL)
