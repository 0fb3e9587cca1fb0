r"""Shapley effects for dependent inputs (Song, Nelson & Staum, 2016)."""

import numpy as np
import pandas as pd

from statlogit._validation import check_scalar, resolve_rng
from statlogit.expectations._evaluation import Evaluator
from statlogit.expectations.laws import IndependentMarginals
from statlogit.expectations.sobol import SobolResult, as_independent_inputs


def shapley_effects(model, inputs, budget=20_000, *, n_inner=3, names=None, n_jobs=None,
                    batch_size=None, random_state=None):
    r"""Shapley effects of (possibly dependent) inputs by random permutations.

    With the cost :math:`c(u) = E[\operatorname{Var}(Y\mid X_{-u})]` of a set u of
    inputs (:math:`c(\emptyset)=0`, :math:`c(\{1..d\}) = V = \operatorname{Var} Y`),

    .. math::
        \mathrm{Sh}_i = \frac1{V}\sum_{u\not\ni i}
        \frac{|u|!\,(d-|u|-1)!}{d!}\bigl(c(u\cup\{i\}) - c(u)\bigr)
        = \frac1V E_\pi\bigl[c(P_i(\pi)\cup\{i\}) - c(P_i(\pi))\bigr],

    :math:`P_i(\pi)` the inputs before i in a uniformly random order :math:`\pi`. The
    estimator of Song, Nelson and Staum (2016, Algorithm 1 with one outer sample): for
    each of m random orders and each position j < d, one draw of :math:`X_{-u}`
    (:math:`u = \{\pi_1..\pi_j\}`), ``n_inner`` exact conditional draws of
    :math:`X_u` given it, and the sample variance of Y over them estimates
    :math:`c(u)`; V comes from a separate sample of a fifth of the budget. The effects
    sum to 1 exactly; with independent inputs each lies between the first- and
    total-order Sobol' index. Standard errors: the spread over the orders and the
    delta method for V.

    Parameters
    ----------
    model : callable
        (n, d) array -> (n,) finite real outputs (one output: a model with several
        outputs is refused with a ValueError after the variance sample; run
        ``shapley_effects`` once per output).
    inputs : GaussianCopula, IndependentMarginals, list or dict of marginals, or a law
        Any object with ``dim``, ``rvs(size, random_state)`` and
        ``conditional_rvs(free, X, random_state)`` (redraw the columns ``free`` of X
        given the others; :class:`GaussianCopula` does it exactly in normal scores).
    budget : int
        Model runs in total: :math:`N_V = \lfloor N/5\rfloor` for V, and
        :math:`m = \lfloor (N - N_V) / ((d-1)\,n_{\text{inner}})\rfloor` orders.
    n_inner : int
        Conditional draws per outer draw (>= 2; 3 as the authors recommend).
    names : sequence of str, optional
    n_jobs, batch_size : int or None
        The model runs go to joblib in batches; results do not depend on them.
    random_state : None, int, SeedSequence or Generator

    Returns
    -------
    SobolResult
        With ``shapley_effects`` (a Series by input), ``std_errors_``, ``conf_int
        (alpha, order="shapley")``, ``summary()`` and ``plot()``.
    """
    law, input_names = _dependent_inputs(inputs, names)
    d = law.dim
    if d < 2:
        raise ValueError("Shapley effects need at least 2 inputs.")
    n_inner = check_scalar(n_inner, name="n_inner", lower=2, integer=True)
    budget = check_scalar(budget, name="budget", lower=2, integer=True)
    n_var = budget // 5
    n_perms = (budget - n_var) // ((d - 1) * n_inner)
    if n_var < 2 or n_perms < 2:
        need = max(10, 5 * 2 * (d - 1) * n_inner // 4 + 1)
        raise ValueError(f"budget={budget} leaves too few runs for {d} inputs with "
                         f"n_inner={n_inner}; use budget >= {need}.")
    rng = resolve_rng(random_state)
    evaluator = Evaluator(model, n_jobs=n_jobs, batch_size=batch_size, name="model")
    X_var = np.asarray(law.rvs(n_var, rng), dtype=float).reshape(n_var, d)
    orders = np.array([rng.permutation(d) for _ in range(n_perms)])
    inner = _inner_design(law, orders, n_inner, rng)
    # the variance sample first: a multi-output model is refused before the other
    # four fifths of the budget are spent
    y_first = evaluator(X_var)
    if y_first.shape[1] != 1:
        raise ValueError(f"model returned {y_first.shape[1]} outputs per row; "
                         "shapley_effects takes a model with one output: call it once "
                         "per output (e.g. model=lambda X: f(X)[:, k]).")
    y, scale = _centred_and_scaled(np.concatenate([y_first[:, 0], evaluator(inner)[:, 0]]))
    y_var, y_inner = y[:n_var], y[n_var:].reshape(n_perms, d - 1, n_inner)
    centred = y_var - y_var.mean()
    variance = float(np.mean(centred**2) * n_var / (n_var - 1))
    if not variance > 0:
        raise ValueError(f"model returned the same value at all {n_var} runs of the "
                         "variance sample: raise budget (or check the model).")
    costs = np.var(y_inner, axis=2, ddof=1)  # c(u_j), j = 1..d-1, per order
    steps = np.diff(np.column_stack([np.zeros(n_perms), costs]), axis=1)
    W = np.zeros((n_perms, d))
    rows = np.arange(n_perms)[:, None]
    W[rows, orders[:, :-1]] = steps / variance
    W[np.arange(n_perms), orders[:, -1]] = 1.0 - costs[:, -1] / variance
    effects = W.mean(axis=0)
    # delta method for V: d Sh_i / dV = -(Sh_i - share of orders ending with i) / V
    last_share = np.bincount(orders[:, -1], minlength=d) / n_perms
    grad = -(effects - last_share) / variance
    var_variance = (np.mean(centred**4) - variance**2) / n_var
    cov = np.cov(W.T) / n_perms + np.outer(grad, grad) * var_variance
    table = pd.DataFrame({"order": "shapley", "input": input_names, "output": "y",
                          "estimate": effects,
                          "std_error": np.sqrt(np.clip(np.diag(cov), 0.0, None))})
    n_runs = n_var + n_perms * (d - 1) * n_inner
    result = SobolResult(table, cov, np.array([variance]), None, n_runs, "shapley")
    with np.errstate(over="ignore"):
        result.output_variances = pd.Series([variance * scale * scale], index=["y"],
                                            name="variance")
    result.n_permutations = n_perms
    return result


def _centred_and_scaled(y):
    """y minus its median, over a power of two (exact): effects are unchanged, and
    squares neither overflow nor underflow."""
    centred = y - np.median(y)
    spread = float(np.max(np.abs(centred)))
    if spread == 0.0:
        raise ValueError("model returned the same value at every run: a constant output "
                         "has no variance to apportion.")
    scale = 2.0 ** np.floor(np.log2(spread))
    return centred / scale, scale


def _dependent_inputs(inputs, names):
    if callable(getattr(inputs, "conditional_rvs", None)) and not isinstance(
            inputs, IndependentMarginals):
        dim = int(inputs.dim)
        names = [f"x{r + 1}" for r in range(dim)] if names is None else list(names)
        if len(names) != dim or len(set(names)) != dim:
            raise ValueError(f"names must be {dim} distinct names; got {names!r}.")
        return inputs, [str(n) for n in names]
    if isinstance(inputs, IndependentMarginals):  # GaussianCopula included
        return _named(inputs, names)
    return as_independent_inputs(inputs, names)


def _named(law, names):
    names = [f"x{r + 1}" for r in range(law.dim)] if names is None else list(names)
    if len(names) != law.dim or len(set(names)) != law.dim:
        raise ValueError(f"names must be {law.dim} distinct names; got {names!r}.")
    return law, [str(n) for n in names]


def _inner_design(law, orders, n_inner, rng):
    """For every order k and position j: one outer draw, repeated ``n_inner`` times with
    the first j inputs of the order redrawn given the rest; rows (k, j, inner)."""
    n_perms, d = orders.shape
    outer = np.asarray(law.rvs(n_perms * (d - 1), rng), dtype=float).reshape(-1, d)
    rows = np.repeat(outer, n_inner, axis=0).reshape(n_perms, d - 1, n_inner, d)
    free_sets = {}
    for k in range(n_perms):
        for j in range(1, d):
            free_sets.setdefault(tuple(sorted(orders[k, :j])), []).append((k, j - 1))
    for free in sorted(free_sets):
        where = tuple(np.array(free_sets[free]).T)
        block = rows[where].reshape(-1, d)
        rows[where] = law.conditional_rvs(np.array(free), block, rng).reshape(
            -1, n_inner, d)
    return rows.reshape(-1, d)
