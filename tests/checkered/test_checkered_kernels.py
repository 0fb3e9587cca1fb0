"""The checkered forward-backward kernel against plain numpy truths.

Twin: brute-force enumeration of all c**m coin patterns in log space (numpy
``logsumexp``), which shares no code with the kernel's prefix/suffix recursion.
"""

import itertools

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from scipy.special import expit, log_softmax, logsumexp

from statlogit.checkered._kernels import (
    binary_parity_log_proba,
    binary_parity_posterior,
    parity_log_proba,
    parity_posterior,
)
from statlogit.checkered._objective import CheckeredObjective


def enumerate_log_proba(Z):
    """log p(r | x) for every residue r by summing over all c**m coin patterns."""
    n, m, c = Z.shape
    log_s = log_softmax(Z, axis=2)
    terms = [[] for _ in range(c)]
    for pattern in itertools.product(range(c), repeat=m):
        terms[sum(pattern) % c].append(log_s[:, np.arange(m), list(pattern)].sum(axis=1))
    return np.column_stack([logsumexp(np.array(t), axis=0) for t in terms])


def enumerate_marginals(Z, y):
    """Posterior P(coin k = j | y) by enumeration."""
    n, m, c = Z.shape
    log_s = log_softmax(Z, axis=2)
    joint = np.full((n, m, c), -np.inf)
    for pattern in itertools.product(range(c), repeat=m):
        keep = (sum(pattern) % c) == y
        term = np.where(keep, log_s[:, np.arange(m), list(pattern)].sum(axis=1), -np.inf)
        for k, j in enumerate(pattern):
            joint[:, k, j] = np.logaddexp(joint[:, k, j], term)
    return np.exp(joint - logsumexp(joint[:, 0, :], axis=1)[:, None, None])


def random_logits(rng, n, m, c, scale):
    return np.ascontiguousarray(rng.standard_normal((n, m, c)) * scale)


@pytest.mark.parametrize("c", [2, 3, 5])
@pytest.mark.parametrize("m", [1, 2, 3, 5])
@pytest.mark.parametrize("scale", [1.0, 50.0, 1000.0])
def test_kernel_equals_enumeration(m, c, scale):
    rng = np.random.default_rng(m * 100 + c)
    Z = random_logits(rng, 60, m, c, scale)
    y = rng.integers(0, c, size=60)
    truth = enumerate_log_proba(Z)
    tol = 1e-12 * np.maximum(1.0, np.abs(truth))
    log_p, s, q = parity_posterior(Z, y)
    assert np.all(np.abs(log_p - truth[np.arange(60), y]) <= tol[np.arange(60), y])
    assert np.all(np.abs(parity_log_proba(Z) - truth) <= tol)
    assert np.allclose(s, np.exp(log_softmax(Z, axis=2)), rtol=1e-12, atol=1e-300)
    assert np.allclose(q, enumerate_marginals(Z, y), rtol=0, atol=1e-11)


@pytest.mark.parametrize("m", [1, 2, 3, 6])
@pytest.mark.parametrize("scale", [1.0, 50.0, 1000.0])
def test_binary_kernel_equals_enumeration(m, scale):
    """The two-class kernel (coin logits (z, 0)) against enumeration."""
    rng = np.random.default_rng(m)
    z = rng.standard_normal((80, m)) * scale
    y = rng.integers(0, 2, size=80)
    Z = np.ascontiguousarray(np.stack([z, np.zeros_like(z)], axis=-1))
    truth = enumerate_log_proba(Z)
    tol = 1e-12 * np.maximum(1.0, np.abs(truth))
    log_p, s, q = binary_parity_posterior(z, y)
    assert np.all(np.abs(log_p - truth[np.arange(80), y]) <= tol[np.arange(80), y])
    assert np.all(np.abs(binary_parity_log_proba(z) - truth) <= tol)
    assert np.allclose(s, expit(z), rtol=1e-12, atol=1e-300)
    assert np.allclose(q, enumerate_marginals(Z, y)[..., 0], rtol=0, atol=1e-11)


@pytest.mark.parametrize("c", [2, 4])
def test_probabilities_sum_to_one(c):
    Z = random_logits(np.random.default_rng(1), 500, 4, c, 30.0)
    assert np.allclose(np.exp(parity_log_proba(Z)).sum(axis=1), 1.0, atol=1e-12)


def test_binary_equals_tanh_product_where_stable():
    """P(class 0) = (1 + prod tanh(z/2)) / 2 with logits (z, 0), to 1e-12."""
    rng = np.random.default_rng(2)
    z = rng.uniform(-4, 4, size=(400, 5))
    Z = np.ascontiguousarray(np.stack([z, np.zeros_like(z)], axis=-1))
    tanh_form = 0.5 * (1.0 + np.prod(np.tanh(z / 2), axis=1))
    assert np.max(np.abs(np.exp(parity_log_proba(Z)[:, 0]) - tanh_form)) < 1e-12
    assert np.max(np.abs(np.exp(binary_parity_log_proba(z)[:, 0]) - tanh_form)) < 1e-12


def test_confidently_wrong_points_keep_their_log_probability():
    """Where the tanh form cancels to 0 (log -inf), the kernel gives the true log p."""
    z = np.array([[40.0, 40.0, -40.0], [800.0, -900.0, 5.0]])
    Z = np.ascontiguousarray(np.stack([z, np.zeros_like(z)], axis=-1))
    truth = enumerate_log_proba(Z)
    for log_p in (parity_log_proba(Z), binary_parity_log_proba(z)):
        assert np.allclose(log_p, truth, rtol=1e-12)
        assert np.all(np.isfinite(log_p))
    with np.errstate(divide="ignore"):
        assert np.log(0.5 * (1.0 + np.prod(np.tanh(z[0] / 2)))) == -np.inf


