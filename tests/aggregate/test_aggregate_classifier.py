"""AggregateClassifier: sklearn equality with singleton bags, exact likelihood, inference."""

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from statlogit import AggregateClassifier
from statlogit.aggregate._kernels import exact_bag_loglik


def data(seed=0, n=200, n_classes=2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3)) * [1.0, 3.0, 0.2] + [0.0, 1.0, 0.0]
    scores = X @ rng.standard_normal((3, n_classes)) + rng.gumbel(size=(n, n_classes))
    return X, np.argmax(scores, axis=1), rng


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("loss", ["proportion", "exact"])
@pytest.mark.parametrize("C", [0.05, 1.0])
def test_singleton_bags_equal_logistic_regression(n_classes, loss, C):
    X, y, _ = data(1, n_classes=n_classes)
    labels = np.array(["a", "b", "c"])[y]
    ours = AggregateClassifier(loss=loss, C=C, rho=0.5).fit(X, labels, bags=np.arange(len(y)))
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X, labels)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def brute_force(logp, counts):
    k, K = logp.shape
    total, post = 0.0, np.zeros((k, K))
    for combo in itertools.product(range(K), repeat=k):
        if np.array_equal(np.bincount(combo, minlength=K), counts):
            prob = np.exp(np.sum(logp[np.arange(k), combo]))
            total += prob
            post[np.arange(k), combo] += prob
    return np.log(total), post / total


def log_softmax(eta):
    return eta - np.logaddexp.reduce(eta, axis=1, keepdims=True)


@pytest.mark.parametrize("k", [1, 2, 5, 10])
@pytest.mark.parametrize("spread", [1.0, 12.0])
def test_exact_binary_likelihood_equals_enumeration(k, spread):
    rng = np.random.default_rng(k)
    for _ in range(3):
        eta = np.column_stack([np.zeros(k), spread * rng.standard_normal(k)])
        logp = log_softmax(eta)
        counts = np.array([k - rng.integers(0, k + 1), 0])
        counts[1] = k - counts[0]
        ours, post = exact_bag_loglik(logp, np.arange(k), np.array([0, k]), counts[None])
        ref, ref_post = brute_force(logp, counts)
        assert ours[0] == pytest.approx(ref, rel=1e-10, abs=1e-12)
        np.testing.assert_allclose(post, ref_post, rtol=1e-9, atol=1e-14)


def test_exact_multinomial_likelihood_equals_enumeration():
    rng = np.random.default_rng(5)
    for k in (3, 6):
        logp = log_softmax(3 * rng.standard_normal((k, 3)))
        counts = np.bincount(rng.integers(0, 3, k), minlength=3)
        ours, post = exact_bag_loglik(logp, np.arange(k), np.array([0, k]), counts[None])
        ref, ref_post = brute_force(logp, counts)
        assert ours[0] == pytest.approx(ref, rel=1e-10)
        np.testing.assert_allclose(post, ref_post, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("positives, centre", [(30, -6.0), (9_996, 6.0), (40, -40.0)])
def test_huge_bag_finite_with_finite_difference_gradient(positives, centre):
    k = 10_000
    rng = np.random.default_rng(0)
    eta = np.column_stack([np.zeros(k), centre + rng.standard_normal(k)])
    counts = np.array([[k - positives, positives]])
    bag = (np.arange(k), np.array([0, k]))

    def loglik(e):
        return exact_bag_loglik(log_softmax(e), *bag, counts)[0][0]

    value, post = exact_bag_loglik(log_softmax(eta), *bag, counts)
    assert np.isfinite(value[0])
    grad = post[:, 1] - np.exp(log_softmax(eta))[:, 1]  # d loglik / d eta_i1
    h = 1e-5
    for i in rng.choice(k, 4, replace=False):
        up, down = eta.copy(), eta.copy()
        up[i, 1] += h
        down[i, 1] -= h
        fd = (loglik(up) - loglik(down)) / (2 * h)
        assert fd == pytest.approx(grad[i], abs=1e-6)


def test_proportions_input_equals_label_input():
    X, y, rng = data(2, n=240, n_classes=3)
    bags = rng.integers(0, 30, 240)
    by_labels = AggregateClassifier(loss="exact").fit(X, y, bags=bags)
    counts = pd.crosstab(bags, y)
    frame = counts.div(counts.sum(axis=1), axis=0).sample(frac=1.0, random_state=0)
    by_props = AggregateClassifier(loss="exact").fit(X, proportions=frame, bags=bags)
    np.testing.assert_allclose(by_props.predict_proba(X), by_labels.predict_proba(X),
                               atol=1e-8)


def test_rho_one_proportion_is_soft_label_logistic_regression():
    X, y, rng = data(3, n=150)
    bags = np.arange(150) // 5
    share = np.bincount(bags, weights=y) / 5
    ours = AggregateClassifier(rho=1.0, C=2.0).fit(X, y, bags=bags)
    soft = np.concatenate([1 - share[bags], share[bags]])
    ref = LogisticRegression(C=2.0, tol=1e-12, max_iter=10_000).fit(
        np.vstack([X, X]), np.repeat([0, 1], 150), sample_weight=soft)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("loss", ["proportion", "exact"])
def test_integer_weights_equal_repeated_rows(loss):
    X, y, rng = data(4, n=90)
    bags = np.arange(90) // 3
    w = rng.integers(1, 3, 90)
    weighted = AggregateClassifier(loss=loss, rho=0.3).fit(X, y, bags=bags, sample_weight=w)
    repeated = AggregateClassifier(loss=loss, rho=0.3).fit(
        np.repeat(X, w, axis=0), np.repeat(y, w), bags=np.repeat(bags, w))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X),
                               atol=1e-7)
    np.testing.assert_allclose(weighted.std_errors_, repeated.std_errors_, rtol=1e-5)


