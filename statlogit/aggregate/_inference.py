r"""Standard errors of the aggregate estimators (M-estimator sandwiches on bags).

Every aggregate estimator solves :math:`\sum_a u_a(\hat\beta) = 0` with one estimating
function per bag, so bags are the natural clusters. With :math:`H` the Hessian of the
summed objective (halved for least squares) and per-instance scores :math:`s_i` that
add up to :math:`u_a` inside each bag,

* ``cov_type="cluster"`` (default): :math:`H^{-1}(\sum_a u_a u_a^\top)H^{-1}` with
  statsmodels' small-sample factor :math:`\frac{G}{G-1}\frac{n-1}{n-p}` over the
  ``n`` instances and ``G`` bags (for the linear estimator at ``rho=0``, which only
  sees the ``m`` bag means, the bags are the observations: HC1 with :math:`m/(m-p)`);
* ``cov_type="nonrobust"``: model-based.

Computations run in equilibrated coordinates (centred columns divided by their largest
absolute value) and are mapped back, so the scale of ``X`` does not matter.
"""

import numpy as np
import pandas as pd
import scipy.linalg

from statlogit.inference import WaldInferenceMixin, sandwich_covariance

__all__ = ["AggregateInferenceMixin", "Equilibration", "linear_covariance",
           "numerical_hessian"]

COV_TYPES = ("cluster", "nonrobust")


def check_aggregate_cov_type(cov_type):
    """``cov_type`` must be ``"cluster"`` (bags as clusters) or ``"nonrobust"``."""
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {COV_TYPES}; got {cov_type!r}.")
    return cov_type


class Equilibration:
    """Affine map :math:`z = [1, (x - m)/s]` and back for parameters and covariances."""

    def __init__(self, shift, scale, fit_intercept):
        self.shift, self.scale, self.fit_intercept = shift, scale, fit_intercept

    @classmethod
    def of(cls, X, fit_intercept, weights):
        """Scales = largest absolute value per column, shift = weighted column means."""
        used = X[weights > 0]
        top = np.max(np.abs(used), axis=0) if used.shape[0] else np.ones(X.shape[1])
        scale = np.where(top > 0, top, 1.0)
        if fit_intercept:
            shift = (weights @ (X / scale)) / weights.sum() * scale
        else:
            shift = np.zeros(X.shape[1])
        return cls(shift, scale, fit_intercept)

    def design(self, X):
        """Equilibrated design, with a leading column of ones when there is an intercept."""
        Z = (X - self.shift) / self.scale
        return np.column_stack([np.ones(X.shape[0]), Z]) if self.fit_intercept else Z

    def to_internal(self, coef, intercept):
        slopes = coef * self.scale
        if not self.fit_intercept:
            return slopes
        return np.concatenate([[intercept + coef @ self.shift], slopes])

    def from_internal(self, beta):
        """``(coef, intercept)`` from internal parameters."""
        if not self.fit_intercept:
            return beta / self.scale, 0.0
        coef = beta[1:] / self.scale
        return coef, float(beta[0] - coef @ self.shift)

    def covariance_back(self, cov):
        """``(cov, std_errors)`` in the user's units; standard errors never overflow
        (row norms of a square root), ``cov`` is ``None`` if it does not fit float64."""
        p = self.scale.shape[0]
        if not self.fit_intercept:
            A = np.diag(1.0 / self.scale)
        else:
            A = np.zeros((p + 1, p + 1))
            A[0, 0] = 1.0
            A[0, 1:] = -self.shift / self.scale
            A[1:, 1:] = np.diag(1.0 / self.scale)
        values, vectors = np.linalg.eigh((cov + cov.T) / 2)
        root = A @ (vectors * np.sqrt(np.clip(values, 0.0, None)))
        top = np.max(np.abs(root), axis=1, keepdims=True)
        top = np.where(top > 0, top, 1.0)
        std_errors = top[:, 0] * np.sqrt(np.sum((root / top) ** 2, axis=1))
        with np.errstate(over="ignore", invalid="ignore"):
            back = root @ root.T
        return (back if np.all(np.isfinite(back)) else None), std_errors


