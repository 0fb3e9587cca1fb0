"""R3D's input shaping (unit quantiles, treatment, multipliers) and the warnings about
the theory's limitations (flat average quantile curves, small within-unit samples)."""

import math
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
from sklearn.utils.validation import validate_data

from statlogit._validation import as_float_array, check_sample_weight

# Limitation warnings (see R3D's Notes): a flat stretch of the estimated average
# quantile curve covering more than FLAT_SHARE of the grid's span, increments within
# FLAT_RTOL of the curve's size counting as zero; fewer than max(MIN_DRAWS,
# sqrt(effective units)) draws in some unit inside the window.
FLAT_SHARE = 0.05
FLAT_RTOL = 1e-8
MIN_DRAWS = 10


# ----------------------------------------------------------------- limitations
def flat_stretch(quantiles, curve):
    """Longest run of levels over which ``curve`` is constant: (low, high) or None."""
    flat = np.abs(np.diff(curve)) <= FLAT_RTOL * np.max(np.abs(curve))
    edges = np.diff(np.concatenate([[0], flat.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if starts.size == 0:
        return None
    longest = int(np.argmax(quantiles[stops] - quantiles[starts]))
    return float(quantiles[starts[longest]]), float(quantiles[stops[longest]])


def warn_flat(quantiles, m_plus, m_minus):
    """Warn when an estimated average quantile curve is flat over a stretch."""
    span = quantiles[-1] - quantiles[0]
    for side, curve in (("above", m_plus), ("below", m_minus)):
        stretch = flat_stretch(quantiles, curve)
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


def warn_small_samples(sizes, w_plus, w_minus, n_effective):
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
def ragged_quantiles(values, offsets, probs):
    """Type-7 quantiles of ragged samples (numpy, units of equal size sorted together).

    Parameters
    ----------
    values : ndarray of shape (N,)
        All samples, unit after unit.
    offsets : int64 ndarray of shape (n + 1,)
        Unit ``i`` owns ``values[offsets[i]:offsets[i + 1]]`` (at least one value).
    probs : ndarray of shape (m,)
        Levels in ``[0, 1]``.

    Returns
    -------
    ndarray of shape (n, m)
        ``Q[i, j] = y[lo] + (h - lo) (y[lo + 1] - y[lo])`` with ``y`` the sorted sample,
        ``h = (n_i - 1) probs[j]`` and ``lo = floor(h)`` (R's ``quantile(type = 7)``,
        numpy's default), ``y[n_i - 1]`` when ``lo = n_i - 1``.
    """
    sizes = np.diff(offsets)
    out = np.empty((sizes.size, probs.size))
    for size in np.unique(sizes):
        units = np.flatnonzero(sizes == size)
        y = np.sort(values[offsets[units, None] + np.arange(size)[None, :]], axis=1)
        h = (size - 1) * probs
        lo = np.minimum(np.floor(h).astype(np.int64), size - 1)
        below = y[:, lo]
        above = y[:, np.minimum(lo + 1, size - 1)]
        out[units] = np.where(lo >= size - 1, below, below + (h - lo) * (above - below))
    return out


def unit_quantiles(Y, quantiles, n_units):
    """Unit quantiles (n_units, m) from samples or a given matrix, and sample sizes.

    The sizes are None when ``Y`` is a quantile matrix.
    """
    if isinstance(Y, pd.DataFrame) or (isinstance(Y, np.ndarray) and Y.ndim == 2
                                       and Y.dtype != object):
        Q = as_float_array(np.asarray(Y), name="Y", ndim=2)
        if Q.shape != (n_units, quantiles.size):
            raise ValueError(
                f"A 2-D Y is read as unit quantiles and must have shape ({n_units}, "
                f"{quantiles.size}) (units x quantiles); got {Q.shape}. Pass samples "
                "as a list of 1-D arrays, one per unit.")
        return Q, None
    if isinstance(Y, str | bytes | dict) or not hasattr(Y, "__len__"):
        raise ValueError("Y must be a sequence of 1-D samples (one per unit) or a 2-D "
                         f"array of unit quantiles; got {type(Y).__name__}.")
    if len(Y) != n_units:
        raise ValueError(f"Y has {len(Y)} units but x has {n_units}.")
    samples = [_unit_sample(s, i) for i, s in enumerate(Y)]
    sizes = np.array([s.size for s in samples])
    if np.any(sizes == 0):
        raise ValueError(f"Y has {int(np.sum(sizes == 0))} unit(s) with an empty sample "
                         f"(first: unit {int(np.argmax(sizes == 0))}); drop them.")
    values = as_float_array(np.concatenate(samples), name="Y")
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return ragged_quantiles(values, offsets, quantiles), sizes


def _unit_sample(sample, i):
    """One unit's sample as a flat float array, refusing complex and non-numbers."""
    try:
        arr = np.asarray(sample)
    except ValueError as exc:  # ragged nested sequences
        raise ValueError(f"Y's unit {i} is not a flat numeric sample: {exc}") from exc
    if np.iscomplexobj(arr):
        raise ValueError(f"Y must be real-valued; unit {i}'s sample has complex entries "
                         "(pass the real part if that is what you mean).")
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Y must hold numbers; unit {i}'s sample has dtype "
                             f"{arr.dtype}.") from exc
    return arr.astype(np.float64).ravel()


def unit_weights(weights, n):
    """Non-negative unit weights (ones when None); messages name ``weights``."""
    try:
        return check_sample_weight(weights, n)
    except ValueError as exc:
        raise ValueError(str(exc).replace("sample_weight", "weights")) from exc


def treatment_vector(treatment, n):
    """The 0/1 treatment as floats; strings and other codings are refused."""
    raw = np.asarray(treatment).ravel()
    if raw.dtype.kind in "USO" and not all(isinstance(v, (int, float, np.number, bool))
                                            for v in raw.tolist()):
        values = np.unique(raw.astype(str))[:5].tolist()
        raise ValueError(
            f"treatment must be 0/1 or boolean; got non-numeric values {values}. "
            "Encode it, e.g. treatment=(status == 'treated').")
    t = as_float_array(raw, name="treatment", ndim=1)
    if t.size != n:
        raise ValueError(f"treatment has {t.size} entries but x has {n}.")
    if not np.all((t == 0) | (t == 1)):
        raise ValueError("treatment must be 0/1 (or boolean); got values "
                         f"{np.unique(t)[:5].tolist()}.")
    return t


def multipliers_matrix(multipliers, n, *, clustered=False):
    if multipliers is None:
        return None
    if clustered:
        raise ValueError("multipliers and cluster cannot be combined: with clusters "
                         "the bootstrap draws one multiplier per cluster; drop one.")
    xi = as_float_array(multipliers, name="multipliers", ndim=2)
    if xi.shape[0] != n:
        raise ValueError(f"multipliers must have one row per unit ({n}); got "
                         f"{xi.shape[0]}.")
    return xi


def check_both_sides(xc, p, *, selector_order=None):
    """Enough units, and distinct values of x, on each side for the fits.

    ``selector_order``: the order of the bandwidth selector's pilot fits when the
    bandwidth is selected (they need one more distinct value than their order).
    """
    above = int(np.sum(xc >= 0))
    below = xc.size - above
    if min(above, below) < p + 1:
        raise ValueError(
            f"Need at least p + 1 = {p + 1} units on each side of the cutoff; got "
            f"{below} below and {above} above. Check the cutoff or lower p.")
    distinct_above = np.unique(xc[xc >= 0]).size
    distinct_below = np.unique(xc[xc < 0]).size
    fewest = min(distinct_above, distinct_below)
    if fewest < p + 1:
        raise ValueError(
            f"x takes only {distinct_below} distinct value(s) below and "
            f"{distinct_above} above the cutoff (a discrete running variable): a "
            f"polynomial of order p = {p} needs p + 1 = {p + 1} on each side. "
            + (f"Lower p (to at most {fewest - 1}) or use a continuous running variable."
               if fewest >= 2 else "R3D needs a running variable with at least 2 "
               "distinct values on each side."))
    if selector_order is not None and fewest < selector_order + 1:
        raise ValueError(
            f"x takes only {distinct_below} distinct value(s) below and "
            f"{distinct_above} above the cutoff (a discrete running variable): the "
            f"bandwidth selector's pilot fits need {selector_order + 1} on each side. "
            "Pass bandwidth= (a number) to skip the selector.")


# ------------------------------------------------------------ running variable
# Mass points: fewer distinct values of x than this share of the units triggers a
# warning (the local polynomial theory assumes a continuous running variable).
MASS_POINT_SHARE = 0.5


def centred_running_variable(x, cutoff):
    """``(x - cutoff) / scale`` with ``scale`` a power of two near ``max |x - cutoff|``.

    Dividing by a power of two is exact, so every fitted quantity is unchanged except
    bandwidths (in units of the returned variable: multiply them by ``scale``); the
    selector and the fits never see huge or tiny numbers (``x * 1e200`` works).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        xc = x - float(cutoff)
    if not np.all(np.isfinite(xc)):
        raise ValueError("x - cutoff overflows the float range; rescale x and cutoff "
                         "(e.g. divide both by a power of ten).")
    top = float(np.max(np.abs(xc)))
    if top == 0.0:
        return xc, 1.0
    scale = float(np.exp2(np.round(np.log2(top))))
    return xc / scale, scale


def warn_mass_points(xc):
    """Warn when the running variable is discrete (many units share a value)."""
    distinct = np.unique(xc).size
    if distinct >= MASS_POINT_SHARE * xc.size:
        return
    warnings.warn(
        f"x takes only {distinct} distinct values for {xc.size} units: the running "
        "variable has mass points (it is discrete). Local polynomial RD assumes a "
        "continuous running variable; with few values near the cutoff the estimate "
        "extrapolates between them and the bands are unreliable. Consider a local "
        "randomisation analysis, or check that x is not rounded.", UserWarning,
        stacklevel=4)


def warn_enlarged(selection, p):
    """Warn when the selected bandwidths were raised to hold enough distinct units."""
    if not selection.enlarged:
        return
    warnings.warn(
        "The plug-in bandwidth left fewer distinct units in a window than a polynomial "
        f"of order {p} (and the selector's pilot fits) need - the outcome or the "
        "treatment is (nearly) exactly fitted on each side, or x has mass points. The "
        "bandwidth was enlarged to the smallest window holding enough distinct units; "
        "set `bandwidth=` (and `treatment_bandwidth=`) to choose it yourself.",
        UserWarning, stacklevel=5)


def warn_wide(selection, xc, scale, quantiles):
    """Warn when a selected bandwidth exceeds the range of x on a side of the cutoff.

    The plug-in MSE formula assumes a window small against the support of x (the
    variance falls like :math:`1/(nh)` because the window gains units); it explodes when
    the estimated curvature is near zero. Past the range of x on a side the window holds
    every unit there and a larger h only flattens the kernel weights towards the uniform
    kernel. The bandwidth is kept (the fit and its bootstrap use the weights actually
    applied, and the R3D package keeps it too); ``rdrobust``'s default
    (``bwrestrict=True``) would cap it at the range.
    """
    below, above = float(-xc.min()), float(xc.max())
    h = selection.outcome
    wide = (h > below) | (h > above)
    treatment_wide = selection.treatment is not None and \
        selection.treatment > min(below, above)
    if not (wide.any() or treatment_wide):
        return
    where = [f"{int(wide.sum())} of {h.size} quantile level(s) (largest "
             f"h = {h.max() * scale:.4g} at q = {quantiles[int(np.argmax(h))]:g})"] \
        if wide.any() else []
    if treatment_wide:
        where.append(f"the treatment (h = {selection.treatment * scale:.4g})")
    warnings.warn(
        f"The selected bandwidth exceeds the range of x on a side of the cutoff for "
        f"{' and '.join(where)}; x spans {below * scale:.4g} below and "
        f"{above * scale:.4g} above (the curves look linear there). Kept, as R3D "
        "does; pass restrict_bandwidth=True to cap it as rdrobust does.",
        UserWarning, stacklevel=5)


def restrict(selection, xc):
    """Cap the selected bandwidths at the larger side range of ``xc`` (rdrobust's
    ``bwrestrict``)."""
    reach = max(float(-xc.min()), float(xc.max()))
    treatment = None if selection.treatment is None else min(selection.treatment, reach)
    return replace(selection, outcome=np.minimum(selection.outcome, reach),
                   treatment=treatment)


def rescale_selection(selection, scale):
    """A :class:`BandwidthSelection` in units of the original running variable."""
    def times(value):
        return None if value is None else value * scale

    return replace(selection, outcome=selection.outcome * scale,
                   treatment=times(selection.treatment),
                   pilot_outcome=selection.pilot_outcome * scale,
                   pilot_treatment=times(selection.pilot_treatment),
                   density=selection.density / scale)


def check_finite_results(tau, critical_value):
    """Raise when the outcomes are so large that the effect or band overflowed."""
    if np.all(np.isfinite(tau)) and np.isfinite(critical_value):
        return
    raise ValueError("The effect or its band overflowed the float range: Y's values "
                     "are too large; rescale Y (e.g. divide it by a power of ten).")


# ------------------------------------------------------ covariates, clusters
def covariate_matrix(covariates, n):
    """Covariates as an (n, k) float array, or None."""
    if covariates is None:
        return None
    Z = as_float_array(np.asarray(covariates), name="covariates")
    Z = Z[:, None] if Z.ndim == 1 else Z
    if Z.shape[0] != n:
        raise ValueError(f"covariates has {Z.shape[0]} rows but x has {n} units.")
    if Z.shape[1] == 0:
        raise ValueError("covariates has no columns; pass covariates=None.")
    return Z


def running_variable_name(x):
    """A Series' name or a one-column DataFrame's column name; None otherwise."""
    if isinstance(x, pd.Series) and x.name is not None:
        return str(x.name)
    if isinstance(x, pd.DataFrame) and x.shape[1] == 1:
        return str(x.columns[0])
    return None


def covariate_names(covariates, Z):
    """Column names of a DataFrame (or ``z0, z1, ...``)."""
    if Z is None:
        return None
    if isinstance(covariates, pd.DataFrame):
        return [str(c) for c in covariates.columns]
    if isinstance(covariates, pd.Series) and covariates.name is not None:
        return [str(covariates.name)]
    return [f"z{j}" for j in range(Z.shape[1])]


def cluster_codes(cluster, n):
    """Cluster labels as codes ``0..G-1`` and ``G``; ``(None, 0)`` without clusters."""
    if cluster is None:
        return None, 0
    labels = np.asarray(cluster)
    if labels.ndim != 1 or labels.size != n:
        raise ValueError(f"cluster must hold one label per unit ({n}); got shape "
                         f"{labels.shape}.")
    if np.iscomplexobj(labels):
        raise ValueError("cluster labels must be integers or strings; got complex.")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise ValueError("cluster contains NaN or infinite labels; give every unit a "
                         "cluster.")
    try:
        _, codes = np.unique(labels, return_inverse=True)
    except TypeError as exc:
        raise ValueError("cluster labels must be of one type (all integers or all "
                         "strings).") from exc
    n_clusters = int(codes.max()) + 1
    if n_clusters < 2:
        raise ValueError("cluster has a single cluster; cluster-robust inference needs "
                         "at least 2 (on each side of the cutoff).")
    return codes.astype(np.int64), n_clusters


def drop_donut(data, cutoff, donut):
    """Drop units with ``|x - cutoff| < donut`` from every per-unit entry of ``data``."""
    if donut == 0:
        return data
    keep = np.abs(data["x"] - float(cutoff)) >= donut
    if keep.all():
        return data
    above = int(np.sum(keep & (data["x"] >= float(cutoff))))
    below = int(keep.sum()) - above
    if min(above, below) < 2:
        raise ValueError(f"donut={donut:g} leaves {below} unit(s) below and {above} "
                         "above the cutoff; use a smaller donut.")
    out = {}
    for key, value in data.items():
        if key == "cluster":
            codes, _ = value
            if codes is None:
                out[key] = value
            else:
                _, kept = np.unique(codes[keep], return_inverse=True)
                out[key] = (kept.astype(np.int64), int(kept.max()) + 1 if kept.size
                            else 0)
        else:
            out[key] = None if value is None else value[keep]
    return out


def quantile_grid(quantiles, default):
    """The quantile levels: ``default`` or checked strictly increasing in (0, 1)."""
    if quantiles is None:
        return default.copy()
    q = as_float_array(quantiles, name="quantiles", ndim=1)
    if np.any((q <= 0) | (q >= 1)):
        raise ValueError("quantiles must lie strictly between 0 and 1; got "
                         f"values in [{q.min():g}, {q.max():g}].")
    if np.any(np.diff(q) <= 0):
        raise ValueError("quantiles must be strictly increasing; sort them and "
                         "drop duplicates.")
    return q


def validated_running_variable(estimator, x):
    """``x`` as a float vector through ``validate_data`` (sets ``n_features_in_`` and
    ``feature_names_in_`` of ``estimator``); a one-column 2-D input is accepted."""
    if isinstance(x, pd.DataFrame) and x.shape[1] == 1:
        frame = x
    else:
        arr = np.asarray(x)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        frame = as_float_array(arr, name="x", ndim=1)[:, None]
    as_float_array(frame, name="x", ndim=2, min_samples=2)
    with np.errstate(over="ignore", invalid="ignore"):  # sklearn's sum-based check
        return validate_data(estimator, frame, reset=True,
                             ensure_min_samples=2)[:, 0].copy()
