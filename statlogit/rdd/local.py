r"""The building blocks of :class:`statlogit.R3D`, public for studies and benchmarks.

:func:`local_polynomial` fits a local polynomial of order :math:`p` on each side of a
cutoff to every column of a response matrix (the unit quantiles at each level, a cdf
on a grid, a treatment indicator):

.. math::

   \hat\beta_\pm(j) = \arg\min_\beta \sum_{i:\, \pm(X_i - c) \ge 0}
   w_i K\Big(\frac{X_i - c}{h_j}\Big)
   \Big(Y_{ij} - \sum_{k=0}^p \beta_k \Big(\frac{X_i - c}{h_j}\Big)^k\Big)^2,

(the side above includes :math:`X_i = c`) and returns both sides, the jump of the
intercepts :math:`\hat\beta_{+,0}(j) - \hat\beta_{-,0}(j)` and the residual process.
:func:`select_bandwidth` runs R3D's three-step MSE (per column) or integrated-MSE plug-in
bandwidth selector.
"""

import numpy as np

from statlogit._validation import as_float_array, check_sample_weight, check_scalar
from statlogit.rdd._bandwidth import BandwidthSelection, select_bandwidths
from statlogit.rdd._fit import KERNEL_CODES, SideFit, TwoSidedFit, fit_two_sided
from statlogit.rdd._inputs import covariate_matrix

__all__ = ["BandwidthSelection", "SideFit", "TwoSidedFit", "local_polynomial",
           "select_bandwidth"]


def _kernel_code(kernel):
    if kernel not in KERNEL_CODES:
        raise ValueError(f"kernel must be one of {sorted(KERNEL_CODES)}; got {kernel!r}.")
    return KERNEL_CODES[kernel]


def _shape(x, Y, cutoff):
    x = as_float_array(x, name="x", ndim=1)
    Y = as_float_array(Y, name="Y")
    Y = Y[:, None] if Y.ndim == 1 else Y
    if Y.shape[0] != x.size:
        raise ValueError(f"Y has {Y.shape[0]} rows but x has {x.size} entries.")
    return x - check_scalar(cutoff, name="cutoff"), Y


def local_polynomial(x, Y, bandwidth, *, p=1, kernel="triangular", cutoff=0.0,
                     weights=None, deriv=0):
    """Local polynomial fits of every column of ``Y`` on both sides of ``cutoff``.

    Parameters
    ----------
    x : array-like of shape (n,)
        Running variable.
    Y : array-like of shape (n,) or (n, m)
        Responses, one column per level.
    bandwidth : float or array-like of shape (m,)
        One bandwidth for all columns or one per column.
    p : int, default=1
        Polynomial order.
    kernel : {"triangular", "epanechnikov", "uniform"}, default="triangular"
    cutoff : float, default=0.0
    weights : array-like of shape (n,), optional
        Non-negative unit weights multiplying the kernel weights.
    deriv : int, default=0
        Derivative estimated at the cutoff (``jump`` and the sides' ``estimate``;
        1 for a kink), at most ``p``.

    Returns
    -------
    TwoSidedFit
        ``above`` and ``below`` (:class:`SideFit`: ``coef`` of shape (p + 1, m) in the
        scaled basis :math:`((x - c)/h)^k`, intercept weights, bandwidths), ``jump``
        and ``residuals``.
    """
    xc, Y = _shape(x, Y, cutoff)
    p = check_scalar(p, name="p", lower=0, upper=9, integer=True)
    deriv = check_scalar(deriv, name="deriv", lower=0, upper=p, integer=True)
    h = as_float_array(np.atleast_1d(bandwidth), name="bandwidth", ndim=1)
    if np.any(h <= 0) or h.size not in (1, Y.shape[1]):
        raise ValueError(f"bandwidth must be positive, one value or one per column of Y "
                         f"({Y.shape[1]}); got {bandwidth!r}.")
    h = np.broadcast_to(h, (Y.shape[1],)).copy()
    return fit_two_sided(xc, Y, check_sample_weight(weights, xc.size), h, p,
                         _kernel_code(kernel), what="Y", deriv=deriv)


def select_bandwidth(x, Y, *, quantiles=None, cutoff=0.0, method="simple",
                     kernel="epanechnikov", treatment=None, rule="mse",
                     covariates=None):
    """R3D's plug-in bandwidths (as ``R3D(bandwidth="mse"|"cer")`` selects them;
    ``method="frechet"`` gives the one integrated-MSE bandwidth of R3D's default,
    ``bandwidth="imse"``).

    Parameters
    ----------
    x : array-like of shape (n,)
    Y : array-like of shape (n,) or (n, m)
        Unit quantiles, one column per level.
    quantiles : array-like of shape (m,), optional
        The levels (they set the grid step of the integrated MSE); default an
        equally spaced grid.
    cutoff : float, default=0.0
    method : {"simple", "frechet"}, default="simple"
        One bandwidth per column or one integrated-MSE bandwidth.
    kernel : {"epanechnikov", "triangular", "uniform"}, default="epanechnikov"
    treatment : array-like of shape (n,), optional
        0/1 treatment (adds the first stage's bandwidth).
    rule : {"mse", "cer"}, default="mse"
    covariates : array-like of shape (n, k), optional
        Select for the covariate-adjusted responses, as ``R3D.fit(...,
        covariates=)`` does (:mod:`statlogit.rdd._bandwidth`).

    Returns
    -------
    BandwidthSelection
    """
    xc, Y = _shape(x, Y, cutoff)
    if method not in ("simple", "frechet"):
        raise ValueError(f"method must be 'simple' or 'frechet'; got {method!r}.")
    if rule not in ("mse", "cer"):
        raise ValueError(f"rule must be 'mse' or 'cer'; got {rule!r}.")
    m = Y.shape[1]
    q = (np.arange(1, m + 1) / (m + 1) if quantiles is None
         else as_float_array(quantiles, name="quantiles", ndim=1))
    if q.size != m:
        raise ValueError(f"quantiles has {q.size} levels but Y has {m} columns.")
    t = None if treatment is None else as_float_array(treatment, name="treatment",
                                                       ndim=1)
    Z = None if covariates is None else covariate_matrix(covariates, xc.size)
    return select_bandwidths(xc, Y, t, q, method=method, kernel=_kernel_code(kernel),
                             parity=False, coverage=rule == "cer", covariates=Z)
