"""Numba kernels of the PRESTO family against plain numpy / mpmath twins."""

import mpmath
import numpy as np
import pytest

from statlogit.ordinal._kernels import (
    neg_loglik,
    neg_loglik_derivatives,
    weighted_grams,
)
from statlogit.solvers._kernels import lasso_qp_cd


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def numpy_derivatives(eta, y):
    """Twin: probabilities by differences of sigmoids, derivatives by the chain rule."""
    n, m = eta.shape
    cum = np.hstack([np.zeros((n, 1)), _sigmoid(eta), np.ones((n, 1))])
    dens = np.hstack([np.zeros((n, 1)), _sigmoid(eta) * (1 - _sigmoid(eta)),
                      np.zeros((n, 1))])
    curv = dens * (1 - 2 * np.hstack([np.zeros((n, 1)), _sigmoid(eta),
                                      np.ones((n, 1))]))
    rows = np.arange(n)
    p = cum[rows, y + 1] - cum[rows, y]
    grad = np.zeros((n, m))
    hd = np.zeros((n, m))
    ho = np.zeros((n, max(m - 1, 0)))
    for i in range(n):
        hi, lo = y[i], y[i] - 1  # boundary indices of the upper / lower ends
        d_hi = dens[i, y[i] + 1] if hi < m else 0.0
        d_lo = dens[i, y[i]] if lo >= 0 else 0.0
        if hi < m:
            grad[i, hi] = -d_hi / p[i]
            hd[i, hi] = -(curv[i, y[i] + 1] * p[i] - d_hi**2) / p[i] ** 2
        if lo >= 0:
            grad[i, lo] = d_lo / p[i]
            hd[i, lo] = (curv[i, y[i]] * p[i] + d_lo**2) / p[i] ** 2
        if hi < m and lo >= 0:
            ho[i, lo] = -d_hi * d_lo / p[i] ** 2
    return -np.log(p).sum(), grad, hd, ho


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_derivatives_match_numpy_twin(n_classes):
    rng = np.random.default_rng(n_classes)
    m = n_classes - 1
    eta = np.sort(rng.normal(0, 2, (40, m)), axis=1) + np.arange(m) * 0.3
    y = rng.integers(0, n_classes, 40)
    ours = neg_loglik_derivatives(eta, y)
    twin = numpy_derivatives(eta, y)
    assert ours[0] == pytest.approx(twin[0], rel=1e-12)
    assert neg_loglik(eta, y) == pytest.approx(twin[0], rel=1e-12)
    for a, b in zip(ours[1:], twin[1:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_hessian_is_jacobian_of_gradient():
    rng = np.random.default_rng(0)
    eta = np.sort(rng.normal(0, 1, (6, 3)), axis=1)
    y = np.array([0, 1, 2, 3, 1, 2])
    _, grad, hd, ho = neg_loglik_derivatives(eta, y)
    h = 1e-6
    for k in range(3):
        shifted = eta.copy()
        shifted[:, k] += h
        numeric = (neg_loglik_derivatives(shifted, y)[1] - grad) / h
        np.testing.assert_allclose(numeric[:, k], hd[:, k], rtol=1e-4, atol=1e-6)
        if k < 2:
            np.testing.assert_allclose(numeric[:, k + 1], ho[:, k], rtol=1e-4,
                                       atol=1e-6)


@pytest.mark.parametrize("a, b", [(40.0, 41.0), (-745.0, -740.0), (30.0, 30.0 + 1e-9),
                                  (-5.0, 700.0), (1e-12, 2e-12)])
def test_middle_class_extremes_match_mpmath(a, b):
    mpmath.mp.dps = 60
    exact = -mpmath.log(1 / (1 + mpmath.exp(-b)) - 1 / (1 + mpmath.exp(-a)))
    value, grad, _, _ = neg_loglik_derivatives(np.array([[a, b]]), np.array([1]))
    assert value == pytest.approx(float(exact), rel=1e-9)
    exact_grad = mpmath.diff(
        lambda t: -mpmath.log(1 / (1 + mpmath.exp(-t)) - 1 / (1 + mpmath.exp(-a))), b)
    assert grad[0, 1] == pytest.approx(float(exact_grad), rel=1e-7, abs=1e-300)


@pytest.mark.parametrize("eta0", [-800.0, 800.0, 0.0])
def test_end_classes_are_finite_at_extremes(eta0):
    eta = np.array([[eta0], [eta0]])
    value, grad, hd, _ = neg_loglik_derivatives(eta, np.array([0, 1]))
    assert np.isfinite(value) and np.all(np.isfinite(grad)) and np.all(np.isfinite(hd))


def test_crossing_rows_give_inf():
    eta = np.array([[0.0, 1.0], [1.0, 0.5]])
    assert neg_loglik(eta, np.array([0, 2])) == np.inf
    assert neg_loglik_derivatives(eta, np.array([0, 2]))[0] == np.inf


def test_weighted_grams_match_numpy():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 4))
    W = rng.random((30, 3)) * (rng.random((30, 3)) < 0.6)
    Z = np.hstack([np.ones((30, 1)), X])
    expected = np.einsum("ir,ia,ib->rab", W, Z, Z)
    np.testing.assert_allclose(weighted_grams(X, W), expected, rtol=1e-12, atol=1e-12)


