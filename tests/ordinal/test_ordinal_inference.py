"""Issue 15: links, inference and proportional-odds tests of ProportionalOddsClassifier,
against statsmodels (OrderedModel, Logit) and hand-built sandwiches."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from statlogit import PrestoClassifier, ProportionalOddsClassifier
from statlogit.datasets import make_presto_ordinal

LINKS = [("logit", "logit"), ("probit", "probit"), ("cloglog", stats.gumbel_l)]


def po_data(seed=8, n=300, p=3, noise=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) + 0.3
    latent = X @ np.array([0.8, -0.5, 0.3])[:p] + (noise or rng.logistic)(size=n)
    return X, np.digitize(latent, [-1.0, 0.3, 1.5])


def statsmodels_fit(X, y, distr):
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    model = OrderedModel(y, X, distr=distr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model, model.fit(method="bfgs", disp=0, maxiter=10_000, gtol=1e-10)


def to_statsmodels(po):
    """Jacobian of statsmodels' (b, cut_1, log increments) w.r.t. our (beta, a)."""
    a, p = po.intercept_, po.coef_.size
    m = a.size
    jac = np.zeros((p + m, p + m))
    jac[:p, :p] = -np.eye(p)
    jac[p, p] = 1.0
    for k in range(1, m):
        gap = a[k] - a[k - 1]
        jac[p + k, p + k], jac[p + k, p + k - 1] = 1.0 / gap, -1.0 / gap
    return jac


@pytest.mark.parametrize("link, distr", LINKS)
def test_links_match_statsmodels_ordered_model(link, distr):
    X, y = po_data()
    po = ProportionalOddsClassifier(link=link).fit(X, y)
    _, res = statsmodels_fit(X, y, distr)
    np.testing.assert_allclose(po.predict_proba(X), res.predict(X), atol=1e-5)
    assert po.loglik_ == pytest.approx(res.llf, rel=1e-6)
    np.testing.assert_allclose(-po.coef_, res.params[:3], rtol=1e-4)
    jac = to_statsmodels(po)
    se = np.sqrt(np.diag(jac @ po.cov_ @ jac.T))
    np.testing.assert_allclose(se, res.bse, rtol=1e-4)


@pytest.mark.parametrize("cov_type", ["robust", "cluster"])
@pytest.mark.parametrize("link, distr", LINKS[:2])
def test_sandwich_equals_hand_computed_from_statsmodels_scores(cov_type, link, distr):
    X, y = po_data(seed=3)
    groups = np.arange(len(y)) % 37 if cov_type == "cluster" else None
    po = ProportionalOddsClassifier(link=link, cov_type=cov_type).fit(X, y, groups=groups)
    model, res = statsmodels_fit(X, y, distr)
    scores = model.score_obs(res.params)  # per-row gradients of the log-likelihood
    bread = np.linalg.inv(-model.hessian(res.params))
    n, k = scores.shape
    if cov_type == "robust":
        meat, factor = scores.T @ scores, n / (n - k)
    else:
        sums = np.array([scores[groups == g].sum(axis=0) for g in np.unique(groups)])
        n_groups = len(sums)
        meat = sums.T @ sums
        factor = n_groups / (n_groups - 1) * (n - 1) / (n - k)
    expected = factor * bread @ meat @ bread
    jac = to_statsmodels(po)
    np.testing.assert_allclose(jac @ po.cov_ @ jac.T, expected, rtol=2e-4, atol=1e-9)


def test_summary_conf_int_and_names():
    X, y = po_data()
    frame = pd.DataFrame(X, columns=["age", "dose", "score"])
    labels = pd.Series(pd.Categorical(np.array(["none", "mild", "severe", "fatal"])[y],
                                      categories=["none", "mild", "severe", "fatal"],
                                      ordered=True))
    po = ProportionalOddsClassifier().fit(frame, labels)
    names = ["age", "dose", "score", "none|mild", "mild|severe", "severe|fatal"]
    assert list(po.std_errors_.index) == names
    intervals = po.conf_int(alpha=0.1)
    assert list(intervals.index) == names
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(intervals["upper"] - intervals["lower"],
                               2 * z * po.std_errors_.to_numpy())
    text = po.summary().as_text()
    for name in names:
        assert name in text


def test_integer_weights_equal_repeated_rows_for_the_covariance():
    X, y = po_data(seed=2, n=120)
    w = np.random.default_rng(0).integers(0, 4, len(y))
    weighted = ProportionalOddsClassifier().fit(X, y, sample_weight=w)
    repeated = ProportionalOddsClassifier().fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-6)
    np.testing.assert_allclose(weighted.cov_, repeated.cov_, rtol=1e-6)


