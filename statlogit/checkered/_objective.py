r"""The checkered-regression objective, its gradient and its cross-gradient.

Parameters are flattened as ``theta = concat(W.ravel(), b.ravel())`` with ``W`` of shape
(m, g, d) and ``b`` of shape (m, g): ``g = 1`` logit per hyperplane for two classes
(the coin logits are ``(z, 0)``), ``g = c`` for ``c >= 3`` classes. The optimised
function is the scikit-learn ``LogisticRegression`` objective divided by
:math:`C \sum_i w_i`:

.. math::

    f(\theta) = -\frac{1}{S} \sum_i w_i \log p_\theta(y_i \mid x_i)
                + \frac{\lVert W \rVert^2}{2 C S}, \qquad S = \sum_i w_i.
"""

import numpy as np
from scipy.special import log_expit, log_softmax

from statlogit.checkered._kernels import (
    binary_parity_log_proba,
    binary_parity_posterior,
    parity_log_proba,
    parity_posterior,
)


def coin_logits(X, coef, intercept):
    """Coin logits from ``coef`` (m, g, d) and ``intercept`` (m, g).

    Two classes (``g = 1``): shape (n, m), the logit of residue 0 of every coin (the
    other logit is 0). More classes: shape (n, m, c).
    """
    m, g, d = coef.shape
    raw = X @ coef.reshape(m * g, d).T + intercept.ravel()
    if g == 1:
        return np.ascontiguousarray(raw)
    return np.ascontiguousarray(raw.reshape(X.shape[0], m, g))


def log_proba(X, coef, intercept):
    """Class log-probabilities, shape (n, c)."""
    logits = coin_logits(X, coef, intercept)
    return binary_parity_log_proba(logits) if logits.ndim == 2 else parity_log_proba(
        logits)


def coin_log_probs(logits):
    """Log-probabilities of every coin's residues, shape (n, m, c)."""
    if logits.ndim == 2:
        return np.stack([log_expit(logits), log_expit(-logits)], axis=-1)
    return log_softmax(logits, axis=-1)


class CheckeredObjective:
    """The penalised negative log-likelihood on one data set.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    codes : ndarray of int64, shape (n,)
        Class codes ``0..c-1``.
    sample_weight : ndarray of shape (n,)
    n_hyperplanes : int
    n_classes : int
    C : float
        Inverse penalty strength, as in scikit-learn.
    """

    def __init__(self, X, codes, sample_weight, n_hyperplanes, n_classes, C):
        self.X, self.codes = X, codes
        self.total_weight = float(sample_weight.sum())
        self.weights = sample_weight / self.total_weight
        self.groups = 1 if n_classes == 2 else n_classes
        self.shape = (n_hyperplanes, self.groups, X.shape[1])
        self.n_coef = int(np.prod(self.shape))
        self.ridge = 1.0 / (C * self.total_weight)

    def unpack(self, theta):
        """Split ``theta`` into ``coef`` (m, g, d) and ``intercept`` (m, g)."""
        coef = theta[: self.n_coef].reshape(self.shape)
        return coef, theta[self.n_coef:].reshape(self.shape[:2])

    def logits(self, theta):
        """Coin logits (n, m, c) at ``theta``."""
        return coin_logits(self.X, *self.unpack(theta))

    def posterior(self, theta):
        """Log-likelihoods (n,), coin probabilities and coin posteriors.

        The last two have shape (n, m) for two classes (residue 0 only) and
        (n, m, c) otherwise.
        """
        logits = self.logits(theta)
        if self.groups == 1:
            return binary_parity_posterior(logits, self.codes)
        return parity_posterior(logits, self.codes)

    def _penalty(self, theta):
        coef = theta[: self.n_coef]
        return 0.5 * self.ridge * float(coef @ coef)

    def _gradient(self, theta, dlogits):
        """Chain rule from the per-sample gradients of the coin logits to ``theta``."""
        weighted = dlogits.reshape(dlogits.shape[0], -1) * self.weights[:, None]
        grad_coef = weighted.T @ self.X + self.ridge * theta[: self.n_coef].reshape(
            -1, self.X.shape[1])
        return np.concatenate([grad_coef.ravel(), weighted.sum(axis=0)])

    def value_and_grad(self, theta):
        """:math:`f(\\theta)` and its gradient (the exact one: s - q at theta)."""
        log_p, s, q = self.posterior(theta)
        value = -float(self.weights @ log_p) + self._penalty(theta)
        return value, self._gradient(theta, s - q)

    def value(self, theta):
        """:math:`f(\\theta)` by the forward pass alone."""
        log_p = log_proba(self.X, *self.unpack(theta))
        return -float(self.weights @ log_p[np.arange(len(self.codes)), self.codes]) + (
            self._penalty(theta))

    def surrogate(self, theta, q_ref):
        r"""Convex majoriser :math:`G_\mu` and its gradient, the cross-gradient.

        ``q_ref`` are the coin posteriors (as returned by :meth:`posterior`) at the
        reference point that fixes :math:`\mu`: :math:`G(\theta) =
        -\frac1S\sum_i w_i \sum_{k,j} \bar q_{ikj} \log s_{ikj}(\theta)` plus the
        penalty, with gradient :math:`s(\theta) - \bar q` in the coin logits.
        """
        log_s = coin_log_probs(self.logits(theta))
        q_full = np.stack([q_ref, 1.0 - q_ref], axis=-1) if self.groups == 1 else q_ref
        value = -float(self.weights @ np.einsum("nkc,nkc->n", q_full, log_s))
        dlogits = np.exp(log_s[..., 0] if self.groups == 1 else log_s) - q_ref
        return value + self._penalty(theta), self._gradient(theta, dlogits)

    def loss(self, theta):
        """The objective in the issue's scale, :math:`C\\sum_i w_i CE_i + \\|W\\|^2/2`."""
        return self.value(theta) / self.ridge

    def lipschitz(self, X=None):
        r"""A Lipschitz constant :math:`B` of every per-pattern loss :math:`-\log p_s`.

        Each coin's logit gradient has norm at most :math:`\sqrt2`, so
        :math:`B = \sqrt{2m}\,\max_i \lVert (x_i, 1) \rVert` (the ridge term is left out).
        ``X`` (default: the data) gives the constant in other coordinates of the rows,
        e.g. standardised ones.
        """
        X = self.X if X is None else X
        row_norm = np.sqrt(np.max(np.einsum("nd,nd->n", X, X)) + 1.0)
        return float(np.sqrt(2.0 * self.shape[0]) * row_norm)
