r"""RD validation checklist: placebo cutoffs and bandwidth sensitivity, as tidy frames.

Both refit a (cloned) :class:`statlogit.R3D` many times; the fits run through joblib
(``n_jobs``; ``joblib.parallel_config(backend="dask")`` sends them to a cluster) and
give the same numbers whatever ``n_jobs`` or the backend, since every fit uses the
estimator's own ``random_state``.

* :func:`placebo_cutoffs`: at each placebo cutoff :math:`c'` the estimator is refit on
  the units on the same side of the true cutoff :math:`c` as :math:`c'` (so the true
  jump cannot leak into the placebo estimate); with no discontinuity at :math:`c'`
  the nullity test should reject at about its nominal rate.
* :func:`bandwidth_sensitivity`: the estimator is fit once; then refit at the selected
  bandwidths times each scale (the first stage's too).
"""

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone

from statlogit._validation import as_float_array

__all__ = ["bandwidth_sensitivity", "placebo_cutoffs", "plot_checks"]


def _subset(values, keep):
    if values is None:
        return None
    if isinstance(values, pd.DataFrame | pd.Series):
        return values[keep]
    if isinstance(values, np.ndarray):
        return values[keep]
    return [v for v, k in zip(values, keep, strict=True) if k]


def _rows(est, key, value):
    """One row per quantile level of a fitted estimator."""
    pointwise = est.conf_int(kind="pointwise")
    return pd.DataFrame({
        key: value,
        "quantile": est.quantiles_,
        "tau": est.tau_,
        "std_error": est.std_errors_,
        "lower": pointwise["lower"].to_numpy(),
        "upper": pointwise["upper"].to_numpy(),
        "band_lower": est.band_[:, 0],
        "band_upper": est.band_[:, 1],
        "bandwidth": est.bandwidth_,
        "nullity_p_value": est.test_nullity().p_value,
        "n_units": est.n_units_,
    })


def _fit_placebo(estimator, cutoff, x, Y, covariates, cluster, weights):
    true = float(estimator.cutoff)
    keep = (x >= true) if cutoff >= true else (x < true)
    est = clone(estimator).set_params(cutoff=float(cutoff))
    try:
        est.fit(x[keep], _subset(Y, keep), covariates=_subset(covariates, keep),
                cluster=_subset(cluster, keep), weights=_subset(weights, keep))
    except ValueError as exc:
        raise ValueError(f"placebo cutoff {cutoff:g}: {exc}") from exc
    return _rows(est, "cutoff", float(cutoff))


def placebo_cutoffs(estimator, x, Y, cutoffs, *, covariates=None, cluster=None,
                    weights=None, n_jobs=None):
    """Refit the estimator at placebo cutoffs (sharp: the reduced form).

    Parameters
    ----------
    estimator : statlogit.R3D
        Unfitted or fitted; its parameters (``cutoff`` = the true cutoff) are used.
    x, Y : as in :meth:`statlogit.R3D.fit`
    cutoffs : array-like of float
        Placebo cutoffs; each is fit on the units on its side of the true cutoff.
    covariates, cluster, weights : optional, as in :meth:`statlogit.R3D.fit`
    n_jobs : int, optional
        joblib workers.

    Returns
    -------
    pandas.DataFrame
        One row per cutoff and level: ``cutoff``, ``quantile``, ``tau``,
        ``std_error``, pointwise ``lower``/``upper``, uniform ``band_lower``/
        ``band_upper``, ``bandwidth``, ``nullity_p_value``, ``n_units``.
    """
    x = as_float_array(np.ravel(np.asarray(x)), name="x", ndim=1)
    cutoffs = as_float_array(np.atleast_1d(cutoffs), name="cutoffs", ndim=1)
    frames = Parallel(n_jobs=n_jobs)(
        delayed(_fit_placebo)(estimator, c, x, Y, covariates, cluster, weights)
        for c in cutoffs)
    return pd.concat(frames, ignore_index=True)


def _fit_scaled(estimator, scale, h, h_t, x, Y, fit_args):
    params = {"bandwidth": h * scale}
    if h_t is not None:
        params["treatment_bandwidth"] = h_t * scale
    est = clone(estimator).set_params(**params)
    try:
        est.fit(x, Y, **fit_args)
    except ValueError as exc:
        raise ValueError(f"bandwidth scale {scale:g}: {exc}") from exc
    return _rows(est, "scale", float(scale))


def bandwidth_sensitivity(estimator, x, Y, scales=(0.5, 0.75, 1.0, 1.5, 2.0), *,
                          treatment=None, covariates=None, cluster=None, weights=None,
                          n_jobs=None):
    """Refit the estimator at multiples of its (selected or given) bandwidths.

    Parameters
    ----------
    estimator : statlogit.R3D
    x, Y, treatment, covariates, cluster, weights : as in :meth:`statlogit.R3D.fit`
    scales : array-like of positive float
    n_jobs : int, optional

    Returns
    -------
    pandas.DataFrame
        One row per scale and level, columns as :func:`placebo_cutoffs` with
        ``scale`` in place of ``cutoff``.
    """
    scales = as_float_array(np.atleast_1d(scales), name="scales", ndim=1)
    if np.any(scales <= 0):
        raise ValueError(f"scales must be positive; got {scales.tolist()}.")
    fit_args = {"treatment": treatment, "covariates": covariates, "cluster": cluster,
                "weights": weights}
    base = clone(estimator).fit(x, Y, **fit_args)
    frames = Parallel(n_jobs=n_jobs)(
        delayed(_fit_scaled)(estimator, s, base.bandwidth_, base.treatment_bandwidth_,
                             x, Y, fit_args)
        for s in scales)
    return pd.concat(frames, ignore_index=True)


def plot_checks(frame, *, quantiles=None, ax=None):
    """Plot a :func:`placebo_cutoffs` or :func:`bandwidth_sensitivity` frame.

    Effect estimates with pointwise intervals against the cutoff (or the scale), one
    line per quantile level (default: at most 3 levels spread over the grid).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    key = "cutoff" if "cutoff" in frame.columns else "scale"
    levels = np.unique(frame["quantile"])
    if quantiles is None:
        quantiles = levels[np.unique(np.linspace(0, levels.size - 1, 3).round()
                                     .astype(int))]
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
    offsets = np.linspace(-0.15, 0.15, len(quantiles))
    span = np.ptp(frame[key]) if np.ptp(frame[key]) > 0 else 1.0
    step = span / max(np.unique(frame[key]).size, 1)
    for q, off in zip(quantiles, offsets, strict=True):
        part = frame[np.isclose(frame["quantile"], q)]
        ax.errorbar(part[key] + off * step, part["tau"],
                    yerr=[part["tau"] - part["lower"], part["upper"] - part["tau"]],
                    fmt="o", ms=3, capsize=2, label=f"q = {q:g}")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set(xlabel="placebo cutoff" if key == "cutoff" else "bandwidth scale",
           ylabel="effect (pointwise 95% CI)")
    ax.legend(fontsize=8)
    return ax
