"""R3D inputs from a long table (one row per observation)."""

import numpy as np
import pandas as pd

__all__ = ["from_long"]


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
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame (one row per observation); got "
                        f"{type(df).__name__}. Wrap it: from_long(pd.DataFrame(df), ...).")
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
