r"""R3D: regression discontinuity with distribution-valued outcomes (Van Dijcke, 2025).

Each unit :math:`i` has a scalar running variable :math:`X_i` and an outcome
distribution seen through a sample :math:`Y_{i1}, \dots, Y_{in_i}`; treatment switches
on at :math:`X \ge c`. The estimand is the jump of the *average unit quantile function*

.. math::

   \tau(q) = \lim_{x \downarrow c} E[Q_{Y_i}(q) \mid X = x]
           - \lim_{x \uparrow c} E[Q_{Y_i}(q) \mid X = x],

divided, in a fuzzy design, by the jump of :math:`P(T = 1 \mid X = x)`.
"""


import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import metadata_routing
from threadpoolctl import threadpool_limits

from statlogit._validation import (
    as_float_array,
    check_scalar,
    resolve_rng,
)
from statlogit.rdd._bandwidth import PILOT_ORDER, select_bandwidths
from statlogit.rdd._fit import KERNEL_CODES, fit_two_sided, monotonise
from statlogit.rdd._inference import (
    R3DGiniTestResult,
    R3DTestResult,
    bootstrap_processes,
    critical_value,
    fuzzy_score,
)
from statlogit.rdd._inputs import (
    centred_running_variable,
    check_both_sides,
    check_finite_results,
    cluster_codes,
    covariate_matrix,
    covariate_names,
    drop_donut,
    multipliers_matrix,
    quantile_grid,
    rescale_selection,
    restrict,
    running_variable_name,
    treatment_vector,
    unit_quantiles,
    unit_weights,
    validated_running_variable,
    warn_enlarged,
    warn_flat,
    warn_mass_points,
    warn_small_samples,
    warn_wide,
)
from statlogit.rdd._pointwise import (
    adjust,
    leverage_corrected,
    pointwise_std_errors,
    small_sample_factor,
)
from statlogit.rdd._results import R3DResultsMixin
from statlogit.rdd.long import from_long

__all__ = ["R3D", "R3DGiniTestResult", "R3DTestResult", "from_long"]

DEFAULT_QUANTILES = np.arange(1, 100) / 100
NO_JUMP = 1e-10


