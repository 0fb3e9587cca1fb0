r"""Model maths of :class:`statlogit.AggregateClassifier` (learning from label proportions).

Instances have class probabilities :math:`p_{ic} = \mathrm{softmax}(\eta_i)_c`,
:math:`\eta_i = W x_i + b` (binary: :math:`\eta_i = (0, w^\top x_i + b)`). A bag
:math:`a` (total weight :math:`K_a`) reports class proportions :math:`P_{ac}`. Losses
(summed over bags):

* proportion (DLLP): :math:`L_{prop} = -\sum_a K_a\sum_c P_{ac}\log\bar p_{ac}`,
  :math:`\bar p_{ac} = K_a^{-1}\sum_{i\in B_a} w_i p_{ic}`;
* exact: :math:`L_{exact} = -\sum_a \log P(N_a)` with :math:`N_a = K_a P_a` the counts
  (Poisson-binomial / Poisson-multinomial, numba kernel);
* instance (soft labels): :math:`L_{inst} = -\sum_a\sum_{i \in B_a} w_i \sum_c P_{ac}
  \log p_{ic}`.

By Jensen's inequality :math:`R = L_{inst} - L_{prop} \ge 0` (zero for singleton
bags), and the fitted objective is :math:`C\,(L + \rho R) + \tfrac12\lVert
W\rVert_F^2` with :math:`L` the chosen bag loss: ``rho=0`` is the bag loss, ``rho=1``
with the proportion loss the instance-level (soft-label) loss.
"""

import numpy as np
import scipy.special

from statlogit.aggregate._kernels import exact_bag_loglik

__all__ = ["check_exact_size", "llp_loss_grad", "logits"]


def logits(Z, params, n_features, n_classes, fit_intercept):
    """Linear predictors (n, K) from flat ``params`` = (W row-major, intercepts)."""
    n_out = 1 if n_classes == 2 else n_classes
    W = params[:n_out * n_features].reshape(n_out, n_features)
    b = params[n_out * n_features:] if fit_intercept else np.zeros(n_out)
    eta = Z @ W.T + b
    if n_classes == 2:
        eta = np.column_stack([np.zeros(Z.shape[0]), eta[:, 0]])
    return eta, W


def _bag_log_means(logp, weights, order, bag_ptr, sizes):
    """:math:`\\log\\bar p_{ac}` by a max-shifted weighted sum per bag."""
    sorted_logp = logp[order]
    starts = bag_ptr[:-1]
    top = np.maximum.reduceat(sorted_logp, starts, axis=0)
    bag_of = np.repeat(np.arange(starts.shape[0]), np.diff(bag_ptr))
    sums = np.add.reduceat(weights[order][:, None] * np.exp(sorted_logp - top[bag_of]),
                           starts, axis=0)
    with np.errstate(divide="ignore"):
        return top + np.log(sums) - np.log(sizes)[:, None]


def llp_loss_grad(eta, P, counts, weights, order, bag_ptr, codes, loss, rho):
    """Loss (summed over bags) and its gradient in the logits ``eta`` (n, K).

    Returns ``(value, grad_eta)``; ``grad_eta`` rows are per-instance score
    contributions (their bag sums are the bags' estimating functions).
    """
    logp = eta - scipy.special.logsumexp(eta, axis=1, keepdims=True)
    p = np.exp(logp)
    sizes = np.add.reduceat(weights[order], bag_ptr[:-1])
    log_pbar = _bag_log_means(logp, weights, order, bag_ptr, sizes)
    positive = P > 0
    ratio = np.where(positive, P / np.exp(np.where(positive, log_pbar, 0.0)), 0.0)
    prop_value = -np.sum(sizes[:, None] * np.where(positive, P * log_pbar, 0.0))
    # d L_prop / d eta_ic = -w_i p_ic (r_ac - sum_c' r_ac' p_ic'), r = P / pbar
    r = ratio[codes]
    prop_grad = -weights[:, None] * p * (r - np.sum(r * p, axis=1, keepdims=True))
    if loss == "exact":
        loglik, post = exact_bag_loglik(logp, order, bag_ptr, counts)
        value, grad = -np.sum(loglik), -(post - p)
    else:
        value, grad = prop_value, prop_grad
    if rho > 0:
        soft = P[codes]
        inst_value = -np.sum(weights[:, None] * np.where(soft > 0, soft * logp, 0.0))
        inst_grad = weights[:, None] * (p - soft)
        value += rho * (inst_value - prop_value)
        grad = grad + rho * (inst_grad - prop_grad)
    return value, grad


#: Largest state table (bytes) of one bag for the exact likelihood.
MAX_EXACT_BYTES = 2**31
#: Largest number of convolution steps per likelihood evaluation (all bags).
MAX_EXACT_WORK = 1e10


def check_exact_size(counts):
    r"""Refuse exact bag likelihoods whose state space :math:`S_a = \prod_{c \ne c^*}
    (N_{ac} + 1)` is too large (memory :math:`\approx 8 S_a (2\sqrt{k_a} + 3K)` bytes per
    bag, :math:`\sum_a k_a S_a (K - 1)` steps per evaluation), with a ValueError naming
    the bag and the way out, instead of a MemoryError or an hours-long fit."""
    counts = np.asarray(counts, dtype=np.float64)
    n_classes = counts.shape[1]
    sizes = counts.sum(axis=1)
    states = np.exp(np.sum(np.log1p(counts), axis=1) - np.log1p(counts.max(axis=1)))
    memory = 8.0 * states * (2.0 * np.sqrt(np.maximum(sizes, 1.0)) + 3.0 * n_classes + 3.0)
    work = float(np.sum(sizes * states * (n_classes - 1)))
    worst = int(np.argmax(memory))
    if memory[worst] > MAX_EXACT_BYTES or work > MAX_EXACT_WORK:
        raise ValueError(
            f'loss="exact" is too large here: bag {worst} ({sizes[worst]:.0f} instances, '
            f"class counts {counts[worst].astype(np.int64).tolist()}) has "
            f"prod(N_c + 1) = {states[worst]:.3g} count states (about "
            f"{memory[worst] / 2**30:.3g} GiB), and one likelihood evaluation takes "
            f"{work:.3g} steps (limits {MAX_EXACT_BYTES / 2**30:g} GiB per bag, "
            f"{MAX_EXACT_WORK:g} steps). Use loss=\"proportion\", or smaller bags.")
