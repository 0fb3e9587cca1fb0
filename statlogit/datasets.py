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

# ==== checkered — section owned by the checkered family ====

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

# ==== aggregate — section owned by the aggregate family ====

from dataclasses import dataclass  # noqa: E402


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


# ==== R3D — section owned by the R3D family ====


def make_r3d_package(n_units=500, n_draws=50, *, delta=0.0, dgp=1, fuzzy=False,
                     random_state=None):
    r"""The R3D package's Monte Carlo designs (distribution-valued RD outcomes).

    :math:`X_i \sim U(-1, 1)`, ``n_draws`` outcomes per unit, treatment
    :math:`D_i = 1\{X_i \ge 0\}` (sharp) or :math:`T_i \sim
    \mathrm{Bernoulli}(0.1 + 0.8 D_i)` (``fuzzy``, shift :math:`\Delta T_i`):

    * ``dgp=1``: :math:`Y_{ij} \sim N(5 + 5X_i + \Delta D_i, \max(|1 + X_i|, 0.1)^2)`;
    * ``dgp=2``: :math:`Y_{ij} = N(2X_i + \Delta D_i, 1) + 2\,\mathrm{Exp}(\text{rate}
      = \mathrm{clip}(1 + X_i/2, 0.5, 1.5))`.

    Both have :math:`\tau(q) \equiv \Delta` (the complier effect when fuzzy).

    Returns
    -------
    x : numpy.ndarray of shape (n_units,)
    Y : list of numpy.ndarray
        One sample of size ``n_draws`` per unit.
    treatment : numpy.ndarray of shape (n_units,) or None
        0/1 treatment when ``fuzzy``.
    """
    n_units = check_scalar(n_units, name="n_units", lower=2, integer=True)
    n_draws = check_scalar(n_draws, name="n_draws", lower=1, integer=True)
    delta = check_scalar(delta, name="delta")
    if dgp not in (1, 2):
        raise ValueError(f"dgp must be 1 or 2; got {dgp!r}.")
    rng = resolve_rng(random_state)
    x = rng.uniform(-1.0, 1.0, n_units)
    above = (x >= 0).astype(float)
    treatment = None
    shift = above
    if fuzzy:
        treatment = (rng.uniform(size=n_units) < 0.1 + 0.8 * above).astype(float)
        shift = treatment
    noise = rng.standard_normal((n_units, n_draws))
    if dgp == 1:
        scale = np.maximum(np.abs(1.0 + x), 0.1)
        Y = (5.0 + 5.0 * x + delta * shift)[:, None] + scale[:, None] * noise
    else:
        rate = np.clip(1.0 + 0.5 * x, 0.5, 1.5)
        expo = rng.standard_exponential((n_units, n_draws)) / rate[:, None]
        Y = (2.0 * x + delta * shift)[:, None] + noise + 2.0 * expo
    return x, list(Y), treatment


def make_r3d_two_level(n_units=500, n_draws=50, *, delta=0.0, delta_rate=0.0,
                       random_state=None):
    r"""The paper's two-level design (DGP 2): random unit means and rates.

    :math:`X_i \sim U(-1, 1)`, :math:`\mu_i = U(-5, 5) + 2X_i`,
    :math:`\lambda_i \sim U(0.5, 1.5)`, :math:`D_i = 1\{X_i \ge 0\}` and
    :math:`Y_{ij} = N(\mu_i + \Delta D_i, 1) + 2\,\mathrm{Exp}(\text{rate } \lambda_i +
    \Delta_\lambda D_i)`. The true effect is :func:`r3d_two_level_effect`.

    Returns
    -------
    x : numpy.ndarray of shape (n_units,)
    Y : list of numpy.ndarray
    """
    n_units = check_scalar(n_units, name="n_units", lower=2, integer=True)
    n_draws = check_scalar(n_draws, name="n_draws", lower=1, integer=True)
    delta = check_scalar(delta, name="delta")
    delta_rate = check_scalar(delta_rate, name="delta_rate", lower=0.0)
    rng = resolve_rng(random_state)
    x = rng.uniform(-1.0, 1.0, n_units)
    above = (x >= 0).astype(float)
    mu = rng.uniform(-5.0, 5.0, n_units) + 2.0 * x + delta * above
    rate = rng.uniform(0.5, 1.5, n_units) + delta_rate * above
    Y = (mu[:, None] + rng.standard_normal((n_units, n_draws))
         + 2.0 * rng.standard_exponential((n_units, n_draws)) / rate[:, None])
    return x, list(Y)


def r3d_two_level_effect(quantiles, *, delta=0.0, delta_rate=0.0, n_nodes=40):
    r"""True :math:`\tau(q)` of :func:`make_r3d_two_level`.

    :math:`\Delta + E_\lambda[Q_{N(0,1) + 2\mathrm{Exp}(\lambda + \Delta_\lambda)}(q)
    - Q_{N(0,1) + 2\mathrm{Exp}(\lambda)}(q)]`, :math:`\lambda \sim U(0.5, 1.5)`, by
    Gauss-Legendre quadrature over :math:`\lambda` (the exponentially modified normal
    quantile, ``scipy.stats.exponnorm`` with :math:`K = 2/\text{rate}`).
    """
    from scipy.stats import exponnorm

    q = np.asarray(quantiles, dtype=float)
    nodes, weights = np.polynomial.legendre.leggauss(n_nodes)
    rates = 1.0 + 0.5 * nodes
    gap = (exponnorm.ppf(q[:, None], 2.0 / (rates + delta_rate))
           - exponnorm.ppf(q[:, None], 2.0 / rates))
    return delta + gap @ weights / 2.0


