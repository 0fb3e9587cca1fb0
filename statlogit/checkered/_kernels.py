r"""Checkered regression kernels: the parity of m softmax "coins" over :math:`\mathbb{Z}_c`.

Sample :math:`i` has an (m, c) array of logits :math:`Z_{ik\cdot}`; coin :math:`k` lands
on residue :math:`j` with probability :math:`s_{ikj} = \operatorname{softmax}(Z_{ik})_j`
and the class is the sum of the coins modulo :math:`c`. The class distribution is the
circular convolution :math:`s_{i1} \circledast \cdots \circledast s_{im}`; the binary
model is ``c = 2`` with logits ``(z, 0)``.

The forward-backward pass runs over the hyperplanes: prefix convolutions
:math:`\alpha_k`, suffix convolutions :math:`\beta_k` and the leave-one-out
:math:`\lambda_k = \alpha_k \circledast \beta_{k+1}`, which give the posterior marginal
of every coin given the label, :math:`q_{kj} = s_{kj}\,\lambda_k[y - j] / p(y)`.
It never subtracts: every quantity is a sum of products of non-negative numbers, so
``log p`` keeps full relative accuracy for confidently wrong points (the form
:math:`\tfrac12(1 - \prod_k \tanh(z_k/2))` cancels there). A sample whose probability
would leave the normal float range (below ``TINY``) is recomputed entirely in log
space (``logsumexp`` convolutions, :mod:`statlogit.checkered._logspace`, numpy), so
nothing underflows to ``-inf``.

Compilation: a first fit compiles exactly one kernel for the gradient and one for the
forward pass (``_binary_*`` for two classes, ``_parity_*`` otherwise), each for one
signature: the public wrappers below convert their inputs once to C-contiguous float64
logits and int64 codes. The rare log-space rows never reach numba.

``binary_parity_posterior`` and ``binary_parity_log_proba`` are the two-class
specialisation on the (n, m) logits ``z`` directly: two parity states, one ``exp`` per
sample and hyperplane.
"""

import math

import numpy as np

from statlogit.checkered._logspace import log_space_log_proba, log_space_posterior
from statlogit.kernels._numba import njit

TINY = 1e-280


@njit(inline="always")
def _softmax_into(Z, i, k, out):
    """``out = softmax(Z[i, k])`` by max-shifted exponentials (inlined: no own compile)."""
    c = Z.shape[2]
    top = Z[i, k, 0]
    for j in range(1, c):
        top = max(top, Z[i, k, j])
    total = 0.0
    for j in range(c):
        out[j] = math.exp(Z[i, k, j] - top)
        total += out[j]
    for j in range(c):
        out[j] /= total


@njit
def _parity_linear(Z, y):
    """Forward-backward pass of every sample in probability space.

    Returns ``log_p``, ``s`` and ``q`` as :func:`parity_posterior`, with ``log_p[i] =
    -inf`` flagging a sample whose ``p(y) < TINY`` (its ``s`` and ``q`` rows are then
    to be recomputed in log space). Written with explicit indices (no array views) to
    keep the inner loops free of reference counting.
    """
    n, m, c = Z.shape
    log_p = np.empty(n)
    s = np.empty((n, m, c))
    q = np.empty((n, m, c))
    alpha = np.empty((m + 1, c))
    beta = np.empty((m + 1, c))
    coin = np.empty(c)
    for i in range(n):
        for k in range(m):
            _softmax_into(Z, i, k, coin)
            for j in range(c):
                s[i, k, j] = coin[j]
        for r in range(c):
            alpha[0, r] = 0.0
            beta[m, r] = 0.0
        alpha[0, 0] = 1.0
        beta[m, 0] = 1.0
        for k in range(m):
            for r in range(c):
                acc = 0.0
                for j in range(c):
                    acc += s[i, k, j] * alpha[k, r - j if r >= j else r - j + c]
                alpha[k + 1, r] = acc
        p = alpha[m, y[i]]
        if p < TINY:
            log_p[i] = -np.inf
            continue
        log_p[i] = math.log(p)
        for k in range(m - 1, -1, -1):
            for r in range(c):
                acc = 0.0
                for j in range(c):
                    acc += s[i, k, j] * beta[k + 1, r - j if r >= j else r - j + c]
                beta[k, r] = acc
        inv_p = 1.0 / p
        for k in range(m):
            for j in range(c):
                target = y[i] - j if y[i] >= j else y[i] - j + c
                loo = 0.0
                for a in range(c):
                    loo += alpha[k, a] * beta[k + 1, target - a if target >= a
                                              else target - a + c]
                q[i, k, j] = s[i, k, j] * loo * inv_p
    return log_p, s, q


