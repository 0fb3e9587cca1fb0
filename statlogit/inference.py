r"""The shared inference toolkit: Wald tables, intervals, sandwich covariances, summaries.

One convention for every family (DESIGN.md, statsmodels style): a fitted estimator has
``coef_`` (or its family's parameters), ``std_errors_`` and, where one exists, ``cov_``;
``conf_int(alpha=0.05)`` returns a :class:`pandas.DataFrame` with columns ``lower`` and
``upper`` indexed by parameter names; ``summary(alpha=0.05)`` returns a
:class:`statsmodels.iolib.summary2.Summary` (text, HTML and LaTeX).

Estimators get ``conf_int`` and ``summary`` from :class:`WaldInferenceMixin` by defining
``_inference_frame()``; the building blocks are public for the families' own needs.

Sandwich covariances follow statsmodels exactly. With :math:`H` the Hessian of the summed
objective (so :math:`H^{-1}` is the model-based covariance) and :math:`s_i` the
per-observation scores,

.. math::

    \widehat V = c\, H^{-1} \Big(\sum_g u_g u_g^\top\Big) H^{-1},
    \qquad u_g = \sum_{i \in g} s_i,

with one group per observation and :math:`c = n / (n - p)` for ``"robust"`` (HC1), and
:math:`c = \frac{G}{G - 1} \frac{n - 1}{n - p}` for ``"cluster"`` with :math:`G` groups.
"""

import numpy as np
import pandas as pd
from scipy import stats

from statlogit._validation import check_scalar

__all__ = [
    "COV_TYPES",
    "WaldInferenceMixin",
    "check_cov_type",
    "conf_int_frame",
    "sandwich_covariance",
    "sandwich_from_meat",
    "summary_from_table",
    "wald_table",
]

#: The covariance types every estimator with a sandwich accepts.
COV_TYPES = ("nonrobust", "robust", "cluster")


def check_cov_type(cov_type, groups, allowed=COV_TYPES):
    """Validate ``cov_type`` against ``groups``; return it.

    ``"cluster"`` needs ``groups``; groups with another covariance type are refused rather
    than silently ignored.
    """
    if cov_type not in allowed:
        raise ValueError(f"cov_type must be one of {allowed}; got {cov_type!r}.")
    if cov_type == "cluster" and groups is None:
        raise ValueError('cov_type="cluster" needs groups: pass fit(..., groups=labels).')
    if cov_type != "cluster" and groups is not None:
        raise ValueError(f'groups were passed but cov_type={cov_type!r}; set '
                         'cov_type="cluster" to use them, or drop groups.')
    return cov_type


def _check_alpha(alpha):
    return check_scalar(alpha, name="alpha", lower=0.0, upper=1.0, include_lower=False,
                        include_upper=False)


def _group_codes(groups, n):
    groups = np.asarray(groups)
    if groups.ndim != 1 or groups.shape[0] != n:
        raise ValueError(f"groups must be one label per row ({n}); got shape {groups.shape}.")
    if groups.dtype.kind == "f" and not np.all(np.isfinite(groups)):
        raise ValueError("groups contain NaN or infinite labels; give every row a group.")
    _, codes = np.unique(groups, return_inverse=True)
    return codes.ravel()


def sandwich_covariance(bread_inv, scores, *, cov_type="robust", groups=None):
    r"""Heteroskedasticity- or cluster-robust sandwich covariance, as statsmodels computes it.

    Parameters
    ----------
    bread_inv : numpy.ndarray of shape (p, p)
        Inverse Hessian of the *summed* objective (the model-based covariance).
    scores : numpy.ndarray of shape (n, p)
        Per-observation scores (gradients of each row's contribution), sample weights
        already applied.
    cov_type : {"robust", "cluster"}
        ``"robust"``: HC1, one group per row, factor :math:`n / (n - p)`.
        ``"cluster"``: factor :math:`\frac{G}{G-1}\frac{n-1}{n-p}`.
    groups : array-like of shape (n,), optional
        Cluster labels, required for ``"cluster"``.

    Returns
    -------
    numpy.ndarray of shape (p, p)
    """
    scores = np.asarray(scores, dtype=np.float64)
    n, p = scores.shape
    if cov_type == "robust":
        return sandwich_from_meat(bread_inv, scores.T @ scores, n_obs=n, n_params=p)
    if cov_type != "cluster":
        raise ValueError(f'cov_type must be "robust" or "cluster" here; got {cov_type!r}.')
    codes = _group_codes(groups, n)
    n_groups = int(codes.max()) + 1
    if n_groups < 2:
        raise ValueError("groups must contain at least two clusters for a cluster-robust "
                         "covariance; got one.")
    sums = np.zeros((n_groups, p))
    np.add.at(sums, codes, scores)
    # statsmodels' cluster factor = G/(G-1) (n-1)/(n-p), written as the HC1 factor n/(n-p)
    # times G/(G-1) (n-1)/n
    correction = n_groups / (n_groups - 1) * (n - 1) / n
    return correction * sandwich_from_meat(bread_inv, sums.T @ sums, n_obs=n, n_params=p)


