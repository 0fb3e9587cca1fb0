"""R3D's rdplot-style figure (binned unit quantiles and the local polynomial fits)."""

import numpy as np

from statlogit._validation import as_float_array, check_scalar


def _levels(est, quantiles):
    q = as_float_array(np.atleast_1d(quantiles), name="quantiles", ndim=1)
    grid = est.quantiles_
    if np.any((q < grid[0]) | (q > grid[-1])):
        raise ValueError(f"quantiles must lie in the fitted grid's range [{grid[0]:g}, "
                         f"{grid[-1]:g}]; got {q.tolist()}.")
    return q


def _column(est, q):
    """Unit quantiles at level q (linear between grid levels) and the nearest fit."""
    grid = est.quantiles_
    Q = est.unit_quantiles_
    values = np.array([np.interp(q, grid, row) for row in Q])
    return values, int(np.argmin(np.abs(grid - q)))


def plot_binned(est, quantiles, bins, axes):
    import matplotlib.pyplot as plt

    q = _levels(est, quantiles)
    bins = check_scalar(bins, name="bins", lower=1, integer=True)
    if axes is None:
        _, axes = plt.subplots(1, q.size, figsize=(3.2 * q.size, 3.0),
                               layout="constrained", squeeze=False)
        axes = axes[0]
    axes = np.atleast_1d(axes)
    if axes.size != q.size:
        raise ValueError(f"axes must hold one Axes per level ({q.size}); got "
                         f"{axes.size}.")
    x = est.running_variable_
    c = float(est.cutoff)
    for ax, level in zip(axes, q, strict=True):
        values, j = _column(est, level)
        for side, coef, colour in ((x < c, est.coef_minus_[:, j], "C0"),
                                   (x >= c, est.coef_plus_[:, j], "C1")):
            xs, ys = x[side], values[side]
            edges = np.linspace(xs.min(), xs.max(), bins + 1)
            which = np.clip(np.digitize(xs, edges) - 1, 0, bins - 1)
            counts = np.bincount(which, minlength=bins)
            sums = np.bincount(which, weights=ys, minlength=bins)
            full = counts > 0
            centres = 0.5 * (edges[1:] + edges[:-1])
            ax.plot(centres[full], sums[full] / counts[full], "o", ms=3, color=colour)
            h = est.bandwidth_[j]
            lo, hi = (max(c - h, xs.min()), c) if colour == "C0" else \
                (c, min(c + h, xs.max()))
            grid = np.linspace(lo, hi, 60)
            u = (grid - c) / h
            ax.plot(grid, np.polyval(coef[::-1], u), color=colour, lw=1.5)
        ax.axvline(c, color="k", lw=0.8)
        ax.set(xlabel=est.running_variable_name_ or "running variable x",
               ylabel=f"unit quantile at q = {level:g}", title=f"q = {level:g}")
    axes[0].legend(["binned means below", "fit below", "binned means above",
                    "fit above"], fontsize=7)
    return axes
