"""Bags and the linear aggregate-response design (Javanmard et al.).

Every generator takes ``random_state`` (None, int, SeedSequence or Generator); they are
re-exported by :mod:`statlogit.datasets`.
"""

from dataclasses import dataclass  # noqa: E402

import numpy as np

from statlogit._validation import check_scalar, resolve_rng


def make_random_bags(n_samples, bag_size, *, random_state=None):
    """Partition ``n_samples`` instances at random into bags of ``bag_size``.

    Parameters
    ----------
    n_samples : int
        Number of instances.
    bag_size : int
        Bag size :math:`k`; when ``k`` does not divide ``n_samples`` the last bag is
        smaller (``n_samples mod k`` instances).
    random_state : None, int, SeedSequence or Generator
        Randomness (the bags never depend on the responses).

    Returns
    -------
    numpy.ndarray of int64, shape (n_samples,)
        Bag label ``0 .. ceil(n/k) - 1`` of every instance.
    """
    n_samples = check_scalar(n_samples, name="n_samples", lower=1, integer=True)
    bag_size = check_scalar(bag_size, name="bag_size", lower=1, integer=True)
    labels = np.arange(n_samples, dtype=np.int64) // bag_size
    return resolve_rng(random_state).permutation(labels)


def make_bags_from_groups(groups, *, bag_size=None, random_state=None):
    """Bags from a grouping column, optionally split into random sub-bags.

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        A grouping label per instance (county, household, ...). Each distinct value is
        one bag.
    bag_size : int, optional
        If given, each group is shuffled and cut into bags of at most ``bag_size``
        instances (so bags never mix groups).
    random_state : None, int, SeedSequence or Generator
        Randomness of the split.

    Returns
    -------
    numpy.ndarray of int64, shape (n_samples,)
        Bag label of every instance, ``0 .. n_bags - 1``, numbered by group in sorted
        order.
    """
    values = np.asarray(groups)
    if values.ndim != 1 or values.shape[0] == 0:
        raise ValueError(f"groups must be a non-empty 1-D array; got shape {values.shape}.")
    _, codes = np.unique(values, return_inverse=True)
    codes = codes.astype(np.int64).ravel()
    if bag_size is None:
        return codes
    bag_size = check_scalar(bag_size, name="bag_size", lower=1, integer=True)
    rng = resolve_rng(random_state)
    order = np.lexsort((rng.random(codes.shape[0]), codes))
    rank = np.arange(codes.shape[0]) - np.searchsorted(codes[order], codes[order])
    chunk = np.empty_like(codes)
    chunk[order] = rank // bag_size
    _, labels = np.unique(np.stack([codes, chunk]), axis=1, return_inverse=True)
    return labels.astype(np.int64).ravel()


@dataclass
class AggregateData:
    """A sample from the aggregate-response design of Javanmard et al. (2024).

    Attributes
    ----------
    X : numpy.ndarray of shape (n, d)
        Features, i.i.d. :math:`N(0, 1)` entries.
    y : numpy.ndarray of shape (n,)
        Individual responses :math:`x_i^\\top\\theta_0 + \\varepsilon_i` (hidden in the
        aggregate setting; kept for evaluation).
    bags : numpy.ndarray of int64, shape (n,)
        Random bag labels ``0 .. m - 1``.
    y_bag : numpy.ndarray of shape (n,)
        The released bag mean :math:`\\bar y_{a(i)}` of each instance's bag (constant
        within bags; one value per instance, so it is never ambiguous, even for
        bags of size one).
    coef : numpy.ndarray of shape (d,)
        :math:`\\theta_0`, a uniformly random direction with
        :math:`\\lVert\\theta_0\\rVert^2 = \\mathrm{SNR}\\,\\sigma^2`.
    noise : float
        :math:`\\sigma`.
    """

    X: np.ndarray
    y: np.ndarray
    bags: np.ndarray
    y_bag: np.ndarray
    coef: np.ndarray
    noise: float


def make_aggregate_regression(n_samples=1000, n_features=100, *, bag_size=5, snr=1.0,
                              noise=1.0, random_state=None):
    r"""The paper's synthetic design: Gaussian features, random equal bags.

    :math:`x_i \sim N(0, I_d)`, :math:`y_i = x_i^\top\theta_0 + \sigma\varepsilon_i`,
    :math:`\theta_0` uniform on the sphere of radius :math:`\sqrt{\mathrm{SNR}}\,\sigma`,
    bags drawn by :func:`make_random_bags`; only the bag means are released.

    Parameters
    ----------
    n_samples, n_features : int
        :math:`n` and :math:`d` (:math:`\psi = n/d`).
    bag_size : int
        :math:`k`.
    snr : float
        :math:`\lVert\theta_0\rVert^2/\sigma^2`.
    noise : float
        :math:`\sigma \ge 0`.
    random_state : None, int, SeedSequence or Generator
        Randomness.

    Returns
    -------
    AggregateData
    """
    n_samples = check_scalar(n_samples, name="n_samples", lower=1, integer=True)
    n_features = check_scalar(n_features, name="n_features", lower=1, integer=True)
    snr = check_scalar(snr, name="snr", lower=0.0)
    noise = check_scalar(noise, name="noise", lower=0.0)
    rng = resolve_rng(random_state)
    X = rng.standard_normal((n_samples, n_features))
    direction = rng.standard_normal(n_features)
    coef = direction / np.linalg.norm(direction) * np.sqrt(snr) * noise
    y = X @ coef + noise * rng.standard_normal(n_samples)
    bags = make_random_bags(n_samples, bag_size, random_state=rng)
    y_bag = (np.bincount(bags, weights=y) / np.bincount(bags))[bags]
    return AggregateData(X, y, bags, y_bag, coef, noise)
