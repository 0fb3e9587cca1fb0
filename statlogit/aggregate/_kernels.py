"""numba kernels of the aggregate family: the exact bag likelihood of label proportions.

Bags are given in CSR form: ``order`` lists the instances bag by bag and bag ``a`` owns
``order[bag_ptr[a]:bag_ptr[a + 1]]``. (The GLM's loss and gradient are vectorised numpy
in :mod:`statlogit.aggregate._glm`: as fast there, and no compilation.)
"""

import math

import numpy as np

from statlogit.kernels._numba import njit

# ------------------------------------------------------- exact bag likelihood (LLP)


@njit
def _logaddexp(a, b):
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


@njit
def _count_step(prev, logp, total, tracked, implicit, n_implicit, units, preds, out):
    """Add one instance (log class probabilities ``logp``) to the count distribution.

    States are the counts of the ``tracked`` classes (mixed radix); the ``implicit``
    class count is ``total - sum(tracked counts)`` and must lie in [0, n_implicit].
    """
    for s in range(prev.shape[0]):
        u_imp = total - units[s]
        if u_imp < 0 or u_imp > n_implicit:
            out[s] = -np.inf
            continue
        value = -np.inf
        if u_imp >= 1:
            value = prev[s] + logp[implicit]
        for t in range(tracked.shape[0]):
            q = preds[s, t]
            if q >= 0:
                value = _logaddexp(value, prev[q] + logp[tracked[t]])
        out[s] = value


@njit
def _posterior(forward, backward, logp, counts_vec, tracked, implicit, digits, strides,
               n_states, out_row):
    """Posterior class probabilities of one instance given the bag's counts."""
    n_classes = logp.shape[0]
    n_tracked = tracked.shape[0]
    logq = np.full(n_classes, -np.inf)
    target = np.empty(n_tracked, dtype=np.int64)
    terms = np.empty(n_states)
    for c in range(n_classes):
        ok = True
        for t in range(n_tracked):
            target[t] = counts_vec[tracked[t]] - (1 if tracked[t] == c else 0)
            if target[t] < 0:
                ok = False
        if c == implicit and counts_vec[implicit] < 1:
            ok = False
        if not ok:
            continue
        n_terms = 0
        for s in range(n_states):
            if forward[s] == -np.inf:
                continue
            w_index = 0
            valid = True
            for t in range(n_tracked):
                diff = target[t] - digits[s, t]
                if diff < 0:
                    valid = False
                    break
                w_index += diff * strides[t]
            if valid:
                terms[n_terms] = forward[s] + backward[w_index]
                n_terms += 1
        if n_terms == 0:
            continue
        top = np.max(terms[:n_terms])
        if top == -np.inf:
            continue
        total = 0.0
        for r in range(n_terms):
            total += math.exp(terms[r] - top)
        logq[c] = logp[c] + top + math.log(total)
    top = np.max(logq)
    norm = 0.0
    for c in range(n_classes):
        norm += math.exp(logq[c] - top)
    for c in range(n_classes):
        out_row[c] = math.exp(logq[c] - top) / norm


@njit
def exact_bag_loglik(logp, order, bag_ptr, counts):
    r"""Exact log-likelihood of bag class counts and the instances' class posteriors.

    For bag :math:`a` with instance class probabilities :math:`p_{ic}` and observed
    counts :math:`N_a`, :math:`P(N_a) = \sum_{c_1..c_k:\ \mathrm{counts}=N_a}\prod_i
    p_{i c_i}` (Poisson-binomial for two classes, Poisson-multinomial beyond), by the
    recursive convolution over instances in log space. The largest class is left
    implicit, so a bag costs :math:`O(k\,S\,K)` with :math:`S = \prod_{c \ne c^*}(N_c +
    1)` states; the posteriors :math:`q_{ic} = P(c_i = c \mid N_a)` (the gradient of
    :math:`\log P(N_a)` in the logits is :math:`q_{ic} - p_{ic}`) come from a forward
    pass with :math:`\sqrt k` checkpoints and a backward pass, in :math:`O(\sqrt k\,S)`
    memory.

    Parameters
    ----------
    logp : numpy.ndarray of shape (n, K)
        Log class probabilities of every instance.
    order, bag_ptr : numpy.ndarray of int64
        Bags in CSR form (see the module docstring).
    counts : numpy.ndarray of int64, shape (m, K)
        Observed class counts per bag (each row sums to the bag size).

    Returns
    -------
    loglik : numpy.ndarray of shape (m,)
    posterior : numpy.ndarray of shape (n, K)
    """
    n, n_classes = logp.shape
    n_bags = bag_ptr.shape[0] - 1
    loglik = np.empty(n_bags)
    posterior = np.zeros((n, n_classes))
    for a in range(n_bags):
        start, stop = bag_ptr[a], bag_ptr[a + 1]
        k = stop - start
        counts_vec = counts[a]
        implicit = int(np.argmax(counts_vec))
        tracked = np.empty(n_classes - 1, dtype=np.int64)
        j = 0
        for c in range(n_classes):
            if c != implicit:
                tracked[j] = c
                j += 1
        n_tracked = n_classes - 1
        strides = np.empty(n_tracked, dtype=np.int64)
        n_states = 1
        for t in range(n_tracked):
            strides[t] = n_states
            n_states *= counts_vec[tracked[t]] + 1
        digits = np.empty((n_states, n_tracked), dtype=np.int64)
        units = np.zeros(n_states, dtype=np.int64)
        preds = np.empty((n_states, n_tracked), dtype=np.int64)
        for s in range(n_states):
            for t in range(n_tracked):
                d = (s // strides[t]) % (counts_vec[tracked[t]] + 1)
                digits[s, t] = d
                units[s] += d
                preds[s, t] = s - strides[t] if d >= 1 else -1
        n_implicit = counts_vec[implicit]
        period = max(1, int(math.sqrt(k)))
        n_ckpt = k // period + 1
        ckpt = np.full((n_ckpt, n_states), -np.inf)
        current = np.full(n_states, -np.inf)
        current[0] = 0.0
        ckpt[0] = current
        buffer = np.empty(n_states)
        for r in range(k):
            _count_step(current, logp[order[start + r]], r + 1, tracked, implicit,
                        n_implicit, units, preds, buffer)
            current, buffer = buffer, current
            if (r + 1) % period == 0:
                ckpt[(r + 1) // period] = current
        loglik[a] = current[n_states - 1]
        if loglik[a] == -np.inf:
            continue
        backward = np.full(n_states, -np.inf)
        backward[0] = 0.0
        segment = np.empty((period, n_states))
        for seg in range((k - 1) // period, -1, -1):
            first = seg * period
            last = min(first + period, k)
            segment[0] = ckpt[seg]
            for r in range(first, last - 1):
                _count_step(segment[r - first], logp[order[start + r]], r + 1, tracked,
                            implicit, n_implicit, units, preds, segment[r - first + 1])
            for r in range(last - 1, first - 1, -1):
                i = order[start + r]
                _posterior(segment[r - first], backward, logp[i], counts_vec, tracked,
                           implicit, digits, strides, n_states, posterior[i])
                _count_step(backward, logp[i], k - r, tracked, implicit, n_implicit,
                            units, preds, buffer)
                backward, buffer = buffer, backward
    return loglik, posterior
