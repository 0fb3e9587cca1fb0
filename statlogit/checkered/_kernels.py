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
space (``logsumexp`` convolutions), so nothing underflows to ``-inf``.

``binary_parity_posterior`` and ``binary_parity_log_proba`` are the two-class
specialisation on the (n, m) logits ``z`` directly: two parity states, one ``exp`` per
sample and hyperplane.
"""

import math

import numpy as np

from statlogit.kernels._numba import njit

TINY = 1e-280


@njit
def _log_softmax(z, out):
    """``out = log softmax(z)`` for a 1-D array of logits."""
    top = z.max()
    total = 0.0
    for j in range(z.shape[0]):
        total += math.exp(z[j] - top)
    shift = top + math.log(total)
    for j in range(z.shape[0]):
        out[j] = z[j] - shift


@njit
def _log_conv(a, b, out):
    """Circular convolution in log space, ``out[r] = logsumexp_j a[j] + b[r - j]``."""
    c = a.shape[0]
    for r in range(c):
        top = -np.inf
        for j in range(c):
            top = max(top, a[j] + b[r - j])
        if top == -np.inf:
            out[r] = -np.inf
            continue
        acc = 0.0
        for j in range(c):
            acc += math.exp(a[j] + b[r - j] - top)
        out[r] = top + math.log(acc)


@njit
def _set_unit(out, log_space):
    """Write the distribution of an empty sum (all mass on residue 0) into ``out``."""
    out[:] = -np.inf if log_space else 0.0
    out[0] = 0.0 if log_space else 1.0


@njit
def _sample_linear(Z, i, y, s, q, alpha, beta):
    """Forward-backward pass for sample ``i`` in probability space.

    Fills ``s[i]`` (coin probabilities) and ``q[i]`` (posterior marginals) and returns
    ``log p(y)``, or ``-inf`` when ``p(y) < TINY`` (the caller then uses log space).
    ``alpha`` and ``beta`` (m + 1, c) are workspaces. Written with explicit indices
    (no array views) to keep the inner loops free of reference counting.
    """
    m, c = Z.shape[1], Z.shape[2]
    for k in range(m):
        top = Z[i, k, 0]
        for j in range(1, c):
            top = max(top, Z[i, k, j])
        total = 0.0
        for j in range(c):
            s[i, k, j] = math.exp(Z[i, k, j] - top)
            total += s[i, k, j]
        for j in range(c):
            s[i, k, j] /= total
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
    p = alpha[m, y]
    if p < TINY:
        return -np.inf
    for k in range(m - 1, -1, -1):
        for r in range(c):
            acc = 0.0
            for j in range(c):
                acc += s[i, k, j] * beta[k + 1, r - j if r >= j else r - j + c]
            beta[k, r] = acc
    inv_p = 1.0 / p
    for k in range(m):
        for j in range(c):
            target = y - j if y >= j else y - j + c
            loo = 0.0
            for a in range(c):
                loo += alpha[k, a] * beta[k + 1, target - a if target >= a
                                          else target - a + c]
            q[i, k, j] = s[i, k, j] * loo * inv_p
    return math.log(p)


@njit
def _sample_log(Zi, y, s, q, alpha, beta, loo):
    """The same pass as :func:`_sample_linear`, entirely in log space."""
    m, c = Zi.shape
    log_s = np.empty((m, c))
    _set_unit(alpha[0], True)
    for k in range(m):
        _log_softmax(Zi[k], log_s[k])
        _log_conv(alpha[k], log_s[k], alpha[k + 1])
    log_p = alpha[m, y]
    _set_unit(beta[m], True)
    for k in range(m - 1, -1, -1):
        _log_conv(log_s[k], beta[k + 1], beta[k])
    for k in range(m):
        _log_conv(alpha[k], beta[k + 1], loo)
        for j in range(c):
            s[k, j] = math.exp(log_s[k, j])
            q[k, j] = math.exp(log_s[k, j] + loo[y - j] - log_p)
    return log_p


@njit
def parity_posterior(Z, y):
    """Log-likelihood, coin probabilities and coin posteriors of every sample.

    Parameters
    ----------
    Z : ndarray of shape (n, m, c)
        Logits, C-contiguous float64.
    y : ndarray of int64, shape (n,)
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
    n, m, c = Z.shape
    log_p = np.empty(n)
    s = np.empty((n, m, c))
    q = np.empty((n, m, c))
    alpha = np.empty((m + 1, c))
    beta = np.empty((m + 1, c))
    loo = np.empty(c)
    for i in range(n):
        log_p[i] = _sample_linear(Z, i, y[i], s, q, alpha, beta)
        if log_p[i] == -np.inf:
            log_p[i] = _sample_log(Z[i], y[i], s[i], q[i], alpha, beta, loo)
    return log_p, s, q


