"""Issue 14: scikit-learn's contract (sorted classes_, scorers right) and scale invariance."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import get_scorer, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from statlogit import PrestoClassifier, PrestoClassifierCV, ProportionalOddsClassifier
from statlogit.datasets import make_presto_ordinal

ORDER = ["sure", "fairly sure", "unsure", "doubt"]  # not alphabetical


@pytest.fixture(scope="module")
def data():
    X, y, _, _ = make_presto_ordinal(300, 3, intercept=(-0.5, 1.0, 2.5), random_state=5)
    return X, y


def _labels(kind, y):
    names = np.array(ORDER)[y]
    if kind == "categorical":
        return pd.Series(pd.Categorical(names, categories=ORDER, ordered=True)), {}
    if kind == "string":
        return names, {"categories": ORDER}
    return y * 10 + 3, {}  # integers 3, 13, 23, 33: numeric order


ESTIMATORS = {
    "po": lambda **kw: ProportionalOddsClassifier(**kw),
    "presto": lambda **kw: PrestoClassifier(alpha=0.005, **kw),
    "presto_cv": lambda **kw: PrestoClassifierCV(n_alphas=3, cv=3, random_state=0, **kw),
}


def _by_hand(name, proba, y, classes):
    """Each scorer's metric computed directly from predict_proba's columns."""
    y = np.asarray(y)
    column = np.array([np.flatnonzero(classes == v)[0] for v in y])
    onehot = np.eye(len(classes))[column]
    if name == "neg_log_loss":
        return np.mean(np.log(proba[np.arange(len(y)), column]))
    if name == "neg_brier_score":
        return -np.mean(np.sum((proba - onehot) ** 2, axis=1))
    if name in ("roc_auc_ovr", "roc_auc_ovr_weighted"):
        aucs = [roc_auc_score(onehot[:, j], proba[:, j]) for j in range(len(classes))]
        weights = onehot.mean(axis=0) if name.endswith("weighted") else None
        return np.average(aucs, weights=weights)
    if name == "accuracy":
        return np.mean(classes[np.argmax(proba, axis=1)] == y)
    raise AssertionError(name)


@pytest.mark.parametrize("kind", ["categorical", "string", "integer"])
@pytest.mark.parametrize("which", list(ESTIMATORS))
def test_probability_scorers_equal_metrics_by_hand(data, kind, which):
    X, y = data
    labels, options = _labels(kind, y)
    model = ESTIMATORS[which](**options).fit(X, labels)
    classes = np.asarray(model.classes_)
    assert list(classes) == sorted(set(np.asarray(labels).tolist()))
    expected_order = ORDER if kind != "integer" else [3, 13, 23, 33]
    assert list(model.categories_) == expected_order
    proba = model.predict_proba(X)
    ordinal = model.predict_ordinal_proba(X)
    column = [expected_order.index(c) for c in classes]
    np.testing.assert_array_equal(proba, ordinal[:, column])
    np.testing.assert_array_equal(model.predict_rare_proba(X), ordinal[:, -1])
    for name in ("neg_log_loss", "neg_brier_score", "roc_auc_ovr",
                 "roc_auc_ovr_weighted", "accuracy"):
        got = get_scorer(name)(model, X, labels)
        assert got == pytest.approx(_by_hand(name, proba, labels, classes), rel=1e-10)


def test_string_and_integer_fits_agree(data):
    X, y = data
    named = PrestoClassifier(alpha=0.005, categories=ORDER).fit(X, np.array(ORDER)[y])
    coded = PrestoClassifier(alpha=0.005).fit(X, y)
    np.testing.assert_allclose(named.predict_ordinal_proba(X), coded.predict_proba(X))
    np.testing.assert_allclose(named.coef_, coded.coef_)


def test_unordered_labels_warn(data):
    X, y = data
    names = np.array(["high", "low", "mid", "rare"])[y]
    with pytest.warns(UserWarning, match="categories="):
        ProportionalOddsClassifier().fit(X, names)
    with pytest.warns(UserWarning, match="categories="):
        ProportionalOddsClassifier().fit(X, pd.Categorical(names))  # unordered
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ProportionalOddsClassifier(categories=["low", "mid", "high", "rare"]).fit(X, names)
        ProportionalOddsClassifier().fit(X, y)


def test_grid_search_neg_log_loss_is_the_held_out_log_loss(data):
    X, y = data
    labels = pd.Series(pd.Categorical(np.array(ORDER)[y], categories=ORDER, ordered=True))
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    grid = {"alpha": [0.001, 0.05]}
    search = GridSearchCV(PrestoClassifier(categories=ORDER), grid, cv=folds,
                          scoring="neg_log_loss").fit(X, labels)
    for i, alpha in enumerate(grid["alpha"]):
        scores = []
        for train, test in folds:
            model = PrestoClassifier(alpha=alpha, categories=ORDER).fit(
                X[train], labels.iloc[train])
            ordinal = model.predict_ordinal_proba(X[test])
            observed = ordinal[np.arange(len(test)), y[test]]
            scores.append(np.mean(np.log(observed)))
        assert search.cv_results_["mean_test_score"][i] == pytest.approx(
            np.mean(scores), rel=1e-10)


# ---------------------------------------------------------------- scale (issue 14.6)


@pytest.mark.parametrize("factor", [1e-8, 1e-3, 1e3, 1e8, "shift"])
def test_per_column_scale_or_shift_leaves_predictions_unchanged(data, factor):
    X, y = data
    if factor == "shift":
        changed = X + 1e4
    else:
        changed = X * np.array([factor, 1.0, 1.0 / factor])
    for make in (ProportionalOddsClassifier, lambda: PrestoClassifier(alpha=0.005)):
        base = make().fit(X, y).predict_proba(X)
        other = make().fit(changed, y).predict_proba(changed)
        np.testing.assert_allclose(other, base, rtol=1e-6, atol=1e-9)


@pytest.mark.filterwarnings("ignore:The covariance overflows")
@pytest.mark.parametrize("factor", [1e-13, 1e-200, 1e-300, 1e200, 1e300])
def test_tiny_and_huge_columns_are_not_dropped(data, factor):
    X, y = data
    base = ProportionalOddsClassifier().fit(X, y)
    other = ProportionalOddsClassifier().fit(X * factor, y)
    np.testing.assert_allclose(other.predict_proba(X * factor), base.predict_proba(X),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(other.coef_ * factor, base.coef_, rtol=1e-6)


def test_overflowing_coefficients_are_a_clear_error(data):
    X, y = data
    with pytest.raises(ValueError, match="rescale X"):
        ProportionalOddsClassifier().fit(X * 1e-310, y)


def test_constant_column_gets_zero_slope(data):
    X, y = data
    with_constant = np.column_stack([X, np.full(len(y), 3.7)])
    model = PrestoClassifier(alpha=0.005).fit(with_constant, y)
    assert np.all(model.coef_[:, -1] == 0)
    np.testing.assert_allclose(model.predict_proba(with_constant),
                               PrestoClassifier(alpha=0.005).fit(X, y).predict_proba(X),
                               rtol=1e-8)


# ---------------------------------------------------------------- many classes (issue 14)


def test_many_classes_converge_within_max_iter():
    rng = np.random.default_rng(0)
    K = 60
    X = rng.standard_normal((3 * K, 2))
    y = np.arange(3 * K) % K
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning
        model = PrestoClassifier().fit(X, y)
    assert model.n_iter_ <= 100
    proba = model.predict_proba(X)
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all(np.diff(X @ model.coef_.T + model.intercept_, axis=1) > 0)


@pytest.mark.parametrize("max_iter", [1, 3, 8, 20])
def test_n_iter_never_exceeds_max_iter(max_iter):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 2))
    y = np.arange(60) % 20  # boundary optimum: the barrier polish runs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = PrestoClassifier(max_iter=max_iter).fit(X, y)
    assert model.n_iter_ <= max_iter


def test_cv_checks_class_sizes_before_any_path(monkeypatch):
    from statlogit.ordinal import _fit

    def forbidden(*args, **kwargs):
        raise AssertionError("the path ran before the cheap checks")

    monkeypatch.setattr(_fit.CumulativeProblem, "path", forbidden)
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 2))
    y = np.r_[np.arange(298) % 99, 99, 99]  # the last class has 2 rows
    with pytest.raises(ValueError, match="smallest class has 2 rows"):
        PrestoClassifierCV(cv=5).fit(X, y)


def test_sample_weight_and_groups_are_routed_by_metadata_routing(data):
    import sklearn
    from sklearn.metrics import log_loss, make_scorer
    from sklearn.model_selection import cross_val_score

    X, y = data
    w = np.random.default_rng(0).integers(1, 4, len(y)).astype(float)
    groups = np.arange(len(y)) % 10
    folds = list(StratifiedKFold(3, shuffle=True, random_state=1).split(X, y))
    with sklearn.config_context(enable_metadata_routing=True):
        model = ProportionalOddsClassifier(cov_type="cluster").set_fit_request(
            sample_weight=True, groups=True)
        scorer = make_scorer(log_loss, greater_is_better=False,
                             response_method="predict_proba").set_score_request(
                                 sample_weight=False)
        scores = cross_val_score(model, X, y, cv=folds, scoring=scorer,
                                 params={"sample_weight": w, "groups": groups})
    for score, (train, test) in zip(scores, folds, strict=True):
        fold = ProportionalOddsClassifier(cov_type="cluster").fit(
            X[train], y[train], sample_weight=w[train], groups=groups[train])
        assert score == pytest.approx(-log_loss(y[test], fold.predict_proba(X[test])),
                                      rel=1e-12)
