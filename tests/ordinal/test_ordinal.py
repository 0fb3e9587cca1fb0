"""PRESTO family against independent truths: cvxpy/Clarabel, scikit-learn, statsmodels."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression

from statlogit import (
    PrestoClassifier,
    PrestoClassifierCV,
    ProportionalOddsClassifier,
    presto_path,
)
from statlogit.datasets import make_presto_ordinal


def objective(X, y, intercept, coef, alpha, penalize_first=True):
    """Plain numpy PRESTO objective on the original scale (standardize=False)."""
    eta = X @ coef.T + intercept
    n = len(y)
    cum = np.hstack([np.zeros((n, 1)), 1 / (1 + np.exp(-eta)), np.ones((n, 1))])
    p = cum[np.arange(n), y + 1] - cum[np.arange(n), y]
    diffs = np.diff(coef, axis=0, prepend=0.0)
    penalty = np.abs(diffs[1:]).sum() + (np.abs(diffs[0]).sum() if penalize_first
                                        else 0.0)
    return -np.mean(np.log(p)) + alpha * penalty


def ordinal_data(n, p, n_classes, seed, spread=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) + 0.3 * rng.normal(size=p)
    intercept = np.linspace(-1.5, 1.5, n_classes - 1)
    coef = spread * rng.normal(size=p) * (rng.random(p) < 0.7)
    F = 1 / (1 + np.exp(-(X @ coef[:, None] + intercept)))
    y = (rng.random(n)[:, None] > F).sum(axis=1)
    return X, y


@pytest.fixture(scope="module")
def synthetic():
    return make_presto_ordinal(400, 4, intercept=(0.0, 1.5, 3.0), random_state=3)


# ---------------------------------------------------------------- cvxpy reference


@pytest.mark.cvxpy
@pytest.mark.parametrize("n, p, n_classes, alpha, penalize_first", [
    (150, 2, 3, 0.03, True),
    (200, 3, 4, 0.02, True),
    (300, 4, 4, 0.01, False),
    (100, 2, 5, 0.01, False),
    (80, 5, 2, 0.03, True),
])
def test_matches_cvxpy_reference(n, p, n_classes, alpha, penalize_first):
    """Seeded problems whose constrained optimum is interior (no zero probability)."""
    from statlogit.ordinal import _reference as reference

    X, y = ordinal_data(n, p, n_classes, seed=0)
    model = PrestoClassifier(alpha=alpha, standardize=False, tol=1e-10,
                             penalize_first=penalize_first).fit(X, y)
    coef, intercept, value = reference.presto(X, y, alpha, n_classes,
                                              penalize_first=penalize_first)
    ours = objective(X, y, model.intercept_, model.coef_, alpha, penalize_first)
    theirs = objective(X, y, intercept, coef, alpha, penalize_first)
    assert theirs == pytest.approx(value, rel=1e-7)
    assert ours <= theirs * (1 + 1e-6)
    assert ours == pytest.approx(theirs, rel=1e-6)
    np.testing.assert_allclose(model.coef_, coef, atol=1e-4)


@pytest.mark.cvxpy
def test_boundary_optimum_matches_cvxpy_reference():
    """Seeded problem whose constrained optimum gives training rows a zero class
    probability: plain proximal Newton stalls ~10% above the optimum there; the
    barrier polish reaches it while keeping every training gap positive."""
    from statlogit.ordinal import _fit as solver
    from statlogit.ordinal import _reference as reference
    from statlogit.ordinal._loss import CumulativeLinkLoss, null_theta
    from statlogit.solvers import prox_newton

    X, y = ordinal_data(150, 4, 4, seed=154)
    alpha = 0.005
    model = PrestoClassifier(alpha=alpha, standardize=False).fit(X, y)
    coef, intercept, _ = reference.presto(X, y, alpha, 4)
    ours = objective(X, y, model.intercept_, model.coef_, alpha)
    theirs = objective(X, y, intercept, coef, alpha)
    assert ours == pytest.approx(theirs, rel=1e-6)
    assert np.all(np.diff(X @ model.coef_.T + model.intercept_, axis=1) > 0)
    # the case really is on the boundary: the unpolished solver stalls well above
    loss = CumulativeLinkLoss(np.ascontiguousarray(X), y, 4)
    weights = solver.penalty_weights(3, 4, alpha, penalize_first=True,
                                     free_slopes=True)
    stalled = prox_newton(loss, weights, null_theta(y, 4, 4).ravel(), tol=1e-8,
                           max_iter=100, polish=False)
    assert stalled.at_boundary
    assert stalled.objective > theirs * (1 + 1e-3)


BOUNDARY_GRID = [0.04, 0.02, 0.01, 0.005]


@pytest.mark.cvxpy
def test_path_at_boundary_alphas_equals_polished_single_fits():
    """The boundary problem above along a grid: every optimum is on the boundary;
    the path (fits after the first warm-started by the last barrier stage only)
    reaches the polished single fits and cvxpy's optimum, not the stalled points."""
    from statlogit.ordinal import _fit as solver
    from statlogit.ordinal import _reference as reference
    from statlogit.ordinal._loss import CumulativeLinkLoss, null_theta
    from statlogit.solvers import prox_newton

    X, y = ordinal_data(150, 4, 4, seed=154)
    alphas, coefs, intercepts = presto_path(X, y, alphas=BOUNDARY_GRID,
                                            standardize=False)
    loss = CumulativeLinkLoss(np.ascontiguousarray(X), y, 4)
    for alpha, coef, intercept in zip(alphas, coefs, intercepts, strict=True):
        single = PrestoClassifier(alpha=alpha, standardize=False).fit(X, y)
        ours = objective(X, y, intercept, coef, alpha)
        assert ours == pytest.approx(
            objective(X, y, single.intercept_, single.coef_, alpha), rel=1e-8)
        np.testing.assert_allclose(coef, single.coef_, atol=1e-4)
        assert np.all(np.diff(X @ coef.T + intercept, axis=1) > 0)
        weights = solver.penalty_weights(3, 4, alpha, penalize_first=True,
                                         free_slopes=True)
        stalled = prox_newton(loss, weights, null_theta(y, 4, 4).ravel(), tol=1e-8,
                               max_iter=100, polish=False)
        assert stalled.at_boundary and stalled.objective > ours * (1 + 1e-3)
    _, _, value = reference.presto(X, y, alphas[-1], 4)
    assert ours == pytest.approx(value, rel=1e-6)


