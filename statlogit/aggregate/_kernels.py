"""numba kernels of the aggregate family: the exact bag likelihood of label proportions.

Bags are given in CSR form: ``order`` lists the instances bag by bag and bag ``a`` owns
``order[bag_ptr[a]:bag_ptr[a + 1]]``. (The GLM's loss and gradient are vectorised numpy
in :mod:`statlogit.aggregate._glm`: as fast there, and no compilation.)

Compilation is the cost a new process pays on its first exact fit (no numba cache yet),
so the kernels are written to compile once and quickly: the public
:func:`exact_bag_loglik` converts its inputs to C-contiguous float64/int64 and allocates
the outputs in numpy, so the numba kernel has exactly one specialisation whatever the
caller passes (binary and multiclass share it); the kernel allocates only two kinds of
1-d work arrays (float64 and int64) and no 2-d ones; the helpers take no argument that
numba could first type as a literal (which compiled them twice); and the log-sum-exp
update is written inline instead of as a tiny separate function.
"""

import math

import numpy as np

from statlogit.kernels._numba import njit

__all__ = ["exact_bag_loglik"]

# ------------------------------------------------------- exact bag likelihood (LLP)


@njit
def _count_step(prev, logp, total, tracked, implicit, n_implicit, units, preds, out):
    """Add one instance (log class probabilities ``logp``) to the count distribution.

    States are the counts of the ``tracked`` classes (mixed radix); the ``implicit``
    class count is ``total - sum(tracked counts)`` and must lie in [0, n_implicit].
    ``preds[s * n_tracked + t]`` is the state one count of tracked class ``t`` below
    ``s`` (-1 if none).
    """
    n_tracked = tracked.shape[0]
    for s in range(prev.shape[0]):
        u_imp = total - units[s]
        value = -np.inf
        if 0 <= u_imp <= n_implicit:
            if u_imp >= 1:
                value = prev[s] + logp[implicit]
            for t in range(n_tracked):
                q = preds[s * n_tracked + t]
                if q >= 0:
                    # value = logaddexp(value, other)
                    other = prev[q] + logp[tracked[t]]
                    if value < other:
                        value, other = other, value
                    if other != -np.inf:
                        value += math.log1p(math.exp(other - value))
        out[s] = value


@njit
def _posterior(forward, backward, logp, counts_vec, tracked, implicit, digits, strides,
               logq, target, terms, out_row):
    """Posterior class probabilities of one instance given the bag's counts.

    ``forward``/``backward`` are the count distributions of the instances before/after
    it; ``digits[s * n_tracked + t]`` is the count of tracked class ``t`` in state ``s``;
    ``logq``, ``target`` and ``terms`` are work arrays.
    """
    n_classes = logp.shape[0]
    n_tracked = tracked.shape[0]
    n_states = forward.shape[0]
    top_all = -np.inf
    for c in range(n_classes):
        logq[c] = -np.inf
        ok = c != implicit or counts_vec[implicit] >= 1
        for t in range(n_tracked):
            target[t] = counts_vec[tracked[t]] - (1 if tracked[t] == c else 0)
            if target[t] < 0:
                ok = False
        if not ok:
            continue
        n_terms = 0
        top = -np.inf
        for s in range(n_states):
            if forward[s] == -np.inf:
                continue
            w_index = 0
            for t in range(n_tracked):
                diff = target[t] - digits[s * n_tracked + t]
                if diff < 0:
                    w_index = -1
                    break
                w_index += diff * strides[t]
            if w_index >= 0:
                term = forward[s] + backward[w_index]
                terms[n_terms] = term
                n_terms += 1
                if term > top:
                    top = term
        if top == -np.inf:
            continue
        total = 0.0
        for r in range(n_terms):
            total += math.exp(terms[r] - top)
        logq[c] = logp[c] + top + math.log(total)
        if logq[c] > top_all:
            top_all = logq[c]
    norm = 0.0
    for c in range(n_classes):
        norm += math.exp(logq[c] - top_all)
    for c in range(n_classes):
        out_row[c] = math.exp(logq[c] - top_all) / norm


