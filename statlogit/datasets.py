"""The papers' data-generating processes, as ``make_*`` functions.

Every generator takes ``random_state`` (None, int, SeedSequence or Generator) and
returns plain numpy arrays (or a small dataclass / dict documented in its docstring).
"""

import numpy as np

from statlogit._validation import check_scalar, resolve_rng


def make_linear_regression(n_samples=100, n_features=5, *, noise=1.0, random_state=None):
    r"""Gaussian linear model :math:`y = X\beta + \sigma\varepsilon`.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of ``X``; rows of ``X`` are i.i.d. standard normal.
    noise : float
        Noise standard deviation :math:`\sigma \ge 0`.
    random_state : None, int, SeedSequence or Generator
        Randomness.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, n_features)
    y : numpy.ndarray of shape (n_samples,)
    coef : numpy.ndarray of shape (n_features,)
        The true :math:`\beta`, standard normal.
    """
    n_samples = check_scalar(n_samples, name="n_samples", lower=1, integer=True)
    n_features = check_scalar(n_features, name="n_features", lower=1, integer=True)
    noise = check_scalar(noise, name="noise", lower=0.0)
    rng = resolve_rng(random_state)
    X = rng.standard_normal((n_samples, n_features))
    coef = rng.standard_normal(n_features)
    y = X @ coef + noise * rng.standard_normal(n_samples)
    return X, y, coef


# ==== PRESTO (ordinal) — section owned by the PRESTO family ====

# ==== checkered — section owned by the checkered family ====

# ==== aggregate — section owned by the aggregate family ====

# ==== R3D — section owned by the R3D family ====

# ==== expectations — section owned by the expectations family ====

# ==== sketched — section owned by the sketched family ====