def test_cv_scores_at_boundary_alphas_are_those_of_polished_single_fits():
    """Each fold's path solution at boundary penalties scores exactly as a single
    (polished) fit on that fold; the stalled fits score differently."""
    from sklearn.model_selection import StratifiedKFold

    X, y = ordinal_data(150, 4, 4, seed=154)
    cv = PrestoClassifierCV(alphas=BOUNDARY_GRID, cv=3, random_state=0).fit(X, y)
    folds = StratifiedKFold(3, shuffle=True, random_state=0).split(X, y)
    for scores, (train, test) in zip(cv.cv_scores_, folds, strict=True):
        for j in (1, 3):
            fold = PrestoClassifier(alpha=BOUNDARY_GRID[j]).fit(X[train], y[train])
            rare = fold.predict_proba(X[test])[:, -1]
            expected = np.mean((rare - (y[test] == 3)) ** 2)
            assert scores[j] == pytest.approx(expected, rel=1e-6)


@pytest.mark.cvxpy
def test_standardized_fit_matches_cvxpy_on_scaled_columns():
    from statlogit.ordinal import _reference as reference

    X, y = ordinal_data(120, 3, 4, seed=11)
    Xs = (X - X.mean(0)) / X.std(0)
    model = PrestoClassifier(alpha=0.02, tol=1e-10).fit(X, y)
    _, _, value = reference.presto(Xs, y, 0.02, 4)
    assert model.objective_ == pytest.approx(value, rel=1e-6)


# ---------------------------------------------------------------- K = 2 and PO


