r"""Manipulation test of the running variable: local polynomial density discontinuity.

Cattaneo, Jansson and Ma (2020), "Simple local polynomial density estimators", JASA.
With :math:`x_{(1)} \le \dots \le x_{(n)}` sorted and the empirical cdf at the data
:math:`\hat F_i = (i - 1)/(n - 1)`, on each side of the cutoff :math:`c` a local
polynomial of order :math:`q` in :math:`u = (x - c)/h_\pm` is fitted to
:math:`\hat F_i` with weights :math:`K(u)/h_\pm` (side-specific polynomials, one
weighted least squares over both sides); the slope coefficient divided by
:math:`h_\pm` estimates the density :math:`f_\pm(c)`. The test statistic is

.. math::

   T = \frac{\hat f_+(c) - \hat f_-(c)}{\sqrt{\hat V_+ + \hat V_- - 2\hat C}},

with the jackknife covariance :math:`\hat V = H^{-1} S^{-1} L'L S^{-1} H^{-1}`,
:math:`S = X_p' W X_p`, :math:`L_i = \sum_{k > i} (W X_p)_k / (n - 1)` (rows in sorted
order), and a two-sided normal p-value. The density estimator has order :math:`p`
and the statistic uses :math:`q = p + 1` (robust bias correction), as ``rddensity``
does; tied values (mass points) share the cdf value of their last occurrence and the
jackknife row of their first.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from statlogit._validation import as_float_array, check_scalar
from statlogit.rdd._fit import KERNEL_CODES, kernel_weights
from statlogit.rdd._inputs import running_variable_name

__all__ = ["DensityTestResult", "density_test"]

# Silverman's normal-reference factors (second-order kernels) for the default
# bandwidth, and the smallest number of observations per side it must hold.
ROT_FACTOR = {"triangular": 2.576, "epanechnikov": 2.345, "uniform": 1.843}
MIN_LOCAL = 20


@dataclass(frozen=True)
class DensityTestResult:
    """Result of :func:`density_test`.

    Attributes
    ----------
    statistic, p_value : float
        Robust bias-corrected t statistic and its two-sided normal p-value.
    density_below, density_above, difference, std_error : float
        :math:`\\hat f_-(c)`, :math:`\\hat f_+(c)` (order ``p + 1`` fit), their
        difference and its jackknife standard error.
    std_error_below, std_error_above : float
        Jackknife standard errors of the two densities.
    bandwidth : tuple of float
        ``(h_below, h_above)``.
    n_below, n_above, n_effective_below, n_effective_above : int
        Observations on each side, in total and inside the bandwidth.
    cutoff : float
    p : int
    kernel : str
    x : numpy.ndarray
        The data (for :meth:`plot`).
    name : str or None
        Name of the running variable (a Series' name or a one-column DataFrame's
        column), the plot's x-axis label (``"running variable x"`` when None).
    """

    statistic: float
    p_value: float
    density_below: float
    density_above: float
    difference: float
    std_error: float
    std_error_below: float
    std_error_above: float
    bandwidth: tuple
    n_below: int
    n_above: int
    n_effective_below: int
    n_effective_above: int
    cutoff: float
    p: int
    kernel: str
    x: np.ndarray
    name: str | None = None

    def plot(self, ax=None, bins=40, alpha=0.05):
        """Histogram of the running variable with the local density fits (order
        ``p + 1``) and the pointwise ``1 - alpha`` intervals of the densities at the
        cutoff.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
        ax.hist(self.x, bins=bins, density=True, color="0.8", label="histogram of x")
        z = stats.norm.ppf(1 - alpha / 2)
        sides = ((self.density_below, self.std_error_below, self.bandwidth[0], -1,
                  "below"),
                 (self.density_above, self.std_error_above, self.bandwidth[1], 1,
                  "above"))
        for value, se, h, sign, name in sides:
            grid = self.cutoff + sign * np.linspace(0, h, 50)
            curve = _local_density(self.x, self.cutoff, grid, h, sign, self.p + 1,
                                   self.kernel)
            line, = ax.plot(grid, curve, lw=1.5, label=f"local fit {name}")
            ax.errorbar(self.cutoff + sign * 0.02 * h, value, yerr=z * se, fmt="o",
                        color=line.get_color(), capsize=3)
        ax.axvline(self.cutoff, color="k", lw=0.8)
        ax.set(xlabel=self.name or "running variable x", ylabel="density",
               title=f"density test: T = {self.statistic:.2f}, p = {self.p_value:.3g}")
        # headroom and a fixed place: loc="best" over the histogram's many bars is
        # slow (matplotlib warns when it takes over a second)
        ax.set_ylim(top=ax.get_ylim()[1] * 1.5)
        ax.legend(fontsize=8, loc="upper center", ncols=2)
        return ax


