"""Issue 15: PRESTO's links, elastic net, sample weights, parallel CV and plots, against
cvxpy / scipy formulations and repeated-row fits."""

import warnings

import numpy as np
import pytest
from joblib import parallel_config
from scipy import optimize, special, stats

from statlogit import PrestoClassifier, PrestoClassifierCV, presto_path
from statlogit.datasets import make_presto_ordinal

LAWS = {"logit": stats.logistic, "probit": stats.norm, "cloglog": stats.gumbel_l}


def ordinal_data(n, p, n_classes, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) + 0.3 * rng.normal(size=p)
    intercept = np.linspace(-1.5, 1.5, n_classes - 1)
    coef = rng.normal(size=p) * (rng.random(p) < 0.7)
    F = 1 / (1 + np.exp(-(X @ coef[:, None] + intercept)))
    return X, (rng.random(n)[:, None] > F).sum(axis=1)


def objective(X, y, intercept, coef, alpha, *, link="logit", l1_ratio=1.0,
              factor=None, weights=None):
    """PRESTO's objective in plain numpy/scipy (standardize=False)."""
    n, p = X.shape
    law = LAWS[link]
    cum = np.hstack([np.zeros((n, 1)), law.cdf(X @ coef.T + intercept), np.ones((n, 1))])
    prob = cum[np.arange(n), y + 1] - cum[np.arange(n), y]
    w = np.ones(n) if weights is None else weights
    diffs = np.diff(coef, axis=0, prepend=0.0)
    v = np.ones(p) if factor is None else factor
    penalty = np.sum(v * (l1_ratio * np.abs(diffs) + (1 - l1_ratio) / 2 * diffs**2))
    return -np.sum(w * np.log(prob)) / w.sum() + alpha * penalty


def scipy_presto(X, y, n_classes, alpha, link):
    """PRESTO by L-BFGS-B on split variables psi = u - v, analytic gradient from
    scipy.stats' cdf/pdf: the high-precision scipy formulation."""
    n, p = X.shape
    m = n_classes - 1
    law = LAWS[link]
    rows = np.arange(n)

    def unpack(z):
        a, u, v = z[:m], z[m:m + m * p], z[m + m * p:]
        return a, (u - v).reshape(m, p)

    def fun(z):
        a, psi = unpack(z)
        coef = np.cumsum(psi, axis=0)
        eta = X @ coef.T + a
        cdf = np.hstack([np.zeros((n, 1)), law.cdf(eta), np.ones((n, 1))])
        pdf = np.hstack([np.zeros((n, 1)), law.pdf(eta), np.zeros((n, 1))])
        prob = cdf[rows, y + 1] - cdf[rows, y]
        if np.any(prob <= 0):
            return np.inf, np.zeros_like(z)
        g_eta = np.zeros((n, m + 2))
        g_eta[rows, y + 1] -= pdf[rows, y + 1] / prob
        g_eta[rows, y] += pdf[rows, y] / prob
        g_eta = g_eta[:, 1:-1] / n
        g_a = g_eta.sum(axis=0)
        g_coef = g_eta.T @ X
        g_psi = np.flip(np.cumsum(np.flip(g_coef, 0), 0), 0).ravel()
        value = -np.mean(np.log(prob)) + alpha * np.sum(z[m:])
        return value, np.r_[g_a, g_psi + alpha, -g_psi + alpha]

    counts = np.cumsum(np.bincount(y, minlength=n_classes))[:-1] / n
    start = np.r_[law.ppf(counts), np.zeros(2 * m * p)]
    bounds = [(None, None)] * m + [(0, None)] * (2 * m * p)
    res = optimize.minimize(fun, start, jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 50_000,
                                     "maxcor": 30})
    a, psi = unpack(res.x)
    return a, np.cumsum(psi, axis=0), res.fun


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_presto_links_equal_a_scipy_formulation(link):
    X, y = ordinal_data(300, 3, 4, seed=3)
    alpha = 0.01
    model = PrestoClassifier(alpha=alpha, link=link, standardize=False, tol=1e-10).fit(X, y)
    a, coef, value = scipy_presto(X, y, 4, alpha, link)
    # the scipy formulation only keeps observed classes positive: compare where its
    # optimum keeps every class positive (interior), as PRESTO's domain requires
    assert np.all(np.diff(X @ coef.T + a, axis=1) > 0)
    ours = objective(X, y, model.intercept_, model.coef_, alpha, link=link)
    theirs = objective(X, y, a, coef, alpha, link=link)
    assert theirs == pytest.approx(value, rel=1e-9)
    assert ours <= theirs * (1 + 1e-9)
    assert ours == pytest.approx(theirs, rel=1e-6)
    assert model.objective_ == pytest.approx(ours, rel=1e-9)