@njit
def _exact_bag_kernel(logp, order, bag_ptr, counts, loglik, posterior):
    """Fill ``loglik`` (m,) and ``posterior`` (n, K, zeros) in place; see
    :func:`exact_bag_loglik`. Inputs are C-contiguous float64 / int64."""
    n_classes = logp.shape[1]
    n_tracked = n_classes - 1
    small = np.empty(3 * n_tracked, dtype=np.int64)
    tracked = small[:n_tracked]
    strides = small[n_tracked:2 * n_tracked]
    target = small[2 * n_tracked:]
    logq = np.empty(n_classes)
    for a in range(bag_ptr.shape[0] - 1):
        start = bag_ptr[a]
        k = bag_ptr[a + 1] - start
        counts_vec = counts[a]
        implicit = np.int64(0)  # the largest class (first on ties); int64, not a literal
        for c in range(n_classes):
            if counts_vec[c] > counts_vec[implicit]:
                implicit = c
        n_states = 1
        j = 0
        for c in range(n_classes):
            if c != implicit:
                tracked[j] = c
                strides[j] = n_states
                n_states *= counts_vec[c] + 1
                j += 1
        # per state: the sum of its digits, its predecessors, its digits (flat, row-major)
        ints = np.empty(n_states * (2 * n_tracked + 1), dtype=np.int64)
        units = ints[:n_states]
        preds = ints[n_states:n_states * (n_tracked + 1)]
        digits = ints[n_states * (n_tracked + 1):]
        for s in range(n_states):
            units[s] = 0
            for t in range(n_tracked):
                d = (s // strides[t]) % (counts_vec[tracked[t]] + 1)
                digits[s * n_tracked + t] = d
                units[s] += d
                preds[s * n_tracked + t] = s - strides[t] if d >= 1 else -1
        n_implicit = counts_vec[implicit]
        period = np.int64(math.sqrt(k))  # (no min/max/int builtins: each compiles)
        if period < 1:
            period = 1
        n_ckpt = k // period + 1
        # rows of n_states: n_ckpt forward checkpoints, two work rows, one segment of
        # period rows, and the posterior's term buffer
        n_rows = n_ckpt + 3 + period
        table = np.empty(n_rows * n_states)
        work = n_ckpt
        seg0 = n_ckpt + 2
        terms = table[(n_rows - 1) * n_states:]
        for s in range(n_states):
            table[s] = -np.inf
            table[work * n_states + s] = -np.inf
        table[0] = 0.0
        table[work * n_states] = 0.0
        cur = work
        for r in range(k):  # forward pass, keeping every period-th row
            nxt = work + 1 if cur == work else work
            if (r + 1) % period == 0:
                nxt = (r + 1) // period
            _count_step(table[cur * n_states:(cur + 1) * n_states], logp[order[start + r]],
                        r + 1, tracked, implicit, n_implicit, units, preds,
                        table[nxt * n_states:(nxt + 1) * n_states])
            cur = nxt
        loglik[a] = table[(cur + 1) * n_states - 1]
        if loglik[a] == -np.inf:
            continue
        back = work
        for s in range(n_states):
            table[back * n_states + s] = -np.inf
        table[back * n_states] = 0.0
        for seg in range((k - 1) // period, -1, -1):  # backward pass, segment by segment
            first = seg * period
            last = first + period if first + period < k else k
            for s in range(n_states):
                table[seg0 * n_states + s] = table[seg * n_states + s]
            for r in range(first, last - 1):
                row = (seg0 + r - first) * n_states
                _count_step(table[row:row + n_states], logp[order[start + r]], r + 1,
                            tracked, implicit, n_implicit, units, preds,
                            table[row + n_states:row + 2 * n_states])
            for r in range(last - 1, first - 1, -1):
                i = order[start + r]
                row = (seg0 + r - first) * n_states
                other = 2 * work + 1 - back
                backward = table[back * n_states:(back + 1) * n_states]
                _posterior(table[row:row + n_states], backward, logp[i], counts_vec,
                           tracked, implicit, digits, strides, logq, target, terms,
                           posterior[i])
                _count_step(backward, logp[i], k - r, tracked, implicit, n_implicit,
                            units, preds, table[other * n_states:(other + 1) * n_states])
                back = other


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
    logp : array-like of shape (n, K)
        Log class probabilities of every instance.
    order, bag_ptr : array-like of int
        Bags in CSR form (see the module docstring).
    counts : array-like of int, shape (m, K)
        Observed class counts per bag (each row sums to the bag size).

    Returns
    -------
    loglik : numpy.ndarray of shape (m,)
    posterior : numpy.ndarray of shape (n, K)
    """
    logp = np.ascontiguousarray(logp, dtype=np.float64)
    order = np.ascontiguousarray(order, dtype=np.int64)
    bag_ptr = np.ascontiguousarray(bag_ptr, dtype=np.int64)
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    loglik = np.empty(bag_ptr.shape[0] - 1)
    posterior = np.zeros(logp.shape)
    _exact_bag_kernel(logp, order, bag_ptr, counts, loglik, posterior)
    return loglik, posterior