def _bandwidths(bandwidth, xc, p, kernel, unit):
    if bandwidth is None:
        spread = np.std(xc, ddof=1)
        iqr = np.subtract(*np.percentile(xc, [75, 25])) / 1.349
        if iqr > 0:
            spread = min(spread, iqr)
        h = ROT_FACTOR[kernel] * spread * xc.size ** (-1.0 / (2 * p + 1))
        need = MIN_LOCAL + p + 1
        for side in (np.abs(xc[xc < 0]), xc[xc >= 0]):
            h = max(h, np.sort(side)[min(need, side.size) - 1])
        return h, h
    h = as_float_array(np.atleast_1d(bandwidth), name="bandwidth", ndim=1)
    if h.size not in (1, 2) or np.any(h <= 0):
        raise ValueError("bandwidth must be one positive number or a pair (below, "
                         f"above); got {bandwidth!r}.")
    return float(h[0]) / unit, float(h[-1]) / unit


def _design(x, h_below, h_above, order, kernel):
    """Side-specific polynomial columns (below, above interleaved) and weights."""
    below = x < 0
    h = np.where(below, h_below, h_above)
    u = x / h
    w = kernel_weights(u, KERNEL_CODES[kernel]) / h
    powers = u[:, None] ** np.arange(order + 1)[None, :]
    design = np.zeros((x.size, 2 * order + 2))
    design[:, 0::2] = np.where(below[:, None], powers, 0.0)
    design[:, 1::2] = np.where(below[:, None], 0.0, powers)
    return design, w


def _local_density(x, cutoff, grid, h, sign, p, kernel):
    """The fitted cdf polynomial's derivative on one side (for the plot)."""
    xs = np.sort(x) - cutoff
    F = np.arange(xs.size) / (xs.size - 1)
    side = (xs >= 0) if sign > 0 else (xs < 0)
    keep = side & (np.abs(xs) <= h)
    u = xs[keep] / h
    w = kernel_weights(u, KERNEL_CODES[kernel])
    R = u[:, None] ** np.arange(p + 1)[None, :]
    coef = np.linalg.lstsq(R * np.sqrt(w)[:, None], F[keep] * np.sqrt(w), rcond=None)[0]
    v = (grid - cutoff) / h
    slope = sum(k * coef[k] * v ** (k - 1) for k in range(1, p + 1))
    return slope / h