def test_smooth_xor_closed_form():
    """m = 2: P(class 0) = sigma(z1) sigma(z2) / sigma(z1 + z2)."""
    z = np.random.default_rng(3).uniform(-6, 6, size=(300, 2))
    Z = np.ascontiguousarray(np.stack([z, np.zeros_like(z)], axis=-1))
    closed = expit(z[:, 0]) * expit(z[:, 1]) / expit(z.sum(axis=1))
    assert np.allclose(np.exp(parity_log_proba(Z)[:, 0]), closed, rtol=1e-12)


def test_parity_of_coins_monte_carlo():
    """Prop. 5.4: the class is the sum of independent softmax coins modulo c."""
    rng = np.random.default_rng(4)
    Z = random_logits(rng, 1, 3, 3, 1.0)
    s = np.exp(log_softmax(Z[0], axis=1))
    draws = sum(rng.choice(3, size=200_000, p=s[k]) for k in range(3)) % 3
    freq = np.bincount(draws, minlength=3) / draws.size
    prob = np.exp(parity_log_proba(Z)[0])
    assert np.all(np.abs(freq - prob) < 3 * np.sqrt(prob * (1 - prob) / draws.size) + 1e-4)


def make_objective(rng, n=40, d=3, m=3, c=2, C=0.7):
    X = rng.standard_normal((n, d))
    y = np.arange(n) % c
    weights = rng.uniform(0.5, 2.0, size=n)
    objective = CheckeredObjective(X, y.astype(np.int64), weights, m, c, C)
    theta = rng.standard_normal(objective.n_coef + m * objective.groups)
    return objective, theta


@pytest.mark.parametrize("c", [2, 3])
@pytest.mark.parametrize("m", [1, 2, 4])
def test_gradient_matches_finite_differences(m, c):
    objective, theta = make_objective(np.random.default_rng(m + 10 * c), m=m, c=c)
    value, grad = objective.value_and_grad(theta)
    assert value == pytest.approx(objective.value(theta), rel=1e-13)
    numeric = approx_fprime(theta, objective.value, 1e-7)
    assert np.max(np.abs(grad - numeric)) < 1e-6 * max(1.0, np.max(np.abs(grad)))


@pytest.mark.parametrize("c", [2, 3])
def test_cross_gradient_at_current_point_is_the_gradient(c):
    objective, theta = make_objective(np.random.default_rng(5), m=3, c=c)
    q_here = objective.posterior(theta)[2]
    assert np.allclose(objective.surrogate(theta, q_here)[1],
                       objective.value_and_grad(theta)[1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("c", [2, 3])
def test_cross_gradient_is_the_surrogate_gradient(c):
    """From a reference eta, the cross-gradient is the gradient of the majoriser G."""
    rng = np.random.default_rng(6)
    objective, theta = make_objective(rng, m=3, c=c)
    eta = theta + rng.standard_normal(theta.shape)
    q_ref = objective.posterior(eta)[2]
    numeric = approx_fprime(theta, lambda t: objective.surrogate(t, q_ref)[0], 1e-7)
    assert np.max(np.abs(objective.surrogate(theta, q_ref)[1] - numeric)) < 1e-6


def test_surrogate_majorises_and_touches():
    """G_mu(theta) - H(mu) >= F(theta) with equality at the reference point (Lemma 1).

    Without the entropy constant, G(eta) - F(eta) = sum_i w_i H_i(q) >= 0 and
    G(theta) - G(eta) >= F(theta) - F(eta) for every theta.
    """
    rng = np.random.default_rng(7)
    objective, eta = make_objective(rng, m=2, c=2, C=1e6)
    q_ref = objective.posterior(eta)[2]
    gap_at_eta = objective.surrogate(eta, q_ref)[0] - objective.value(eta)
    for _ in range(50):
        theta = eta + rng.standard_normal(eta.shape)
        gap = objective.surrogate(theta, q_ref)[0] - objective.value(theta)
        assert gap >= gap_at_eta - 1e-12


def test_zero_parameters_are_a_stationary_point():
    objective, theta = make_objective(np.random.default_rng(8), m=3, c=2)
    _, grad = objective.value_and_grad(np.zeros_like(theta))
    assert np.max(np.abs(grad)) < 1e-15


def test_every_kernel_compiles_one_signature():
    """Issue 20 (first-fit compile time): float32, Fortran-ordered, int32 inputs are
    converted once, so each of the four kernels has exactly one specialisation, and the
    wrappers still equal the enumeration on them."""
    from statlogit.checkered import _kernels

    rng = np.random.default_rng(7)
    z = np.asfortranarray(rng.standard_normal((30, 3)).astype(np.float32))
    y = rng.integers(0, 2, size=30).astype(np.int32)
    Z = np.asfortranarray(rng.standard_normal((30, 2, 3)).astype(np.float32))
    y3 = rng.integers(0, 3, size=30).astype(np.int32)
    for log_p in (binary_parity_posterior(z, y)[0], binary_parity_posterior(z[::2], y[::2])[0]):
        assert log_p.dtype == np.float64
    parity_posterior(Z, y3)
    binary_parity_log_proba(z)
    truth = enumerate_log_proba(np.asarray(Z, dtype=np.float64))
    assert np.allclose(parity_log_proba(Z), truth, rtol=1e-12)
    for kernel in (_kernels._binary_linear, _kernels._binary_forward,
                   _kernels._parity_linear, _kernels._parity_forward):
        assert len(kernel.signatures) == 1, (kernel, kernel.signatures)