def linear_covariance(X, bags, ybar, weights, coef, intercept, *, rho, alpha,
                      fit_intercept, cov_type, coef_bag_level=None):
    r"""Covariance and standard errors of ``(intercept, coef)`` of the rho-estimator.

    Per-instance scores :math:`s_i = w_i[z_i r_a - \rho (z_i - \bar z_a)(f_i - \bar
    f_a)]` (summing to :math:`K_a\bar z_a r_a - \rho\sum_{i\in B_a} w_i(z_i - \bar
    z_a)(f_i - \bar f_a)` per bag); bread :math:`H = \sum_a K_a\bar z_a\bar z_a^\top +
    \rho\sum_i w_i (z_i - \bar z_a)(z_i - \bar z_a)^\top + W\alpha D`. ``"nonrobust"``
    is :math:`\hat\sigma^2 H^{-1} A_1 H^{-1}` with :math:`A_1` the bag-mean part and
    :math:`\hat\sigma^2 = \sum_a K_a r_a^2/(m - p)` from the bag-level (``rho=0``) fit,
    which is unbiased when instance noise is homoskedastic; at ``rho=0`` this is
    statsmodels' WLS of bag means with weights :math:`K_a`.
    """
    w = np.ones(X.shape[0]) if weights is None else weights
    eq = Equilibration.of(X, fit_intercept, w)
    Z = eq.design(X)
    n_params = Z.shape[1]
    sizes = bags.sums(w)
    used = sizes > 0
    safe = np.where(used, sizes, 1.0)
    weighted = Z * w[:, None]
    z_sums = bags.sums(weighted)                      # K_a zbar_a
    z_bar = z_sums / safe[:, None]
    f = Z @ eq.to_internal(coef, intercept)
    f_bar = bags.sums(w * f) / safe
    resid = np.where(used, ybar - f_bar, 0.0)
    between = z_sums.T @ z_bar
    bread = between + rho * (weighted.T @ Z - between)
    if alpha > 0:
        penalty = np.full(n_params, sizes.sum() * alpha) / np.append(
            [np.inf] if fit_intercept else [], eq.scale) ** 2
        bread += np.diag(penalty)
    bread_inv = scipy.linalg.pinvh(bread)
    m = int(np.sum(used))
    if m <= n_params:
        raise ValueError(f"Standard errors need more bags ({m}) than parameters "
                         f"({n_params}).")
    if cov_type == "nonrobust":
        if coef_bag_level is None:
            raise ValueError('cov_type="nonrobust" estimates the noise variance from the '
                             "bag-level fit, which has no unique solution here.")
        f0 = Z @ eq.to_internal(*coef_bag_level)
        r0 = np.where(used, ybar - bags.sums(w * f0) / safe, 0.0)
        sigma2 = float(sizes @ r0**2) / (m - n_params)
        cov = sigma2 * bread_inv @ between @ bread_inv
    else:
        # bag sums of the instance scores w_i [z_i r_a - rho (z_i - zbar_a)(f_i - fbar_a)]
        sums = z_sums * resid[:, None]
        if rho > 0:
            sums -= rho * (bags.sums(weighted * f[:, None]) - z_sums * f_bar[:, None])
        cov = sandwich_covariance(bread_inv, sums[used], cov_type="robust")
        if rho > 0:  # bags as clusters of instances: G/(G-1) (W-1)/(W-p), not m/(m-p)
            total = float(w.sum())
            if total <= n_params:
                raise ValueError(f"Standard errors need a total weight ({total:g}) above "
                                 f"the number of parameters ({n_params}).")
            cov *= (m - n_params) * (total - 1) / ((m - 1) * (total - n_params))
    return eq.covariance_back(cov)


def frequency_correction(n_rows, total_weight, n_params):
    """Turn the cluster factor's :math:`(n-1)/(n-p)` over rows into one over the total
    weight, so that integer weights give the covariance of repeated rows."""
    if total_weight <= n_params:
        raise ValueError(f"Standard errors need a total weight ({total_weight:g}) above "
                         f"the number of parameters ({n_params}).")
    return ((total_weight - 1) / (total_weight - n_params)) / (
        (n_rows - 1) / (n_rows - n_params))


def numerical_hessian(gradient, params, *, step=1e-5, factor=1.0):
    """Symmetrised central-difference Jacobian of ``gradient`` (times ``factor``).

    The step is relative: ``step * max(1, |params_j|)``. Raises ``ValueError`` when the
    result is not finite (e.g. separated data).
    """
    k = params.shape[0]
    hessian = np.empty((k, k))
    for j in range(k):
        h = step * max(1.0, abs(params[j]))
        up, down = params.copy(), params.copy()
        up[j] += h
        down[j] -= h
        hessian[:, j] = (gradient(up) - gradient(down)) * (factor / (2 * h))
    hessian = (hessian + hessian.T) / 2
    if not np.all(np.isfinite(hessian)):
        raise ValueError("The Hessian is not finite at the estimate (separated data?).")
    return hessian


class AggregateInferenceMixin(WaldInferenceMixin):
    """``std_errors_``, ``cov_``, ``conf_int`` and ``summary`` from a stored covariance.

    Parameters are ordered ``(intercept, *coef)`` (intercept only with
    ``fit_intercept``), named ``"intercept"`` and the feature names.
    """

    def _set_inference(self, compute):
        names = list(getattr(self, "feature_names_in_",
                             [f"x{j}" for j in range(self.n_features_in_)]))
        self.param_names_ = (["intercept"] if self.fit_intercept else []) + names
        try:
            self.cov_, self.std_errors_ = compute()
        except ValueError as exc:
            self._inference_error = str(exc)
            self.cov_ = self.std_errors_ = None
            return
        self._inference_error = None

    def _params(self):
        coef = np.asarray(self.coef_, dtype=float)
        return np.concatenate([[self.intercept_], coef]) if self.fit_intercept else coef

    def _inference_frame(self):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        if self.std_errors_ is None:
            raise ValueError(f"Standard errors are not available for this fit: "
                             f"{self._inference_error}")
        return pd.DataFrame({"coef": self._params(), "std err": self.std_errors_},
                            index=pd.Index(self.param_names_))

    def _summary_info(self):
        rho = self.get_params().get("rho", getattr(self, "rho_", None))
        return {"No. Observations": int(np.sum(self.bag_sizes_)),
                "No. Bags": self.n_bags_, "rho": rho, "Covariance Type": self.cov_type}
