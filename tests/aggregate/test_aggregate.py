"""AggregateRegressor / AggregateRegressorCV: exact identities, references, contract."""

import pickle

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GroupKFold, KFold, cross_validate
from sklearn.utils.estimator_checks import parametrize_with_checks

from statlogit import (
    AggregateRegressor,
    AggregateRegressorCV,
    aggregate_rho_path,
    debiased_bag_mse,
)
from statlogit.datasets import make_aggregate_regression, make_random_bags

ATOL = 1e-10


def unequal_problem(seed=0, n=90, d=4, n_bags=23):
    """Gaussian design with unequal random bags (every bag non-empty)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + rng.standard_normal(d)
    bags = np.concatenate([np.arange(n_bags), rng.integers(0, n_bags, n - n_bags)])
    rng.shuffle(bags)
    y = X @ rng.standard_normal(d) + 0.7 + rng.standard_normal(n)
    labels, codes, sizes = np.unique(bags, return_inverse=True, return_counts=True)
    ybar = np.bincount(codes, weights=y) / sizes
    return X, ybar[codes], ybar, bags, codes, sizes


def bag_loops(X, ybar, codes, coef, intercept):
    """L_bag, R and L_inst by explicit loops over bags (size-weighted bag loss)."""
    n = X.shape[0]
    f = X @ coef + intercept
    bag_loss = spread = inst = 0.0
    for a in range(ybar.shape[0]):
        members = f[codes == a]
        fbar = members.mean()
        bag_loss += members.size * (ybar[a] - fbar) ** 2
        spread += np.sum((members - fbar) ** 2)
        inst += np.sum((ybar[a] - members) ** 2)
    return bag_loss / n, spread / n, inst / n


def with_ones(X):
    return np.column_stack([X, np.ones(X.shape[0])])


# ---------------------------------------------------------------- exact identities


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_instance_loss_is_bag_loss_plus_spread(seed):
    X, _, ybar, _, codes, _ = unequal_problem(seed)
    rng = np.random.default_rng(seed + 10)
    coef, intercept = rng.standard_normal(X.shape[1]), rng.standard_normal()
    bag_loss, spread, inst = bag_loops(X, ybar, codes, coef, intercept)
    assert inst == pytest.approx(bag_loss + spread, abs=ATOL, rel=ATOL)


def test_rho_one_is_ols_on_broadcast_bag_means():
    X, y_inst, _, bags, _, _ = unequal_problem()
    model = AggregateRegressor(rho=1.0).fit(X, y_inst, bags=bags)
    expected = np.linalg.lstsq(with_ones(X), y_inst, rcond=None)[0]
    np.testing.assert_allclose(model.coef_, expected[:-1], atol=ATOL)
    assert model.intercept_ == pytest.approx(expected[-1], abs=ATOL)


def test_rho_zero_is_size_weighted_least_squares_on_bag_means():
    X, _, ybar, bags, codes, sizes = unequal_problem()
    model = AggregateRegressor(rho=0.0).fit(X, ybar, bags=bags)
    bag_x = np.stack([X[codes == a].mean(axis=0) for a in range(sizes.size)])
    root = np.sqrt(sizes)
    expected = np.linalg.lstsq(with_ones(bag_x) * root[:, None], ybar * root,
                               rcond=None)[0]
    np.testing.assert_allclose(model.coef_, expected[:-1], atol=ATOL)
    assert model.intercept_ == pytest.approx(expected[-1], abs=ATOL)


@pytest.mark.parametrize("rho", [0.0, 0.3, 1.0, 4.0])
def test_singleton_bags_give_ols_for_every_rho(rho):
    X, y, *_ = unequal_problem()
    expected = np.linalg.lstsq(with_ones(X), y, rcond=None)[0]
    for bags in (np.arange(X.shape[0])[::-1], None):
        model = AggregateRegressor(rho=rho).fit(X, y, bags=bags)
        np.testing.assert_allclose(model.coef_, expected[:-1], atol=ATOL)
        assert model.intercept_ == pytest.approx(expected[-1], abs=ATOL)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.05])
def test_rho_path_equals_direct_solves(fit_intercept, alpha):
    X, y_inst, ybar, bags, codes, sizes = unequal_problem(3)
    n, d = X.shape
    Z = with_ones(X) if fit_intercept else X
    P = (codes[:, None] == codes[None, :]) / sizes[codes][:, None]
    A1, A2 = Z.T @ P @ Z, Z.T @ (np.eye(n) - P) @ Z
    ridge = np.diag([alpha * n] * d + ([0.0] if fit_intercept else []))
    rhos = np.array([0.0, 0.1, 0.5, 1.0, 2.5])
    coefs, intercepts = aggregate_rho_path(X, ybar, bags, rhos,
                                           fit_intercept=fit_intercept, alpha=alpha)
    for rho, coef, intercept in zip(rhos, coefs, intercepts, strict=True):
        direct = np.linalg.solve(A1 + rho * A2 + ridge, Z.T @ P @ y_inst)
        np.testing.assert_allclose(coef, direct[:d], atol=ATOL)
        assert intercept == pytest.approx(direct[d] if fit_intercept else 0.0, abs=ATOL)
        single = AggregateRegressor(rho=rho, fit_intercept=fit_intercept,
                                    alpha=alpha).fit(X, y_inst, bags=bags)
        np.testing.assert_allclose(single.coef_, coef, atol=ATOL)


@pytest.mark.cvxpy
@pytest.mark.parametrize(("rho", "alpha"), [(0.0, 0.0), (0.4, 0.0), (1.0, 0.02),
                                            (3.0, 0.0)])
def test_agrees_with_cvxpy_formulation(rho, alpha):
    from statlogit.aggregate._reference import aggregate_regression

    X, _, ybar, bags, codes, _ = unequal_problem(4)
    ref_coef, ref_intercept, ref_value = aggregate_regression(X, ybar, bags, rho,
                                                              alpha=alpha)
    model = AggregateRegressor(rho=rho, alpha=alpha).fit(X, ybar, bags=bags)
    bag_loss, spread, _ = bag_loops(X, ybar, codes, model.coef_, model.intercept_)
    ours = bag_loss + rho * spread + alpha * model.coef_ @ model.coef_
    assert ours <= ref_value + 1e-9 * max(1.0, ref_value)
    assert ours == pytest.approx(ref_value, rel=1e-7)
    np.testing.assert_allclose(model.coef_, ref_coef, atol=1e-6)
    assert model.intercept_ == pytest.approx(ref_intercept, abs=1e-6)


def test_large_feature_means_do_not_lose_precision():
    X, y_inst, _, bags, _, _ = unequal_problem(5)
    shifted = X + 1e6
    base = AggregateRegressor(rho=0.5).fit(X, y_inst, bags=bags)
    moved = AggregateRegressor(rho=0.5).fit(shifted, y_inst, bags=bags)
    np.testing.assert_allclose(moved.coef_, base.coef_, atol=1e-7)


def test_rank_deficient_design_gives_minimum_norm_solution():
    X, y_inst, _, bags, _, _ = unequal_problem(6)
    X = np.column_stack([X, X[:, 0]])
    model = AggregateRegressor(rho=1.0, fit_intercept=False).fit(X, y_inst, bags=bags)
    np.testing.assert_allclose(model.coef_, np.linalg.pinv(X) @ y_inst, atol=1e-9)
    assert model.rank_ == X.shape[1] - 1


# ------------------------------------------------------------------ input handling


def test_per_bag_and_per_instance_y_agree_and_series_aligns():
    X, y_inst, ybar, bags, _, _ = unequal_problem()
    names = np.array([f"bag{b:02d}" for b in bags])
    per_instance = AggregateRegressor(rho=0.3).fit(X, y_inst, bags=names)
    per_bag = AggregateRegressor(rho=0.3).fit(X, ybar, bags=names)
    labels = np.unique(names)
    shuffled = pd.Series(ybar, index=labels).sample(frac=1.0, random_state=0)
    aligned = AggregateRegressor(rho=0.3).fit(X, shuffled, bags=names)
    for other in (per_bag, aligned):
        np.testing.assert_allclose(other.coef_, per_instance.coef_, atol=ATOL)


def test_predict_bags_is_bag_mean_of_predictions():
    X, y_inst, _, bags, codes, sizes = unequal_problem()
    model = AggregateRegressor(rho=0.5).fit(X, y_inst, groups=bags)
    expected = np.bincount(codes, weights=model.predict(X)) / sizes
    np.testing.assert_allclose(model.predict_bags(X, bags), expected, atol=ATOL)


def test_pandas_keeps_feature_names():
    X, y_inst, _, bags, _, _ = unequal_problem()
    frame = pd.DataFrame(X, columns=list("abcd"))
    model = AggregateRegressor().fit(frame, pd.Series(y_inst), bags=pd.Series(bags))
    plain = AggregateRegressor().fit(X, y_inst, bags=bags)
    assert list(model.feature_names_in_) == list("abcd")
    np.testing.assert_allclose(model.predict(frame), plain.predict(X), atol=ATOL)


def _bad_inputs():
    X, y_inst, ybar, bags, _, _ = unequal_problem()
    wobbly = y_inst.copy()
    wobbly[0] += 0.5
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    y_inf = y_inst.copy()
    y_inf[2] = np.inf
    unused = pd.Categorical(bags, categories=np.arange(bags.max() + 2))
    extra = pd.Series(np.append(ybar, 1.0), index=np.arange(ybar.size + 1))
    bags_nan = bags.astype(float)
    bags_nan[0] = np.nan
    return {
        "single bag": (X, y_inst, np.zeros(len(bags)), "distinct"),
        "empty categorical bag": (X, y_inst, unused, "empty bag"),
        "per-bag y for an empty bag": (X, extra, bags, "empty bags"),
        "no bags": (X[:0], y_inst[:0], bags[:0], "0 sample|empty"),
        "y not constant": (X, wobbly, bags, "not constant"),
        "bags too short": (X, y_inst, bags[:-1], "bags has"),
        "y wrong length": (X, y_inst[:-1], bags, "y has"),
        "NaN in X": (X_nan, y_inst, bags, "NaN"),
        "inf in y": (X, y_inf, bags, "infinity"),
        "NaN bag label": (X, y_inst, bags_nan, "NaN"),
    }


@pytest.mark.parametrize("case", list(_bad_inputs()))
def test_bad_input_raises_clear_value_error(case):
    X, y, bags, message = _bad_inputs()[case]
    with pytest.raises(ValueError, match=message):
        AggregateRegressor().fit(X, y, bags=bags)


@pytest.mark.parametrize("rho", [-0.1, np.nan, "a"])
def test_bad_rho_raises(rho):
    X, y_inst, _, bags, _, _ = unequal_problem()
    with pytest.raises(ValueError, match="rho"):
        AggregateRegressor(rho=rho).fit(X, y_inst, bags=bags)


def test_bags_and_groups_together_raise():
    X, y_inst, _, bags, _, _ = unequal_problem()
    with pytest.raises(ValueError, match="either bags= or its alias groups="):
        AggregateRegressor().fit(X, y_inst, bags=bags, groups=bags)


def test_bag_level_with_fewer_bags_than_features_raises():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 8))
    bags = np.repeat(np.arange(5), 8)
    y = np.repeat(rng.standard_normal(5), 8)
    with pytest.raises(ValueError, match="no unique minimiser"):
        AggregateRegressor(rho=0.0).fit(X, y, bags=bags)
    AggregateRegressor(rho=0.1).fit(X, y, bags=bags)


# ------------------------------------------------------------------------ contract


@parametrize_with_checks([AggregateRegressor(), AggregateRegressor(rho=0.0, alpha=0.1)])
def test_sklearn_compatible_without_bags(estimator, check):
    """With bags=None every instance is a bag, so the (X, y) contract applies."""
    check(estimator)


@pytest.mark.parametrize("make", [lambda: AggregateRegressor(rho=0.4),
                                  lambda: AggregateRegressorCV(rhos=[0.0, 0.5, 1.0])])
def test_contract_with_bags(make):
    data = make_aggregate_regression(300, 5, bag_size=3, random_state=0)
    estimator = make()
    with pytest.raises(NotFittedError):
        estimator.predict(data.X)
    copy = clone(estimator)
    assert copy.get_params() == estimator.get_params()
    assert estimator.fit(data.X, data.y_bag, bags=data.bags) is estimator
    restored = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(restored.predict(data.X), estimator.predict(data.X))
    again = clone(estimator).fit(data.X, data.y_bag, bags=data.bags)
    np.testing.assert_array_equal(again.coef_, estimator.coef_)


def test_metadata_routing_sends_groups_to_fit():
    X, y_inst, _, bags, _, _ = unequal_problem(7, n=120, n_bags=40)
    cv = GroupKFold(3)
    with sklearn.config_context(enable_metadata_routing=True):
        model = AggregateRegressor(rho=0.2).set_fit_request(groups=True)
        result = cross_validate(model, X, y_inst, cv=cv, params={"groups": bags},
                                return_estimator=True)
    for fitted, (train, _) in zip(result["estimator"], cv.split(X, y_inst, bags),
                                  strict=True):
        manual = AggregateRegressor(rho=0.2).fit(X[train], y_inst[train],
                                                 bags=bags[train])
        np.testing.assert_allclose(fitted.coef_, manual.coef_, atol=ATOL)


# ------------------------------------------------------------------------------ CV


def test_debiased_bag_mse_equal_bags_formula():
    rng = np.random.default_rng(0)
    ybar, fbar = rng.standard_normal(50), rng.standard_normal(50)
    r = ybar - fbar
    expected = np.mean(4 * r**2) - 3 * np.mean(r) ** 2
    assert debiased_bag_mse(ybar, fbar, np.full(50, 4.0)) == pytest.approx(expected)


def test_debiased_bag_mse_tracks_instance_mse():
    """Average over replications of the criterion vs the true instance-level MSE."""
    rng = np.random.default_rng(1)
    sizes = np.array([2, 3, 5, 8] * 250, dtype=float)
    codes = np.repeat(np.arange(sizes.size), sizes.astype(int))
    estimates = []
    for _ in range(200):
        errors = 0.4 + 1.3 * rng.standard_normal(codes.size)  # y - f per instance
        rbar = np.bincount(codes, weights=errors) / sizes
        estimates.append(debiased_bag_mse(rbar, np.zeros_like(rbar), sizes))
    true_mse = 0.4**2 + 1.3**2
    assert np.mean(estimates) == pytest.approx(true_mse, rel=0.01)


def test_cv_selects_interior_rho_and_refits():
    from threadpoolctl import threadpool_limits

    data = make_aggregate_regression(2000, 100, bag_size=5, snr=1.0, random_state=0)
    cv = AggregateRegressorCV(rhos=np.linspace(0, 1, 11), cv=4)
    with threadpool_limits(limits=1):  # small QRs: BLAS threads only contend (12 s -> 0.4 s)
        cv.fit(data.X, data.y_bag, bags=data.bags)
        refit = AggregateRegressor(rho=cv.rho_).fit(data.X, data.y_bag, bags=data.bags)
    assert cv.cv_scores_.shape == (4, 11)
    assert 0.0 < cv.rho_ < 1.0
    np.testing.assert_allclose(cv.coef_, refit.coef_, atol=ATOL)


def test_cv_marks_infeasible_rho_and_plots():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(2)
    X = rng.standard_normal((60, 10))
    bags = make_random_bags(60, 5, random_state=rng)
    y = np.bincount(bags, weights=X[:, 0] + rng.standard_normal(60)) / 5
    cv = AggregateRegressorCV(rhos=[0.0, 0.5, 1.0], cv=3).fit(X, y, bags=bags)
    assert np.isinf(cv.cv_mean_[0]) and cv.rho_ > 0
    ax = cv.plot()
    assert ax.get_xlabel() == "rho"
    plt.close("all")


def test_cv_rejects_splitter_that_cuts_bags():
    data = make_aggregate_regression(200, 3, bag_size=4, random_state=0)
    with pytest.raises(ValueError, match="cut through bags"):
        AggregateRegressorCV(cv=KFold(3)).fit(data.X, data.y_bag, bags=data.bags)


# ------------------------------------------------------------------------ datasets


def test_make_random_bags_sizes_and_determinism():
    bags = make_random_bags(23, 5, random_state=0)
    assert sorted(np.bincount(bags)) == [3, 5, 5, 5, 5]
    np.testing.assert_array_equal(bags, make_random_bags(23, 5, random_state=0))


def test_make_bags_from_groups_never_mixes_groups():
    from statlogit.datasets import make_bags_from_groups

    groups = np.array(list("abacabcbbbaacc") * 3)
    np.testing.assert_array_equal(make_bags_from_groups(groups),
                                  np.unique(groups, return_inverse=True)[1])
    bags = make_bags_from_groups(groups, bag_size=4, random_state=1)
    for label in np.unique(bags):
        assert len(set(groups[bags == label])) == 1
    assert np.bincount(bags).max() <= 4
    per_group = {g: len(np.unique(bags[groups == g])) for g in "abc"}
    assert per_group == {g: -(-np.sum(groups == g) // 4) for g in "abc"}


def test_make_aggregate_regression_design():
    data = make_aggregate_regression(50, 4, bag_size=5, snr=2.0, noise=0.5,
                                     random_state=0)
    assert np.sum(data.coef**2) == pytest.approx(2.0 * 0.25)
    means = np.bincount(data.bags, weights=data.y) / np.bincount(data.bags)
    np.testing.assert_allclose(data.y_bag, means[data.bags], atol=1e-12)
