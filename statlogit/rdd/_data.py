"""R3D's data-generating processes (the R package's DGPs and the two-level design).

Every generator takes ``random_state`` (None, int, SeedSequence or Generator); they are
re-exported by :mod:`statlogit.datasets`.
"""


import numpy as np

from statlogit._validation import check_scalar, resolve_rng


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
