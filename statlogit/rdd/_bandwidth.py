r"""R3D bandwidth selection: three-step MSE (per quantile) / IMSE (one) plug-in.

With pilot order :math:`s = 1`, on each side the MSE of the order-:math:`s` intercept is
:math:`h^{2(s+1)} B(q)^2 + V(q)/(n h)`, minimised by

.. math::

   h^*(q) = \Big(\frac{V_+(q) + V_-(q)}{f_X(0)\, 2(s+1)\, (B_+(q) - B_-(q))^2}
   \Big)^{1/(2s+3)} n^{-1/(2s+3)},

and by the same formula with :math:`\int V\,dq` and :math:`\int (B_+ - B_-)^2 dq` for the
Fréchet estimator's single bandwidth.

**Covariates** (as ``rdrobust``'s ``rdbwselect(..., covs=Z)``): the selector runs on
the covariate-adjusted responses :math:`\tilde Q(q) = \hat Q(q) - Z\hat\gamma(q)`,
:math:`\hat\gamma(q)` the common covariate coefficients of the kernel-weighted
regression of :math:`\hat Q(q)` on side-specific polynomials of order :math:`s + 1` and
:math:`Z`, at the pilot bandwidth of the unadjusted responses (``rdrobust`` estimates
its :math:`\gamma` in a local pilot fit too, at its rule-of-thumb bandwidth). Both the
bias (the curvature of :math:`\tilde Q`) and the variance (its residual variance,
smaller by the share of variance :math:`Z` explains) are those of the adjusted
outcome, whose jump the covariate-adjusted estimator targets.
"""

import math
from dataclasses import dataclass

import numpy as np

from statlogit.rdd._fit import EPANECHNIKOV, TRIANGULAR, fit_two_sided, kernel_weights
from statlogit.solvers.linear import weighted_lstsq

PILOT_ORDER = 1
RIEMANN_POINTS = 1000
FLAT_BIAS = 1e-14
# Residual variance (of a response scaled to max |Y| ~ 1) below which the response is
# exactly fitted (constant on each side, perfect compliance): no variance to trade
# against the bias, the MSE criterion is degenerate and the fallback is used.
NO_VARIANCE = 1e-24


@dataclass
class BandwidthSelection:
    """Selected bandwidths and the plug-in ingredients (for inspection and tests)."""

    outcome: np.ndarray
    treatment: float | None
    pilot_outcome: np.ndarray
    pilot_treatment: float | None
    bias_plus: np.ndarray
    bias_minus: np.ndarray
    variance_plus: np.ndarray
    variance_minus: np.ndarray
    density: float
    enlarged: bool = False
    covariate_coef: np.ndarray | None = None
    treatment_covariate_coef: np.ndarray | None = None


@dataclass
class _KernelConstants:
    """Bias constant :math:`e_0'\\Gamma^{-1}\\Lambda` and variance constant
    :math:`e_0'\\Gamma^{-1}\\Psi\\Gamma^{-1}e_0` of the order-s intercept, per side."""

    bias_plus: float
    bias_minus: float
    var_plus: float
    var_minus: float


def _exact_moments(kernel, power):
    """:math:`\\int_0^1 u^k K(u) du` and :math:`\\int_0^1 u^k K(u)^2 du`, k < power."""
    k = np.arange(power, dtype=float)
    if kernel == TRIANGULAR:
        first = 1 / (k + 1) - 1 / (k + 2)
        second = 1 / (k + 1) - 2 / (k + 2) + 1 / (k + 3)
    elif kernel == EPANECHNIKOV:
        first = 0.75 * (1 / (k + 1) - 1 / (k + 3))
        second = 0.5625 * (1 / (k + 1) - 2 / (k + 3) + 1 / (k + 5))
    else:
        first = 0.5 / (k + 1)
        second = 0.25 / (k + 1)
    return first, second


def _side_matrices(first, second, s):
    idx = np.add.outer(np.arange(s + 1), np.arange(s + 1))
    return first[idx], first[np.arange(s + 1) + s + 1], second[idx]


