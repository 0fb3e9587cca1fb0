"""CheckeredClassifier: truths from scikit-learn, the Bayes rule and the paper's data."""

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import cross_val_score

from statlogit import CheckeredClassifier
from statlogit.checkered._objective import CheckeredObjective
from statlogit.checkered._solve import random_start, solve_em, solve_lbfgs
from statlogit.datasets import (
    ACHAB_LINES,
    make_checkerboard,
    make_rock_paper_scissors,
    make_xor_mixture,
    xor_mixture_bayes_accuracy,
    xor_mixture_bayes_proba,
)
from statlogit.solvers.xgd import xgd

matplotlib.use("Agg")
TIGHT = {"tol": 1e-10, "max_iter": 10_000}


@pytest.fixture(scope="module")
def xor_data():
    X, y = make_xor_mixture(1000, random_state=1)
    X_test, y_test = make_xor_mixture(50_000, random_state=2)
    return X, y, X_test, y_test


@pytest.fixture(scope="module")
def xor_fit(xor_data):
    X, y, _, _ = xor_data
    return CheckeredClassifier(n_hyperplanes=2, random_state=0).fit(X, y)


@pytest.mark.parametrize("n_classes", [2, 3, 4])
def test_one_hyperplane_is_logistic_regression(n_classes):
    X, y = make_classification(300, 5, n_informative=4, n_redundant=0,
                               n_classes=n_classes, random_state=0)
    weights = np.random.default_rng(0).uniform(0.2, 3.0, size=300)
    lr = LogisticRegression(C=0.3, **TIGHT).fit(X, y, sample_weight=weights)
    ck = CheckeredClassifier(n_hyperplanes=1, C=0.3, random_state=0, **TIGHT).fit(
        X, y, sample_weight=weights)
    assert np.max(np.abs(ck.predict_proba(X) - lr.predict_proba(X))) < 1e-6
    coef = -ck.coef_ if n_classes == 2 else ck.coef_[0]
    assert np.max(np.abs(coef - lr.coef_.reshape(coef.shape))) < 1e-4


def test_xor_mixture_reaches_bayes_accuracy(xor_data, xor_fit):
    X, y, X_test, y_test = xor_data
    accuracy = xor_fit.score(X_test, y_test)
    assert accuracy >= 0.965
    assert accuracy <= xor_mixture_bayes_accuracy() + 0.005
    assert LogisticRegression().fit(X, y).score(X_test, y_test) <= 0.70
    bayes_loss = log_loss(y_test, xor_mixture_bayes_proba(X_test))
    assert log_loss(y_test, xor_fit.predict_proba(X_test)) < bayes_loss + 0.02


def test_xor_hyperplanes_are_the_axes(xor_fit):
    """Prop. 5.5: the Bayes hyperplanes are x1 = 0 and x2 = 0 (within 10 degrees)."""
    normals = xor_fit.coef_ / np.linalg.norm(xor_fit.coef_, axis=1, keepdims=True)
    assert np.all(np.max(np.abs(normals), axis=1) > np.cos(np.radians(10)))
    assert sorted(np.argmax(np.abs(normals), axis=1)) == [0, 1]


def test_prediction_api(xor_data, xor_fit):
    X_test = xor_data[2][:200]
    proba = xor_fit.predict_proba(X_test)
    assert proba.shape == (200, 2)
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    decision = xor_fit.decision_function(X_test)
    assert decision.shape == (200,)
    assert np.allclose(decision, np.log(proba[:, 1]) - np.log(proba[:, 0]))
    assert np.array_equal(xor_fit.predict(X_test), xor_fit.classes_[(decision > 0) * 1])
    assert xor_fit.n_iter_ > 0 and np.isfinite(xor_fit.loss_)


