"""Checkerboards, the XOR mixture and rock-paper-scissors (Achab).

Every generator takes ``random_state`` (None, int, SeedSequence or Generator); they are
re-exported by :mod:`statlogit.datasets`.
"""


import numpy as np

from statlogit._validation import check_scalar, resolve_rng

#: The three lines recovered from the checkerboard figure of Achab (2022, [C2] §4):
#: :math:`x_1 = 0.13`, :math:`x_2 = 0.14`, :math:`0.67 x_1 + 0.74 x_2 = 7.4`, as
#: ``(normals, offsets)`` with hyperplane ``normals @ x + offsets = 0``.
ACHAB_LINES = (np.array([[1.0, 0.0], [0.0, 1.0], [0.67, 0.74]]),
               np.array([-0.13, -0.14, -7.4]))


def make_checkerboard(n_samples=500, n_features=2, *, n_cells=2, hyperplanes=None,
                      bounds=(-10.0, 10.0), random_state=None):
    r"""Uniform points in a box labelled by the parity of a hyperplane arrangement.

    Points are i.i.d. uniform on :math:`[\text{low}, \text{high}]^d`. Without
    ``hyperplanes`` the box is cut into ``n_cells`` equal slabs along every axis and
    the label is the parity of the sum of the cell indices (a ``n_cells``\ :sup:`d`
    checkerboard). With ``hyperplanes = (A, b)`` the label is the parity of the number
    of :math:`k` with :math:`a_k^\top x + b_k > 0` (``ACHAB_LINES`` gives the paper's
    500-point, 3-line board).

    Parameters
    ----------
    n_samples, n_features : int
    n_cells : int
        Cells per axis (ignored when ``hyperplanes`` is given).
    hyperplanes : tuple of (ndarray (m, d), ndarray (m,)), optional
    bounds : tuple of float
        The box :math:`[\text{low}, \text{high}]` on every axis.
    random_state : None, int, SeedSequence or Generator

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of int64 in {0, 1}
    """
    n_samples = check_scalar(n_samples, name="n_samples", lower=1, integer=True)
    n_features = check_scalar(n_features, name="n_features", lower=1, integer=True)
    n_cells = check_scalar(n_cells, name="n_cells", lower=1, integer=True)
    low, high = (check_scalar(v, name="bounds") for v in bounds)
    if not low < high:
        raise ValueError(f"bounds must be (low, high) with low < high; got {bounds}.")
    rng = resolve_rng(random_state)
    X = rng.uniform(low, high, size=(n_samples, n_features))
    if hyperplanes is None:
        cells = np.minimum(np.floor(n_cells * (X - low) / (high - low)), n_cells - 1)
        return X, (cells.sum(axis=1) % 2).astype(np.int64)
    normals, offsets = (np.asarray(a, dtype=np.float64) for a in hyperplanes)
    if normals.ndim != 2 or normals.shape[1] != n_features or offsets.shape != (
            normals.shape[0],):
        raise ValueError("hyperplanes must be (A, b) with A of shape (m, n_features) "
                         "and b of shape (m,).")
    positive = (X @ normals.T + offsets > 0).sum(axis=1)
    return X, (positive % 2).astype(np.int64)


XOR_MEANS = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])


def make_xor_mixture(n_samples=1000, *, variance=0.2, random_state=None):
    r"""The XOR Gaussian mixture of Achab (2023, Fig. 6).

    :math:`P(y = 0) = P(y = 1) = 1/2`; given :math:`y = 0`, :math:`x` is an equal
    mixture of :math:`N((1, 1), sI)` and :math:`N((-1, -1), sI)`; given :math:`y = 1`,
    of :math:`N((1, -1), sI)` and :math:`N((-1, 1), sI)`, with :math:`s =` ``variance``.
    The Bayes posterior is a checkered model, see :func:`xor_mixture_bayes_proba`.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of int64 in {0, 1}
    """
    n_samples = check_scalar(n_samples, name="n_samples", lower=1, integer=True)
    variance = check_scalar(variance, name="variance", lower=0.0, include_lower=False)
    rng = resolve_rng(random_state)
    component = rng.integers(0, 4, size=n_samples)
    X = XOR_MEANS[component] + np.sqrt(variance) * rng.standard_normal((n_samples, 2))
    return X, (component >= 2).astype(np.int64)


def xor_mixture_bayes_proba(X, *, variance=0.2):
    r"""Bayes posterior of :func:`make_xor_mixture`, shape (n, 2), columns (y=0, y=1).

    Each coordinate's sign is a logistic coin with log-odds :math:`2x_j/s`, and
    :math:`y = 0` when the two signs agree: :math:`P(y = 0 \mid x) =
    \sigma(a)\sigma(b) + \sigma(-a)\sigma(-b)` with :math:`a = 2x_1/s`,
    :math:`b = 2x_2/s`, i.e. the checkered model with ``coef_ = 2/s * I`` and zero
    intercepts (computed in log space).
    """
    from scipy.special import log_expit

    variance = check_scalar(variance, name="variance", lower=0.0, include_lower=False)
    X = np.asarray(X, dtype=np.float64)
    a, b = 2.0 * X[:, 0] / variance, 2.0 * X[:, 1] / variance
    log_agree = np.logaddexp(log_expit(a) + log_expit(b), log_expit(-a) + log_expit(-b))
    log_differ = np.logaddexp(log_expit(a) + log_expit(-b), log_expit(-a) + log_expit(b))
    return np.exp(np.column_stack([log_agree, log_differ]))


def xor_mixture_bayes_accuracy(*, variance=0.2):
    r"""Bayes accuracy of :func:`make_xor_mixture`: :math:`p^2 + (1 - p)^2`,
    :math:`p = \Phi(1/\sqrt{s})` (0.97497 at :math:`s = 0.2`)."""
    from scipy.stats import norm

    variance = check_scalar(variance, name="variance", lower=0.0, include_lower=False)
    p = norm.cdf(1.0 / np.sqrt(variance))
    return float(p**2 + (1.0 - p) ** 2)


def make_rock_paper_scissors():
    r"""The rock-paper-scissors duels of Achab (2023, §2.3), both orientations.

    Items are one-hot in :math:`\mathbb{R}^3` (rock, paper, scissors); a duel of item
    :math:`a` against item :math:`b` is :math:`x = e_a - e_b`, labelled 1 if :math:`a`
    wins. Each of the three duels appears in both orders, so the labels are balanced.
    Bradley-Terry (logistic regression without intercept) cannot do better than
    log-loss :math:`\log 2`. The six points lie on a hexagon with alternating labels,
    so a checkered model with bias needs three hyperplanes to fit them (two lines cut
    the hexagon only four times); the paper's bias-free smooth XOR fits the three
    one-sided duels instead.

    Returns
    -------
    X : ndarray of shape (6, 3)
    y : ndarray of int64 in {0, 1}
    """
    eye = np.eye(3)
    wins = [(0, 2), (2, 1), (1, 0)]  # rock > scissors > paper > rock
    X = np.array([eye[a] - eye[b] for a, b in wins] + [eye[b] - eye[a] for a, b in wins])
    return X, np.array([1, 1, 1, 0, 0, 0], dtype=np.int64)
