"""Issue 14 (aggregate items): metadata routing, scale, rank, GLM convergence, validation."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from statlogit import (
    AggregateGLMRegressor,
    AggregateRegressor,
    AggregateRegressorCV,
    aggregate_risk,
    debiased_bag_mse,
    laplace_bag_scale,
    optimal_rho,
)
from statlogit.aggregate import BagsMissingWarning


def issue_problem(seed=0, n=60, d=3, k=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    bags = np.arange(n) // k
    y = X @ np.array([1.0, -2.0, 0.5])[:d] + 0.3 + rng.standard_normal(n)
    ybar = np.bincount(bags, weights=y) / np.bincount(bags)
    return X, ybar[bags], bags


def big_problem(seed=0, n=240, k=4):
    return issue_problem(seed, n=n, k=k)


# ------------------------------------------------------------- item 2: bags routed


def hand_loop(make, X, y, bags, cv):
    scores = []
    for train, test in cv.split(X, y, bags):
        model = make().fit(X[train], y[train], bags=bags[train])
        scores.append(model.score(X[test], y[test]))
    return np.array(scores)


@pytest.mark.parametrize("rho", [0.0, 0.3, 2.0])
def test_cross_val_score_routes_bags(rho):
    X, y, bags = big_problem()
    cv = GroupKFold(4)
    expected = hand_loop(lambda: AggregateRegressor(rho=rho), X, y, bags, cv)
    with sklearn.config_context(enable_metadata_routing=True):
        model = AggregateRegressor(rho=rho).set_fit_request(bags=True)
        got = cross_val_score(model, X, y, cv=cv, params={"bags": bags, "groups": bags})
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_scores_differ_between_rhos_when_routed():
    X, y, bags = big_problem()
    with sklearn.config_context(enable_metadata_routing=True):
        scores = [cross_val_score(AggregateRegressor(rho=r).set_fit_request(bags=True), X,
                                  y, cv=GroupKFold(4),
                                  params={"bags": bags, "groups": bags}).mean()
                  for r in (0.0, 1.0)]
    assert abs(scores[0] - scores[1]) > 1e-3


def test_pipeline_in_grid_search_routes_bags():
    X, y, bags = big_problem(1)
    cv = GroupKFold(3)
    rhos = [0.0, 0.5, 1.0]
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(StandardScaler(),
                             AggregateRegressor().set_fit_request(bags=True))
        search = GridSearchCV(pipe, {"aggregateregressor__rho": rhos}, cv=cv)
        search.fit(X, y, bags=bags, groups=bags)
    for j, rho in enumerate(rhos):
        manual = []
        for train, test in cv.split(X, y, bags):
            scaler = StandardScaler().fit(X[train])
            model = AggregateRegressor(rho=rho).fit(scaler.transform(X[train]), y[train],
                                                    bags=bags[train])
            manual.append(model.score(scaler.transform(X[test]), y[test]))
        np.testing.assert_allclose(search.cv_results_["mean_test_score"][j],
                                   np.mean(manual), rtol=1e-10)
    final = search.best_estimator_[-1]
    assert final.n_bags_ == np.unique(bags).size


def test_fit_without_bags_warns_when_rho_matters():
    X, y, _ = issue_problem()
    with pytest.warns(BagsMissingWarning, match="set_fit_request"):
        AggregateRegressor(rho=0.5).fit(X, y)
    with pytest.warns(BagsMissingWarning):
        AggregateGLMRegressor(rho=0.5).fit(X, (y > 0).astype(float))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AggregateRegressor(rho=1.0).fit(X, y)


@pytest.mark.parametrize("cv", ["group", 1, 2.5, object()])
def test_cv_argument_validated(cv):
    X, y, bags = big_problem()
    with pytest.raises(ValueError, match="cv must"):
        AggregateRegressorCV(cv=cv).fit(X, y, bags=bags)


# --------------------------------------------------------- item 5: rank and scale


def test_mixed_column_scales_keep_full_rank():
    X, y, bags = issue_problem()
    scaled = X * np.array([1e-4, 1e4, 1.0])
    model = AggregateRegressor(rho=0.5).fit(scaled, y, bags=bags)
    assert model.rank_ == 3 == np.linalg.matrix_rank(scaled - scaled.mean(axis=0))
    base = AggregateRegressor(rho=0.5).fit(X, y, bags=bags)
    np.testing.assert_allclose(model.predict(scaled), base.predict(X), rtol=1e-9)


@pytest.mark.parametrize("factor", [1e-170, 1e-8, 1e8, 1e155])
@pytest.mark.parametrize("rho", [0.0, 0.4, 1.0])
def test_predictions_scale_invariant(factor, rho):
    X, y, bags = issue_problem(2)
    base = AggregateRegressor(rho=rho).fit(X, y, bags=bags)
    model = AggregateRegressor(rho=rho).fit(X * factor, y, bags=bags)
    np.testing.assert_allclose(model.predict(X * factor), base.predict(X), rtol=1e-6)
    np.testing.assert_allclose(model.coef_ * factor, base.coef_, rtol=1e-6)


def test_per_column_scale_and_shift_invariance_cv():
    X, y, bags = big_problem(3)
    scales = np.array([1e-8, 1e8, 3.0])
    base = AggregateRegressorCV(rhos=[0.0, 0.5, 1.0], cv=3).fit(X, y, bags=bags)
    for moved_X in (X * scales, X + 1e4):
        moved = AggregateRegressorCV(rhos=[0.0, 0.5, 1.0], cv=3).fit(moved_X, y, bags=bags)
        assert moved.rho_ == base.rho_
        np.testing.assert_allclose(moved.predict(moved_X), base.predict(X), rtol=1e-6)


def test_duplicated_column_rank_and_minimum_norm_with_intercept():
    X, y, bags = issue_problem(4)
    dup = np.column_stack([X, X[:, 0]])
    model = AggregateRegressor(rho=1.0).fit(dup, y, bags=bags)
    assert model.rank_ == 3
    centred = dup - dup.mean(axis=0)
    np.testing.assert_allclose(model.coef_, np.linalg.pinv(centred) @ (y - y.mean()),
                               atol=1e-9)


# ------------------------------------------------------- item 4: GLM standardised


@pytest.mark.parametrize("transform", [lambda X: X * 1e20, lambda X: X + 1e4,
                                       lambda X: X * 1e-20,
                                       lambda X: X * np.array([1e-6, 1e6, 1.0])])
@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_glm_scale_and_shift_invariant(transform, family):
    X, y, bags = issue_problem(5)
    target = (y > 0).astype(float) if family == "binomial" else np.exp(0.3 * y)
    target = np.bincount(bags, weights=target)[bags] / np.bincount(bags)[bags]
    base = AggregateGLMRegressor(family=family, rho=0.5).fit(X, target, bags=bags)
    moved = AggregateGLMRegressor(family=family, rho=0.5).fit(transform(X), target,
                                                              bags=bags)
    assert base.n_iter_ > 0 and moved.n_iter_ > 0
    np.testing.assert_allclose(moved.predict(transform(X)), base.predict(X), rtol=1e-6)


def test_glm_warns_with_iteration_count():
    X, y, bags = issue_problem(6)
    target = (y > 0).astype(float)
    with pytest.warns(sklearn.exceptions.ConvergenceWarning, match=r"2 iterations"):
        AggregateGLMRegressor(max_iter=2).fit(X, target, bags=bags)


# ------------------------------------------------------------------- validation


def test_mixed_int_and_str_bag_labels_raise():
    X, y, _ = issue_problem()
    labels = [i // 3 if i < 30 else f"b{i // 3}" for i in range(60)]
    for estimator in (AggregateRegressor(), AggregateGLMRegressor()):
        target = y if isinstance(estimator, AggregateRegressor) else (y > 0) * 1.0
        with pytest.raises(ValueError, match="bags"):
            estimator.fit(X, target, bags=labels)
        with pytest.raises(ValueError, match="bags"):
            estimator.fit(X, target, bags=np.array(labels, dtype=object))


@pytest.mark.parametrize("call, name", [
    (lambda: aggregate_risk(1e300, 5, 0.1), "psi"),
    (lambda: aggregate_risk(10, 5, 1e300), "rho"),
    (lambda: aggregate_risk(10, 1e300, 0.1), "k"),
    (lambda: optimal_rho([10, 20], 5), "psi"),
    (lambda: optimal_rho(10, [5, 6]), "k"),
])
def test_theory_rejects_unusable_arguments(call, name):
    with pytest.raises(ValueError, match=name):
        call()


@pytest.mark.parametrize("args, name", [
    (([1.0, np.nan], [0.0, 0.0], [2, 2]), "ybar"),
    (([], [], []), "ybar"),
    (([1.0, 2.0], [0.0], [2, 2]), "fbar"),
    (([1.0, 2.0], [0.0, 0.0], [2, 0]), "sizes"),
    (([1.0, 2.0], [0.0, np.inf], [2, 2]), "fbar"),
])
def test_debiased_bag_mse_validates(args, name):
    with pytest.raises(ValueError, match=name):
        debiased_bag_mse(*args)


@pytest.mark.parametrize("sizes", [[2.0, np.nan], [], [[2, 3]], [2.5, np.inf], ["a"]])
def test_laplace_bag_scale_validates(sizes):
    with pytest.raises(ValueError, match="bag_sizes"):
        laplace_bag_scale(sizes, 1.0, (0.0, 1.0))
