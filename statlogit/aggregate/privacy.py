r"""Label-differentially-private bag means and the privacy-risk trade-off.

Mechanism (Javanmard et al., 2024, Algorithm 1, with the scale corrected): clip every
response to :math:`[lo, hi]`, average within bags, add independent Laplace noise of
scale :math:`b_a = (hi - lo)/(k_a\varepsilon)` to the mean of bag :math:`a`.

Why this scale. Under label-DP two datasets are neighbours when one response is
replaced. Inside the clip range a response can move by :math:`hi - lo`, so the mean of
its bag moves by at most :math:`\Delta_a = (hi - lo)/k_a` (the L1 sensitivity; the
other bags do not change). The Laplace mechanism with scale :math:`\Delta_a/\varepsilon`
is :math:`\varepsilon`-DP, and since every individual sits in exactly one bag, parallel
composition keeps :math:`\varepsilon` overall. The paper clips to
:math:`\pm C\sqrt{\log n}` and prints the scale :math:`C\sqrt{\log n}/(k\varepsilon)`,
half of :math:`\Delta/\varepsilon = 2C\sqrt{\log n}/(k\varepsilon)`: with the printed
scale the privacy-loss ratio reaches :math:`e^{2\varepsilon}`, i.e. only
:math:`2\varepsilon`-DP. The bags must not depend on the responses.

The Laplace noise adds :math:`2b^2` to the variance of each bag mean; the
:math:`\rho`-estimator is linear in it, so (:func:`aggregate_risk`) its risk is
:math:`B + (\sigma^2 + 2kb^2)\bar V`.
"""

import numpy as np

from statlogit._validation import as_float_array, check_scalar, resolve_rng
from statlogit.aggregate._bags import encode_bags
from statlogit.aggregate.theory import aggregate_risk

__all__ = ["laplace_bag_scale", "laplace_bag_mechanism", "private_aggregate_risk",
           "optimal_bag_size"]


def _check_clip(clip):
    try:
        lo, hi = (float(c) for c in clip)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"clip must be a pair (lo, hi) of numbers; got {clip!r}.") from exc
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"clip must satisfy -inf < lo < hi < inf; got {clip!r}.")
    return lo, hi


def _check_epsilon(epsilon):
    return check_scalar(epsilon, name="epsilon", lower=0.0, include_lower=False)


def laplace_bag_scale(bag_sizes, epsilon, clip):
    r"""Laplace scale :math:`b_a = (hi - lo)/(k_a\varepsilon)` for bags of sizes ``k_a``.

    Parameters
    ----------
    bag_sizes : array-like of int
        Bag sizes :math:`k_a \ge 1`.
    epsilon : float
        Privacy budget :math:`\varepsilon > 0`.
    clip : tuple of float
        Clip range ``(lo, hi)``.

    Returns
    -------
    numpy.ndarray
    """
    epsilon = _check_epsilon(epsilon)
    lo, hi = _check_clip(clip)
    if np.ndim(bag_sizes) == 0:
        sizes = as_float_array([bag_sizes], name="bag_sizes", ndim=1)[0]
    else:
        sizes = as_float_array(bag_sizes, name="bag_sizes", ndim=1)
    if np.any(sizes < 1):
        raise ValueError("bag_sizes must all be at least 1.")
    return (hi - lo) / (sizes * epsilon)


def laplace_bag_mechanism(y, bags, epsilon, *, clip, random_state=None):
    r"""Release :math:`\varepsilon`-label-DP bag means of clipped responses.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Individual responses (never released).
    bags : array-like of shape (n_samples,)
        Bag label of every instance, chosen independently of ``y``.
    epsilon : float
        Privacy budget :math:`\varepsilon > 0`.
    clip : tuple of float
        Clip range ``(lo, hi)``; the noise scale grows with ``hi - lo``.
    random_state : None, int, SeedSequence or Generator
        Source of the Laplace noise.

    Returns
    -------
    numpy.ndarray of shape (n_samples,)
        The noisy mean of each instance's bag, repeated for every member of the bag
        (one draw per bag), so it can be passed as ``y`` with the same ``bags`` to
        :class:`AggregateRegressor` whatever the bag sizes, and split by
        scikit-learn's cross-validation tools.
    """
    lo, hi = _check_clip(clip)
    epsilon = _check_epsilon(epsilon)
    values = as_float_array(y, name="y", ndim=1)
    coded = encode_bags(bags, values.shape[0], min_bags=1)
    means = coded.means(np.clip(values, lo, hi))
    scale = laplace_bag_scale(coded.sizes, epsilon, (lo, hi))
    noisy = means + resolve_rng(random_state).laplace(0.0, scale)
    return noisy[coded.codes]