def kernel_constants(kernel, s, *, parity):
    """Kernel constants, exact integrals or (``parity``) R3D's Riemann sum.

    The Riemann sum uses 1000 equally spaced points of ``[-1, 1]`` with step 2/1000,
    the points ``>= 0`` for the plus side.
    """
    mats = {}
    if parity:
        grid = np.linspace(-1.0, 1.0, RIEMANN_POINTS)
        for sign, part in ((1, grid[grid >= 0]), (-1, grid[grid < 0])):
            K = kernel_weights(part, kernel)
            powers = part[None, :] ** np.arange(2 * s + 2)[:, None]
            first = (powers * K).sum(axis=1) * (2 / RIEMANN_POINTS)
            second = (powers * K**2).sum(axis=1) * (2 / RIEMANN_POINTS)
            mats[sign] = _side_matrices(first, second, s)
    else:
        first, second = _exact_moments(kernel, 2 * s + 2)
        signs = (-1.0) ** np.arange(2 * s + 2)
        mats[1] = _side_matrices(first, second, s)
        mats[-1] = _side_matrices(first * signs, second * signs, s)
    out = {}
    for sign, (gamma, lam, psi) in mats.items():
        row = np.linalg.solve(gamma, np.eye(s + 1)[0])
        out[sign] = (row @ lam, row @ psi @ row)
    return _KernelConstants(out[1][0], out[-1][0], out[1][1], out[-1][1])


def _global_polynomial(x, Y, order):
    """Per side OLS of each column on ``(1, x, ..., x^order)``: the ``order``-th
    derivative and residual variance (``ddof=1``); zeros with too few units."""
    if x.size <= order:
        return np.zeros(Y.shape[1]), np.zeros(Y.shape[1])
    design = np.vander(x, order + 1, increasing=True)
    coef, _ = weighted_lstsq(design, Y)
    resid_var = np.var(Y - design @ coef, axis=0, ddof=1)
    resid_var = np.where(resid_var < np.finfo(float).eps, 1.0, resid_var)
    return coef[order] * math.factorial(order), resid_var


def _optimal_h(bias_diff, variance, n, s, fallback, *, integrated, dq):
    """The MSE (or IMSE) optimal bandwidth formula with R3D's Silverman fallback."""
    rate = 1.0 / (2 * s + 3)
    if integrated:
        bias_sq = np.sum(bias_diff**2) * dq
        var = np.sum(variance) * dq
        h = (var / (2 * (s + 1) * bias_sq)) ** rate * n**-rate \
            if bias_sq > FLAT_BIAS and var > NO_VARIANCE else fallback
        h = np.array([h])
    else:
        flat = (np.abs(bias_diff) <= FLAT_BIAS) | (variance <= NO_VARIANCE)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = (variance / (2 * (s + 1) * bias_diff**2)) ** rate * n**-rate
        h = np.where(flat, fallback, h)
    return np.where(np.isfinite(h) & (h > 0), h, fallback)


def window_floor(x, order):
    """Smallest bandwidth whose window holds ``order + 1`` distinct ``x`` on each side.

    The midpoint between the ``(order + 1)``-th and the next distinct distance to the
    cutoff (twice the former when there is no next), so every kernel weight in the
    window is positive; 0 when a side has too few distinct values (left to the fit's
    error).
    """
    floor = 0.0
    for side in (x >= 0, x < 0):
        dist = np.unique(np.abs(x[side]))
        if dist.size <= order:
            continue
        k = dist[order]
        floor = max(floor, 0.5 * (k + dist[order + 1]) if dist.size > order + 1
                    else 2.0 * k)
    return floor


def _power_of_two(values, *, common=False):
    """Per-column powers of two bringing ``max |values|`` near 1 (exact rescaling);
    one for all columns when ``common`` (the integrated criterion sums the columns'
    bias and variance terms, so they must share the scale)."""
    top = np.max(np.abs(values), axis=None if common else 0)
    exponent = np.where(top > 0, np.round(np.log2(np.where(top > 0, top, 1.0))), 0.0)
    return np.exp2(exponent)


