r"""Tests of the proportional-odds assumption: Brant's Wald test and the likelihood ratio.

**Brant (1990).** For each boundary :math:`k` fit the binary logistic regression of
:math:`z_{ik} = 1\{y_i > c_k\}` on :math:`(1, x_i)`, coefficients :math:`\gamma_k`,
fitted :math:`\pi_{ik}`. The estimates are jointly asymptotically normal with
covariance blocks

.. math:: V_{kl} = (\tilde X^\top W_{kk} \tilde X)^{-1} \tilde X^\top W_{kl} \tilde X
          (\tilde X^\top W_{ll} \tilde X)^{-1}, \quad
          W_{kl} = \operatorname{diag}\big(w_i \pi_{i,\max(k,l)}
          (1 - \pi_{i,\min(k,l)})\big),

(:math:`W_{kk} = \operatorname{diag}(w_i \pi_{ik}(1 - \pi_{ik}))`). With :math:`D`
the contrasts :math:`\beta_1 - \beta_k` of the slopes, :math:`X^2 = (D\beta)^\top
(D V D^\top)^{-1} D\beta` is :math:`\chi^2_{(K-2)p}` under proportional odds; the
per-feature statistics use feature :math:`j`'s slopes only (:math:`\chi^2_{K-2}`).

**Likelihood ratio.** :math:`2(\ell_{\text{free}} - \ell_{\text{PO}})` with
:math:`\ell_{\text{free}}` the maximum over the unconstrained cumulative model (PRESTO
at :math:`\alpha = 0`, every training row keeping a positive probability),
:math:`\chi^2_{(K-2)p}` under proportional odds.
"""

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.utils.validation import validate_data

from statlogit._validation import check_labels, check_sample_weight

__all__ = ["proportional_odds_tests"]


def _data(model, X, y, sample_weight):
    X = validate_data(model, X, reset=False, dtype=np.float64, order="C")
    _, codes = check_labels(y, categories=list(model.categories_))
    if codes.shape[0] != X.shape[0]:
        raise ValueError(f"y has {codes.shape[0]} labels but X has {X.shape[0]} rows.")
    weights = check_sample_weight(sample_weight, X.shape[0])
    keep = weights > 0
    return X[keep], codes[keep], weights[keep]


def _fit(X, codes, n_classes, weights, link, free_slopes):
    from statlogit.ordinal._fit import CumulativeProblem

    problem = CumulativeProblem(X, codes, n_classes, standardize=True, link=link,
                                sample_weight=weights, penalize_first=False,
                                tol=1e-13, max_iter=200)
    result = problem.solve(0.0, free_slopes=free_slopes)
    return problem, result


def brant(X, codes, n_classes, weights, names):
    """Brant's test as a DataFrame (omnibus first, then one row per feature)."""
    n, p = X.shape
    m = n_classes - 1
    design = np.hstack([np.ones((n, 1)), X])
    gammas, probs = [], []
    for k in range(m):
        z = (codes > k).astype(np.int64)
        problem, result = _fit(X, z, 2, weights, "logit", True)
        intercept, coef = problem.original(result)
        gamma = -np.r_[intercept[0], coef[0]]  # P(z = 1) = sigma(gamma' (1, x))
        gammas.append(gamma)
        probs.append(1.0 / (1.0 + np.exp(-(design @ gamma))))
    inverse = [np.linalg.inv(design.T @ (design * (weights * pi * (1 - pi))[:, None]))
               for pi in probs]
    q = p + 1
    cov = np.zeros((m * q, m * q))
    for k in range(m):
        for j in range(k, m):
            middle = design.T @ (design * (weights * probs[j] * (1 - probs[k]))[:, None])
            block = inverse[k] @ middle @ inverse[j]
            cov[k * q:(k + 1) * q, j * q:(j + 1) * q] = block
            cov[j * q:(j + 1) * q, k * q:(k + 1) * q] = block.T
    slopes = np.r_[[np.arange(k * q + 1, (k + 1) * q) for k in range(m)]]  # (m, p)
    beta = np.concatenate(gammas)

    def wald(columns):
        index = slopes[:, columns]  # (m, c)
        contrast = np.zeros(((m - 1) * index.shape[1], m * q))
        row = 0
        for c in range(index.shape[1]):
            for k in range(1, m):
                contrast[row, index[0, c]], contrast[row, index[k, c]] = 1.0, -1.0
                row += 1
        diff = contrast @ beta
        value = float(diff @ np.linalg.solve(contrast @ cov @ contrast.T, diff))
        return value, contrast.shape[0]

    rows = [wald(np.arange(p))] + [wald(np.array([j])) for j in range(p)]
    return _frame(rows, ["omnibus", *names])


def _frame(rows, index):
    chi2 = np.array([r[0] for r in rows])
    df = np.array([r[1] for r in rows])
    return pd.DataFrame({"chi2": chi2, "df": df, "p-value": stats.chi2.sf(chi2, df)},
                        index=pd.Index(index, name="test"))


def likelihood_ratio(X, codes, n_classes, weights, link):
    """The LR test of proportional odds against the free cumulative model."""
    restricted = _fit(X, codes, n_classes, weights, link, False)
    free = _fit(X, codes, n_classes, weights, link, True)
    values = [problem.loss.value(result.theta) * problem.loss.n
              for problem, result in (restricted, free)]
    statistic = max(2.0 * (values[0] - values[1]), 0.0)
    return _frame([(statistic, (n_classes - 2) * X.shape[1])], ["omnibus"])


def proportional_odds_tests(model, X, y, *, method, sample_weight=None):
    """Dispatch for :meth:`ProportionalOddsClassifier.test_proportional_odds`."""
    from statlogit.ordinal._plots import feature_names

    if method not in ("brant", "lr"):
        raise ValueError(f'method must be "brant" or "lr"; got {method!r}.')
    n_classes = len(model.categories_)
    if n_classes < 3:
        raise ValueError("Testing proportional odds needs at least 3 classes; with 2 "
                         "there is a single boundary.")
    X, codes, weights = _data(model, X, y, sample_weight)
    if method == "lr":
        return likelihood_ratio(X, codes, n_classes, weights, model.link)
    if model.link != "logit":
        raise ValueError('method="brant" is defined for the logit link; use '
                         f'method="lr" for link={model.link!r}.')
    return brant(X, codes, n_classes, weights, feature_names(model))