@pytest.mark.parametrize("cov_type, sm_cov", [("nonrobust", "nonrobust"),
                                              ("cluster", "cluster")])
def test_exact_loss_inference_equals_statsmodels_with_singletons(cov_type, sm_cov):
    X, y, _ = data(5, n=300)
    model = AggregateClassifier(loss="exact", C=1e10, cov_type=cov_type).fit(
        X, y, bags=np.arange(300))
    kwds = {"groups": np.arange(300)} if sm_cov == "cluster" else None
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0, cov_type=sm_cov, cov_kwds=kwds)
    np.testing.assert_allclose(model._params(), ref.params, rtol=1e-6)
    np.testing.assert_allclose(model.std_errors_, ref.bse, rtol=1e-5)
    assert list(model.conf_int().index) == ["intercept", "x0", "x1", "x2"]
    assert "exact" in model.summary().as_text()


def test_nonrobust_refused_for_proportion_loss():
    X, y, _ = data(6)
    model = AggregateClassifier(cov_type="nonrobust").fit(X, y, bags=np.arange(200) // 4)
    with pytest.raises(ValueError, match="likelihood"):
        model.conf_int()


@pytest.mark.parametrize("kwargs, match", [
    ({"loss": "hinge"}, "loss"), ({"C": 0.0}, "C"), ({"rho": -1.0}, "rho"),
])
def test_bad_hyper_parameters(kwargs, match):
    X, y, _ = data()
    with pytest.raises(ValueError, match=match):
        AggregateClassifier(**kwargs).fit(X, y, bags=np.arange(200) // 4)


def test_exact_needs_integer_counts():
    X, _, _ = data()
    bags = np.arange(200) // 4
    with pytest.raises(ValueError, match="integer class counts"):
        AggregateClassifier(loss="exact").fit(X, proportions=np.full(50, 0.3), bags=bags)


@parametrize_with_checks([AggregateClassifier(C=10.0),
                          AggregateClassifier(loss="exact", rho=0.5)])
def test_sklearn_common_checks_with_singleton_bags(estimator, check):
    import warnings

    from statlogit.aggregate import BagsMissingWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BagsMissingWarning)
        check(estimator)


def test_bags_routed_to_classifier_in_cross_validation():
    import sklearn
    from sklearn.model_selection import GroupKFold, cross_val_score

    X, y, rng = data(7, n=240)
    bags = np.arange(240) // 6
    cv = GroupKFold(4)
    manual = [AggregateClassifier(loss="exact").fit(X[tr], y[tr], bags=bags[tr])
              .score(X[te], y[te]) for tr, te in cv.split(X, y, bags)]
    with sklearn.config_context(enable_metadata_routing=True):
        routed = cross_val_score(AggregateClassifier(loss="exact").set_fit_request(bags=True),
                                 X, y, cv=cv, params={"bags": bags, "groups": bags},
                                 scoring="neg_log_loss")
        accuracy = cross_val_score(AggregateClassifier(loss="exact").set_fit_request(
            bags=True), X, y, cv=cv, params={"bags": bags, "groups": bags})
    np.testing.assert_allclose(accuracy, manual, rtol=1e-12)
    by_hand = []
    for tr, te in cv.split(X, y, bags):
        proba = AggregateClassifier(loss="exact").fit(X[tr], y[tr], bags=bags[tr]) \
            .predict_proba(X[te])
        by_hand.append(np.mean(np.log(proba[np.arange(len(te)), y[te]])))
    np.testing.assert_allclose(routed, by_hand, rtol=1e-10)


def test_exact_likelihood_refuses_a_huge_count_state_space():
    # 5 classes, one bag of 400 with 80 of each: prod(N_c + 1) over 4 tracked classes
    # = 81**4 = 4.3e7 states, about 19 GiB of tables: a clear error, not a MemoryError.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 2))
    y = np.repeat(np.arange(5), 80)
    with pytest.raises(ValueError, match=r'loss="exact" is too large.*prod\(N_c \+ 1\)'):
        AggregateClassifier(loss="exact").fit(X, y, bags=np.zeros(400, dtype=int))
    # the same data in 20 bags of 20 (4 of each class: 5**4 states per bag) passes
    from statlogit.aggregate._llp import check_exact_size

    check_exact_size(np.full((20, 5), 4))
    # two classes, one bag of 10**4 instances (5001 states): also within the limits
    check_exact_size(np.array([[5000, 5000]]))