def private_aggregate_risk(psi, k, rho, *, epsilon, n_samples, clip_constant=2.2,
                           snr=1.0, sigma2=1.0):
    r"""Asymptotic risk of :math:`\hat\theta_\rho` fitted on private bag means.

    Responses are clipped to :math:`\pm C\sqrt{\log n}` (the paper's choice; clipping
    is then inactive with high probability when :math:`C^2 > 2(r^2 + \sigma^2)`), so
    the Laplace scale is :math:`b = 2C\sqrt{\log n}/(k\varepsilon)` and

    .. math:: \mathrm{Risk}_{DP} = B + \Bigl(\sigma^2 + \frac{8C^2\log n}{k
              \varepsilon^2}\Bigr)\bar V .

    Parameters
    ----------
    psi, k, rho : float or array-like
        As in :func:`aggregate_risk`.
    epsilon : float
        Privacy budget.
    n_samples : int
        :math:`n` (enters through :math:`\log n`).
    clip_constant : float
        :math:`C`.
    snr, sigma2 : float
        As in :func:`aggregate_risk`.

    Returns
    -------
    RiskDecomposition
    """
    epsilon = _check_epsilon(epsilon)
    n_samples = check_scalar(n_samples, name="n_samples", lower=2, integer=True)
    C = check_scalar(clip_constant, name="clip_constant", lower=0.0, include_lower=False)
    half_width = C * np.sqrt(np.log(n_samples))
    scale = laplace_bag_scale(np.maximum(k, 1.0), epsilon, (-half_width, half_width))
    with np.errstate(over="ignore"):
        noise_var = 2.0 * np.asarray(scale) ** 2
    if not np.all(np.isfinite(noise_var)):
        raise ValueError(f"epsilon={epsilon:g} is too small: the Laplace noise variance "
                         "overflows float64; use a larger epsilon.")
    return aggregate_risk(psi, k, rho, snr=snr, sigma2=sigma2, dp_noise_var=noise_var)


def optimal_bag_size(psi, rho, *, epsilon, n_samples, clip_constant=2.2, snr=1.0,
                     sigma2=1.0, max_bag_size=10):
    r"""The bag size minimising the finite-:math:`n` private risk.

    Evaluates :func:`private_aggregate_risk` for :math:`k = 1, \dots,`
    ``max_bag_size``. Larger bags average away more Laplace noise (the noise variance
    per instance falls like :math:`1/k`) but leave fewer bags and more bias; at
    :math:`\rho = 0` bags of size :math:`k \ge \psi` are infeasible (infinite risk).

    Parameters
    ----------
    psi, rho : float
        :math:`\psi = n/d` and :math:`\rho`.
    epsilon, n_samples, clip_constant, snr, sigma2
        As in :func:`private_aggregate_risk`.
    max_bag_size : int
        Largest bag size considered.

    Returns
    -------
    k : int
        The optimal bag size.
    risks : numpy.ndarray of shape (max_bag_size,)
        The risk for ``k = 1 .. max_bag_size``.
    """
    max_bag_size = check_scalar(max_bag_size, name="max_bag_size", lower=1, integer=True)
    sizes = np.arange(1, max_bag_size + 1, dtype=float)
    risks = np.asarray(private_aggregate_risk(
        psi, sizes, rho, epsilon=epsilon, n_samples=n_samples,
        clip_constant=clip_constant, snr=snr, sigma2=sigma2).risk)
    return int(sizes[np.argmin(risks)]), risks
