"""R3D's input shaping (unit quantiles, treatment, multipliers) and the warnings about
the theory's limitations (flat average quantile curves, small within-unit samples)."""

import math
import warnings

import numpy as np
import pandas as pd

from statlogit._validation import as_float_array
from statlogit.rdd._kernels import ragged_quantiles

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
def unit_quantiles(Y, quantiles, n_units):
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


def treatment_vector(treatment, n):
    t = as_float_array(np.asarray(treatment, dtype=float).ravel(), name="treatment",
                       ndim=1)
    if t.size != n:
        raise ValueError(f"treatment has {t.size} entries but x has {n}.")
    if not np.all((t == 0) | (t == 1)):
        raise ValueError("treatment must be 0/1 (or boolean); got values "
                         f"{np.unique(t)[:5].tolist()}.")
    return t


def multipliers_matrix(multipliers, n):
    if multipliers is None:
        return None
    xi = as_float_array(multipliers, name="multipliers", ndim=2)
    if xi.shape[0] != n:
        raise ValueError(f"multipliers must have one row per unit ({n}); got "
                         f"{xi.shape[0]}.")
    return xi


def check_both_sides(xc, p):
    above = int(np.sum(xc >= 0))
    below = xc.size - above
    if min(above, below) < p + 1:
        raise ValueError(
            f"Need at least p + 1 = {p + 1} units on each side of the cutoff; got "
            f"{below} below and {above} above. Check the cutoff or lower p.")