def test_two_classes_equal_l1_logistic_regression():
    X, y = ordinal_data(200, 4, 2, seed=5, spread=0.6)
    alpha = 0.01
    ours = PrestoClassifier(alpha=alpha, standardize=False, tol=1e-12).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = LogisticRegression(C=1 / (len(y) * alpha), l1_ratio=1.0, solver="saga",
                                tol=1e-12, max_iter=200_000).fit(X, y)
    np.testing.assert_allclose(-ours.coef_[0], sk.coef_[0], atol=2e-6)
    assert -ours.intercept_[0] == pytest.approx(sk.intercept_[0], abs=2e-6)
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-6)


def test_proportional_odds_matches_statsmodels():
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    X, y = ordinal_data(300, 3, 4, seed=8)
    po = ProportionalOddsClassifier().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = OrderedModel(y, X, distr="logit").fit(method="bfgs", disp=0,
                                                    maxiter=5000, gtol=1e-10)
    np.testing.assert_allclose(po.predict_proba(X), res.predict(X), atol=1e-5)
    np.testing.assert_allclose(po.coef_, -res.params[:3], atol=1e-4)


def test_presto_tends_to_proportional_odds_without_first_penalty():
    X, y = ordinal_data(200, 3, 4, seed=9)
    po = ProportionalOddsClassifier().fit(X, y)
    presto = PrestoClassifier(alpha=10.0, penalize_first=False, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(presto.predict_proba(X), po.predict_proba(X),
                               atol=1e-6)


# ---------------------------------------------------------------- invariances, KKT


def test_shifting_a_column_leaves_probabilities_unchanged(synthetic):
    X, y, _, _ = synthetic
    shifted = X + np.array([5.0, -3.0, 0.0, 100.0])
    a = PrestoClassifier(alpha=0.005, tol=1e-10).fit(X, y)
    b = PrestoClassifier(alpha=0.005, tol=1e-10).fit(shifted, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(shifted), atol=1e-7)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-7)
    # every intercept moves by the shift times its own cumulative slope
    np.testing.assert_allclose(b.intercept_, a.intercept_ - b.coef_ @ np.array(
        [5.0, -3.0, 0.0, 100.0]), atol=1e-6)


@pytest.mark.parametrize("penalize_first", [True, False])
def test_alpha_max_is_exact(synthetic, penalize_first):
    X, y, _, _ = synthetic
    cv = PrestoClassifierCV(n_alphas=3, cv=2, penalize_first=penalize_first,
                            random_state=0).fit(X, y)
    top = cv.alpha_max_
    at = PrestoClassifier(alpha=top * 1.0001, penalize_first=penalize_first).fit(X, y)
    below = PrestoClassifier(alpha=top * 0.98, penalize_first=penalize_first).fit(X, y)
    diffs_at = np.diff(at.coef_, axis=0, prepend=0.0)
    diffs_below = np.diff(below.coef_, axis=0, prepend=0.0)
    start = 0 if penalize_first else 1
    assert np.all(np.abs(diffs_at[start:]) < 1e-9)
    assert np.any(np.abs(diffs_below[start:]) > 1e-6)


def test_intercept_only_fit_above_alpha_max(synthetic):
    X, y, _, _ = synthetic
    model = PrestoClassifier(alpha=100.0).fit(X, y)
    cumulative = np.cumsum(np.bincount(y))[:-1] / len(y)
    np.testing.assert_allclose(model.intercept_, np.log(cumulative / (1 - cumulative)),
                               atol=1e-10)
    assert np.all(model.coef_ == 0)


def test_training_probabilities_positive_and_proba_valid(synthetic):
    X, y, _, _ = synthetic
    model = PrestoClassifier(alpha=1e-4).fit(X, y)
    eta = X @ model.coef_.T + model.intercept_
    assert np.all(np.diff(eta, axis=1) > 0)
    far = np.random.default_rng(0).normal(0, 30, size=(200, 4))
    proba = model.predict_proba(far)
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_predict_proba_sorts_crossing_cumulative_curves():
    model = PrestoClassifier()
    model.classes_ = np.arange(3)
    model.n_features_in_ = 1
    model.intercept_ = np.array([0.0, 1.0])
    model.coef_ = np.array([[2.0], [0.0]])
    proba = model.predict_proba(np.array([[3.0]]))  # sigma(6) > sigma(1): crossed
    low, high = sorted([1 / (1 + np.exp(-6.0)), 1 / (1 + np.exp(-1.0))])
    np.testing.assert_allclose(proba[0], [low, high - low, 1 - high])


