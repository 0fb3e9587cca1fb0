"""numba kernels of the aggregate-learning GLM (bag aggregate = mean of instance means).

Bags are given in CSR form: ``order`` lists the instances bag by bag and bag ``a`` owns
``order[bag_ptr[a]:bag_ptr[a + 1]]``. Family codes: ``BINOMIAL = 0`` (logistic link,
bag responses are proportions in [0, 1]), ``POISSON = 1`` (log link, bag responses are
mean counts).
"""

import math

import numpy as np

from statlogit.kernels._numba import njit
from statlogit.kernels.common import log1pexp

BINOMIAL = 0
POISSON = 1


@njit
def _log_mean_exp(values, order, start, stop, weights, total_weight):
    """``log(sum(w * exp(values)) / W)`` over ``order[start:stop]``, shifted by the max."""
    top = -np.inf
    for j in range(start, stop):
        if weights[order[j]] > 0 and values[order[j]] > top:
            top = values[order[j]]
    if top == -np.inf:
        return -np.inf
    total = 0.0
    for j in range(start, stop):
        total += weights[order[j]] * math.exp(values[order[j]] - top)
    return top + math.log(total / total_weight)


@njit
def _xlogy_ratio(y, log_mu):
    """``y * (log(y) - log_mu)`` with ``0 * log 0 = 0``."""
    if y == 0.0:
        return 0.0
    return y * (math.log(y) - log_mu)


@njit
def bag_glm_loss_grad(eta, order, bag_ptr, ybar, family, rho):
    """Unweighted :func:`weighted_bag_glm_loss_grad` (every instance weight one)."""
    return weighted_bag_glm_loss_grad(eta, order, bag_ptr, ybar, family, rho,
                                      np.ones(eta.shape[0]))


@njit
def weighted_bag_glm_loss_grad(eta, order, bag_ptr, ybar, family, rho, weights):
    r"""Loss and its gradient in the linear predictor ``eta``, with instance weights.

    The loss is :math:`\sum_a K_a\, d(\bar y_a, \bar\mu_a) + \rho \sum_a \sum_{i\in
    B_a} w_i(\mu_i - \bar\mu_a)^2` with :math:`\mu_i = g^{-1}(\eta_i)`, :math:`K_a =
    \sum_{i\in B_a} w_i`, :math:`\bar\mu_a` the weighted bag mean of the :math:`\mu_i`
    and :math:`d` the unit deviance divided by two (binomial: Kullback-Leibler
    divergence of Bernoulli means; Poisson: :math:`\bar\mu - \bar y - \bar
    y\log(\bar\mu/\bar y)`). Log-means are computed by log-sum-exp, so extreme
    ``eta`` does not produce ``log(0)``. Integer weights equal repeated rows.

    Returns
    -------
    loss : float
    grad : numpy.ndarray of shape (n,)
        :math:`\partial\,\mathrm{loss}/\partial\eta_i` (per instance; their bag sums
        are the bags' score contributions).
    """
    n = eta.shape[0]
    grad = np.zeros(n)
    log_mu = np.empty(n)
    log_one_minus = np.empty(n)
    for i in range(n):
        if family == BINOMIAL:
            log_mu[i] = -log1pexp(-eta[i])
            log_one_minus[i] = -log1pexp(eta[i])
        else:
            log_mu[i] = eta[i]
            log_one_minus[i] = 0.0
    loss = 0.0
    for a in range(bag_ptr.shape[0] - 1):
        start, stop = bag_ptr[a], bag_ptr[a + 1]
        size = 0.0
        for j in range(start, stop):
            size += weights[order[j]]
        if size <= 0.0:
            continue
        y = ybar[a]
        log_mean = _log_mean_exp(log_mu, order, start, stop, weights, size)
        mean = math.exp(log_mean)
        if family == BINOMIAL:
            log_mean_c = _log_mean_exp(log_one_minus, order, start, stop, weights, size)
            loss += size * (_xlogy_ratio(y, log_mean) + _xlogy_ratio(1.0 - y, log_mean_c))
        else:
            loss += size * (mean - y + _xlogy_ratio(y, log_mean))
        for j in range(start, stop):
            i = order[j]
            w = weights[i]
            if w == 0.0:
                continue
            mu = math.exp(log_mu[i])
            loss += rho * w * (mu - mean) ** 2
            if family == BINOMIAL:
                log_slope = log_mu[i] + log_one_minus[i]
                slope = math.exp(log_slope)
                data = (-y * math.exp(log_slope - log_mean)
                        + (1.0 - y) * math.exp(log_slope - log_mean_c))
            else:
                slope = mu
                data = mu - y * math.exp(log_mu[i] - log_mean)
            grad[i] = w * (data + 2.0 * rho * (mu - mean) * slope)
    return loss, grad
