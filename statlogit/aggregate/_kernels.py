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
def _log_mean_exp(values, order, start, stop):
    """``log(mean(exp(values[order[start:stop]])))``, shifted by the maximum."""
    top = -np.inf
    for j in range(start, stop):
        if values[order[j]] > top:
            top = values[order[j]]
    if top == -np.inf:
        return -np.inf
    total = 0.0
    for j in range(start, stop):
        total += math.exp(values[order[j]] - top)
    return top + math.log(total / (stop - start))


@njit
def _xlogy_ratio(y, log_mu):
    """``y * (log(y) - log_mu)`` with ``0 * log 0 = 0``."""
    if y == 0.0:
        return 0.0
    return y * (math.log(y) - log_mu)


@njit
def bag_glm_loss_grad(eta, order, bag_ptr, ybar, family, rho):
    r"""Loss and its gradient in the linear predictor ``eta``.

    The loss is :math:`\sum_a k_a\, d(\bar y_a, \bar\mu_a) + \rho \sum_a \sum_{i\in B_a}
    (\mu_i - \bar\mu_a)^2` with :math:`\mu_i = g^{-1}(\eta_i)`, :math:`\bar\mu_a` the
    bag mean of the :math:`\mu_i` and :math:`d` the unit deviance divided by two
    (binomial: Kullback-Leibler divergence of Bernoulli means; Poisson:
    :math:`\bar\mu - \bar y - \bar y\log(\bar\mu/\bar y)`). Log-means are computed by
    log-sum-exp, so extreme ``eta`` does not produce ``log(0)``.

    Returns
    -------
    loss : float
    grad : numpy.ndarray of shape (n,)
        :math:`\partial\,\mathrm{loss}/\partial\eta_i`.
    """
    n = eta.shape[0]
    grad = np.empty(n)
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
        size = stop - start
        y = ybar[a]
        log_mean = _log_mean_exp(log_mu, order, start, stop)
        mean = math.exp(log_mean)
        if family == BINOMIAL:
            log_mean_c = _log_mean_exp(log_one_minus, order, start, stop)
            loss += size * (_xlogy_ratio(y, log_mean) + _xlogy_ratio(1.0 - y, log_mean_c))
        else:
            loss += size * (mean - y + _xlogy_ratio(y, log_mean))
        for j in range(start, stop):
            i = order[j]
            mu = math.exp(log_mu[i])
            loss += rho * (mu - mean) ** 2
            if family == BINOMIAL:
                log_slope = log_mu[i] + log_one_minus[i]
                slope = math.exp(log_slope)
                data = (-y * math.exp(log_slope - log_mean)
                        + (1.0 - y) * math.exp(log_slope - log_mean_c))
            else:
                slope = mu
                data = mu - y * math.exp(log_mu[i] - log_mean)
            grad[i] = data + 2.0 * rho * (mu - mean) * slope
    return loss, grad