def test_lasso_qp_cd_matches_kkt():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(8, 8))
    H = A @ A.T + 0.5 * np.eye(8)
    g = rng.normal(size=8)
    theta = rng.normal(size=8)
    w = np.array([0.0, 0.3, 0.3, 0.3, 1.0, 5.0, 0.0, 0.2])
    z, _ = lasso_qp_cd(H, g, theta, theta, w, 1e-13, 100_000)
    model_grad = g + H @ (z - theta)
    nonzero = z != 0
    np.testing.assert_allclose(model_grad[nonzero], -w[nonzero] * np.sign(z[nonzero]),
                               atol=1e-9)
    assert np.all(np.abs(model_grad[~nonzero]) <= w[~nonzero] + 1e-9)
    assert np.all(theta == theta.copy())


def test_lasso_qp_cd_keeps_fixed_coordinates():
    H = np.eye(3)
    g = np.array([1.0, -1.0, 2.0])
    theta = np.zeros(3)
    z, _ = lasso_qp_cd(H, g, theta, theta, np.array([0.0, np.inf, 0.5]), 1e-12, 100)
    np.testing.assert_allclose(z, [-1.0, 0.0, -1.5])


# ---------------------------------------------------------------- links, barrier, PO


CDFS = {1: mpmath.ncdf, 2: lambda x: 1 - mpmath.exp(-mpmath.exp(x))}


@pytest.mark.parametrize("link", [1, 2])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_link_derivatives_match_mpmath_and_finite_differences(link, n_classes):
    """Values against 50-digit mpmath (scipy's gumbel_l cdf loses the upper tail),
    gradients and Hessians against central differences."""
    mpmath.mp.dps = 50
    cdf = CDFS[link]
    rng = np.random.default_rng(link + n_classes)
    m = n_classes - 1
    eta = np.sort(rng.normal(0, 1.5, (30, m)), axis=1) + np.arange(m) * 0.4
    y = rng.integers(0, n_classes, 30)
    exact = 0
    for row, c in zip(eta, y, strict=True):
        upper = cdf(mpmath.mpf(float(row[c]))) if c < m else 1
        lower = cdf(mpmath.mpf(float(row[c - 1]))) if c > 0 else 0
        exact -= mpmath.log(upper - lower)
    ours = neg_loglik_derivatives(eta, y, link)
    assert ours[0] == pytest.approx(float(exact), rel=1e-13)
    assert neg_loglik(eta, y, link) == pytest.approx(float(exact), rel=1e-13)
    h = 1e-6
    for k in range(m):
        up, down = eta.copy(), eta.copy()
        up[:, k] += h
        down[:, k] -= h
        rows_up = np.array([neg_loglik(up[i:i + 1], y[i:i + 1], link) for i in range(30)])
        rows_down = np.array([neg_loglik(down[i:i + 1], y[i:i + 1], link)
                              for i in range(30)])
        np.testing.assert_allclose(ours[1][:, k], (rows_up - rows_down) / (2 * h),
                                   rtol=1e-6, atol=1e-8)
        hess = (neg_loglik_derivatives(up, y, link)[1]
                - neg_loglik_derivatives(down, y, link)[1]) / (2 * h)
        np.testing.assert_allclose(hess[:, k], ours[2][:, k], rtol=1e-5, atol=1e-7)
        if k < m - 1:
            np.testing.assert_allclose(hess[:, k + 1], ours[3][:, k], rtol=1e-5,
                                       atol=1e-7)


