r"""R3D: regression discontinuity with distribution-valued outcomes (Van Dijcke, 2025).

Each unit :math:`i` has a scalar running variable :math:`X_i` and an outcome
distribution seen through a sample :math:`Y_{i1}, \dots, Y_{in_i}`; treatment switches
on at :math:`X \ge c`. The estimand is the jump of the *average unit quantile function*

.. math::

   \tau(q) = \lim_{x \downarrow c} E[Q_{Y_i}(q) \mid X = x]
           - \lim_{x \uparrow c} E[Q_{Y_i}(q) \mid X = x],

divided, in a fuzzy design, by the jump of :math:`P(T = 1 \mid X = x)`.
"""

import math
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import metadata_routing
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from statlogit._validation import (
    as_float_array,
    check_sample_weight,
    check_scalar,
    resolve_rng,
)
from statlogit.rdd._bandwidth import select_bandwidths
from statlogit.rdd._fit import (
    KERNEL_CODES,
    fit_side,
    monotonise,
    residuals,
)
from statlogit.rdd._inference import (
    R3DGiniTestResult,
    R3DTestResult,
    critical_value,
    fuzzy_process,
    gini_test,
    multiplier_process,
    sup_test,
)
from statlogit.rdd._kernels import ragged_quantiles

__all__ = ["R3D", "R3DGiniTestResult", "R3DTestResult", "from_long"]

DEFAULT_QUANTILES = np.arange(1, 100) / 100
NO_JUMP = 1e-10
# Limitation warnings (see R3D's Notes): a flat stretch of the estimated average
# quantile curve covering more than FLAT_SHARE of the grid's span, increments within
# FLAT_RTOL of the curve's size counting as zero; fewer than max(MIN_DRAWS,
# sqrt(effective units)) draws in some unit inside the window.
FLAT_SHARE = 0.05
FLAT_RTOL = 1e-8
MIN_DRAWS = 10
# The Gini of the whole distribution needs a grid reaching these levels.
GINI_GRID_ENDS = (0.01, 0.99)