# ---------------------------------------------------------------- PO assumption tests


def brant_by_hand(X, y):
    """Brant's test from separate statsmodels Logit fits (independent of statlogit)."""
    import statsmodels.api as sm

    design = sm.add_constant(X)
    n, q = design.shape
    m = int(y.max())
    fits = [sm.Logit((y > k).astype(float), design).fit(disp=0, tol=1e-12)
            for k in range(m)]
    pis = [f.predict(design) for f in fits]
    cov = np.zeros((m * q, m * q))
    for k in range(m):
        for j in range(m):
            lo, hi = min(k, j), max(k, j)
            w = pis[hi] * (1 - pis[lo])
            ik = np.linalg.inv(design.T @ (design * (pis[k] * (1 - pis[k]))[:, None]))
            ij = np.linalg.inv(design.T @ (design * (pis[j] * (1 - pis[j]))[:, None]))
            cov[k * q:(k + 1) * q, j * q:(j + 1) * q] = ik @ (design.T @ (
                design * w[:, None])) @ ij
    beta = np.concatenate([f.params for f in fits])
    p = q - 1

    def chi2(columns):
        rows = []
        for c in columns:
            for k in range(1, m):
                row = np.zeros(m * q)
                row[1 + c], row[k * q + 1 + c] = 1.0, -1.0
                rows.append(row)
        D = np.array(rows)
        d = D @ beta
        return d @ np.linalg.solve(D @ cov @ D.T, d), len(rows)

    return [chi2(range(p))] + [chi2([j]) for j in range(p)]


def test_brant_equals_direct_statsmodels_implementation():
    X, y = po_data(seed=11, n=400)
    po = ProportionalOddsClassifier().fit(X, y)
    table = po.test_proportional_odds(X, y, method="brant")
    expected = brant_by_hand(X, y)
    assert list(table.index) == ["omnibus", "x0", "x1", "x2"]
    np.testing.assert_allclose(table["chi2"], [e[0] for e in expected], rtol=1e-6)
    np.testing.assert_array_equal(table["df"], [e[1] for e in expected])
    np.testing.assert_allclose(table["p-value"],
                               stats.chi2.sf(table["chi2"], table["df"]))


def test_likelihood_ratio_against_the_free_cumulative_model():
    X, y, _, _ = make_presto_ordinal(600, 3, intercept=(0.0, 1.5, 3.0), random_state=1)
    po = ProportionalOddsClassifier().fit(X, y)
    table = po.test_proportional_odds(X, y, method="lr")
    free = PrestoClassifier(alpha=0.0, standardize=False, tol=1e-10).fit(X, y)
    expected = 2 * (-free.objective_ * len(y) - po.loglik_)
    assert table.loc["omnibus", "chi2"] == pytest.approx(expected, rel=1e-6)
    assert table.loc["omnibus", "df"] == 2 * 3


def test_proportional_odds_test_refusals():
    X, y = po_data()
    with pytest.raises(ValueError, match="method"):
        ProportionalOddsClassifier().fit(X, y).test_proportional_odds(X, y, method="x")
    with pytest.raises(ValueError, match="logit"):
        ProportionalOddsClassifier(link="probit").fit(X, y).test_proportional_odds(X, y)
    with pytest.raises(ValueError, match="3 classes"):
        ProportionalOddsClassifier().fit(X, y > 1).test_proportional_odds(X, y > 1)


def _brant_p(seed, design):
    if design == "po":
        X, y = po_data(seed=seed, n=500)
    else:
        X, y, _, _ = make_presto_ordinal(2500, 10, intercept=(0.0, 3.0, 5.0),
                                         design="sparse", dev_prob=0.5,
                                         random_state=seed)
    po = ProportionalOddsClassifier().fit(X, y)
    return po.test_proportional_odds(X, y).loc["omnibus", "p-value"]


@pytest.mark.slow
def test_brant_size_under_proportional_odds():
    rejections = np.mean([_brant_p(seed, "po") < 0.05 for seed in range(400)])
    assert abs(rejections - 0.05) <= 0.02


@pytest.mark.slow
def test_brant_power_on_the_sparse_differences_design():
    rejections = np.mean([_brant_p(seed, "sparse") < 0.05 for seed in range(40)])
    assert rejections >= 0.9