def _names(params, names):
    if names is not None:
        return list(names)
    if isinstance(params, pd.Series):
        return list(params.index)
    return [f"x{j}" for j in range(len(params))]


def wald_table(params, std_errors, *, names=None, alpha=0.05, df=None):
    """Coefficient table: estimate, standard error, z (or t), two-sided p-value, interval.

    Parameters
    ----------
    params, std_errors : array-like of shape (p,)
    names : sequence of str, optional
        Row labels (default: the index of ``params`` if it is a Series, else x0, x1, ...).
    alpha : float
        The interval has level ``1 - alpha``.
    df : float, optional
        Degrees of freedom for Student t quantiles and p-values; ``None`` uses the normal.

    Returns
    -------
    pandas.DataFrame
        Columns ``coef``, ``std err``, ``z`` (or ``t``), ``P>|z|`` (or ``P>|t|``) and the
        two interval bounds, named as statsmodels names them (``[0.025``, ``0.975]``).
    """
    alpha = _check_alpha(alpha)
    labels = _names(params, names)
    coef = np.asarray(params, dtype=np.float64)
    se = np.asarray(std_errors, dtype=np.float64)
    if coef.shape != se.shape or coef.shape != (len(labels),):
        raise ValueError("params, std_errors and names must have the same length.")
    law = stats.norm if df is None else stats.t(df)
    stat = np.divide(coef, se, out=np.full_like(coef, np.nan), where=se > 0)
    p_value = 2 * law.sf(np.abs(stat))
    half = law.ppf(1 - alpha / 2) * se
    letter = "z" if df is None else "t"
    return pd.DataFrame({
        "coef": coef, "std err": se, letter: stat, f"P>|{letter}|": p_value,
        f"[{alpha / 2:g}": coef - half, f"{1 - alpha / 2:g}]": coef + half,
    }, index=pd.Index(labels))


def conf_int_frame(params, std_errors, *, names=None, alpha=0.05, df=None):
    """Wald intervals as a DataFrame with columns ``lower`` and ``upper``."""
    table = wald_table(params, std_errors, names=names, alpha=alpha, df=df)
    bounds = table.iloc[:, -2:].to_numpy()
    return pd.DataFrame(bounds, index=table.index, columns=["lower", "upper"])


def summary_from_table(table, *, title, info=None, notes=()):
    """A statsmodels ``Summary`` from a coefficient table and model information.

    Parameters
    ----------
    table : pandas.DataFrame
        The coefficient table (e.g. from :func:`wald_table`).
    title : str
    info : dict, optional
        Model facts shown above the table (``{"No. Observations": 500, ...}``).
    notes : sequence of str
        Lines shown below the table.
    """
    from statsmodels.iolib.summary2 import Summary

    summary = Summary()
    summary.add_title(title)
    if info:
        facts = pd.DataFrame({"": [str(value) for value in info.values()]},
                             index=[f"{key}:" for key in info])
        summary.add_df(facts, header=False, index=True)
    summary.add_df(table, float_format="%.4g")
    for note in notes:
        summary.add_text(note)
    return summary


class WaldInferenceMixin:
    """``conf_int`` and ``summary`` for estimators with asymptotically normal parameters.

    The estimator defines ``_inference_frame()`` returning a DataFrame indexed by
    parameter name with columns ``coef`` and ``std err`` (and may define
    ``_inference_df()`` for t quantiles, ``_summary_info()`` and ``_summary_title``).
    """

    def conf_int(self, alpha=0.05):
        """Wald confidence intervals: DataFrame with columns ``lower``, ``upper``."""
        frame = self._inference_frame()
        return conf_int_frame(frame["coef"], frame["std err"], names=frame.index,
                              alpha=alpha, df=self._inference_df())

    def summary(self, alpha=0.05):
        """Coefficient table with model information, as a statsmodels ``Summary``."""
        frame = self._inference_frame()
        table = wald_table(frame["coef"], frame["std err"], names=frame.index, alpha=alpha,
                           df=self._inference_df())
        return summary_from_table(table, title=self._summary_title(),
                                  info=self._summary_info())

    def _inference_df(self):
        return None

    def _summary_title(self):
        return f"{type(self).__name__} results"

    def _summary_info(self):
        return {}


def sandwich_from_meat(bread_inv, meat, *, n_obs, n_params):
    r"""HC1 sandwich :math:`\frac{n}{n-p} H^{-1} M H^{-1}` from an accumulated meat.

    For designs too large to hold the (n, p) scores (chunked, sparse or distributed
    data), where :math:`M = \sum_i s_i s_i^\top` was summed pass by pass; equals
    :func:`sandwich_covariance` with ``cov_type="robust"`` on the same scores.
    """
    if n_obs <= n_params:
        raise ValueError(f"A sandwich covariance needs more rows than parameters; got "
                         f"n={n_obs}, p={n_params}.")
    cov = n_obs / (n_obs - n_params) * (bread_inv @ meat @ bread_inv)
    return (cov + cov.T) / 2
