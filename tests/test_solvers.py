"""FISTA against scikit-learn's Lasso, a cvxpy formulation and closed forms."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from statlogit import reference
from statlogit.solvers import fista, prox_l1, weighted_lstsq


def _lasso_problem(seed, n=80, p=12):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = np.where(rng.random(p) < 0.4, rng.standard_normal(p), 0.0)
    y = X @ beta + 0.5 * rng.standard_normal(n) + 3.0
    return X, y


def _fista_lasso(X, y, alpha, tol=1e-12):
    """Lasso with an unpenalised intercept (last coordinate), scikit-learn's scaling."""
    n, p = X.shape
    design = np.column_stack([X, np.ones(n)])
    weights = np.r_[np.ones(p), 0.0]

    def smooth(w):
        r = design @ w - y
        return 0.5 * (r @ r) / n, design.T @ r / n

    res = fista(smooth, lambda v, t: prox_l1(v, alpha * t, weights), np.zeros(p + 1),
                tol=tol, max_iter=50_000)
    return res


def _objective(X, y, alpha, coef, intercept):
    r = y - X @ coef - intercept
    return 0.5 * (r @ r) / len(y) + alpha * np.abs(coef).sum()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("alpha", [0.01, 0.1, 0.5])
def test_fista_lasso_matches_sklearn(seed, alpha):
    X, y = _lasso_problem(seed)
    res = _fista_lasso(X, y, alpha)
    assert res.converged
    sk = Lasso(alpha=alpha, tol=1e-14, max_iter=1_000_000).fit(X, y)
    np.testing.assert_allclose(res.x[:-1], sk.coef_, atol=1e-6)
    assert res.x[-1] == pytest.approx(sk.intercept_, abs=1e-6)


@pytest.mark.cvxpy
@pytest.mark.parametrize("seed", [0, 5])
def test_fista_lasso_matches_cvxpy_to_1e8(seed):
    X, y = _lasso_problem(seed, n=60, p=8)
    alpha = 0.05
    res = _fista_lasso(X, y, alpha)
    coef, intercept, value = reference.lasso(X, y, alpha)
    ours = _objective(X, y, alpha, res.x[:-1], res.x[-1])
    assert ours <= value + 1e-8 * max(1.0, abs(value))
    assert ours >= value - 1e-8 * max(1.0, abs(value))
    np.testing.assert_allclose(res.x[:-1], coef, atol=1e-6)


def test_fista_alpha_max_gives_zero_solution():
    X, y = _lasso_problem(3)
    yc = y - y.mean()
    alpha_max = np.max(np.abs((X - X.mean(0)).T @ yc)) / len(y)
    assert np.all(_fista_lasso(X, y, alpha_max * 1.0001).x[:-1] == 0.0)
    assert np.any(_fista_lasso(X, y, alpha_max * 0.99).x[:-1] != 0.0)


def test_fista_line_search_keeps_iterates_in_the_domain():
    # minimise sum(x - log x) (minimiser x = 1); infinite outside x > 0
    def smooth(x):
        if np.any(x <= 0):
            return np.inf, np.full_like(x, np.nan)
        return float(np.sum(x - np.log(x))), 1.0 - 1.0 / x

    res = fista(smooth, lambda v, t: v, np.full(3, 0.01), step=100.0, tol=1e-10)
    assert res.converged
    np.testing.assert_allclose(res.x, 1.0, atol=1e-8)


def test_fista_warns_with_iteration_count_when_not_converged():
    X, y = _lasso_problem(0)
    n = len(y)

    def smooth(w):
        r = X @ w - y
        return 0.5 * (r @ r) / n, X.T @ r / n

    with pytest.warns(ConvergenceWarning, match="did not converge in 3 iterations"):
        res = fista(smooth, lambda v, t: v, np.zeros(X.shape[1]), max_iter=3)
    assert not res.converged and res.n_iter == 3


def test_fista_rejects_infeasible_start():
    with pytest.raises(ValueError, match="starting point"):
        fista(lambda x: (np.inf, x), lambda v, t: v, np.zeros(2))


def test_weighted_lstsq_matches_statsmodels_wls():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(4)
    X = sm.add_constant(rng.standard_normal((50, 3)))
    y = X @ [1.0, 2.0, -1.0, 0.5] + rng.standard_normal(50)
    w = rng.uniform(0.1, 3.0, 50)
    coef, rank = weighted_lstsq(X, y, w)
    assert rank == 4
    np.testing.assert_allclose(coef, sm.WLS(y, X, weights=w).fit().params, rtol=1e-10)
    many, _ = weighted_lstsq(X, np.column_stack([y, 2 * y]), w)
    np.testing.assert_allclose(many[:, 1], 2 * coef, rtol=1e-10)


def test_weighted_lstsq_rank_deficient_gives_min_norm():
    X = np.column_stack([np.ones(10), np.ones(10)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coef, rank = weighted_lstsq(X, np.full(10, 2.0))
    assert rank == 1
    np.testing.assert_allclose(coef, [1.0, 1.0])