@njit
def parity_log_proba(Z):
    """Log-probabilities of every class, shape (n, c), by the forward pass alone.

    Rows with a class probability below ``TINY`` are recomputed in log space.
    """
    n, m, c = Z.shape
    out = np.empty((n, c))
    coin = np.empty(c)
    alpha = np.empty((m + 1, c))
    for i in range(n):
        for r in range(c):
            alpha[0, r] = 0.0
        alpha[0, 0] = 1.0
        for k in range(m):
            top = Z[i, k, 0]
            for j in range(1, c):
                top = max(top, Z[i, k, j])
            total = 0.0
            for j in range(c):
                coin[j] = math.exp(Z[i, k, j] - top)
                total += coin[j]
            for r in range(c):
                acc = 0.0
                for j in range(c):
                    acc += coin[j] * alpha[k, r - j if r >= j else r - j + c]
                alpha[k + 1, r] = acc / total
        smallest = alpha[m, 0]
        for r in range(1, c):
            smallest = min(smallest, alpha[m, r])
        if smallest >= TINY:
            for r in range(c):
                out[i, r] = math.log(alpha[m, r])
            continue
        out[i] = _log_forward(Z[i])
    return out


@njit
def _log_forward(Zi):
    """Class log-probabilities of one sample by the log-space forward pass."""
    m, c = Zi.shape
    log_s = np.empty(c)
    alpha = np.empty((m + 1, c))
    _set_unit(alpha[0], True)
    for k in range(m):
        _log_softmax(Zi[k], log_s)
        _log_conv(alpha[k], log_s, alpha[k + 1])
    return alpha[m]


@njit
def _binary_log_fallback(z, i, y, s, q):
    """Log-space pass for sample ``i`` of the two-class kernel (coin logits (z, 0))."""
    m = z.shape[1]
    Zi = np.zeros((m, 2))
    Zi[:, 0] = z[i]
    s_i, q_i = np.empty((m, 2)), np.empty((m, 2))
    log_p = _sample_log(Zi, y, s_i, q_i, np.empty((m + 1, 2)), np.empty((m + 1, 2)),
                        np.empty(2))
    s[i] = s_i[:, 0]
    q[i] = q_i[:, 0]
    return log_p


@njit
def binary_parity_posterior(z, y):
    """Two-class :func:`parity_posterior` from the coin logits ``z`` (n, m).

    Coin :math:`k` lands on 0 with probability :math:`\\sigma(z_k)`. Returns
    ``log_p`` (n,), ``s`` (n, m) with :math:`s_{ik} = \\sigma(z_{ik})` and ``q`` (n, m)
    with :math:`q_{ik} = P(\\text{coin}_k = 0 \\mid y_i)`; the gradient of
    :math:`-\\log p(y_i)` with respect to :math:`z_{ik}` is :math:`s_{ik} - q_{ik}`.
    """
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
            log_p[i] = _binary_log_fallback(z, i, y[i], s, q)
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
def binary_parity_log_proba(z):
    """Two-class :func:`parity_log_proba` from the coin logits ``z`` (n, m)."""
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
            continue
        Zi = np.zeros((m, 2))
        Zi[:, 0] = z[i]
        out[i] = _log_forward(Zi)
    return out
