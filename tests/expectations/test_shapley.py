"""shapley_effects: linear Gaussian closed form (Owen & Prieur 2017), sums, bounds."""

import itertools
from math import factorial

import numpy as np
import pytest
from scipy import stats

from statlogit import GaussianCopula, shapley_effects, sobol_indices
from statlogit.datasets import ishigami

B = np.array([1.0, 2.0, 1.5])
CORR = np.array([[1.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 1.0]])
SD = np.array([1.0, 0.5, 2.0])


def linear(X):
    return X @ B


def linear_gaussian_shapley(b, cov):
    r"""Closed form for Y = b'X, X ~ N(mu, cov): the Shapley value of the cost
    v(u) = Var E[Y | X_u] = b' cov_{.u} cov_{uu}^{-1} cov_{u.} b, by enumeration."""
    d = len(b)

    def v(u):
        u = list(u)
        if not u:
            return 0.0
        cross = cov[u, :] @ b
        return cross @ np.linalg.solve(cov[np.ix_(u, u)], cross)

    effects = np.zeros(d)
    for i in range(d):
        others = [j for j in range(d) if j != i]
        for k in range(d):
            for u in itertools.combinations(others, k):
                weight = factorial(k) * factorial(d - k - 1) / factorial(d)
                effects[i] += weight * (v(u + (i,)) - v(u))
    return effects / (b @ cov @ b)


def test_linear_gaussian_equals_the_closed_form():
    law = GaussianCopula([stats.norm(1.0, s) for s in SD], CORR)
    res = shapley_effects(linear, law, 20_000, names=["a", "b", "c"], random_state=0)
    truth = linear_gaussian_shapley(B, CORR * np.outer(SD, SD))
    z = (res.shapley_effects.to_numpy() - truth) / res.std_errors_.to_numpy()
    assert np.all(np.abs(z) < 4), z
    assert list(res.shapley_effects.index) == ["a", "b", "c"]
    assert res.shapley_effects.sum() == pytest.approx(1.0, abs=1e-12)
    assert res.n_model_runs <= 20_000
    assert res.conf_int(order="shapley").shape == (3, 2)
    assert "Shapley effects" in res.summary().as_text()


def test_conditional_sampling_is_the_gaussian_conditional():
    law = GaussianCopula([stats.norm()] * 3, CORR)
    X = np.tile([[1.0, 0.0, 0.0]], (100_000, 1))
    Y = law.conditional_rvs([1, 2], X, random_state=1)
    gain = CORR[1:, :1] / CORR[0, 0]
    np.testing.assert_allclose(Y[:, 1:].mean(axis=0), gain.ravel(), atol=0.01)
    np.testing.assert_allclose(np.cov(Y[:, 1:].T), CORR[1:, 1:] - gain @ gain.T,
                               atol=0.01)
    assert np.all(Y[:, 0] == 1.0)


def test_independent_inputs_lie_between_first_and_total_order():
    uniform = [stats.uniform(-np.pi, 2 * np.pi)] * 3
    sh = shapley_effects(ishigami, uniform, 30_000, random_state=2)
    sob = sobol_indices(ishigami, uniform, 6000, method="saltelli", random_state=2)
    effects, se = sh.shapley_effects.to_numpy(), sh.std_errors_.to_numpy()
    lower = sob.first_order.to_numpy() - 4 * sob.std_errors.to_numpy() - 4 * se
    upper = sob.total_order.to_numpy() + 4 * sob.std_errors_["total"].to_numpy() + 4 * se
    assert np.all((lower <= effects) & (effects <= upper))
    # Ishigami: Sh = S_i + (interaction x1:x3) / 2 for x1, x3; S_2 for x2
    variance = 49 / 8 + 0.1 * np.pi**4 / 5 + 0.01 * np.pi**8 / 18 + 0.5
    v1, v13 = 0.5 * (1 + 0.1 * np.pi**4 / 5) ** 2, 0.01 * np.pi**8 * (1 / 18 - 1 / 50)
    truth = np.array([v1 + v13 / 2, 49 / 8, v13 / 2]) / variance
    assert np.all(np.abs(effects - truth) < 4 * se)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"budget": 10}, "budget"), ({"n_inner": 1}, "n_inner"), ({"names": ["a"]}, "names"),
])
def test_bad_arguments(kwargs, message):
    law = GaussianCopula([stats.norm()] * 3, CORR)
    with pytest.raises(ValueError, match=message):
        shapley_effects(linear, law, **{"budget": 2000, **kwargs})


def test_constant_and_multi_output_models_are_refused():
    law = GaussianCopula([stats.norm()] * 3, CORR)
    with pytest.raises(ValueError, match="same value"):
        shapley_effects(lambda X: np.zeros(X.shape[0]), law, 2000, random_state=0)
    with pytest.raises(ValueError, match="takes a model with one output"):
        shapley_effects(lambda X: X[:, :2], law, 2000, random_state=0)


def test_multi_output_model_is_refused_after_the_variance_sample_only():
    law = GaussianCopula([stats.norm()] * 3, CORR)
    rows = []

    def two_outputs(X):
        rows.append(X.shape[0])
        return X[:, :2]

    with pytest.raises(ValueError, match="2 outputs per row"):
        shapley_effects(two_outputs, law, 2000, random_state=0)
    assert sum(rows) == 2000 // 5