# ---------------------------------------------------------------- labels, errors


def test_labels_and_categories(synthetic):
    X, y, _, _ = synthetic
    names = np.array(["low", "mid", "high", "rare"])[y]
    order = ["low", "mid", "high", "rare"]
    by_order = PrestoClassifier(categories=order).fit(X, names)
    codes = PrestoClassifier().fit(X, y)
    # issue 14: classes_ sorted (scikit-learn's contract), the order in categories_
    np.testing.assert_allclose(by_order.predict_ordinal_proba(X), codes.predict_proba(X))
    assert list(by_order.categories_) == order
    assert list(by_order.classes_) == sorted(order)
    ordered = pd.Series(pd.Categorical(names, categories=order, ordered=True))
    frame = pd.DataFrame(X, columns=list("abcd"))
    from_pandas = PrestoClassifier().fit(frame, ordered)
    assert list(from_pandas.categories_) == order
    assert list(from_pandas.feature_names_in_) == list("abcd")
    assert set(by_order.predict(X)) <= set(order)


@pytest.mark.parametrize("change, match", [
    (lambda X, y: (X, np.zeros_like(y)), "at least 2 classes"),
    (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X), y),
     "NaN"),
    (lambda X, y: (X[:-1], y), "inconsistent"),
])
def test_bad_input(synthetic, change, match):
    X, y, _, _ = synthetic
    Xb, yb = change(X, y)
    with pytest.raises(ValueError, match=f"(?i){match}"):
        PrestoClassifier().fit(Xb, yb)


def test_bad_parameters(synthetic):
    X, y, _, _ = synthetic
    with pytest.raises(ValueError, match="alpha"):
        PrestoClassifier(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="not in categories"):
        PrestoClassifier(categories=[0, 1, 2]).fit(X, y)
    with pytest.raises(ValueError, match="no rows"):
        PrestoClassifier(categories=[0, 1, 2, 3, 4]).fit(X, y)
    with pytest.raises(ValueError, match="scoring"):
        PrestoClassifierCV(scoring="accuracy").fit(X, y)
    with pytest.raises(ValueError, match="alphas"):
        presto_path(X, y, alphas=[-1.0])


def test_separable_data_never_nan():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = np.digitize(X[:, 0], [-0.5, 0.5])  # perfectly ordered by the first column
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for model in (PrestoClassifier(alpha=0.0, max_iter=50),
                      ProportionalOddsClassifier(max_iter=50),
                      PrestoClassifier(alpha=1e-3)):
            proba = model.fit(X, y).predict_proba(X)
            assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(proba))


def test_convergence_warning_reports_iterations(synthetic):
    X, y, _, _ = synthetic
    with pytest.warns(ConvergenceWarning, match="1 proximal-Newton iterations"):
        PrestoClassifier(alpha=1e-3, max_iter=1).fit(X, y)


# ---------------------------------------------------------------- path and CV


def test_path_matches_single_fits(synthetic):
    X, y, _, _ = synthetic
    alphas, coefs, intercepts = presto_path(X, y, n_alphas=5, tol=1e-10)
    assert np.all(np.diff(alphas) < 0) and coefs.shape == (5, 3, 4)
    assert np.all(coefs[0] == 0)
    single = PrestoClassifier(alpha=alphas[3], tol=1e-10).fit(X, y)
    np.testing.assert_allclose(coefs[3], single.coef_, atol=1e-6)
    np.testing.assert_allclose(intercepts[3], single.intercept_, atol=1e-6)