def test_class_zero_probability_is_the_tanh_product(xor_fit):
    X = np.random.default_rng(0).uniform(-1, 1, size=(100, 2))
    z = X @ xor_fit.coef_.T + xor_fit.intercept_
    assert np.allclose(xor_fit.predict_proba(X)[:, 0],
                       0.5 * (1 + np.prod(np.tanh(z / 2), axis=1)), atol=1e-12)


def test_loss_is_the_penalised_objective(xor_data, xor_fit):
    X, y = xor_data[:2]
    log_p = xor_fit.predict_log_proba(X)[np.arange(len(y)), y]
    expected = -xor_fit.C * log_p.sum() + 0.5 * np.sum(xor_fit.coef_**2)
    assert xor_fit.loss_ == pytest.approx(expected, rel=1e-12)


def test_string_labels_pandas_and_multiclass():
    X, y = make_classification(200, 3, n_informative=3, n_redundant=0, n_classes=3,
                               random_state=1)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    labels = np.array(["low", "mid", "top"])[y]
    clf = CheckeredClassifier(n_hyperplanes=2, n_restarts=2, random_state=0).fit(
        frame, labels)
    assert list(clf.feature_names_in_) == ["a", "b", "c"]
    assert list(clf.classes_) == ["low", "mid", "top"]
    assert clf.coef_.shape == (2, 3, 3) and clf.intercept_.shape == (2, 3)
    assert clf.decision_function(frame).shape == (200, 3)
    assert set(clf.predict(frame)) <= set(clf.classes_)


def test_random_state_determinism_and_restarts_keep_the_best(xor_data):
    X, y = xor_data[:2]
    a = CheckeredClassifier(n_restarts=3, random_state=5).fit(X, y)
    b = CheckeredClassifier(n_restarts=3, random_state=5).fit(X, y)
    assert np.array_equal(a.coef_, b.coef_)
    objective = CheckeredObjective(X, y.astype(np.int64), np.ones(len(y)), 2, 2, 1.0)
    rng = np.random.default_rng(5)
    starts = [solve_lbfgs(objective, random_start(objective, rng), 500, 1e-4)[0]
              for _ in range(3)]
    assert a.loss_ == pytest.approx(min(objective.loss(t) for t in starts), rel=1e-12)


def test_random_starts_are_never_zero_and_cut_the_data(xor_data):
    X, y = xor_data[:2]
    objective = CheckeredObjective(X, y.astype(np.int64), np.ones(len(y)), 3, 2, 1.0)
    theta = random_start(objective, np.random.default_rng(0))
    coef, intercept = objective.unpack(theta)
    assert np.all(np.linalg.norm(coef, axis=-1) > 0.5)
    z = X @ coef[:, 0, :].T + intercept[:, 0]
    assert np.all((z > 0).mean(axis=0) > 0.05) and np.all((z < 0).mean(axis=0) > 0.05)


def test_integer_weights_equal_duplicated_rows(xor_data):
    X, y = xor_data[0][:300], xor_data[1][:300]
    counts = np.random.default_rng(0).integers(1, 4, size=300)
    params = {"n_restarts": 2, "random_state": 0, "tol": 1e-8}
    weighted = CheckeredClassifier(**params).fit(X, y, sample_weight=counts)
    repeated = CheckeredClassifier(**params).fit(np.repeat(X, counts, axis=0),
                                                 np.repeat(y, counts))
    assert np.allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-6)