def test_log_ndtr_matches_scipy():
    from statlogit.ordinal._kernels import log_ndtr

    x = np.r_[-1e3, -300.0, -40.0, -30.0 - 1e-9, -29.0, -5.0, 0.0, 3.0, 8.0, 40.0]
    np.testing.assert_allclose([log_ndtr(v) for v in x], special.log_ndtr(x), rtol=1e-13)


# ---------------------------------------------------------------- elastic net


@pytest.mark.cvxpy
@pytest.mark.parametrize("l1_ratio", [0.3, 0.7])
@pytest.mark.parametrize("penalize_first", [True, False])
def test_elastic_net_matches_cvxpy(l1_ratio, penalize_first):
    from statlogit.ordinal import presto_cvxpy

    X, y = ordinal_data(200, 3, 4, seed=4)
    factor = np.array([0.0, 1.0, 2.5])
    alpha = 0.03
    model = PrestoClassifier(alpha=alpha, l1_ratio=l1_ratio, penalty_factor=factor,
                             penalize_first=penalize_first, standardize=False,
                             tol=1e-10).fit(X, y)
    coef, intercept, value = presto_cvxpy(X, y, alpha, 4, penalize_first=penalize_first,
                                          l1_ratio=l1_ratio, penalty_factor=factor)

    def obj(a, c):
        diffs = np.diff(c, axis=0, prepend=0.0)
        if not penalize_first:
            diffs = diffs[1:]
        pen = np.sum(factor * (l1_ratio * np.abs(diffs) + (1 - l1_ratio) / 2 * diffs**2))
        return objective(X, y, a, c, 0.0) + alpha * pen

    theirs = obj(intercept, coef)
    assert theirs == pytest.approx(value, rel=1e-7)
    ours = obj(model.intercept_, model.coef_)
    assert ours <= theirs * (1 + 1e-7)
    assert ours == pytest.approx(theirs, rel=1e-6)


@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_alpha_max_exact_with_elastic_net_and_zero_factors(l1_ratio):
    X, y, _, _ = make_presto_ordinal(400, 4, intercept=(0.0, 1.5, 3.0), random_state=3)
    factor = np.array([0.0, 1.0, 2.0, 0.5])
    options = dict(l1_ratio=l1_ratio, penalty_factor=factor)
    cv = PrestoClassifierCV(n_alphas=3, cv=2, random_state=0, **options).fit(X, y)
    top = cv.alpha_max_
    at = PrestoClassifier(alpha=top * 1.0001, **options).fit(X, y)
    below = PrestoClassifier(alpha=top * 0.98, **options).fit(X, y)
    penalised = factor > 0
    diffs_at = np.diff(at.coef_, axis=0, prepend=0.0)[:, penalised]
    diffs_below = np.diff(below.coef_, axis=0, prepend=0.0)[:, penalised]
    assert np.all(np.abs(diffs_at) < 1e-9)
    assert np.any(np.abs(diffs_below) > 1e-6)
    assert np.any(np.abs(at.coef_[:, 0]) > 1e-3)  # the unpenalised feature is fitted


def test_l1_ratio_zero_needs_an_explicit_grid():
    X, y = ordinal_data(100, 2, 3, seed=1)
    with pytest.raises(ValueError, match="l1_ratio"):
        presto_path(X, y, l1_ratio=0.0)
    alphas, coefs, _ = presto_path(X, y, l1_ratio=0.0, alphas=[1.0, 0.1])
    assert np.all(np.abs(coefs) > 0)  # ridge never zeroes


# ---------------------------------------------------------------- sample weights


@pytest.fixture(scope="module")
def weighted():
    X, y = ordinal_data(150, 3, 4, seed=6)
    w = np.random.default_rng(1).integers(0, 4, len(y))
    return X, y, w