# ==== expectations — section owned by the expectations family ====


def cantilever_beam(X):
    r"""Tip displacement of a cantilever beam (m), the aISCV test model.

    .. math:: D = \frac{4L^3}{E\,10^9\,w\,t}
              \sqrt{\Bigl(\frac{F_X}{w^2}\Bigr)^2 + \Bigl(\frac{F_Y}{t^2}\Bigr)^2}

    Parameters
    ----------
    X : array-like of shape (n, 6)
        Columns :math:`F_X, F_Y` (loads), E (Young's modulus in GPa), w, t, L.

    Returns
    -------
    numpy.ndarray of shape (n,)
    """
    X = np.asarray(X, dtype=float)
    fx, fy, young, w, t, length = X.T
    return (4.0 * length**3 / (young * 1e9 * w * t)
            * np.sqrt((fx / w**2) ** 2 + (fy / t**2) ** 2))


def lognormal_law(mean, cov):
    """Frozen scipy lognormal with the given mean and coefficient of variation."""
    from scipy import stats

    sigma2 = np.log1p(cov**2)
    return stats.lognorm(np.sqrt(sigma2), scale=mean * np.exp(-0.5 * sigma2))


CANTILEVER_BEAM_BOX = np.array([[525, 575], [425, 475], [175, 225], [0.06, 0.07],
                                [0.09, 0.1], [4, 5], [-0.6, 0], [0, 0.5], [0, 0.5]])


def cantilever_beam_law(params):
    r"""The beam input law of a parameter vector :math:`\delta \in \mathbb R^9`.

    :math:`F_X, F_Y, E` lognormal with means :math:`\delta_{1..3}` and CoVs 0.08, 0.08,
    0.06; :math:`w, t, L` normal with means :math:`\delta_{4..6}` and CoV 0.1, with
    correlations :math:`\rho(w,t)=\delta_7`, :math:`\rho(w,L)=\delta_8`,
    :math:`\rho(t,L)=\delta_9` (a Gaussian copula).

    Raises
    ------
    ValueError
        If the correlations do not form a positive-definite matrix.
    """
    from scipy import stats

    from statlogit.estimators._expectations_laws import GaussianCopula

    p = np.asarray(params, dtype=float)
    marginals = [lognormal_law(p[0], 0.08), lognormal_law(p[1], 0.08),
                 lognormal_law(p[2], 0.06)]
    marginals += [stats.norm(p[k], 0.1 * p[k]) for k in (3, 4, 5)]
    corr = np.eye(6)
    for (r, s), rho in zip([(3, 4), (3, 5), (4, 5)], p[6:9], strict=True):
        corr[r, s] = corr[s, r] = rho
    return GaussianCopula(marginals, corr)


def make_cantilever_beam_laws(n_laws=100, *, random_state=0):
    r"""The aISCV family of beam input laws: parameter vectors from a Latin hypercube.

    :math:`\delta` is drawn by Latin hypercube sampling in
    :data:`CANTILEVER_BEAM_BOX`; a vector whose correlations are not positive
    definite gets its three correlations redrawn uniformly in the box until they are.

    Returns
    -------
    laws : list of GaussianCopula
    params : numpy.ndarray of shape (n_laws, 9)
    """
    from scipy.stats import qmc

    n_laws = check_scalar(n_laws, name="n_laws", lower=1, integer=True)
    rng = resolve_rng(random_state)
    low, high = CANTILEVER_BEAM_BOX.T
    params = low + (high - low) * qmc.LatinHypercube(d=9, rng=rng).random(n_laws)
    laws = []
    for row in params:
        while True:
            try:
                laws.append(cantilever_beam_law(row))
                break
            except ValueError:
                row[6:] = rng.uniform(low[6:], high[6:])
    return laws, params


def cantilever_beam_nominal_marginals():
    """Independent nominal beam inputs of the Sobol' case (F_X, F_Y, E, w, t, L)."""
    from scipy import stats

    return [lognormal_law(556.8, 0.08), lognormal_law(453.6, 0.08),
            lognormal_law(200.0, 0.06), stats.norm(0.062, 0.0062),
            stats.norm(0.0987, 0.00987), stats.norm(4.29, 0.429)]


CANTILEVER_BEAM_SOBOL_PAPER = np.array([0.0240, 0.0006, 0.0166, 0.4276, 0.0732, 0.4021])


def ishigami(X, a=7.0, b=0.1):
    r"""Ishigami function :math:`\sin x_1 + a\sin^2 x_2 + b x_3^4 \sin x_1`.

    Inputs are independent uniform on :math:`[-\pi, \pi]`.
    """
    X = np.asarray(X, dtype=float)
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def ishigami_first_order(a=7.0, b=0.1):
    """Exact first-order Sobol' indices of :func:`ishigami`."""
    variance = a**2 / 8 + b * np.pi**4 / 5 + b**2 * np.pi**8 / 18 + 0.5
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    return np.array([v1, a**2 / 8, 0.0]) / variance


# ==== sketched — section owned by the sketched family ====


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
    if design not in makers:
        raise ValueError(f"design must be one of {sorted(makers)}; got {design!r}.")
    return makers[design](n_samples, n_features, random_state=random_state)


def _sketch_instance_shape(n_samples, n_features):
    n = check_scalar(n_samples, name="n_samples", lower=2, integer=True)
    d = check_scalar(n_features, name="n_features", lower=1, integer=True)
    if n < 2 * d:
        raise ValueError(
            f"n_samples={n} must be at least 2 * n_features={2 * d} for a tall design; "
            "increase n_samples."
        )
    return n, d