class R3D(R3DResultsMixin, BaseEstimator):
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
    bandwidth : None, "mse", "imse", "cer", float or array-like of shape (m,), default=None
        ``None``: ``"imse"``, or ``"mse"`` with ``parity="R3D"`` (the R package's
        per-level choice). ``"mse"``: the three-step plug-in (per quantile for
        ``"simple"``, one integrated-MSE bandwidth for ``"frechet"``); ``"imse"``: one
        integrated-MSE bandwidth for all levels with either method (see Notes: the
        per-level ``"mse"`` makes the uniform tests over-reject); ``"cer"``: ``"mse"``
        times the coverage-error rule of thumb :math:`n^{-1/20}`; a number or one
        number per level (``"simple"`` only) fixes it.
    restrict_bandwidth : bool, default=False
        Cap selected bandwidths at the larger of the two ranges of ``x`` on either
        side of the cutoff (``rdrobust``'s ``bwrestrict=True``). Without it a
        selected bandwidth wider than the data is kept, as R3D does, with a warning.
    treatment_bandwidth : float, optional
        First-stage bandwidth of a fuzzy design; by default selected with the outcome
        bandwidths, or equal to a scalar ``bandwidth``.
    n_bootstrap : int, default=200
        Multiplier bootstrap draws.
    alpha : float, default=0.05
        Level of the uniform band and of the tests' critical values.
    deriv : int, default=0
        0: the jump; 1: the kink, i.e. the jump in the derivative
        :math:`\partial_x E[Q_{Y_i}(q) \mid X = x]` (at most ``p``).
    donut : float, default=0.0
        Units with :math:`|X - c| <` ``donut`` are dropped before everything,
        bandwidth selection included.
    vce : {"hc1", "hc3"}, default="hc1"
        Residuals of the pointwise variances and of the bootstrap: ``"hc1"`` the
        fitted residuals with the factor :math:`n_S/(n_S - p - 1)` (``rdrobust``'s
        ``vce="hc1"``; CR1 with ``cluster``), ``"hc3"`` the residuals divided by one
        minus the unit's leverage in its side's fit (``rdrobust``'s ``vce="hc3"``;
        not with ``cluster`` or ``parity``). See Notes.
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
        Units used (after the donut).
    n_effective_ : ndarray of shape (2, m)
        Units inside the window below and above the cutoff, per level.
    std_errors_ : ndarray of shape (m,)
        Conventional pointwise standard errors (HC1 or HC3, CR1 with clusters), as
        ``rdrobust``'s with the same ``vce``.
    covariate_coef_ : ndarray of shape (k, m)
        Common covariate coefficients per level (with covariates).
    covariate_names_ : list of str or None
    n_clusters_ : int or None
    running_variable_, unit_quantiles_ : ndarray
        The units' x and quantiles (n_units, m) used by :meth:`plot_data`.
    running_variable_name_ : str or None
        Name of ``x`` (a Series' name or a one-column DataFrame's column), the
        figures' x-axis label (``"running variable x"`` when None).

    Notes
    -----
    **Size of the uniform tests.** The default bandwidth is one integrated-MSE
    bandwidth for all levels (``"imse"``), not the paper's and R3D's per-level plug-in
    (``"mse"``): with per-level bandwidths each level's bandwidth follows the noise of
    that level's curvature estimate, correlated with its intercept, and the sup over
    levels picks the worst, so the nullity test at 5 % rejected a true null at placebo
    cutoffs in 0.103 of 4000 fits (Monte Carlo SE 0.005; package DGP 1, 500 units a
    side, deciles), against 0.052 of 4000 (SE 0.0035) with ``"imse"``.
    ``parity="R3D"`` keeps the R package's per-level ``"mse"``; pass
    ``bandwidth="mse"`` to get it otherwise.
    ``vce="hc3"`` (leverage-corrected residuals) on top of ``"imse"`` makes the tests
    slightly conservative (0.041 of 4000). The docs page has the numbers.

    ``parity="R3D"`` reproduces six behaviours of the R package that the default
    replaces by the paper's (the selector's pilot kernel, kernel constants, pilot cap
    and final plug-in; the 1001-point rearrangement; negative-weight bootstrap
    residuals; the fuzzy bootstrap's weights; the uncentred Gini test): the docs
    page tabulates them; with ``bandwidth=None`` it also selects per-level bandwidths.
    Covariates and ``deriv > 0`` are not in the R package.

    ``fit`` warns (``UserWarning``) about two limitations of the theory: an estimated
    average quantile curve constant (increments below :math:`10^{-8}` of its size)
    over more than 5 % of the grid's span (tied unit quantiles: the bands assume a
    strictly increasing curve), and a unit in the window with fewer than
    :math:`\max(10, \sqrt{n_{\text{eff}}})` draws (the empirical quantiles' bias of
    order :math:`1/n_i` does not average out; not checked for a quantile matrix). It
    also warns when the plug-in bandwidth had to be enlarged to hold enough distinct
    units, when ``x`` has mass points, and when a selected bandwidth exceeds the range
    of ``x`` on a side of the cutoff (the selected value is kept, as the R package
    does; ``restrict_bandwidth=True`` caps it at the range, as ``rdrobust`` does).
    """

    # fit's arguments are data, not routable metadata: no set_fit_request.
    __metadata_request__fit = {name: metadata_routing.UNUSED for name in
                               ("x", "treatment", "covariates", "cluster",
                                "weights", "multipliers")}

    def __init__(self, cutoff=0.0, method="simple", p=2, quantiles=None,
                 kernel="epanechnikov", bandwidth=None, restrict_bandwidth=False,
                 treatment_bandwidth=None,
                 n_bootstrap=200, alpha=0.05, deriv=0, donut=0.0, vce="hc1",
                 parity=None, random_state=None):
        self.cutoff = cutoff
        self.method = method
        self.p = p
        self.quantiles = quantiles
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.restrict_bandwidth = restrict_bandwidth
        self.treatment_bandwidth = treatment_bandwidth
        self.n_bootstrap = n_bootstrap
        self.alpha = alpha
        self.deriv = deriv
        self.donut = donut
        self.vce = vce
        self.parity = parity
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, x, Y, treatment=None, covariates=None, cluster=None, weights=None,
            multipliers=None):
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
        covariates : array-like of shape (n_units, k), optional
            Pre-determined unit covariates: the Calonico-Cattaneo-Farrell-Titiunik
            (2019) adjustment with common coefficients on both sides, per level (and
            in the first stage); the band, tests and standard errors account for it
            (the bandwidth selector, as ``rdrobust``'s, selects for the adjusted
            outcome).
        cluster : array-like of shape (n_units,), optional
            Cluster labels: one bootstrap multiplier per cluster and cluster-robust
            (CR1) standard errors.
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
            return self._fit(x, Y, treatment, weights, multipliers, covariates, cluster)

    def _fit(self, x, Y, treatment, weights, multipliers, covariates, cluster):
        self._check_params()
        quantiles = self._quantile_grid()
        kernel = KERNEL_CODES[self.kernel]
        parity = self.parity == "R3D"
        x_raw = self._running_variable(x)
        n_all = x_raw.size
        Q, sizes = unit_quantiles(Y, quantiles, n_all)
        data = {
            "x": x_raw, "Q": Q, "sizes": sizes,
            "t": None if treatment is None else treatment_vector(treatment, n_all),
            "w": unit_weights(weights, n_all),
            "Z": covariate_matrix(covariates, n_all),
            "cluster": cluster_codes(cluster, n_all),
            "xi": multipliers_matrix(multipliers, n_all, clustered=cluster is not None),
        }
        self.covariate_names_ = covariate_names(covariates, data["Z"])
        if self.vce == "hc3" and cluster is not None:
            raise ValueError("vce='hc3' is for independent units; with cluster= use "
                             "vce='hc1' (CR1).")
        if parity and data["Z"] is not None:
            raise ValueError("covariates are not available with parity='R3D' (the R "
                             "package has none); use parity=None.")
        data = drop_donut(data, self.cutoff, self.donut)
        xc, scale = centred_running_variable(data["x"], self.cutoff)
        n, Q, t, unit_w, Z = xc.size, data["Q"], data["t"], data["w"], data["Z"]
        codes, n_clusters = data["cluster"]
        check_both_sides(xc, self.p, selector_order=self._selector_order(parity))
        warn_mass_points(xc)

        h, h_t = self._bandwidths(xc, Q, t, Z, quantiles, kernel, parity, scale)
        outcome = fit_two_sided(xc, Q, unit_w, h, self.p, kernel, what="the outcome",
                                method=self.method, parity=parity, deriv=self.deriv)
        shift, self.covariate_coef_ = 0.0, None
        if Z is not None:
            adjustment = adjust(xc, Q, Z, unit_w, outcome, self.p, kernel,
                                deriv=self.deriv)
            shift = 0.5 * np.sum(adjustment.gamma * adjustment.jump, axis=0)
            self.covariate_coef_ = adjustment.gamma
        if self.vce == "hc3":
            outcome.residuals = leverage_corrected(outcome.residuals, xc, unit_w, h,
                                                   self.p, kernel)
        plus, minus = outcome.above, outcome.below
        m_plus, m_minus = plus.estimate - shift, minus.estimate + shift
        if self.deriv == 0:
            m_plus = monotonise(m_plus, quantiles, self.method, parity=parity)
            m_minus = monotonise(m_minus, quantiles, self.method, parity=parity)
        A = outcome.score()
        sides = outcome.residuals * plus.weights
        delta_y = m_plus - m_minus
        tau, delta_t, first, a_t = delta_y, None, None, None
        if t is not None:
            delta_t, a_t, first = self._first_stage(xc, t, unit_w, Z, h_t, kernel,
                                                    parity, plus, minus)
            tau = delta_y / delta_t
        # small-sample factors: in the variances always; in the bootstrap with
        # clusters (few clusters per window make the multiplier band too narrow)
        f_y = small_sample_factor(outcome.weight_difference != 0, xc >= 0, self.p,
                                  cluster=codes, n_clusters=n_clusters)
        f_t = None if first is None else small_sample_factor(
            a_t[:, None] != 0, xc >= 0, self.p, cluster=codes,
            n_clusters=n_clusters)[:, 0]
        if self.vce == "hc3":  # no degrees-of-freedom factor (as rdrobust)
            f_y, f_t = 1.0, None if first is None else 1.0
        score = fuzzy_score(A * f_y, None if first is None else a_t * f_t, delta_y,
                            delta_t)
        std_errors = pointwise_std_errors(score, xc >= 0, cluster=codes,
                                          n_clusters=n_clusters)
        if codes is not None:
            A, sides = A * f_y, sides * f_y
            a_t = None if first is None else a_t * f_t
        if first is not None:
            A = np.column_stack([A, a_t])
        draws, side_draws = bootstrap_processes(
            A, sides, delta_y, delta_t, data["xi"], codes, n_clusters,
            n_bootstrap=self.n_bootstrap, rng=resolve_rng(self.random_state))
        crit = critical_value(draws, self.alpha)
        check_finite_results(tau, crit)

        unit = float(scale) ** -self.deriv  # derivatives in units of the original x
        self.quantiles_ = quantiles
        self.tau_ = tau * unit
        self.std_errors_ = std_errors * unit
        self.critical_value_ = crit * unit
        self.band_ = np.column_stack([self.tau_ - self.critical_value_,
                                      self.tau_ + self.critical_value_])
        self.bandwidth_ = h * scale
        self.treatment_bandwidth_ = None if h_t is None else h_t * scale
        self.m_plus_, self.m_minus_ = m_plus * unit, m_minus * unit
        self.coef_plus_, self.coef_minus_ = plus.coef, minus.coef
        self.first_stage_ = None if delta_t is None else delta_t * unit
        self.bootstrap_draws_ = draws * unit
        self.bootstrap_sides_ = side_draws * unit
        self.n_units_ = n
        self.running_variable_, self.unit_quantiles_ = data["x"], Q
        self.n_clusters_ = None if codes is None else n_clusters
        self.n_effective_ = outcome.n_effective()
        if self.deriv == 0:
            warn_flat(quantiles, plus.coef[0], minus.coef[0])
        warn_small_samples(data["sizes"], plus.weights, minus.weights,
                           self.n_effective_)
        return self

    def _bandwidth_rule(self):
        """The bandwidth argument with ``None`` resolved: ``"imse"``, or ``"mse"``
        (the R package's per-level choice) with ``parity="R3D"``."""
        if self.bandwidth is None:
            return "mse" if self.parity == "R3D" else "imse"
        return self.bandwidth

    def _selector_order(self, parity):
        """Order of the selector's pilot fits, or None with a fixed bandwidth."""
        if not isinstance(self._bandwidth_rule(), str):
            return None
        return PILOT_ORDER if parity else PILOT_ORDER + 1

    def _check_params(self):
        if self.method not in ("simple", "frechet"):
            raise ValueError(f"method must be 'simple' or 'frechet'; got {self.method!r}.")
        if self.kernel not in KERNEL_CODES:
            raise ValueError(f"kernel must be one of {sorted(KERNEL_CODES)}; got "
                             f"{self.kernel!r}.")
        if not isinstance(self.restrict_bandwidth, bool | np.bool_):
            raise ValueError("restrict_bandwidth must be True or False; got "
                             f"{self.restrict_bandwidth!r}.")
        if self.vce not in ("hc1", "hc3"):
            raise ValueError(f"vce must be 'hc1' or 'hc3'; got {self.vce!r}.")
        if self.parity == "R3D" and self.vce != "hc1":
            raise ValueError("vce='hc3' is not available with parity='R3D'; use "
                             "parity=None.")
        if self.parity not in (None, "R3D"):
            raise ValueError(f"parity must be None or 'R3D'; got {self.parity!r}.")
        check_scalar(self.p, name="p", lower=1, upper=9, integer=True)
        check_scalar(self.cutoff, name="cutoff")
        check_scalar(self.deriv, name="deriv", lower=0, upper=self.p, integer=True)
        check_scalar(self.donut, name="donut", lower=0.0)
        if self.parity == "R3D" and self.deriv:
            raise ValueError("deriv > 0 is not available with parity='R3D' (the R "
                             "package has no kink design); use parity=None.")
        check_scalar(self.n_bootstrap, name="n_bootstrap", lower=1, integer=True)
        check_scalar(self.alpha, name="alpha", lower=0.0, upper=1.0,
                     include_lower=False, include_upper=False)
        if self.treatment_bandwidth is not None:
            check_scalar(self.treatment_bandwidth, name="treatment_bandwidth",
                         lower=0.0, include_lower=False)

    def _quantile_grid(self):
        return quantile_grid(self.quantiles, DEFAULT_QUANTILES)

    def _running_variable(self, x):
        self.running_variable_name_ = running_variable_name(x)
        return validated_running_variable(self, x)

    def _bandwidths(self, xc, Q, t, Z, quantiles, kernel, parity, scale):
        """Outcome bandwidths (m,) and the first-stage bandwidth, in units of ``xc``
        (the running variable divided by ``scale``)."""
        self.bandwidth_selection_ = None
        h_t = None if self.treatment_bandwidth is None else \
            float(self.treatment_bandwidth) / scale
        rule = self._bandwidth_rule()
        if isinstance(rule, str):
            if rule not in ("mse", "imse", "cer"):
                raise ValueError("bandwidth must be 'mse', 'imse', 'cer', None (the "
                                 "default), a positive number or one per quantile; "
                                 f"got {rule!r}.")
            method = "frechet" if rule == "imse" else self.method
            sel = select_bandwidths(xc, Q, t, quantiles, method=method,
                                    kernel=kernel, parity=parity,
                                    coverage=rule == "cer", order=self.p,
                                    covariates=Z)
            self.bandwidth_selection_ = rescale_selection(sel, scale)
            warn_enlarged(sel, self.p)
            if self.restrict_bandwidth:
                sel = restrict(sel, xc)
                self.bandwidth_selection_ = rescale_selection(sel, scale)
            else:
                warn_wide(sel, xc, scale, quantiles)
            return sel.outcome, (sel.treatment if h_t is None else h_t)
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
            h_t = float(h[0]) / scale
        return np.broadcast_to(h / scale, quantiles.shape).copy(), h_t

    def _first_stage(self, xc, t, unit_w, Z, h_t, kernel, parity, plus, minus):
        """Jump in P(T | X), its bootstrap column ``(s_T+ - s_T-) E_T``, the fit."""
        T = t[:, None]
        first = fit_two_sided(xc, T, unit_w, [h_t], self.p, kernel, what="the treatment",
                              deriv=self.deriv)
        if Z is not None:
            adjust(xc, T, Z, unit_w, first, self.p, kernel, deriv=self.deriv)
        delta_t = float(first.jump[0])
        if not abs(delta_t) > NO_JUMP:
            raise ValueError(
                "treatment shows no jump at the cutoff (estimated first stage "
                f"{delta_t:.3g}); the fuzzy design is not identified. Use treatment=None "
                "for a sharp design or check the cutoff.")
        if parity:
            # R3D: residuals where the outcome's first-level intercept weight is
            # positive, weighted by the outcome's intercept weights.
            w_plus, w_minus = plus.weights[:, :1], minus.weights[:, :1]
            e_t = np.where((w_plus > 0) | (w_minus > 0), T - first.fitted(xc), 0.0)
        else:
            w_plus, w_minus = first.above.weights, first.below.weights
            e_t = first.residuals
            if self.vce == "hc3":
                e_t = leverage_corrected(e_t, xc, unit_w, [h_t], self.p, kernel)
        return delta_t, (e_t * (w_plus - w_minus))[:, 0], first
