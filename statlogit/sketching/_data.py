"""Least-squares instances for the sketching studies (Gaussian, coherent, spike).

Every generator takes ``random_state`` (None, int, SeedSequence or Generator); they are
re-exported by :mod:`statlogit.datasets`.
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
    n_samples, n_features = _check_shape(n_samples, n_features, min_samples=1)
    noise = check_scalar(noise, name="noise", lower=0.0)
    rng = resolve_rng(random_state)
    X = rng.standard_normal((n_samples, n_features))
    coef = rng.standard_normal(n_features)
    y = X @ coef + noise * rng.standard_normal(n_samples)
    return X, y, coef


def make_coherent_regression(n_samples=8192, n_features=32, *, heavy_scale=100.0,
                             df=1.5, random_state=None):
    r"""A coherent design with heavy-tailed noise (instance I3 of the sketching notes).

    Rows of :math:`X` are i.i.d. standard normal except the first ``n_features`` rows,
    multiplied by ``heavy_scale``: a few rows carry most of the leverage. The response
    is :math:`y = X\mathbf 1 + \varepsilon` with Student-t noise of ``df`` degrees of
    freedom (outliers). Sparse sketches show a heavier coordinate-error tail here.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of ``X`` (``n_samples >= 2 * n_features``).
    heavy_scale : float
        Scale of the high-leverage rows.
    df : float
        Degrees of freedom of the t noise (> 0).
    random_state : None, int, SeedSequence or Generator

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    """
    n, d = _sketch_instance_shape(n_samples, n_features)
    heavy_scale = check_scalar(heavy_scale, name="heavy_scale", lower=0.0,
                               include_lower=False)
    df = check_scalar(df, name="df", lower=0.0, include_lower=False)
    rng = resolve_rng(random_state)
    X = rng.standard_normal((n, d))
    X[:d] *= heavy_scale
    y = X.sum(axis=1) + rng.standard_t(df, size=n)
    return X, y


def make_spike_regression(n_samples=8192, n_features=32, *, tail_scale=1e-3,
                          spike=1.0, random_state=None):
    r"""The lower-bound instance on which sparse sketches fail in :math:`\ell_\infty`.

    :math:`X = [I_d;\ \tau G]` with :math:`G` standard normal (:math:`\tau` =
    ``tail_scale``), so the first ``n_features`` rows have leverage close to 1, and
    :math:`y = X\mathbf 1 + s\,e_n` (``spike`` :math:`s` on the last, low-leverage
    row): the least-squares residual is one spike. A sparse sketch that hashes the
    spike row into the bucket of an identity row moves that one coefficient by about
    :math:`s/\sqrt{\text{nnz per column}}` (the whole :math:`\ell_2` error on one
    coordinate), with probability about :math:`d/m`; dense-mixing sketches (SRHT,
    Gaussian) spread the spike over all rows and keep the error even.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    """
    n, d = _sketch_instance_shape(n_samples, n_features)
    tail_scale = check_scalar(tail_scale, name="tail_scale", lower=0.0,
                              include_lower=False)
    spike = check_scalar(spike, name="spike")
    rng = resolve_rng(random_state)
    X = np.vstack([np.eye(d), tail_scale * rng.standard_normal((n - d, d))])
    y = X.sum(axis=1)
    y[-1] += spike
    return X, y


def make_sketch_instance(design, n_samples=8192, n_features=32, *, random_state=None):
    """One of the three designs of the sketching studies, by name.

    Parameters
    ----------
    design : {"gaussian", "coherent", "spike"}
        :func:`make_linear_regression` (incoherent Gaussian, instance I1),
        :func:`make_coherent_regression` (I3) or :func:`make_spike_regression` (I2),
        each with its default options.
    n_samples, n_features : int
    random_state : None, int, SeedSequence or Generator

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    """
    makers = {"gaussian": lambda *a, **k: make_linear_regression(*a, **k)[:2],
              "coherent": make_coherent_regression, "spike": make_spike_regression}
    if not isinstance(design, str) or design not in makers:
        raise ValueError(f"design must be one of {sorted(makers)}; got {design!r}.")
    return makers[design](n_samples, n_features, random_state=random_state)


_MAX_ENTRIES = 1 << 31  # 16 GiB of float64


def _check_shape(n_samples, n_features, *, min_samples):
    """Validated sizes whose (n, d) array can be allocated (at most 2**31 entries)."""
    n = check_scalar(n_samples, name="n_samples", lower=min_samples, integer=True)
    d = check_scalar(n_features, name="n_features", lower=1, integer=True)
    if n * d > _MAX_ENTRIES:
        raise ValueError(
            f"n_samples={n} x n_features={d} exceeds {_MAX_ENTRIES} entries; generate "
            "smaller designs (or in pieces with different random_state).")
    return n, d


def _sketch_instance_shape(n_samples, n_features):
    n, d = _check_shape(n_samples, n_features, min_samples=2)
    if n < 2 * d:
        raise ValueError(
            f"n_samples={n} must be at least 2 * n_features={2 * d} for a tall design; "
            "increase n_samples."
        )
    return n, d
