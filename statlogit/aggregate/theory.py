r"""Asymptotic risk of the :math:`\rho`-estimator (Gaussian features, proportional regime).

Setting: :math:`x_i \sim N(0, I_d)`, :math:`y_i = x_i^\top\theta_0 + \varepsilon_i`,
:math:`\varepsilon_i \sim N(0, \sigma^2)`, random bags of equal size :math:`k`,
:math:`n, d \to \infty` with :math:`n/d \to \psi`. Write :math:`\varphi_1 = \psi/k`,
:math:`\varphi_2 = \psi(1 - 1/k)`, :math:`r^2 = \lVert\theta_0\rVert^2 = \mathrm{SNR}\,
\sigma^2`. The fixed point :math:`s > 0` solves

.. math:: \frac1s = \frac{\varphi_1}{1+s} + \frac{\rho\varphi_2}{1+\rho s},

and with :math:`\kappa = \varphi_1 s/(1+s)` and :math:`D = s^{-2} - \varphi_1/(1+s)^2
- \rho^2\varphi_2/(1+\rho s)^2`,

.. math::

    B = r^2\Bigl[(1-\kappa)^2 + \frac{\varphi_1(1-\kappa)^2/(1+s)^2
        + \rho^2\varphi_2\kappa^2/(1+\rho s)^2}{D}\Bigr], \qquad
    V = \sigma^2 \frac{\varphi_1}{(1+s)^2 D},

risk :math:`= B + V` (excess prediction risk :math:`E\lVert\hat\theta_\rho -
\theta_0\rVert^2`). These formulas were derived for statlogit (the paper's Theorem 1
states them through a different parametrisation) and agree with the paper's closed
forms at :math:`\rho = 0` (:math:`V = \sigma^2 k/(\psi - k)`, no bias) and
:math:`\rho = 1` (:math:`V = \sigma^2/(k(\psi-1))`), and with Monte Carlo.
"""

from typing import NamedTuple

import numpy as np
import scipy.optimize

from statlogit._validation import check_scalar

__all__ = ["RiskDecomposition", "aggregate_risk", "optimal_rho",
           "instance_vs_bag_snr_threshold"]


class RiskDecomposition(NamedTuple):
    """Asymptotic quantities of the :math:`\\rho`-estimator (floats or arrays).

    Attributes
    ----------
    s : fixed point :math:`s` (the limit of :math:`\\operatorname{tr}(A_1+\\rho A_2)^{-1}`)
    kappa : shrinkage :math:`\\theta_0^\\top\\hat\\theta/\\lVert\\theta_0\\rVert^2`
    bias : squared bias :math:`B`
    variance : variance :math:`V` (with the privacy noise when given)
    risk : :math:`B + V`
    """

    s: object
    kappa: object
    bias: object
    variance: object
    risk: object


def _fixed_point(phi1, phi2, rho):
    if rho == 0.0:
        return 1.0 / (phi1 - 1.0) if phi1 > 1.0 else np.inf

    def excess(s):
        return phi1 * s / (1.0 + s) + rho * phi2 * s / (1.0 + rho * s) - 1.0

    upper = 1.0
    while excess(upper) < 0.0:
        upper *= 2.0
    return scipy.optimize.brentq(excess, 0.0, upper, xtol=1e-15, rtol=1e-15)


def _unit_terms(psi, k, rho):
    """(s, kappa, bias per unit r^2, variance per unit sigma^2) for scalars."""
    phi1, phi2 = psi / k, psi * (1.0 - 1.0 / k)
    s = _fixed_point(phi1, phi2, rho)
    if not np.isfinite(s):
        return np.inf, 1.0, 0.0, np.inf
    try:
        kappa = phi1 * s / (1.0 + s)
        shrink = rho**2 * phi2 / (1.0 + rho * s) ** 2
        D = 1.0 / s**2 - phi1 / (1.0 + s) ** 2 - shrink
        bias = (1.0 - kappa) ** 2 + (phi1 * (1.0 - kappa) ** 2 / (1.0 + s) ** 2
                                     + shrink * kappa**2) / D
        variance = phi1 / ((1.0 + s) ** 2 * D)
    except (OverflowError, ZeroDivisionError):
        bias = variance = np.nan
    if not (np.isfinite(bias) and np.isfinite(variance) and variance >= 0):
        raise ValueError(
            f"The risk formulas cannot be resolved in double precision at psi={psi:g}, "
            f"k={k:g}, rho={rho:g} (fixed point s={s:.3g}): move rho away from 0 (or "
            "use rho=0), or psi/k away from 1.")
    return s, kappa, bias, variance


#: Largest psi, k and rho at which the fixed-point formulas keep full precision.
DESIGN_MAX = 1e8


def _check_design(psi, k, rho):
    psi = check_scalar(psi, name="psi", lower=1.0, include_lower=False, upper=DESIGN_MAX)
    k = check_scalar(k, name="k", lower=1.0, upper=DESIGN_MAX)
    rho = check_scalar(rho, name="rho", lower=0.0, upper=DESIGN_MAX)
    return psi, k, rho