class _Selector:
    """The three steps, shared by the outcome quantiles and the treatment."""

    def __init__(self, x, *, kernel, parity, integrated, dq):
        self.x = x
        self.n = x.size
        self.kernel = kernel
        self.parity = parity
        self.integrated = integrated
        self.dq = dq
        s = PILOT_ORDER
        sigma = np.std(x, ddof=1)
        width = 1.06 * sigma * self.n ** -0.2
        self.density = float(np.mean(kernel_weights(x / width, kernel)) / width)
        self.fallback = 1.06 * sigma * self.n ** (-1.0 / (2 * s + 1))
        self.constants = kernel_constants(kernel, s, parity=parity)
        # R3D runs the pilot local fits with the triangular kernel whatever the user
        # chose; the default uses the user's kernel.
        self.pilot_kernel = TRIANGULAR if parity else kernel

    def pilot(self, Y):
        """Step 1: pilot bandwidths from global order-(s+1) fits on each side."""
        s, c = PILOT_ORDER, self.constants
        plus = self.x >= 0
        d_plus, v_plus = _global_polynomial(self.x[plus], Y[plus], s + 1)
        d_minus, v_minus = _global_polynomial(self.x[~plus], Y[~plus], s + 1)
        fact = math.factorial(s + 1)
        bias = c.bias_plus * d_plus / fact - c.bias_minus * d_minus / fact
        var = (v_plus * c.var_plus + v_minus * c.var_minus) / self.density
        h = _optimal_h(bias, var, self.n, s, self.fallback,
                       integrated=self.integrated, dq=self.dq)
        if not self.parity:
            h = np.minimum(h, np.max(np.abs(self.x)))
        h = np.maximum(h, window_floor(self.x, self._pilot_fit_order))
        return np.broadcast_to(h, (Y.shape[1],)).copy()

    @property
    def _pilot_fit_order(self):
        return PILOT_ORDER if self.parity else PILOT_ORDER + 1

    def final(self, Y, pilot_h, weights_of=None):
        """Steps 2 and 3: local fits at the pilot bandwidths, then the plug-in."""
        s = PILOT_ORDER
        order = self._pilot_fit_order
        fit = fit_two_sided(self.x, Y, np.ones(self.n), pilot_h, order,
                            self.pilot_kernel, what="bandwidth selection",
                            parity=self.parity)
        b_plus, v_plus = self._bias_variance(fit.residuals, fit.above, 1)
        b_minus, v_minus = self._bias_variance(fit.residuals, fit.below, -1)
        h = _optimal_h(b_plus - b_minus, (v_plus + v_minus) / self.density, self.n, s,
                       self.fallback, integrated=self.integrated, dq=self.dq)
        return h, b_plus, b_minus, v_plus, v_minus

    def _bias_variance(self, resid, fit, sign):
        """Bias and variance terms of one side from the two-sided residual process."""
        s, c = PILOT_ORDER, self.constants
        fact = math.factorial(s + 1)
        if self.parity:
            # R3D: h-scaled order-s coefficient, intercept-weighted residual variance.
            w = np.where(fit.weights > 0.0, fit.weights, 0.0)
            bias = fit.coef[s] / fact
            var = (w * resid**2).sum(axis=0) / w.sum(axis=0)
            return bias, var
        side = (self.x >= 0) if sign > 0 else (self.x < 0)
        u = self.x[:, None] / fit.bandwidths[None, :]
        w = np.where(side[:, None], kernel_weights(u, self.kernel), 0.0)
        derivative = fit.coef[s + 1] * fact / fit.bandwidths ** (s + 1)
        sigma2 = (w * resid**2).sum(axis=0) / w.sum(axis=0)
        c_bias = c.bias_plus if sign > 0 else c.bias_minus
        c_var = c.var_plus if sign > 0 else c.var_minus
        return c_bias * derivative / fact, sigma2 * c_var


def covariate_coefficients(x, Y, Z, bandwidths, order, kernel):
    r"""Common covariate coefficients :math:`\hat\gamma` (k, m) of the weighted
    regressions of each column of ``Y`` on :math:`1\{x \ge 0\} r_{order}(x/h)`,
    :math:`1\{x < 0\} r_{order}(x/h)` and ``Z``, kernel weights :math:`K(x/h)`, ``h``
    the column's bandwidth."""
    bandwidths = np.broadcast_to(bandwidths, (Y.shape[1],))
    gamma = np.zeros((Z.shape[1], Y.shape[1]))
    above = (x >= 0)[:, None]
    for h in np.unique(bandwidths):
        cols = np.flatnonzero(bandwidths == h)
        w = kernel_weights(x / h, kernel)
        rows = w > 0
        R = np.vander(x[rows] / h, order + 1, increasing=True)
        design = np.hstack([R * above[rows], R * ~above[rows], Z[rows]])
        coef, _ = weighted_lstsq(design, Y[np.ix_(rows, cols)], w[rows])
        gamma[:, cols] = coef[2 * (order + 1):]
    return gamma


