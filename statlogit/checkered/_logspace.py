r"""The log-space forward-backward pass of checkered regression, in numpy.

The numba kernels (:mod:`statlogit.checkered._kernels`) work in probability space and
flag a sample whose probability would leave the normal float range (below
``TINY``); those rare rows are recomputed here, vectorised over the flagged rows, with
circular convolutions in log space,

.. math::

    (a \circledast b)[r] = \operatorname{logsumexp}_j \bigl(a[j] + b[(r - j) \bmod c]\bigr),

so nothing underflows to ``-inf``. Keeping this path out of numba compiles it never:
it is numpy's own code, and the kernels stay small.
"""

import numpy as np
from scipy.special import log_softmax, logsumexp


def _log_conv(a, b):
    """Row-wise circular convolution in log space of two (n, c) arrays."""
    c = a.shape[1]
    shift = (np.arange(c)[:, None] - np.arange(c)[None, :]) % c
    with np.errstate(divide="ignore", invalid="ignore"):
        return logsumexp(a[:, None, :] + b[:, shift], axis=2)


def _log_unit(n, c):
    """Log of the distribution of an empty sum (all mass on residue 0), (n, c)."""
    unit = np.full((n, c), -np.inf)
    unit[:, 0] = 0.0
    return unit


def _log_prefixes(log_s):
    """Prefix convolutions ``alpha[k]`` (k = 0..m) of the coins' log-probabilities."""
    n, m, c = log_s.shape
    alpha = [_log_unit(n, c)]
    for k in range(m):
        alpha.append(_log_conv(alpha[k], log_s[:, k]))
    return alpha


def log_space_log_proba(Z):
    """Class log-probabilities (n, c) from logits ``Z`` (n, m, c), in log space."""
    return _log_prefixes(log_softmax(Z, axis=2))[-1]


def log_space_posterior(Z, y):
    """``log p(y)``, coin probabilities and coin posteriors from ``Z`` (n, m, c).

    The same quantities as :func:`statlogit.checkered._kernels.parity_posterior`:
    :math:`q_{kj} = s_{kj} \\exp(\\lambda_k[y - j] - \\log p(y))` with the
    leave-one-out :math:`\\lambda_k = \\alpha_k \\circledast \\beta_{k+1}`.
    """
    n, m, c = Z.shape
    rows = np.arange(n)
    log_s = log_softmax(Z, axis=2)
    alpha = _log_prefixes(log_s)
    log_p = alpha[m][rows, y]
    beta = [None] * m + [_log_unit(n, c)]
    for k in range(m - 1, -1, -1):
        beta[k] = _log_conv(log_s[:, k], beta[k + 1])
    q = np.empty((n, m, c))
    target = (y[:, None] - np.arange(c)[None, :]) % c
    for k in range(m):
        loo = _log_conv(alpha[k], beta[k + 1])
        q[:, k] = np.exp(log_s[:, k] + loo[rows[:, None], target] - log_p[:, None])
    return log_p, np.exp(log_s), q