def test_barrier_terms_match_numpy_twin():
    from statlogit.ordinal._kernels import barrier_terms

    rng = np.random.default_rng(3)
    eta = np.cumsum(rng.random((25, 4)) + 0.01, axis=1)
    y = rng.integers(0, 5, 25)
    w = rng.random(25) + 0.5
    gaps = np.diff(eta, axis=1)
    mask = np.ones_like(gaps, dtype=bool)
    middle = (y > 0) & (y < 4)
    mask[np.flatnonzero(middle), y[middle] - 1] = False
    mu = 1e-3
    value, grad, curv = barrier_terms(eta, y, w, mu, 0.0, True)
    assert value == pytest.approx(-mu * np.sum(w[:, None] * np.log(gaps) * mask),
                                  rel=1e-12)
    np.testing.assert_allclose(grad, np.where(mask, -mu * w[:, None] / gaps, 0.0))
    np.testing.assert_allclose(curv, np.where(mask, mu * w[:, None] / gaps**2, 0.0))


def test_parallel_loss_is_the_restriction_of_the_full_loss():
    from statlogit.ordinal._loss import CumulativeLinkLoss, ParallelLinkLoss

    rng = np.random.default_rng(4)
    X = rng.normal(size=(50, 3))
    y = rng.integers(0, 4, 50)
    w = rng.random(50) + 0.2
    full = CumulativeLinkLoss(X, y, 4, link="probit", sample_weight=w)
    par = ParallelLinkLoss(X, y, 4, link="probit", sample_weight=w)
    x = np.r_[-1.0, 0.2, 1.1, 0.3, -0.4, 0.5]
    jac = np.zeros((12, 6))  # theta (3 x 4, flattened) from (a, beta)
    jac[[0, 4, 8], [0, 1, 2]] = 1.0
    jac[[1, 2, 3], [3, 4, 5]] = 1.0
    theta = jac @ x
    value, grad, hess = full.derivatives(theta)
    value_p, grad_p, hess_p = par.derivatives(x)
    assert value_p == pytest.approx(value, rel=1e-13)
    np.testing.assert_allclose(grad_p, jac.T @ grad, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hess_p, jac.T @ hess @ jac, rtol=1e-12, atol=1e-14)
    scores = par.row_scores(x)
    np.testing.assert_allclose(scores.sum(axis=0) / w.sum(), grad_p, rtol=1e-12)
    np.testing.assert_allclose(full.row_scores(theta) @ jac, scores, rtol=1e-12,
                               atol=1e-14)


def test_column_moments_match_numpy():
    from statlogit.ordinal._fit import column_moments

    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3)) * [1e-200, 1.0, 1e200]
    w = rng.random(40)
    w /= w.sum()
    big, mean, spread = column_moments(X, w)
    unit = X / np.abs(X).max(axis=0)
    np.testing.assert_allclose(big, np.abs(X).max(axis=0))
    np.testing.assert_allclose(mean, w @ unit, rtol=1e-12)
    np.testing.assert_allclose(spread, np.sqrt(w @ (unit - w @ unit) ** 2), rtol=1e-12)
