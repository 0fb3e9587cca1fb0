"""Plots of the ordinal estimators (matplotlib imported inside each method)."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["PlotMixin", "feature_lines_legend", "feature_names", "legend_columns",
           "line_style"]

_STYLES = ("-", "--", ":", "-.")


def line_style(j):
    """Colour cycles every 10 features; the dash pattern tells those 10 apart."""
    return {"color": f"C{j % 10}", "ls": _STYLES[(j // 10) % len(_STYLES)]}


def legend_columns(n_features):
    """Columns of a beside-the-axes legend: at most 12 names a column (fits 3.5 in)."""
    return 1 if n_features <= 6 else -(-n_features // 12)


def feature_lines_legend(ax, n_features):
    """Legend of the per-feature lines: inside for a few, beside the axes for many
    (constrained layout makes room for it, so nothing covers the lines)."""
    if n_features <= 6:
        ax.legend(fontsize="small", loc="best")
        return
    ax.legend(fontsize="x-small", ncols=legend_columns(n_features), loc="upper left",
              bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def feature_names(estimator):
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        return [str(name) for name in names]
    return [f"x{j}" for j in range(estimator.n_features_in_)]


def _axes(ax, figsize=(5, 3.5)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


class PlotMixin:
    """The rare-class calibration plot (Faletto & Bien, 2023, Section 4.3)."""

    def plot_calibration(self, X, y, *, n_bins=10, ax=None):
        """Rare-class calibration: observed vs predicted rare-class frequency.

        Rows sorted by :meth:`predict_rare_proba` are cut into ``n_bins``
        equal-count bins; each bin is drawn at its mean predicted probability and
        its observed frequency of the rare class ``categories_[-1]``. A
        calibrated model lies on the diagonal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            True labels.
        n_bins : int, default=10
        ax : matplotlib Axes, optional

        Returns
        -------
        ax : matplotlib Axes
        """
        from statlogit._validation import check_scalar

        check_is_fitted(self)
        n_bins = check_scalar(n_bins, name="n_bins", lower=1, integer=True)
        proba = self.predict_rare_proba(X)
        rare = (np.asarray(y) == self.categories_[-1]).astype(np.float64)
        if rare.shape != proba.shape:
            raise ValueError(f"y must have one label per row of X ({proba.shape[0]}); "
                             f"got shape {np.shape(y)}.")
        order = np.argsort(proba, kind="stable")
        bins = [rows for rows in np.array_split(order, min(n_bins, len(order)))
                if rows.size]
        predicted = np.array([proba[rows].mean() for rows in bins])
        observed = np.array([rare[rows].mean() for rows in bins])
        ax = _axes(ax)
        top = max(float(predicted.max()), float(observed.max()), 1e-3) * 1.05
        diagonal = [line for line in ax.get_lines() if line.get_label() == "calibrated"]
        if diagonal:  # a second model on the same axes: one diagonal covering both
            top = max(top, float(diagonal[0].get_xdata()[-1]))
            diagonal[0].set_data([0, top], [0, top])
        else:
            ax.plot([0, top], [0, top], color="0.6", ls="--", lw=1, label="calibrated")
        ax.plot(predicted, observed, "o-", ms=4, label=type(self).__name__)
        ax.set(xlabel=f"predicted P(y = {self.categories_[-1]})",
               ylabel=f"observed frequency of {self.categories_[-1]}",
               title="rare-class calibration")
        ax.legend(loc="upper left", fontsize="small")
        return ax

    def plot(self, ax=None):
        """Slopes :math:`\\beta_k` of every boundary, one line per feature.

        Returns
        -------
        ax : matplotlib Axes
        """
        check_is_fitted(self)
        coef = np.atleast_2d(self._boundary_coef())
        ax = _axes(ax, figsize=(5 + 1.4 * (legend_columns(coef.shape[1]) - 1)
                                + 1.4 * (coef.shape[1] > 6), 3.5))
        labels = [f"{a}|{b}" for a, b in zip(self.categories_[:-1], self.categories_[1:],
                                              strict=True)]
        positions = np.arange(len(labels))
        for j, name in enumerate(feature_names(self)):
            ax.plot(positions, coef[:, j], marker="o", ms=3, label=name, **line_style(j))
        ax.set_xticks(positions, labels, rotation=30 if len(labels) > 6 else 0)
        ax.axhline(0.0, color="0.6", lw=0.8)
        ax.set(xlabel="boundary (lower | upper classes)", ylabel=r"slope $\beta_k$",
               title=f"{type(self).__name__}: slopes by boundary")
        feature_lines_legend(ax, len(coef[0]))
        return ax