def density_test(x, cutoff=0.0, *, bandwidth=None, p=2, kernel="triangular"):
    r"""Local polynomial density discontinuity (manipulation) test at the cutoff.

    .. important::

       The **default bandwidth is a normal-reference rule of thumb, not**
       ``rddensity``'s **MSE-optimal selector** (``rdbwdensity``). The two can differ
       a lot, and so can the p-values: for 1000 standard normal draws
       (``default_rng(1)``) the rule gives :math:`h = 0.637` on both sides and
       :math:`p = 0.339`, ``rddensity``'s defaults :math:`h = (0.928, 1.009)` and
       :math:`p = 0.073`. At equal bandwidths the two agree (statistic and p-value to
       :math:`10^{-9}`): for ``rddensity``'s choice pass its ``rdbwdensity``
       bandwidths as ``bandwidth=(h_left, h_right)``.

    Default rule: :math:`h = c_K \min(s, \mathrm{IQR}/1.349)\, n^{-1/(2p+1)}` on
    both sides, with Silverman's factor :math:`c_K` (2.576 triangular, 2.345
    Epanechnikov, 1.843 uniform) and :math:`s` the standard deviation of ``x``, widened
    where needed so each side holds at least ``20 + p + 1`` observations.

    Parameters
    ----------
    x : array-like of shape (n,)
        Running variable.
    cutoff : float, default=0.0
    bandwidth : float or (float, float), optional
        One bandwidth or ``(below, above)``. Default: the normal-reference rule above
        (not ``rddensity``'s MSE selector; pass its ``rdbwdensity`` bandwidths for
        that).
    p : int, default=2
        Order of the density estimator; the statistic uses order ``p + 1``.
    kernel : {"triangular", "epanechnikov", "uniform"}, default="triangular"

    Returns
    -------
    DensityTestResult
    """
    if kernel not in KERNEL_CODES:
        raise ValueError(f"kernel must be one of {sorted(KERNEL_CODES)}; got {kernel!r}.")
    p = check_scalar(p, name="p", lower=1, upper=6, integer=True)
    c = check_scalar(cutoff, name="cutoff")
    arr = np.asarray(x)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    xs = np.sort(as_float_array(arr, name="x", ndim=1, min_samples=2))
    n = xs.size
    with np.errstate(over="ignore", invalid="ignore"):
        xc = xs - c
    if not np.all(np.isfinite(xc)):
        raise ValueError("x - cutoff overflows the float range; rescale x and cutoff.")
    n_below = int(np.sum(xc < 0))
    if n_below == 0 or n_below == n:
        raise ValueError("x has no observation on one side of the cutoff; the cutoff "
                         "must lie inside the range of x.")
    # exact power-of-two rescaling: densities scale by 1/unit, the statistic not at all
    unit = float(np.exp2(np.round(np.log2(np.max(np.abs(xc))))))
    xc = xc / unit
    h_below, h_above = _bandwidths(bandwidth, xc, p, kernel, unit)
    q = p + 1
    F = np.arange(n) / (n - 1)
    unique_last = np.r_[xc[1:] != xc[:-1], True]
    last = np.flatnonzero(unique_last)
    freq = np.diff(np.r_[-1, last])
    mass_points = last.size != n
    if mass_points:
        F = np.repeat(F[last], freq)
    window = (xc >= -h_below) & (xc <= h_above)
    xw, Fw = xc[window], F[window]
    nlh = int(np.sum(xw < 0))
    nrh = xw.size - nlh
    if min(nlh, nrh) < q + 1 or np.unique(xw[xw < 0]).size < q + 1 \
            or np.unique(xw[xw >= 0]).size < q + 1:
        raise ValueError(f"the bandwidth leaves fewer than {q + 1} distinct observations "
                         f"on a side ({nlh} below, {nrh} above); widen bandwidth.")
    design, w = _design(xw, h_below, h_above, q, kernel)
    weighted = design * w[:, None]
    gram_inv = np.linalg.inv(weighted.T @ design)
    hscale = np.array([[1.0 / h_below ** k, 1.0 / h_above ** k]
                       for k in range(q + 1)]).ravel()
    coef = (gram_inv @ (weighted.T @ Fw)) * hscale
    f_below, f_above = coef[2], coef[3]
    # jackknife: L_i = sum over later rows (sorted order) of W X_p, / (n - 1)
    tail = np.cumsum(weighted[::-1], axis=0)[::-1] / (n - 1)
    L = np.vstack([tail[1:], np.zeros((1, tail.shape[1]))])
    if mass_points:
        starts = np.r_[True, xw[1:] != xw[:-1]]
        first = np.flatnonzero(starts)
        counts = np.diff(np.r_[first, xw.size])
        L = np.repeat(L[first], counts, axis=0)
    V = (gram_inv @ (L.T @ L) @ gram_inv) * np.outer(hscale, hscale)
    var = V[2, 2] + V[3, 3] - 2 * V[2, 3]
    if not var > 0:
        raise ValueError("the jackknife variance of the density difference is not "
                         "positive; widen bandwidth.")
    statistic = float((f_above - f_below) / math.sqrt(var))
    # back to the units of x (densities per unit of x): divide by unit
    se = math.sqrt(var) / unit
    f_below, f_above = f_below / unit, f_above / unit
    return DensityTestResult(
        statistic=statistic, p_value=float(2 * stats.norm.sf(abs(statistic))),
        density_below=float(f_below), density_above=float(f_above),
        difference=float(f_above - f_below), std_error=se,
        std_error_below=math.sqrt(max(V[2, 2], 0.0)) / unit,
        std_error_above=math.sqrt(max(V[3, 3], 0.0)) / unit,
        bandwidth=(float(h_below * unit), float(h_above * unit)), n_below=n_below,
        n_above=n - n_below, n_effective_below=nlh, n_effective_above=nrh,
        cutoff=c, p=p, kernel=kernel, x=xs, name=running_variable_name(x))
