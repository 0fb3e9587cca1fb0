"""PRESTO's simulation designs (Faletto & Bien, Sections 4.1-4.2).

Every generator takes ``random_state`` (None, int, SeedSequence or Generator); they are
re-exported by :mod:`statlogit.datasets`.
"""


import numpy as np

from statlogit._validation import check_scalar, resolve_rng


def _presto_slopes(rng, n_features, n_boundaries, design, dev_prob):
    """Boundary weights (K-1, p): first row, then cumulative random differences."""
    if design == "dense":
        steps = rng.uniform(-0.5, 0.5, size=(n_boundaries, n_features))
    else:
        active = rng.random((n_boundaries, n_features)) < dev_prob
        signs = rng.choice([-1.0, 1.0], size=(n_boundaries, n_features))
        signs[0] = 1.0
        steps = 0.5 * active * signs
    return np.cumsum(steps, axis=0)


def _presto_cumulative(X, intercept, coef):
    return 1.0 / (1.0 + np.exp(-(X @ coef.T + intercept)))


def make_presto_ordinal(n_samples=2500, n_features=10, *, intercept=(0.0, 3.0, 5.0),
                        design="sparse", dev_prob=0.5, random_state=None):
    r"""The synthetic designs of Faletto & Bien (2023), Sections 4.1 and 4.2.

    :math:`X_{ij} \sim U[-1, 1]`; :math:`P(y \le k \mid x) = \sigma(a_k + \beta_k^\top
    x)`, ``y`` coded ``0..K-1`` with ``K = len(intercept) + 1``; the last class is rare.

    * ``design="sparse"``: :math:`\beta_1` has entries 0.5 with probability
      ``dev_prob`` (else 0); :math:`\beta_k = \beta_{k-1} + \delta_k` with each entry
      of :math:`\delta_k` equal to :math:`\pm 0.5` (random sign) with probability
      ``dev_prob``, else 0.
    * ``design="dense"``: :math:`\beta_1, \delta_k \sim U[-0.5, 0.5]^p`.

    As in the reference code, the weights are redrawn (up to 100 times) until every
    true class probability at the sampled X is non-negative, and X is redrawn (up to
    10 times) until every class occurs.

    Returns
    -------
    X : ndarray (n_samples, n_features)
    y : ndarray of int64 (n_samples,)
    intercept : ndarray (K-1,)
    coef : ndarray (K-1, n_features)
        The true :math:`\beta_k`.
    """
    n_samples = check_scalar(n_samples, name="n_samples", lower=1, integer=True)
    n_features = check_scalar(n_features, name="n_features", lower=1, integer=True)
    dev_prob = check_scalar(dev_prob, name="dev_prob", lower=0.0, upper=1.0)
    if design not in ("sparse", "dense"):
        raise ValueError(f"design must be 'sparse' or 'dense'; got {design!r}.")
    intercept = np.asarray(intercept, dtype=np.float64)
    if intercept.ndim != 1 or intercept.size < 1 or np.any(np.diff(intercept) <= 0):
        raise ValueError("intercept must be a strictly increasing 1-D sequence.")
    rng = resolve_rng(random_state)
    n_classes = intercept.size + 1
    for _ in range(10):
        X = rng.uniform(-1.0, 1.0, size=(n_samples, n_features))
        for _ in range(100):
            coef = _presto_slopes(rng, n_features, n_classes - 1, design, dev_prob)
            cumulative = _presto_cumulative(X, intercept, coef)
            if np.all(np.diff(cumulative, axis=1) >= 0):
                break
        else:
            raise RuntimeError("no non-crossing weights in 100 draws; lower dev_prob.")
        u = rng.random(n_samples)
        y = (u[:, None] > cumulative).sum(axis=1).astype(np.int64)
        if np.unique(y).size == n_classes:
            break
    return X, y, intercept, coef