BAD_INPUTS = {
    "one class": ({}, lambda X, y: (X, np.zeros_like(y)), None, "2 classes"),
    "m = 0": ({"n_hyperplanes": 0}, None, None, "n_hyperplanes"),
    "C = 0": ({"C": 0.0}, None, None, "C must be"),
    "C < 0": ({"C": -1.0}, None, None, "C must be"),
    "bad solver": ({"solver": "sgd"}, None, None, "solver"),
    "NaN": ({}, lambda X, y: (np.where(X > 1.5, np.nan, X), y), None, "NaN"),
    "inf": ({}, lambda X, y: (np.where(X > 1.5, np.inf, X), y), None, "infinity"),
    "negative weight": ({}, None, -1.0, "non-negative"),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_raises_value_error(case, xor_data):
    params, transform, weight, message = BAD_INPUTS[case]
    X, y = xor_data[0][:50], xor_data[1][:50]
    if transform is not None:
        X, y = transform(X, y)
    sample_weight = None if weight is None else np.r_[weight, np.ones(49)]
    with pytest.raises(ValueError, match=message):
        CheckeredClassifier(**params).fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("solver", ["lbfgs", "xgd", "em"])
def test_non_convergence_warns_with_iteration_count(solver, xor_data):
    X, y = xor_data[0][:200], xor_data[1][:200]
    with pytest.warns(ConvergenceWarning, match="did not converge in 2 iterations"):
        CheckeredClassifier(solver=solver, max_iter=2, n_restarts=1, tol=1e-12,
                            random_state=0).fit(X, y)


def test_em_decreases_the_objective_and_matches_lbfgs(xor_data):
    X, y = xor_data[0][:300], xor_data[1][:300]
    objective = CheckeredObjective(X, y.astype(np.int64), np.ones(300), 2, 2, 1.0)
    values = []
    theta0 = random_start(objective, np.random.default_rng(1))
    solve_em(objective, theta0, 100, 1e-9, callback=lambda t: values.append(
        objective.value(t)))
    assert np.all(np.diff(values) <= 1e-12)
    lbfgs = CheckeredClassifier(random_state=1, n_restarts=1, tol=1e-8).fit(X, y)
    assert values[-1] * lbfgs.C * 300 == pytest.approx(lbfgs.loss_, rel=1e-5)


def test_em_m_step_is_a_set_of_weighted_logistic_regressions(xor_data):
    """Minimising the majoriser = one soft-label LogisticRegression per hyperplane."""
    X, y = xor_data[0][:200], xor_data[1][:200]
    rng = np.random.default_rng(3)
    weights = rng.uniform(0.5, 2.0, size=200)
    objective = CheckeredObjective(X, y.astype(np.int64), weights, 2, 2, 0.5)
    q_ref = objective.posterior(random_start(objective, rng))[2]
    theta = minimize(objective.surrogate, np.zeros(6), args=(q_ref,), jac=True,
                     method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 0}).x
    coef, intercept = objective.unpack(theta)
    for k in range(2):
        lr = LogisticRegression(C=0.5, **TIGHT).fit(
            np.vstack([X, X]), np.r_[np.ones(200), np.zeros(200)],
            sample_weight=np.r_[weights * q_ref[:, k], weights * (1 - q_ref[:, k])])
        assert np.allclose(coef[k, 0], lr.coef_[0], atol=1e-5)
        assert intercept[k, 0] == pytest.approx(lr.intercept_[0], abs=1e-5)


def test_xgd_obeys_theorem_bound(xor_data):
    """Thm 4.2: weighted mean of F(theta_t-1) - F(eta) <= (D^2 + B^2 sum g^2)/(2 sum g)."""
    X, y = xor_data[0][:200], xor_data[1][:200]
    rng = np.random.default_rng(4)
    objective = CheckeredObjective(X, y.astype(np.int64), np.ones(200), 2, 2, 1e12)
    theta0, eta = (random_start(objective, rng) for _ in range(2))
    q_ref = objective.posterior(eta)[2]
    radius, lipschitz = float(np.linalg.norm(theta0 - eta)), objective.lipschitz()
    iterates = [theta0]
    xgd(lambda t: objective.surrogate(t, q_ref)[1], theta0, radius=radius,
        lipschitz=lipschitz, tol=1e-300, max_iter=300,
        callback=lambda t, x: iterates.append(x))
    steps = radius / (lipschitz * np.sqrt(np.arange(1, 301)))
    gaps = np.array([objective.value(t) for t in iterates[:-1]]) - objective.value(eta)
    for T in (10, 100, 300):
        lhs = steps[:T] @ gaps[:T] / steps[:T].sum()
        rhs = (radius**2 + lipschitz**2 * np.sum(steps[:T] ** 2)) / (2 * steps[:T].sum())
        assert lhs <= rhs