class R3D(BaseEstimator):
    r"""Regression discontinuity design with distribution-valued outcomes.

    Two estimators of the jump :math:`\tau(q) = m_+(q) - m_-(q)` in the average unit
    quantile function at the cutoff (the Wasserstein barycenter of the units'
    distributions, not the quantile of the pooled data):

    * ``"simple"``: for each level :math:`q` a local polynomial regression of order
      :math:`p` of the unit quantiles :math:`\hat Q_{Y_i}(q)` on :math:`X_i - c`, on each
      side, with kernel weights :math:`K((X_i - c)/h(q))`; the intercepts
      :math:`\hat m_\pm(q)` are rearranged into monotone curves.
    * ``"frechet"``: local Fréchet regression in the 2-Wasserstein space, which in one
      dimension is the isotonic :math:`L^2` projection of the intercept curve, with one
      integrated-MSE bandwidth.

    With the default :math:`p = 2` and a bandwidth that is MSE-optimal for the local
    *linear* fit, the quadratic fit is Calonico-Cattaneo-Titiunik robust bias
    correction with :math:`h = b`. Uniform bands :math:`\hat\tau(q) \pm \hat c_{1-\alpha}`
    come from the Gaussian multiplier bootstrap of the first-stage residuals.

    Parameters
    ----------
    cutoff : float, default=0.0
        Threshold :math:`c`; units with :math:`X \ge c` are above.
    method : {"simple", "frechet"}, default="simple"
    p : int, default=2
        Order of the local polynomial (1 to 9).
    quantiles : array-like of shape (m,), optional
        Strictly increasing levels in (0, 1); default ``0.01, 0.02, ..., 0.99``.
    kernel : {"epanechnikov", "triangular", "uniform"}, default="epanechnikov"
    bandwidth : "mse", "cer", float or array-like of shape (m,), default="mse"
        ``"mse"``: the three-step plug-in (per quantile for ``"simple"``, one
        integrated-MSE bandwidth for ``"frechet"``); ``"cer"``: the same times the
        coverage-error rule of thumb :math:`n^{-1/20}`; a number or one number per
        level (``"simple"`` only) fixes it.
    treatment_bandwidth : float, optional
        First-stage bandwidth of a fuzzy design; by default selected with the outcome
        bandwidths, or equal to a scalar ``bandwidth``.
    n_bootstrap : int, default=200
        Multiplier bootstrap draws.
    alpha : float, default=0.05
        Level of the uniform band and of the tests' critical values.
    parity : {None, "R3D"}, default=None
        ``"R3D"`` reproduces the reference R package R3D 0.1 (see Notes); ``None``
        follows the paper.
    random_state : None, int, SeedSequence or Generator
        Seeds the bootstrap multipliers.

    Attributes
    ----------
    quantiles_ : ndarray of shape (m,)
    tau_ : ndarray of shape (m,)
        Estimated effect per quantile level.
    band_ : ndarray of shape (m, 2)
        Uniform ``1 - alpha`` band (lower, upper).
    critical_value_ : float
        Half-width :math:`\hat c_{1-\alpha}` of the band.
    bandwidth_ : ndarray of shape (m,)
        Outcome bandwidth per level (constant for ``"frechet"``).
    treatment_bandwidth_ : float or None
    m_plus_, m_minus_ : ndarray of shape (m,)
        Monotone quantile functions at the cutoff from above and below.
    coef_plus_, coef_minus_ : ndarray of shape (p + 1, m)
        Local polynomial coefficients in the scaled basis :math:`((x - c)/h)^k`.
    first_stage_ : float or None
        Jump of :math:`P(T = 1 \mid X)` (fuzzy designs).
    bootstrap_draws_ : ndarray of shape (n_bootstrap, m)
        Draws of the bootstrap process of :math:`\hat\tau`.
    bootstrap_sides_ : ndarray of shape (2, n_bootstrap, m)
        Draws of the bootstrap processes of :math:`\hat m_-` (index 0) and
        :math:`\hat m_+` (index 1), from the same multipliers (their difference is
        the sharp process); used by :meth:`test_gini`.
    bandwidth_selection_ : BandwidthSelection or None
        Plug-in ingredients when the bandwidth was selected.
    n_units_ : int
    n_effective_ : ndarray of shape (2, m)
        Units inside the window below and above the cutoff, per level.

    Notes
    -----
    ``parity="R3D"`` reproduces these behaviours of the R package, which the default
    replaces by the paper's:

    1. the pilot local fits of the bandwidth selector use the triangular kernel
       whatever ``kernel`` is (default: ``kernel``);
    2. the selector's kernel constants are Riemann sums on 1000 points (default: exact
       integrals); its pilot bandwidth is not capped (default: at most the largest
       :math:`|X - c|`); its final step plugs in the scaled order-:math:`s`
       coefficient and an intercept-weighted residual variance without the kernel
       constants (default: the order-:math:`s+1` local derivative and the
       kernel-weighted residual variance inside the paper's constants);
    3. ``"simple"`` rearranges through a 1001-point interpolation (default: the exact
       rearrangement, i.e. sorting the curve on the grid);
    4. units with a negative intercept weight get a zero bootstrap residual (default:
       every unit inside the window keeps its residual);
    5. the fuzzy bootstrap weighs the treatment residuals with the *outcome's*
       intercept weights at the first level (default: the first stage's own);
    6. :meth:`test_gini` compares the uncentred bootstrap differences of Gini
       coefficients with the statistic and clips the coefficients to [0, 1]
       (default: recentred draws, unclipped coefficients).

    ``fit`` warns (``UserWarning``) about two limitations of the theory:

    * the local polynomial estimate of :math:`m_+` or :math:`m_-` (before
      monotonisation) is constant, increments below :math:`10^{-8}` times its largest
      absolute value, over a stretch of levels longer than 5 % of the grid's span.
      The units' quantiles are then tied (top- or bottom-coding, a mass point); the
      bands rely on Hadamard differentiability at a strictly increasing average
      quantile function, which fails there;
    * the smallest within-unit sample among the units inside the window has fewer
      than :math:`\max(10, \sqrt{n_{\text{eff}}})` observations,
      :math:`n_{\text{eff}}` the largest number of units in the window over the
      levels. Empirical quantiles carry a bias of order :math:`1/n_i` that does not
      average out over units, against a standard error of order
      :math:`n_{\text{eff}}^{-1/2}`: it is negligible only when
      :math:`n_i \gg \sqrt{n_{\text{eff}}}` (the paper's sufficient condition,
      :math:`n_i \gg n_{\text{eff}}`, is stronger), and below about 10 draws the
      tail quantiles are interpolations between a few order statistics. Not checked
      when ``Y`` is a quantile matrix.
    """

    # fit's arguments are data, not routable metadata: no set_fit_request.
    __metadata_request__fit = {name: metadata_routing.UNUSED for name in
                               ("x", "treatment", "weights", "multipliers")}

    def __init__(self, cutoff=0.0, method="simple", p=2, quantiles=None,
                 kernel="epanechnikov", bandwidth="mse", treatment_bandwidth=None,
                 n_bootstrap=200, alpha=0.05, parity=None, random_state=None):
        self.cutoff = cutoff
        self.method = method
        self.p = p
        self.quantiles = quantiles
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.treatment_bandwidth = treatment_bandwidth
        self.n_bootstrap = n_bootstrap
        self.alpha = alpha
        self.parity = parity
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, x, Y, treatment=None, weights=None, multipliers=None):
        """Estimate the effect curve, its uniform band and the bootstrap draws.

        Parameters
        ----------
        x : array-like of shape (n_units,)
            Running variable, one value per unit.
        Y : sequence of 1-D array-likes, or array-like of shape (n_units, m)
            One sample per unit (sizes may differ; a 1-D array means one observation
            per unit), or a 2-D array / DataFrame of the units' quantiles at
            ``quantiles`` (already computed).
        treatment : array-like of shape (n_units,), optional
            0/1 treatment status; given means a fuzzy design.
        weights : array-like of shape (n_units,), optional
            Non-negative unit weights multiplying the kernel weights of the final
            fits (the bandwidth selector ignores them).
        multipliers : array-like of shape (n_units, B), optional
            Fixed bootstrap multipliers (R3D's ``xi_mat``) instead of random draws.

        Returns
        -------
        self
        """
        # Every matrix product here is skinny (p + 1 rows) or small: one BLAS thread is
        # faster and immune to thread oversubscription.
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(x, Y, treatment, weights, multipliers)

    def _fit(self, x, Y, treatment, weights, multipliers):
        self._check_params()
        quantiles = self._quantile_grid()
        xc = self._running_variable(x) - float(self.cutoff)
        n = xc.size
        Q, sizes = _unit_quantiles(Y, quantiles, n)
        t = None if treatment is None else _treatment(treatment, n)
        unit_w = check_sample_weight(weights, n)
        _check_both_sides(xc, self.p)
        kernel = KERNEL_CODES[self.kernel]
        parity = self.parity == "R3D"

        h, h_t = self._bandwidths(xc, Q, t, quantiles, kernel, parity)
        plus = fit_side(xc, Q, unit_w, h, self.p, kernel, True, what="the outcome")
        minus = fit_side(xc, Q, unit_w, h, self.p, kernel, False, what="the outcome")
        m_plus = monotonise(plus.coef[0], quantiles, self.method, parity=parity)
        m_minus = monotonise(minus.coef[0], quantiles, self.method, parity=parity)
        resid = (residuals(xc, Q, plus, method=self.method, parity=parity)
                 + residuals(xc, Q, minus, method=self.method, parity=parity))
        A = resid * (plus.weights - minus.weights)
        sides = resid * plus.weights
        delta_y = m_plus - m_minus
        tau, delta_t = delta_y, None
        if t is not None:
            delta_t, a_t = self._first_stage(xc, t, unit_w, h_t, kernel, parity,
                                             plus, minus)
            tau = delta_y / delta_t
            A = np.column_stack([A, a_t])

        draws, side_draws = self._bootstrap(A, sides, delta_y, delta_t,
                                            _multipliers(multipliers, n))
        crit = critical_value(draws, self.alpha)

        self.quantiles_ = quantiles
        self.tau_ = tau
        self.critical_value_ = crit
        self.band_ = np.column_stack([tau - crit, tau + crit])
        self.bandwidth_ = h
        self.treatment_bandwidth_ = h_t
        self.m_plus_, self.m_minus_ = m_plus, m_minus
        self.coef_plus_, self.coef_minus_ = plus.coef, minus.coef
        self.first_stage_ = delta_t
        self.bootstrap_draws_ = draws
        self.bootstrap_sides_ = side_draws
        self.n_units_ = n
        self.n_effective_ = np.vstack([(minus.weights != 0).sum(axis=0),
                                       (plus.weights != 0).sum(axis=0)])
        _warn_flat(quantiles, plus.coef[0], minus.coef[0])
        _warn_small_samples(sizes, plus.weights, minus.weights, self.n_effective_)
        return self

    def _bootstrap(self, A, sides, delta_y, delta_t, multipliers):
        """Draws of the process of tau (delta method when fuzzy) and of each side.

        ``sides`` holds the columns ``s_+ E`` of the process of ``m_+``; that of
        ``m_-`` is their difference with the sharp process.
        """
        k = A.shape[1]
        raw = multiplier_process(np.column_stack([A, sides]),
                                 n_bootstrap=self.n_bootstrap,
                                 rng=resolve_rng(self.random_state),
                                 multipliers=multipliers)
        draws, nu_plus = raw[:, :k], raw[:, k:]
        side_draws = np.stack([nu_plus - draws[:, :sides.shape[1]], nu_plus])
        if delta_t is not None:
            draws = fuzzy_process(draws, delta_y, delta_t)
        return draws, side_draws

    def _check_params(self):
        if self.method not in ("simple", "frechet"):
            raise ValueError(f"method must be 'simple' or 'frechet'; got {self.method!r}.")
        if self.kernel not in KERNEL_CODES:
            raise ValueError(f"kernel must be one of {sorted(KERNEL_CODES)}; got "
                             f"{self.kernel!r}.")
        if self.parity not in (None, "R3D"):
            raise ValueError(f"parity must be None or 'R3D'; got {self.parity!r}.")
        check_scalar(self.p, name="p", lower=1, upper=9, integer=True)
        check_scalar(self.cutoff, name="cutoff")
        check_scalar(self.n_bootstrap, name="n_bootstrap", lower=1, integer=True)
        check_scalar(self.alpha, name="alpha", lower=0.0, upper=1.0,
                     include_lower=False, include_upper=False)
        if self.treatment_bandwidth is not None:
            check_scalar(self.treatment_bandwidth, name="treatment_bandwidth",
                         lower=0.0, include_lower=False)

    def _quantile_grid(self):
        if self.quantiles is None:
            return DEFAULT_QUANTILES.copy()
        q = as_float_array(self.quantiles, name="quantiles", ndim=1)
        if np.any((q <= 0) | (q >= 1)):
            raise ValueError("quantiles must lie strictly between 0 and 1; got "
                             f"values in [{q.min():g}, {q.max():g}].")
        if np.any(np.diff(q) <= 0):
            raise ValueError("quantiles must be strictly increasing; sort them and "
                             "drop duplicates.")
        return q

    def _running_variable(self, x):
        if isinstance(x, pd.DataFrame) and x.shape[1] == 1:
            frame = x
        else:
            arr = np.asarray(x)
            if arr.ndim == 2 and arr.shape[1] == 1:
                arr = arr[:, 0]
            frame = as_float_array(arr, name="x", ndim=1)[:, None]
        as_float_array(frame, name="x", ndim=2)
        return validate_data(self, frame, reset=True, ensure_min_samples=2)[:, 0].copy()

    def _bandwidths(self, xc, Q, t, quantiles, kernel, parity):
        """Outcome bandwidths (m,) and the first-stage bandwidth."""
        self.bandwidth_selection_ = None
        h_t = self.treatment_bandwidth
        if isinstance(self.bandwidth, str):
            if self.bandwidth not in ("mse", "cer"):
                raise ValueError("bandwidth must be 'mse', 'cer', a positive number or "
                                 f"one per quantile; got {self.bandwidth!r}.")
            sel = select_bandwidths(xc, Q, t, quantiles, method=self.method,
                                    kernel=kernel, parity=parity,
                                    coverage=self.bandwidth == "cer")
            self.bandwidth_selection_ = sel
            return sel.outcome, (sel.treatment if h_t is None else float(h_t))
        h = as_float_array(np.atleast_1d(self.bandwidth), name="bandwidth", ndim=1)
        if np.any(h <= 0):
            raise ValueError(f"bandwidth must be positive; got {self.bandwidth!r}.")
        if h.size not in (1, quantiles.size):
            raise ValueError(f"bandwidth needs 1 or {quantiles.size} values (one per "
                             f"quantile); got {h.size}.")
        if self.method == "frechet" and np.any(h != h[0]):
            raise ValueError("method='frechet' uses one bandwidth for all quantiles; "
                             "pass a single number.")
        if t is not None and h_t is None:
            if h.size > 1:
                raise ValueError("With per-quantile bandwidths in a fuzzy design, pass "
                                 "treatment_bandwidth too.")
            h_t = float(h[0])
        return np.broadcast_to(h, quantiles.shape).copy(), h_t

    def _first_stage(self, xc, t, unit_w, h_t, kernel, parity, plus, minus):
        """Jump in P(T | X) and its bootstrap column ``(s_T+ - s_T-) E_T``."""
        T = t[:, None]
        t_plus = fit_side(xc, T, unit_w, [h_t], self.p, kernel, True,
                          what="the treatment")
        t_minus = fit_side(xc, T, unit_w, [h_t], self.p, kernel, False,
                           what="the treatment")
        delta_t = float(t_plus.coef[0, 0] - t_minus.coef[0, 0])
        if not abs(delta_t) > NO_JUMP:
            raise ValueError(
                "treatment shows no jump at the cutoff (estimated first stage "
                f"{delta_t:.3g}); the fuzzy design is not identified. Use treatment=None "
                "for a sharp design or check the cutoff.")
        if parity:
            # R3D: residuals where the outcome's first-level intercept weight is
            # positive, weighted by the outcome's intercept weights.
            w_plus, w_minus = plus.weights[:, :1], minus.weights[:, :1]
            fitted = np.where(xc[:, None] >= 0, t_plus.fitted(xc), t_minus.fitted(xc))
            e_t = np.where((w_plus > 0) | (w_minus > 0), T - fitted, 0.0)
        else:
            w_plus, w_minus = t_plus.weights, t_minus.weights
            e_t = (residuals(xc, T, t_plus, method="simple", parity=False)
                   + residuals(xc, T, t_minus, method="simple", parity=False))
        return delta_t, (e_t * (w_plus - w_minus))[:, 0]

    # ------------------------------------------------------------------ results
    def _range_index(self, range):
        check_is_fitted(self, "tau_")
        q = self.quantiles_
        if range is None:
            lo, hi = q[0], q[-1]
        else:
            try:
                lo, hi = (float(v) for v in range)
            except (TypeError, ValueError) as exc:
                raise ValueError("range must be a pair (low, high) of quantile levels; "
                                 f"got {range!r}.") from exc
            lo, hi = min(lo, hi), max(lo, hi)
        idx = np.flatnonzero((q >= lo - 1e-12) & (q <= hi + 1e-12))
        if idx.size < 2:
            raise ValueError(f"range [{lo:g}, {hi:g}] contains {idx.size} grid "
                             "quantile(s); widen it to at least 2.")
        return idx, (float(lo), float(hi))

    def _test(self, range, centre):
        idx, bounds = self._range_index(range)
        stat, p_value, crit = sup_test(self.tau_[idx], self.bootstrap_draws_[:, idx],
                                       self.alpha, centre=centre)
        return R3DTestResult(stat, p_value, crit, bounds, int(idx.size))

    def test_nullity(self, range=None):
        r"""Uniform test of :math:`H_0: \tau(q) = 0` for all :math:`q` in ``range``.

        Statistic :math:`\max_q |\hat\tau(q)|`; p-value: share of bootstrap
        :math:`\max_q |\hat G^b(q)|` at least as large.

        Parameters
        ----------
        range : (float, float), optional
            Quantile range (default: the whole grid); needs 2 grid points or more.

        Returns
        -------
        R3DTestResult
        """
        return self._test(range, centre=False)

    def test_homogeneity(self, range=None):
        r"""Uniform test of :math:`H_0: \tau(q)` constant over ``range``.

        Statistic :math:`\max_q |\hat\tau(q) - \bar\tau|` (grid mean), bootstrap draws
        centred the same way.

        Parameters
        ----------
        range : (float, float), optional
            Quantile range (default: the whole grid); needs 2 grid points or more.

        Returns
        -------
        R3DTestResult
        """
        return self._test(range, centre=True)

    def test_gini(self, range=None):
        r"""Test of equal Gini coefficients of the average distributions at the cutoff.

        :math:`H_0: G(m_+) = G(m_-)`, with :math:`G(Q)` the Gini coefficient of the
        distribution with quantile function :math:`Q`, computed from the curve on the
        grid by the trapezoid rule (Lorenz curve :math:`L(p) = \int_0^p Q / \int_0^1
        Q`, :math:`G = 1 - 2\int_0^1 L`), the curve extended to 0 and 1 by its end
        values. Statistic :math:`|G(\hat m_+) - G(\hat m_-)|`; bootstrap draws
        :math:`G(\hat m_+ + \nu^b_+) - G(\hat m_- + \nu^b_-) - (G(\hat m_+) -
        G(\hat m_-))`, :math:`\nu^b_\pm` the processes of :math:`\hat m_\pm`
        (``bootstrap_sides_``); p-value: share of absolute draws at least as large.
        With ``parity="R3D"`` the draws are not recentred (R3D's choice: the p-value
        then stays near or above 1/2 whatever the difference, so the test has no
        power) and the coefficients are clipped to [0, 1]. Draws whose perturbed
        curve has a non-positive mean are dropped (counted in ``n_dropped``).

        The Gini coefficient is meant for non-negative outcomes (incomes, wages). In
        a fuzzy design it compares the outcome distributions at the cutoff, not the
        compliers' potential outcomes.

        Parameters
        ----------
        range : (float, float), optional
            Quantile range (default: the whole grid); the coefficients are then
            those of the distributions winsorised at the range's ends. Without a
            range, a grid not reaching 0.01 and 0.99 triggers a ``UserWarning``.

        Returns
        -------
        R3DGiniTestResult

        Raises
        ------
        ValueError
            If an estimated curve has a non-positive mean over the range.
        """
        idx, bounds = self._range_index(range)
        q = self.quantiles_[idx]
        if range is None and (q[0] > GINI_GRID_ENDS[0] or q[-1] < GINI_GRID_ENDS[1]):
            warnings.warn(
                f"The quantile grid spans [{q[0]:g}, {q[-1]:g}]: the Gini coefficients "
                "are those of the distributions winsorised at these levels. For the "
                f"whole distributions fit with a grid reaching {GINI_GRID_ENDS[0]} and "
                f"{GINI_GRID_ENDS[1]} (the default grid does).", UserWarning,
                stacklevel=2)
        parity = self.parity == "R3D"
        stat, p_value, crit, g_plus, g_minus, dropped = gini_test(
            q, self.m_plus_[idx], self.m_minus_[idx], self.bootstrap_sides_[:, :, idx],
            self.alpha, recentre=not parity, clip=parity)
        if np.isnan(g_plus) or np.isnan(g_minus):
            side = "above" if np.isnan(g_plus) else "below"
            raise ValueError(
                f"The average quantile function {side} the cutoff has a non-positive "
                f"mean on [{bounds[0]:g}, {bounds[1]:g}]: its Gini coefficient is "
                "undefined. The Gini test is for non-negative outcomes.")
        if dropped:
            warnings.warn(
                f"{dropped} of {self.bootstrap_sides_.shape[1]} bootstrap draws had a "
                "non-positive mean and were left out of the Gini test.", UserWarning,
                stacklevel=2)
        return R3DGiniTestResult(stat, p_value, crit, bounds, int(idx.size),
                                 g_plus, g_minus, dropped)

    def summary(self):
        """The effect curve as a labelled table, one row per quantile level.

        Returns
        -------
        pandas.DataFrame
            Columns ``tau``, ``band_lower``, ``band_upper`` (uniform band),
            ``bandwidth``, ``m_plus``, ``m_minus``, ``n_below``, ``n_above``; the
            critical value, alpha, method and design are in ``.attrs``.
        """
        check_is_fitted(self, "tau_")
        table = pd.DataFrame({
            "tau": self.tau_,
            "band_lower": self.band_[:, 0],
            "band_upper": self.band_[:, 1],
            "bandwidth": self.bandwidth_,
            "m_plus": self.m_plus_,
            "m_minus": self.m_minus_,
            "n_below": self.n_effective_[0],
            "n_above": self.n_effective_[1],
        }, index=pd.Index(self.quantiles_, name="quantile"))
        table.attrs.update(critical_value=self.critical_value_, alpha=self.alpha,
                           method=self.method,
                           design="fuzzy" if self.first_stage_ is not None else "sharp",
                           first_stage=self.first_stage_)
        return table

    def plot(self, ax=None):
        """Plot the effect curve with its uniform band.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional

        Returns
        -------
        matplotlib.axes.Axes
        """
        check_is_fitted(self, "tau_")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.2))
        level = round(100 * (1 - self.alpha))
        ax.fill_between(self.quantiles_, self.band_[:, 0], self.band_[:, 1], alpha=0.3,
                        label=f"{level}% uniform band")
        ax.plot(self.quantiles_, self.tau_, "o-", ms=3, label=r"$\hat\tau(q)$")
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set(xlabel="quantile level q", ylabel="effect",
               title=f"R3D ({self.method})")
        ax.legend(fontsize=8)
        return ax


