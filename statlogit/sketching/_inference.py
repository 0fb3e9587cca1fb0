r"""Covariances of :class:`~statlogit.SketchedLinearRegression`'s coefficients.

Exact mode, as statsmodels ``OLS``/``WLS``: with the centred weighted design
:math:`A_0`, :math:`C = (A_0^\top A_0)^{-1}` (from the solver's triangular factor, no
new factorisation), residuals :math:`r`, :math:`W = \sum_i w_i` and
:math:`p` = rank + intercept,

* ``"nonrobust"``: :math:`\hat\sigma^2 = \|r\|^2/(n-p)`; slopes :math:`\hat\sigma^2 C`;
* ``"HC1"``: :math:`\frac{n}{n-p} B M B` with :math:`B = \operatorname{diag}(1/W, C)`
  and :math:`M = [\sqrt w \mid A_0]^\top \operatorname{diag}(r^2) [\sqrt w \mid A_0]`
  (one chunked or sparse pass);

both in the centred parametrisation (intercept at the mean), mapped to
:math:`(\beta_0, \beta)` by :math:`J = \begin{pmatrix}1 & -\mu^\top\\ 0 & I\end{pmatrix}`.
Sketch-and-solve: the sandwich of the sketched regression, see the estimator's notes.
"""

import numpy as np

from statlogit.inference import sandwich_covariance, sandwich_from_meat
from statlogit.sketching._solve import _Fit


def lapack_fit(coef, rank):
    """A :class:`_Fit` for the LAPACK fallback (no inference: ``bread`` is None)."""
    return _Fit(coef, rank, 1, np.zeros(coef.shape[1]))


def covariance(design, fit, b, *, weights, x_mean, n, intercept, cov_type, sketched):
    """``(cov, df_resid)`` of ``[intercept, coef]`` (or ``coef``), or ``(None, None)``."""
    d = x_mean.size
    if fit.bread is None or fit.rank < d:
        return None, None
    total = float(n if weights is None else np.sum(weights))
    p = d + int(intercept)
    if n <= p:
        return None, None
    if sketched:
        if fit.sketch.shape[0] <= d + 1:
            return None, None
        centred, df = _sketched(fit, n, p, total, intercept, cov_type), None
    else:
        centred, df = _exact(design, fit, b, n, p, total, intercept, cov_type), n - p
    if not intercept:
        return centred, df
    jacobian = np.eye(d + 1)
    jacobian[0, 1:] = -x_mean
    cov = jacobian @ centred @ jacobian.T
    return 0.5 * (cov + cov.T), df


def _exact(design, fit, b, n, p, total, intercept, cov_type):
    if cov_type == "nonrobust" and fit.rss is not None:
        rss, meat = fit.rss, None  # from the refinement's last pass: no extra read
    else:
        rss, meat = design.residual_summary(b[:, 0], fit.coef[:, 0], meat=cov_type == "HC1")
    bread = fit.bread
    d = bread.shape[0]
    if cov_type == "nonrobust":
        sigma2 = rss / (n - p)
        if not intercept:
            return sigma2 * bread
        out = np.zeros((d + 1, d + 1))
        out[0, 0] = sigma2 / total
        out[1:, 1:] = sigma2 * bread
        return out
    full = np.zeros((d + 1, d + 1))
    full[0, 0] = 1.0 / total
    full[1:, 1:] = bread
    if not intercept:
        full, meat = bread, meat[1:, 1:]
    return sandwich_from_meat(full, meat, n_obs=n, n_params=p)


def _sketched(fit, n, p, total, intercept, cov_type):
    r"""Sandwich of the sketched regression times :math:`1 + (m-d-1)/(n-p)`."""
    sa, e = fit.sketch, fit.sketch_residual[:, 0]
    m, d = sa.shape
    inflation = 1.0 + (m - d - 1) / (n - p)
    if cov_type == "nonrobust":
        slopes = float(e @ e) / (m - d) * fit.bread
    else:
        slopes = sandwich_covariance(fit.bread, sa * e[:, None], cov_type="robust")
    slopes = inflation * slopes
    if not intercept:
        return slopes
    sigma2 = float(e @ e) * m / ((m - d) * (n - p))
    out = np.zeros((d + 1, d + 1))
    out[0, 0] = sigma2 / total
    out[1:, 1:] = slopes
    return out