def test_rock_paper_scissors_checkered_beats_bradley_terry():
    """Bradley-Terry is stuck at log 2; three hyperplanes fit the cycle (two cannot:
    the labels alternate around a hexagon, which two lines cut only four times)."""
    X, y = make_rock_paper_scissors()
    bt = LogisticRegression(C=1e6, fit_intercept=False, **TIGHT).fit(X, y)
    assert log_loss(y, bt.predict_proba(X)) == pytest.approx(np.log(2), abs=1e-3)
    ck = CheckeredClassifier(n_hyperplanes=3, C=1e4, n_restarts=5, random_state=0).fit(
        X, y)
    assert log_loss(y, ck.predict_proba(X)) < 0.05


def test_plot_draws_regions_and_checks_dimension(xor_data, xor_fit):
    X, y = xor_data[0][:100], xor_data[1][:100]
    ax = xor_fit.plot(X=X, y=y)
    assert ax.get_title().startswith("checkered regression")
    three_d = CheckeredClassifier(n_restarts=1, random_state=0).fit(
        np.c_[X, X[:, 0]], y)
    with pytest.raises(ValueError, match="2 features"):
        three_d.plot()


def test_checkerboard_generator_labels_are_cell_parity():
    X, y = make_checkerboard(200, 3, n_cells=4, bounds=(0.0, 4.0), random_state=0)
    assert np.array_equal(y, np.floor(X).sum(axis=1).astype(int) % 2)
    X, y = make_checkerboard(200, hyperplanes=ACHAB_LINES, random_state=0)
    normals, offsets = ACHAB_LINES
    assert np.array_equal(y, ((X @ normals.T + offsets) > 0).sum(axis=1) % 2)


def test_xor_bayes_accuracy_matches_simulation(xor_data):
    _, _, X_test, y_test = xor_data
    bayes = np.argmax(xor_mixture_bayes_proba(X_test), axis=1)
    assert xor_mixture_bayes_accuracy() == pytest.approx(0.97497, abs=5e-6)
    assert np.mean(bayes == y_test) == pytest.approx(0.97497, abs=3e-3)


@pytest.mark.slow
def test_paper_checkerboard_three_lines():
    """[C2] E2 analogue: m = 3 reaches >= 0.99 training and >= 0.97 CV accuracy."""
    X, y = make_checkerboard(500, hyperplanes=ACHAB_LINES, random_state=0)
    clf = CheckeredClassifier(n_hyperplanes=3, C=100.0, n_restarts=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert clf.fit(X, y).score(X, y) >= 0.99
        assert cross_val_score(clf, X, y, cv=5).mean() >= 0.97
        assert LogisticRegression().fit(X, y).score(X, y) <= 0.80
        wide = CheckeredClassifier(n_hyperplanes=20, C=100.0, n_restarts=3,
                                   random_state=0)
        assert wide.fit(X, y).score(X, y) >= 0.97


def test_the_docs_usage_example_runs_as_written(tmp_path, monkeypatch, capsys):
    import pathlib
    import textwrap

    page = pathlib.Path(__file__).resolve().parents[2] / "docs/families/checkered.rst"
    block = page.read_text().split(":name: checkered-usage", 1)[1].splitlines()[1:]
    code = []
    for line in block:
        if line.strip() and not line.startswith("   "):
            break
        code.append(line)
    monkeypatch.chdir(tmp_path)
    exec(compile(textwrap.dedent("\n".join(code)), "checkered.rst", "exec"), {})
    out = capsys.readouterr().out
    assert "['leaves' 'stays']" in out
    assert float(out.strip().splitlines()[-1]) > 0.95
    assert (tmp_path / "checkered.png").stat().st_size > 1000
    matplotlib.pyplot.close("all")