# ----------------------------------------------------------------- limitations
def _flat_stretch(quantiles, curve):
    """Longest run of levels over which ``curve`` is constant: (low, high) or None."""
    flat = np.abs(np.diff(curve)) <= FLAT_RTOL * np.max(np.abs(curve))
    edges = np.diff(np.concatenate([[0], flat.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if starts.size == 0:
        return None
    longest = int(np.argmax(quantiles[stops] - quantiles[starts]))
    return float(quantiles[starts[longest]]), float(quantiles[stops[longest]])


def _warn_flat(quantiles, m_plus, m_minus):
    """Warn when an estimated average quantile curve is flat over a stretch."""
    span = quantiles[-1] - quantiles[0]
    for side, curve in (("above", m_plus), ("below", m_minus)):
        stretch = _flat_stretch(quantiles, curve)
        if stretch is None or stretch[1] - stretch[0] <= FLAT_SHARE * span:
            continue
        share = (stretch[1] - stretch[0]) / span
        warnings.warn(
            f"The estimated average quantile function {side} the cutoff is constant "
            f"on [{stretch[0]:g}, {stretch[1]:g}] ({share:.0%} of the grid's span): the "
            "units' quantiles are tied there (top- or bottom-coding, a mass point). "
            "The uniform band and the tests assume a strictly increasing average "
            "quantile function and are unreliable at these levels; restrict "
            "`quantiles` to levels where the outcome is continuous.", UserWarning,
            stacklevel=4)


def _warn_small_samples(sizes, w_plus, w_minus, n_effective):
    """Warn when a unit in the window has few draws for the effective sample."""
    if sizes is None:
        return
    in_window = np.any(w_plus != 0, axis=1) | np.any(w_minus != 0, axis=1)
    n_eff = int(n_effective.sum(axis=0).max())
    smallest = int(sizes[in_window].min())
    threshold = max(MIN_DRAWS, math.sqrt(n_eff))
    if smallest >= threshold:
        return
    warnings.warn(
        f"A unit inside the bandwidth has only {smallest} observation(s), fewer than "
        f"max({MIN_DRAWS}, sqrt(effective units = {n_eff})) = {threshold:.3g}. The "
        "empirical quantiles of small samples are biased (order 1/n_i), a bias that "
        "does not average out over units and that the uniform band ignores (the "
        "theory needs within-unit samples that grow faster than the effective number "
        "of units). Drop or pool the units with few observations, or avoid tail "
        "quantile levels.", UserWarning, stacklevel=4)


# ---------------------------------------------------------------------- inputs
def _unit_quantiles(Y, quantiles, n_units):
    """Unit quantiles (n_units, m) from samples or a given matrix, and sample sizes.

    The sizes are None when ``Y`` is a quantile matrix.
    """
    if isinstance(Y, pd.DataFrame) or (isinstance(Y, np.ndarray) and Y.ndim == 2
                                       and Y.dtype != object):
        Q = as_float_array(np.asarray(Y, dtype=float), name="Y", ndim=2)
        if Q.shape != (n_units, quantiles.size):
            raise ValueError(
                f"A 2-D Y is read as unit quantiles and must have shape ({n_units}, "
                f"{quantiles.size}) (units x quantiles); got {Q.shape}. Pass samples "
                "as a list of 1-D arrays, one per unit.")
        return Q, None
    if isinstance(Y, str | bytes) or not hasattr(Y, "__len__"):
        raise ValueError("Y must be a sequence of 1-D samples (one per unit) or a 2-D "
                         f"array of unit quantiles; got {type(Y).__name__}.")
    if len(Y) != n_units:
        raise ValueError(f"Y has {len(Y)} units but x has {n_units}.")
    samples = [np.asarray(s, dtype=float).ravel() for s in Y]
    sizes = np.array([s.size for s in samples])
    if np.any(sizes == 0):
        raise ValueError(f"Y has {int(np.sum(sizes == 0))} unit(s) with an empty sample "
                         f"(first: unit {int(np.argmax(sizes == 0))}); drop them.")
    values = as_float_array(np.concatenate(samples), name="Y")
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return ragged_quantiles(values, offsets, quantiles), sizes


def _treatment(treatment, n):
    t = as_float_array(np.asarray(treatment, dtype=float).ravel(), name="treatment",
                       ndim=1)
    if t.size != n:
        raise ValueError(f"treatment has {t.size} entries but x has {n}.")
    if not np.all((t == 0) | (t == 1)):
        raise ValueError("treatment must be 0/1 (or boolean); got values "
                         f"{np.unique(t)[:5].tolist()}.")
    return t


def _multipliers(multipliers, n):
    if multipliers is None:
        return None
    xi = as_float_array(multipliers, name="multipliers", ndim=2)
    if xi.shape[0] != n:
        raise ValueError(f"multipliers must have one row per unit ({n}); got "
                         f"{xi.shape[0]}.")
    return xi


def _check_both_sides(xc, p):
    above = int(np.sum(xc >= 0))
    below = xc.size - above
    if min(above, below) < p + 1:
        raise ValueError(
            f"Need at least p + 1 = {p + 1} units on each side of the cutoff; got "
            f"{below} below and {above} above. Check the cutoff or lower p.")


def from_long(df, *, unit, x, y, treatment=None):
    """Build R3D inputs from a long DataFrame (one row per observation).

    Parameters
    ----------
    df : pandas.DataFrame
    unit, x, y : str
        Columns holding the unit identifier, the unit's running variable (constant
        within a unit) and the outcome.
    treatment : str, optional
        Column holding the unit's 0/1 treatment (constant within a unit).

    Returns
    -------
    x : pandas.Series
        Running variable per unit, indexed by unit (sorted).
    Y : list of numpy.ndarray
        The units' samples, in the same order.
    treatment : pandas.Series
        Only when ``treatment`` is given.
    """
    columns = [unit, x, y] + ([treatment] if treatment is not None else [])
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"df has no column(s) {missing}; available: {list(df.columns)}.")
    groups = df.groupby(unit, sort=True)
    per_unit = [x] + ([treatment] if treatment is not None else [])
    varying = [c for c in per_unit if (groups[c].nunique(dropna=False) > 1).any()]
    if varying:
        raise ValueError(f"column(s) {varying} must be constant within each unit "
                         f"({unit!r}).")
    x_unit = groups[x].first()
    Y = [np.asarray(v, dtype=float) for _, v in groups[y]]
    if treatment is None:
        return x_unit, Y
    return x_unit, Y, groups[treatment].first()