def select_bandwidths(x, Q, treatment, quantiles, *, method, kernel, parity,
                      coverage=False, order=1, covariates=None):
    """Run the plug-in for the outcome quantiles (and the treatment when fuzzy).

    Parameters
    ----------
    x : ndarray of shape (n,)
        Centred running variable.
    Q : ndarray of shape (n, m)
        Unit quantiles.
    treatment : ndarray of shape (n,) or None
    quantiles : ndarray of shape (m,)
    method : {"simple", "frechet"}
        Per-quantile MSE or one IMSE bandwidth.
    kernel : int
        Kernel code.
    parity : bool
        Reproduce R3D (see :class:`statlogit.R3D`).
    coverage : bool
        Multiply by the coverage-error rule of thumb :math:`n^{-s/((2s+3)(s+3))}`.
    order : int
        Order of the final fits: every bandwidth is at least :func:`window_floor` for
        it (and for the pilot fits), so each window holds enough distinct units;
        ``enlarged`` tells whether that floor was used.
    covariates : ndarray of shape (n, k), optional
        Select for the covariate-adjusted responses (module docstring).

    Returns
    -------
    BandwidthSelection
    """
    s = PILOT_ORDER
    dq = (quantiles[-1] - quantiles[0]) / (quantiles.size - 1) if quantiles.size > 1 \
        else 1.0
    # Exact power-of-two rescaling of each column (of all columns at once for the
    # integrated criterion): the bandwidths are invariant to the scale of Y, and
    # squares of huge or tiny responses neither overflow nor underflow.
    outcome = _Selector(x, kernel=kernel, parity=parity,
                        integrated=method == "frechet", dq=dq)
    gamma = gamma_t = None
    if covariates is not None:
        Q, gamma = _adjusted(outcome, Q, covariates)
    scale = _power_of_two(Q, common=outcome.integrated)
    pilot = outcome.pilot(Q / scale)
    h, b_plus, b_minus, v_plus, v_minus = outcome.final(Q / scale, pilot)
    h = np.broadcast_to(h, pilot.shape).copy()
    h_t = pilot_t = None
    if treatment is not None:
        first_stage = _Selector(x, kernel=kernel, parity=parity, integrated=False,
                                dq=1.0)
        T = treatment[:, None]
        if covariates is not None:
            T, gamma_t = _adjusted(first_stage, T, covariates)
        pilot_t = float(first_stage.pilot(T)[0])
        h_t = float(first_stage.final(T, np.array([pilot_t]))[0][0])
    if coverage:
        factor = x.size ** (-s / ((2 * s + 3) * (s + 3)))
        h = h * factor
        h_t = None if h_t is None else h_t * factor
    floor = window_floor(x, max(order, outcome._pilot_fit_order))
    enlarged = bool(np.any(h < floor) or (h_t is not None and h_t < floor))
    h = np.maximum(h, floor)
    h_t = None if h_t is None else max(h_t, floor)
    with np.errstate(over="ignore"):
        return BandwidthSelection(h, h_t, pilot, pilot_t, b_plus * scale,
                                  b_minus * scale, v_plus * scale**2,
                                  v_minus * scale**2, outcome.density, enlarged,
                                  gamma, gamma_t)


def _adjusted(selector, Y, Z):
    """``Y - Z gamma`` with gamma from the pilot-order fits at ``Y``'s pilot bandwidths."""
    scale = _power_of_two(Y, common=selector.integrated)
    pilot = selector.pilot(Y / scale)
    gamma = covariate_coefficients(selector.x, Y, Z, pilot, PILOT_ORDER + 1,
                                   selector.pilot_kernel)
    return Y - Z @ gamma, gamma