@njit
def _parity_forward(Z):
    """Class log-probabilities (n, c) by the forward pass; a row with a probability
    below ``TINY`` is flagged with ``-inf`` (to be recomputed in log space)."""
    n, m, c = Z.shape
    out = np.empty((n, c))
    coin = np.empty(c)
    alpha = np.empty((m + 1, c))
    for i in range(n):
        for r in range(c):
            alpha[0, r] = 0.0
        alpha[0, 0] = 1.0
        for k in range(m):
            _softmax_into(Z, i, k, coin)
            for r in range(c):
                acc = 0.0
                for j in range(c):
                    acc += coin[j] * alpha[k, r - j if r >= j else r - j + c]
                alpha[k + 1, r] = acc
        smallest = alpha[m, 0]
        for r in range(1, c):
            smallest = min(smallest, alpha[m, r])
        for r in range(c):
            out[i, r] = math.log(alpha[m, r]) if smallest >= TINY else -np.inf
    return out


@njit
def _binary_linear(z, y):
    """Two-class :func:`_parity_linear` on the coin logits ``z`` (n, m): two parity
    states, one ``exp`` per sample and hyperplane; ``log_p[i] = -inf`` flags a row."""
    n, m = z.shape
    log_p = np.empty(n)
    s = np.empty((n, m))
    q = np.empty((n, m))
    even = np.empty(m + 1)
    odd = np.empty(m + 1)
    back_even = np.empty(m + 1)
    back_odd = np.empty(m + 1)
    flip = np.empty(m)
    for i in range(n):
        even[0], odd[0] = 1.0, 0.0
        for k in range(m):
            e = math.exp(-abs(z[i, k]))
            big = 1.0 / (1.0 + e)
            p0 = big if z[i, k] >= 0 else e * big
            p1 = e * big if z[i, k] >= 0 else big
            s[i, k] = p0
            flip[k] = p1
            even[k + 1] = even[k] * p0 + odd[k] * p1
            odd[k + 1] = even[k] * p1 + odd[k] * p0
        p = even[m] if y[i] == 0 else odd[m]
        if p < TINY:
            log_p[i] = -np.inf
            continue
        log_p[i] = math.log(p)
        back_even[m], back_odd[m] = 1.0, 0.0
        for k in range(m - 1, -1, -1):
            p0, p1 = s[i, k], flip[k]
            back_even[k] = back_even[k + 1] * p0 + back_odd[k + 1] * p1
            back_odd[k] = back_even[k + 1] * p1 + back_odd[k + 1] * p0
        inv_p = 1.0 / p
        for k in range(m):
            loo_even = even[k] * back_even[k + 1] + odd[k] * back_odd[k + 1]
            loo_odd = even[k] * back_odd[k + 1] + odd[k] * back_even[k + 1]
            q[i, k] = s[i, k] * (loo_even if y[i] == 0 else loo_odd) * inv_p
    return log_p, s, q


