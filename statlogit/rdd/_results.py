"""R3D's results: uniform tests (nullity, homogeneity, Gini), the summary table, plots.

:class:`R3DResultsMixin` gives :class:`statlogit.R3D` its result methods; it reads only
fitted attributes (``tau_``, ``bootstrap_draws_``, ``bootstrap_sides_``, ...).
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from statlogit._validation import check_scalar
from statlogit.inference import conf_int_frame
from statlogit.rdd._inference import (
    R3DGiniTestResult,
    R3DTestResult,
    critical_value,
    gini_test,
    sup_test,
)
from statlogit.rdd._plots import plot_binned
from statlogit.rdd._summary import build_summary, level_names

# The Gini of the whole distribution needs a grid reaching these levels.
GINI_GRID_ENDS = (0.01, 0.99)


class R3DResultsMixin:
    """Tests, summary and plot of a fitted :class:`statlogit.R3D`."""

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
            Levels over which the effect is compared (default: the whole grid), at
            least 2 grid points.

        Returns
        -------
        R3DTestResult
            Sup-statistic, bootstrap p-value and critical value.
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

    def _critical_value(self, alpha):
        """Half-width of the uniform band at level ``1 - alpha`` (from the draws)."""
        alpha = check_scalar(alpha, name="alpha", lower=0.0, upper=1.0,
                             include_lower=False, include_upper=False)
        if alpha == self.alpha:
            return self.critical_value_
        return critical_value(self.bootstrap_draws_, alpha)

    def conf_int(self, alpha=0.05, kind="pointwise"):
        r"""Confidence intervals for the effect at each level.

        Parameters
        ----------
        alpha : float, default=0.05
            Level ``1 - alpha``.
        kind : {"pointwise", "uniform"}, default="pointwise"
            ``"pointwise"``: :math:`\hat\tau(q) \pm z_{1-\alpha/2}\,
            \widehat{se}(q)` (each level covered with probability ``1 - alpha``);
            ``"uniform"``: the bootstrap band :math:`\hat\tau(q) \pm
            \hat c_{1-\alpha}`, covering all levels at once.

        Returns
        -------
        pandas.DataFrame
            Columns ``lower``, ``upper``, indexed by the quantile levels
            (``quantile``); ``attrs["kind"]`` says which.
        """
        check_is_fitted(self, "tau_")
        if kind == "pointwise":
            frame = conf_int_frame(self.tau_, self.std_errors_, alpha=alpha,
                                   names=level_names(self.quantiles_))
        elif kind == "uniform":
            crit = self._critical_value(alpha)
            frame = pd.DataFrame({"lower": self.tau_ - crit, "upper": self.tau_ + crit})
        else:
            raise ValueError(f"kind must be 'pointwise' or 'uniform'; got {kind!r}.")
        frame.index = pd.Index(self.quantiles_, name="quantile")
        frame.attrs["kind"] = kind
        return frame

    def summary(self, alpha=0.05):
        """Per-level estimates with pointwise and uniform inference.

        Parameters
        ----------
        alpha : float, default=0.05

        Returns
        -------
        R3DSummary
            A statsmodels ``Summary`` (text, HTML, LaTeX) built by
            :mod:`statlogit.inference`: estimate, standard error, z, pointwise
            p-value and interval, uniform band per level; units, effective units
            per side, bandwidths, first stage, covariates, clusters and the
            bootstrap p-values of the nullity and homogeneity tests (below
            ``1/(B+1)`` reported as such). Its ``frame`` (also reached as
            ``summary.columns``, ``summary["tau"]``, ``summary.attrs``) is the
            per-level table: ``tau``, ``band_lower``, ``band_upper``, ``std_error``,
            ``bandwidth``, ``m_plus``, ``m_minus``, ``n_below``, ``n_above``.
        """
        check_is_fitted(self, "tau_")
        return build_summary(self, alpha)

    def test_sign(self, direction="positive", range=None):
        r"""One-sided uniform test that the effect has a sign at every level.

        ``direction="positive"``: :math:`H_0: \tau(q) \ge 0` for all :math:`q` in
        ``range``; statistic :math:`\max_q (-\hat\tau(q))`, p-value the share of
        bootstrap :math:`\max_q(-\hat G^b(q))` at least as large (the least
        favourable null :math:`\tau \equiv 0`). ``"negative"``: :math:`H_0:
        \tau(q) \le 0`, statistic :math:`\max_q \hat\tau(q)`. A small p-value
        says the effect is negative (positive) at some level.

        Parameters
        ----------
        direction : {"positive", "negative"}, default="positive"
        range : (float, float), optional

        Returns
        -------
        R3DTestResult
        """
        if direction not in ("positive", "negative"):
            raise ValueError("direction must be 'positive' or 'negative'; got "
                             f"{direction!r}.")
        idx, bounds = self._range_index(range)
        sign = -1.0 if direction == "positive" else 1.0
        statistic = float(np.max(sign * self.tau_[idx]))
        sup = np.max(sign * self.bootstrap_draws_[:, idx], axis=1)
        p_value = float(np.mean(sup >= statistic))
        return R3DTestResult(statistic, p_value, float(np.quantile(sup, 1 - self.alpha)),
                             bounds, int(idx.size))

    def plot(self, ax=None):
        """Plot the effect curve with its uniform band and pointwise intervals.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw (default: a new figure with constrained layout).

        Returns
        -------
        matplotlib.axes.Axes
        """
        check_is_fitted(self, "tau_")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
        level = round(100 * (1 - self.alpha))
        ax.fill_between(self.quantiles_, self.band_[:, 0], self.band_[:, 1], alpha=0.25,
                        label=f"{level}% uniform band")
        pointwise = self.conf_int(alpha=self.alpha).to_numpy()
        ax.fill_between(self.quantiles_, pointwise[:, 0], pointwise[:, 1], alpha=0.35,
                        color="C0", lw=0, label=f"{level}% pointwise")
        ax.plot(self.quantiles_, self.tau_, "o-", ms=3, label=r"$\hat\tau(q)$")
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set(xlabel="quantile level q", ylabel="effect",
               title=f"R3D ({self.method})")
        ax.legend(fontsize=8)
        return ax

    def plot_data(self, quantiles=(0.1, 0.5, 0.9), bins=20, axes=None):
        r"""rdplot-style figure: binned means of the unit quantiles against x.

        For each level, the units' quantiles :math:`\hat Q_{Y_i}(q)` (interpolated
        between grid levels) averaged in ``bins`` equal-width bins of x on each side
        of the cutoff, with the fitted local polynomials inside the bandwidth (the
        nearest grid level's fit, without covariate adjustment).

        Parameters
        ----------
        quantiles : sequence of float, default=(0.1, 0.5, 0.9)
        bins : int, default=20
            Bins per side.
        axes : sequence of matplotlib.axes.Axes, optional
            One per level.

        Returns
        -------
        numpy.ndarray of matplotlib.axes.Axes
        """
        check_is_fitted(self, "tau_")
        return plot_binned(self, quantiles, bins, axes)