def test_weights_equal_repeated_rows_presto(weighted):
    X, y, w = weighted
    for link in ("logit", "probit"):
        a = PrestoClassifier(alpha=0.005, link=link, tol=1e-10).fit(X, y, sample_weight=w)
        b = PrestoClassifier(alpha=0.005, link=link, tol=1e-10).fit(
            np.repeat(X, w, axis=0), np.repeat(y, w))
        c = PrestoClassifier(alpha=0.005, link=link, tol=1e-10).fit(X[w > 0], y[w > 0],
                                                                  sample_weight=w[w > 0])
        np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-6)
        np.testing.assert_allclose(a.coef_, c.coef_, atol=1e-10)


def test_weights_equal_repeated_rows_path(weighted):
    X, y, w = weighted
    alphas, coefs, intercepts = presto_path(X, y, sample_weight=w, n_alphas=5)
    again = presto_path(np.repeat(X, w, axis=0), np.repeat(y, w), n_alphas=5)
    np.testing.assert_allclose(alphas, again[0], rtol=1e-8)
    np.testing.assert_allclose(coefs, again[1], atol=1e-6)
    np.testing.assert_allclose(intercepts, again[2], atol=1e-6)


def test_weights_equal_repeated_rows_cv(weighted):
    X, y, w = weighted
    index = np.repeat(np.arange(len(y)), w)  # row of the repeated data -> original row
    folds = np.arange(len(y)) % 3
    splits_w = [(np.flatnonzero(folds != f), np.flatnonzero(folds == f)) for f in range(3)]
    splits_r = [(np.flatnonzero(folds[index] != f), np.flatnonzero(folds[index] == f))
                for f in range(3)]
    a = PrestoClassifierCV(n_alphas=4, cv=splits_w).fit(X, y, sample_weight=w)
    b = PrestoClassifierCV(n_alphas=4, cv=splits_r).fit(X[index], y[index])
    np.testing.assert_allclose(a.cv_scores_, b.cv_scores_, rtol=1e-6)
    assert a.alpha_ == pytest.approx(b.alpha_, rel=1e-8)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-6)


# ---------------------------------------------------------------- parallel CV, plots


def test_cv_results_do_not_depend_on_n_jobs():
    X, y, _, _ = make_presto_ordinal(300, 4, intercept=(0.0, 1.5, 3.0), random_state=2)
    serial = PrestoClassifierCV(n_alphas=5, cv=3, random_state=0).fit(X, y)
    with parallel_config(backend="threading"):
        threads = PrestoClassifierCV(n_alphas=5, cv=3, random_state=0, n_jobs=2,
                                     verbose=1).fit(X, y)
    np.testing.assert_array_equal(serial.cv_scores_, threads.cv_scores_)
    np.testing.assert_array_equal(serial.coef_, threads.coef_)


@pytest.mark.slow
def test_cv_with_process_workers_equals_serial():
    X, y, _, _ = make_presto_ordinal(300, 4, intercept=(0.0, 1.5, 3.0), random_state=2)
    serial = PrestoClassifierCV(n_alphas=5, cv=3, random_state=0).fit(X, y)
    workers = PrestoClassifierCV(n_alphas=5, cv=3, random_state=0, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(serial.cv_scores_, workers.cv_scores_)


def test_plots_are_labelled(pyplot):
    import pandas as pd

    X, y, _, _ = make_presto_ordinal(300, 3, intercept=(0.0, 1.5, 3.0), random_state=2)
    frame = pd.DataFrame(X, columns=["age", "dose", "score"])
    cv = PrestoClassifierCV(n_alphas=4, cv=2, random_state=0).fit(frame, y)
    left, right = cv.plot()
    assert [t.get_text() for t in left.get_legend().get_texts()] == list(frame.columns)
    assert right.get_legend() is not None
    ax = cv.plot_calibration(frame, y, n_bins=5)
    assert "P(y = 3)" in ax.get_xlabel()
    model = PrestoClassifier(alpha=0.01).fit(frame, y)
    ax = model.plot()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(frame.columns)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0|1", "1|2", "2|3"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax.figure.canvas.draw()