def test_cv_selects_on_held_out_predictions(synthetic, pyplot):
    X, y, _, _ = synthetic
    cv = PrestoClassifierCV(n_alphas=6, cv=3, random_state=0).fit(X, y)
    assert cv.cv_scores_.shape == (3, 6)
    best = np.flatnonzero(cv.mean_score_ == cv.mean_score_.min())
    assert cv.alpha_ == cv.alphas_[best[0]]
    refit = PrestoClassifier(alpha=cv.alpha_).fit(X, y)
    np.testing.assert_allclose(cv.coef_, refit.coef_, atol=1e-5)
    np.testing.assert_allclose(cv.predict_proba(X), refit.predict_proba(X), atol=1e-6)
    left, right = cv.plot()
    assert left.get_xscale() == "log"
    other = PrestoClassifierCV(n_alphas=6, cv=3, scoring="log_loss",
                               random_state=0).fit(X, y)
    assert np.all(np.isfinite(other.mean_score_))


def test_cv_fold_scores_use_cumulative_slopes(synthetic):
    from sklearn.model_selection import StratifiedKFold

    X, y, _, _ = synthetic
    cv = PrestoClassifierCV(n_alphas=4, cv=2, alphas=None, random_state=1).fit(X, y)
    train, test = next(StratifiedKFold(2, shuffle=True, random_state=1).split(X, y))
    fold = PrestoClassifier(alpha=cv.alphas_[2], tol=1e-10).fit(X[train], y[train])
    rare = fold.predict_proba(X[test])[:, -1]
    expected = np.mean((rare - (y[test] == 3)) ** 2)
    assert cv.cv_scores_[0, 2] == pytest.approx(expected, rel=1e-6)


def test_cv_rejects_too_rare_classes():
    X, y = ordinal_data(50, 2, 3, seed=1)
    y[:] = 0
    y[:3] = 1
    y[3:5] = 2
    with pytest.raises(ValueError, match="fewer than cv"):
        PrestoClassifierCV(cv=5).fit(X, y)


# ---------------------------------------------------------------- contract extras


def test_warm_start_reuses_solution(synthetic):
    X, y, _, _ = synthetic
    model = PrestoClassifier(alpha=0.005, warm_start=True).fit(X, y)
    first = model.n_iter_
    model.fit(X, y)
    assert model.n_iter_ <= 1 < first


def test_clone_pickle_and_not_fitted(synthetic):
    X, y, _, _ = synthetic
    for est in (PrestoClassifier(alpha=0.02), ProportionalOddsClassifier(),
                PrestoClassifierCV(n_alphas=3, cv=2, random_state=0)):
        with pytest.raises(NotFittedError):
            est.predict_proba(X)
        fitted = clone(est).fit(X, y)
        again = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))
    a = PrestoClassifierCV(n_alphas=3, cv=2, random_state=4).fit(X, y)
    b = PrestoClassifierCV(n_alphas=3, cv=2, random_state=4).fit(X, y)
    np.testing.assert_array_equal(a.cv_scores_, b.cv_scores_)


def test_make_presto_ordinal_is_reproducible_and_valid():
    a = make_presto_ordinal(300, 5, design="dense", random_state=7)
    b = make_presto_ordinal(300, 5, design="dense", random_state=7)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    X, y, intercept, coef = a
    assert set(np.unique(y)) == {0, 1, 2, 3}
    assert np.all(np.diff(X @ coef.T + intercept, axis=1) >= 0)
    with pytest.raises(ValueError, match="design"):
        make_presto_ordinal(design="other")


@pytest.mark.slow
def test_paper_pattern_presto_beats_logit_for_a_rare_class():
    """Section 4.1, dev_prob 1/2, alpha_3 = 6 (0.4% rare): median MSE ordering."""
    from simulations.ordinal import _synthetic_replication
    from statlogit.simulation import monte_carlo

    raw = monte_carlo(_synthetic_replication, 16, grid={
        "design": ["sparse"], "dev_prob": [0.5], "alpha3": [6.0]}, seed=1)
    assert raw["mse_PRESTO"].median() < raw["mse_Logit"].median()
    assert (raw["mse_PRESTO"] / raw["mse_Logit"]).median() < 0.8