def aggregate_risk(psi, k, rho, *, snr=1.0, sigma2=1.0, dp_noise_var=0.0):
    r"""Asymptotic squared bias, variance and risk of :math:`\hat\theta_\rho`.

    Parameters
    ----------
    psi : float or array-like
        :math:`\psi = n/d > 1`.
    k : float or array-like
        Bag size :math:`k \ge 1`.
    rho : float or array-like
        :math:`\rho \ge 0`. At :math:`\rho = 0` the estimator needs
        :math:`\psi > k`; otherwise its variance (and risk) is ``inf``.
    snr : float
        :math:`\lVert\theta_0\rVert^2/\sigma^2`.
    sigma2 : float
        Noise variance :math:`\sigma^2`.
    dp_noise_var : float or array-like
        Variance added to every released bag mean by a privacy mechanism
        (:math:`2b^2` for Laplace noise of scale :math:`b`). The estimator is linear
        in it, so it enters as :math:`\sigma^2_{eff} = \sigma^2 + k\,
        \mathrm{dp\_noise\_var}` in the variance.

    Returns
    -------
    RiskDecomposition
        Fields broadcast over ``psi``, ``k``, ``rho`` and ``dp_noise_var`` (floats
        for scalar input).

    Examples
    --------
    >>> from statlogit import aggregate_risk
    >>> round(float(aggregate_risk(10, 5, 0.1).risk), 3)
    0.435
    """
    snr = check_scalar(snr, name="snr", lower=0.0)
    sigma2 = check_scalar(sigma2, name="sigma2", lower=0.0)
    psi, k, rho, noise = np.broadcast_arrays(
        np.asarray(psi, float), np.asarray(k, float), np.asarray(rho, float),
        np.asarray(dp_noise_var, float))
    if not np.all(np.isfinite(noise) & (noise >= 0)):
        raise ValueError("dp_noise_var must be finite and >= 0.")
    fields = np.zeros((5,) + psi.shape)
    for idx in np.ndindex(psi.shape):
        p, kk, r = _check_design(float(psi[idx]), float(k[idx]), float(rho[idx]))
        s, kappa, bias, var = _unit_terms(p, kk, r)
        variance = (sigma2 + kk * noise[idx]) * var
        bias = snr * sigma2 * bias
        fields[(slice(None),) + idx] = (s, kappa, bias, variance, bias + variance)
    return RiskDecomposition(*(f if f.ndim else float(f) for f in fields))


def _scalar(value, name):
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must be a single number here; got shape "
                         f"{np.shape(value)} (loop over values, or use aggregate_risk).")
    return value


def optimal_rho(psi, k, *, snr=1.0, sigma2=1.0, dp_noise_var=0.0, rho_max=1.0,
                n_grid=201):
    r"""The risk-minimising :math:`\rho \in [0, \rho_{max}]`.

    A grid search (``n_grid`` points) refined by a bounded scalar minimisation
    around the best grid point.

    Parameters
    ----------
    psi, k : float
        :math:`\psi = n/d` and the bag size.
    snr, sigma2, dp_noise_var : float
        As in :func:`aggregate_risk`.
    rho_max : float
        Upper end of the search interval.
    n_grid : int
        Grid points.

    Returns
    -------
    rho : float
    risk : float
    """
    psi, k, _ = _check_design(_scalar(psi, "psi"), _scalar(k, "k"), 0.0)
    rho_max = check_scalar(rho_max, name="rho_max", lower=0.0, include_lower=False,
                           upper=DESIGN_MAX)
    n_grid = check_scalar(n_grid, name="n_grid", lower=3, integer=True)
    grid = np.linspace(0.0, rho_max, n_grid)

    def risk(r):
        return aggregate_risk(psi, k, r, snr=snr, sigma2=sigma2,
                              dp_noise_var=dp_noise_var).risk

    values = risk(grid)
    best = int(np.argmin(values))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, n_grid - 1)]
    refined = scipy.optimize.minimize_scalar(risk, bounds=(lo, hi), method="bounded",
                                             options={"xatol": 1e-10})
    if refined.fun < values[best]:
        return float(refined.x), float(refined.fun)
    return float(grid[best]), float(values[best])


def instance_vs_bag_snr_threshold(psi, k):
    r"""The SNR below which the instance-level loss beats the bag-level loss.

    From the closed forms at :math:`\rho = 1` and :math:`\rho = 0`, the instance-level
    risk is smaller iff

    .. math:: \mathrm{SNR} < \frac{k(\psi(k+1) - k)}{(\psi - k)(k\psi - k - \psi + 2)}
              \qquad (\psi > k).

    For :math:`\psi \le k` the bag-level estimator does not exist and the threshold is
    ``inf``.

    Parameters
    ----------
    psi : float
        :math:`\psi = n/d > 1`.
    k : float
        Bag size, at least 2 (with :math:`k = 1` the two losses coincide).

    Returns
    -------
    float
    """
    psi = check_scalar(psi, name="psi", lower=1.0, include_lower=False, upper=DESIGN_MAX)
    k = check_scalar(k, name="k", lower=2.0, upper=DESIGN_MAX)
    if psi <= k:
        return np.inf
    return k * (psi * (k + 1) - k) / ((psi - k) * (k * psi - k - psi + 2))