@njit
def _binary_forward(z):
    """Two-class :func:`_parity_forward` on the coin logits ``z`` (n, m)."""
    n, m = z.shape
    out = np.empty((n, 2))
    for i in range(n):
        even, odd = 1.0, 0.0
        for k in range(m):
            e = math.exp(-abs(z[i, k]))
            big = 1.0 / (1.0 + e)
            p0 = big if z[i, k] >= 0 else e * big
            p1 = e * big if z[i, k] >= 0 else big
            even, odd = even * p0 + odd * p1, even * p1 + odd * p0
        if min(even, odd) >= TINY:
            out[i, 0], out[i, 1] = math.log(even), math.log(odd)
        else:
            out[i, 0], out[i, 1] = -np.inf, -np.inf
    return out


def _as_logits(Z):
    return np.ascontiguousarray(Z, dtype=np.float64)


def _as_codes(y):
    return np.ascontiguousarray(y, dtype=np.int64)


def _binary_stack(z):
    """Coin logits ``(z, 0)`` of the two-class model, shape (n, m, 2)."""
    return np.stack([z, np.zeros_like(z)], axis=-1)


def parity_posterior(Z, y):
    """Log-likelihood, coin probabilities and coin posteriors of every sample.

    Parameters
    ----------
    Z : ndarray of shape (n, m, c)
        Logits.
    y : ndarray of int, shape (n,)
        Class codes in ``0..c-1``.

    Returns
    -------
    log_p : ndarray of shape (n,)
        :math:`\\log p(y_i \\mid x_i)`.
    s : ndarray of shape (n, m, c)
        Coin probabilities :math:`\\operatorname{softmax}(Z_{ik})`.
    q : ndarray of shape (n, m, c)
        Posterior marginals :math:`P(\\text{coin}_k = j \\mid y_i, x_i)`; the gradient
        of :math:`-\\log p(y_i \\mid x_i)` with respect to :math:`Z_{ik}` is
        :math:`s_{ik} - q_{ik}`.
    """
    Z, y = _as_logits(Z), _as_codes(y)
    log_p, s, q = _parity_linear(Z, y)
    flagged = np.flatnonzero(log_p == -np.inf)
    if flagged.size:
        log_p[flagged], s[flagged], q[flagged] = log_space_posterior(Z[flagged], y[flagged])
    return log_p, s, q


def parity_log_proba(Z):
    """Log-probabilities of every class, shape (n, c), by the forward pass alone.

    Rows with a class probability below ``TINY`` are recomputed in log space.
    """
    Z = _as_logits(Z)
    out = _parity_forward(Z)
    flagged = np.flatnonzero(out[:, 0] == -np.inf)
    if flagged.size:
        out[flagged] = log_space_log_proba(Z[flagged])
    return out


def binary_parity_posterior(z, y):
    """Two-class :func:`parity_posterior` from the coin logits ``z`` (n, m).

    Coin :math:`k` lands on 0 with probability :math:`\\sigma(z_k)`. Returns
    ``log_p`` (n,), ``s`` (n, m) with :math:`s_{ik} = \\sigma(z_{ik})` and ``q`` (n, m)
    with :math:`q_{ik} = P(\\text{coin}_k = 0 \\mid y_i)`; the gradient of
    :math:`-\\log p(y_i)` with respect to :math:`z_{ik}` is :math:`s_{ik} - q_{ik}`.
    """
    z, y = _as_logits(z), _as_codes(y)
    log_p, s, q = _binary_linear(z, y)
    flagged = np.flatnonzero(log_p == -np.inf)
    if flagged.size:
        log_p[flagged], s_f, q_f = log_space_posterior(_binary_stack(z[flagged]),
                                                       y[flagged])
        s[flagged], q[flagged] = s_f[..., 0], q_f[..., 0]
    return log_p, s, q


def binary_parity_log_proba(z):
    """Two-class :func:`parity_log_proba` from the coin logits ``z`` (n, m)."""
    z = _as_logits(z)
    out = _binary_forward(z)
    flagged = np.flatnonzero(out[:, 0] == -np.inf)
    if flagged.size:
        out[flagged] = log_space_log_proba(_binary_stack(z[flagged]))
    return out
