r"""Input laws for :class:`~statlogit.MultipleExpectations`.

A law is any object with ``logpdf(X)`` and ``rvs(size, random_state)``; frozen
``scipy.stats`` distributions qualify. This module adds three adapters (independent
marginals, a Gaussian copula and the pick-freeze product :math:`f\otimes f`) and the
internal view that gives every law the same shapes: ``logpdf`` of an (n, d) array is
(n,), ``rvs`` returns (n, d).
"""

import numpy as np
from scipy import special, stats

from statlogit._validation import as_float_array, resolve_rng

__all__ = ["IndependentMarginals", "GaussianCopula", "PickFreezeProduct"]

_HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)


def _named_params(marginal, names):
    params = dict(zip(names, marginal.args, strict=False))
    params.update(marginal.kwds)
    return params


def _family(marginal):
    dist = getattr(marginal, "dist", None)
    return getattr(dist, "name", None)


def normal_score(marginal, x):
    r"""Return :math:`z=\Phi^{-1}(F(x))` and :math:`\log f(x) - \log\varphi(z)`.

    Closed forms for frozen ``scipy.stats.norm`` and ``lognorm``; otherwise the cdf
    (or survival function in the upper tail, for accuracy) and ``marginal.logpdf``.
    Points outside the support get ``z = nan`` and a log-Jacobian of ``-inf``.
    """
    family = _family(marginal)
    if family == "norm":
        p = _named_params(marginal, ["loc", "scale"])
        scale = p.get("scale", 1.0)
        return (x - p.get("loc", 0.0)) / scale, np.full(x.shape, -np.log(scale))
    if family == "lognorm":
        p = _named_params(marginal, ["s", "loc", "scale"])
        shifted = x - p.get("loc", 0.0)
        inside = shifted > 0
        log_shifted = np.log(np.where(inside, shifted, 1.0))
        z = np.where(inside, (log_shifted - np.log(p.get("scale", 1.0))) / p["s"], np.nan)
        return z, np.where(inside, -np.log(p["s"]) - log_shifted, -np.inf)
    lower = special.ndtri(marginal.cdf(x))
    upper = -special.ndtri(marginal.sf(x))
    z = np.where(lower < 0, lower, upper)
    log_jac = marginal.logpdf(x) + 0.5 * z**2 + _HALF_LOG_2PI
    bad = ~np.isfinite(z) | ~np.isfinite(log_jac)
    return np.where(bad, np.nan, z), np.where(bad, -np.inf, log_jac)


def inverse_normal_score(marginal, z):
    r"""Return :math:`x = F^{-1}(\Phi(z))` (closed forms for ``norm``/``lognorm``)."""
    family = _family(marginal)
    if family == "norm":
        p = _named_params(marginal, ["loc", "scale"])
        return p.get("loc", 0.0) + p.get("scale", 1.0) * z
    if family == "lognorm":
        p = _named_params(marginal, ["s", "loc", "scale"])
        return p.get("loc", 0.0) + p.get("scale", 1.0) * np.exp(p["s"] * z)
    return np.where(z < 0, marginal.ppf(special.ndtr(z)), marginal.isf(special.ndtr(-z)))


def _closed_form_scores(marginals):
    r"""Per-coordinate (is_log, loc, log scale, shape) when each marginal is normal
    (:math:`z=(x-\mathrm{loc})/\mathrm{scale}`) or lognormal
    (:math:`z=(\log(x-\mathrm{loc})-\log\mathrm{scale})/s`); else None."""
    rows = []
    for m in marginals:
        family = _family(m)
        if family == "norm":
            p = _named_params(m, ["loc", "scale"])
            scale = p.get("scale", 1.0)
            rows.append((False, p.get("loc", 0.0), 0.0, scale))
        elif family == "lognorm":
            p = _named_params(m, ["s", "loc", "scale"])
            rows.append((True, p.get("loc", 0.0), np.log(p.get("scale", 1.0)), p["s"]))
        else:
            return None
    is_log, loc, log_scale, shape = (np.array(col) for col in zip(*rows, strict=True))
    return is_log.astype(bool), loc.astype(float), log_scale.astype(float), \
        shape.astype(float)


def _check_marginals(marginals):
    marginals = list(marginals)
    if not marginals:
        raise ValueError("marginals must be a non-empty list of univariate laws.")
    for i, m in enumerate(marginals):
        if not all(hasattr(m, a) for a in ("logpdf", "cdf", "sf", "ppf", "isf")):
            raise ValueError(
                f"marginals[{i}] must be a frozen univariate scipy.stats law (with "
                f"logpdf, cdf, sf, ppf, isf); got {type(m).__name__}."
            )
    return marginals


class IndependentMarginals:
    r"""Independent coordinates: :math:`f(x) = \prod_r f_r(x_r)`.

    Parameters
    ----------
    marginals : list of frozen univariate ``scipy.stats`` laws
        One per coordinate.
    """

    def __init__(self, marginals):
        self.marginals = _check_marginals(marginals)
        self.dim = len(self.marginals)

    def logpdf(self, X):
        X = np.asarray(X, dtype=float).reshape(-1, self.dim)
        return sum(m.logpdf(X[:, r]) for r, m in enumerate(self.marginals))

    def rvs(self, size, random_state=None):
        rng = resolve_rng(random_state)
        z = rng.standard_normal((size, self.dim))
        return self.from_normal(z)

    def from_normal(self, Z):
        """Map standard normal coordinates to this law (columnwise inverse scores)."""
        return np.column_stack(
            [inverse_normal_score(m, Z[:, r]) for r, m in enumerate(self.marginals)]
        )

    def conditional_rvs(self, free, X, random_state=None):
        r"""Redraw the coordinates ``free`` of every row of X from their law given the
        other coordinates of that row (exactly; here: from their marginals).

        Parameters
        ----------
        free : sequence of int
            The coordinates to redraw.
        X : ndarray of shape (n, d)
        random_state : None, int, SeedSequence or Generator

        Returns
        -------
        ndarray of shape (n, d)
            X with the ``free`` columns replaced.
        """
        rng = resolve_rng(random_state)
        free = np.asarray(free, dtype=int)
        out = np.array(X, dtype=float)
        z = self._conditional_scores(free, out, rng)
        for col, r in enumerate(free):
            out[:, r] = inverse_normal_score(self.marginals[r], z[:, col])
        return out

    def _conditional_scores(self, free, X, rng):
        return rng.standard_normal((X.shape[0], free.shape[0]))


class GaussianCopula(IndependentMarginals):
    r"""Marginals :math:`F_r` tied by a Gaussian copula with correlation matrix R.

    With :math:`z_r = \Phi^{-1}(F_r(x_r))`,

    .. math::
        \log f(x) = \log\mathcal N(z; 0, R) + \sum_r
        \bigl[\log f_r(x_r) - \log\varphi(z_r)\bigr].

    Parameters
    ----------
    marginals : list of frozen univariate ``scipy.stats`` laws
    corr : array-like of shape (d, d)
        Symmetric, unit diagonal, positive definite (checked by Cholesky).
    """

    def __init__(self, marginals, corr):
        super().__init__(marginals)
        corr = as_float_array(corr, name="corr", ndim=2)
        if corr.shape != (self.dim, self.dim):
            raise ValueError(
                f"corr must be {self.dim} x {self.dim} (one row per marginal); got "
                f"shape {corr.shape}."
            )
        if not np.allclose(corr, corr.T) or not np.allclose(np.diag(corr), 1.0):
            raise ValueError("corr must be symmetric with a unit diagonal.")
        try:
            self.chol_ = np.linalg.cholesky(corr)
        except np.linalg.LinAlgError as exc:
            raise ValueError(
                "corr is not positive definite; choose correlations that form a valid "
                "correlation matrix."
            ) from exc
        self.corr = corr
        self._inv_chol = np.linalg.inv(self.chol_)
        self._log_norm_const = (np.sum(np.log(np.diag(self.chol_)))
                                + self.dim * _HALF_LOG_2PI)
        self._closed = _closed_form_scores(self.marginals)

    def logpdf(self, X):
        X = np.asarray(X, dtype=float).reshape(-1, self.dim)
        Z, log_jac = self._scores(X)
        ok = np.all(np.isfinite(Z), axis=1)
        white = np.where(ok[:, None], Z, 0.0) @ self._inv_chol.T
        log_norm = -0.5 * np.sum(white**2, axis=1) - self._log_norm_const
        return np.where(ok, log_norm + log_jac, -np.inf)

    def _scores(self, X):
        """Normal scores (n, d) and summed log-Jacobians (n,); vectorised when every
        marginal is a normal or lognormal."""
        if self._closed is None:
            scores = [normal_score(m, X[:, r]) for r, m in enumerate(self.marginals)]
            return (np.column_stack([sc[0] for sc in scores]),
                    sum(sc[1] for sc in scores))
        is_log, loc, log_scale, shape = self._closed
        shifted = X - loc
        inside = np.all(shifted[:, is_log] > 0, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(is_log, np.log(np.abs(shifted)), shifted)
        Z = (t - log_scale) / shape
        log_jac = -np.sum(np.log(shape)) - np.sum(np.where(is_log, t, 0.0), axis=1)
        return np.where(inside[:, None], Z, np.nan), np.where(inside, log_jac, -np.inf)

    def rvs(self, size, random_state=None):
        rng = resolve_rng(random_state)
        z = rng.standard_normal((size, self.dim)) @ self.chol_.T
        return self.from_normal(z)

    def _conditional_scores(self, free, X, rng):
        r"""Normal scores of the free coordinates given the others:
        :math:`z_F \mid z_G \sim \mathcal N(R_{FG}R_{GG}^{-1}z_G,\
        R_{FF} - R_{FG}R_{GG}^{-1}R_{GF})`."""
        given = np.setdiff1d(np.arange(self.dim), free)
        noise = rng.standard_normal((X.shape[0], free.shape[0]))
        R = self.corr
        if given.size == 0:
            return noise @ np.linalg.cholesky(R[np.ix_(free, free)]).T
        z_given = np.column_stack([normal_score(self.marginals[r], X[:, r])[0]
                                   for r in given])
        if not np.all(np.isfinite(z_given)):
            raise ValueError("X has values outside the support of its marginals.")
        gain = np.linalg.solve(R[np.ix_(given, given)], R[np.ix_(given, free)]).T
        cond_cov = R[np.ix_(free, free)] - gain @ R[np.ix_(given, free)]
        chol = np.linalg.cholesky(cond_cov + 1e-15 * np.eye(free.shape[0]))
        return z_given @ gain.T + noise @ chol.T

    def from_normal(self, Z):
        """Map correlated standard normal coordinates to this law (all columns at once
        when every marginal is a normal or a lognormal)."""
        if self._closed is None:
            return super().from_normal(Z)
        is_log, loc, log_scale, shape = self._closed
        X = loc + shape * Z
        X[:, is_log] = loc[is_log] + np.exp(log_scale[is_log]) * np.exp(
            shape[is_log] * Z[:, is_log])
        return X


class PickFreezeProduct:
    r"""The product law :math:`f\otimes f` of two independent copies of ``law``.

    Points are :math:`(x, x')` in :math:`\mathbb R^{2d}`, as in the pick-freeze
    estimators of Sobol' indices.
    """

    def __init__(self, law):
        self.law = law
        self._view = as_law(law)
        self.dim = 2 * self._view.dim

    def logpdf(self, X):
        X = np.asarray(X, dtype=float).reshape(-1, self.dim)
        d = self._view.dim
        return self._view.logpdf(X[:, :d]) + self._view.logpdf(X[:, d:])

    def rvs(self, size, random_state=None):
        rng = resolve_rng(random_state)
        return np.hstack([self._view.rvs(size, rng), self._view.rvs(size, rng)])


def lognormal_scale_stack(laws):
    r"""Several Gaussian copulas as Gaussians on one log scale, or None.

    With normal and zero-location lognormal marginals, :math:`u_r = \log x_r`
    (lognormal coordinates) or :math:`x_r` (normal ones) is Gaussian under each law:
    :math:`u \sim \mathcal N(\mu_l, D_l R_l D_l)` with :math:`\mu_{lr}` the log scale
    or the location and :math:`D_l` the shapes or scales, so
    :math:`\log f_l(x) = \log\mathcal N(u;\mu_l, D_lR_lD_l) - \sum_{r\,\log} u_r`.

    Returns
    -------
    (is_log, means, chols) or None
        ``is_log`` of shape (d,), shared by every law; the means (L, d) and lower
        Cholesky factors :math:`D_l L_l` (L, d, d) on the u scale. None unless there
        are several laws, all Gaussian copulas with the same pattern of normal and
        zero-location lognormal marginals.
    """
    if len(laws) < 2 or not all(isinstance(law, GaussianCopula) and
                                law._closed is not None for law in laws):
        return None
    is_log = laws[0]._closed[0]
    for law in laws:
        law_is_log, loc, _, _ = law._closed
        if not np.array_equal(law_is_log, is_log) or np.any(loc[is_log] != 0.0):
            return None
    means = np.stack([np.where(is_log, law._closed[2], law._closed[1]) for law in laws])
    chols = np.stack([law._closed[3][:, None] * law.chol_ for law in laws])
    return is_log, np.ascontiguousarray(means), np.ascontiguousarray(chols)


class _LawView:
    """Uniform shapes over any law: ``logpdf`` (n, d) -> (n,), ``rvs`` -> (n, d)."""

    def __init__(self, law, dim):
        self.law = law
        self.dim = dim

    def logpdf(self, X):
        arg = X[:, 0] if self.dim == 1 else X
        out = np.asarray(self.law.logpdf(arg), dtype=float).reshape(-1)
        if out.shape[0] != X.shape[0]:
            raise ValueError(
                f"the law's logpdf returned {out.shape[0]} values for {X.shape[0]} "
                "points; it must return one log-density per row."
            )
        if np.any(np.isnan(out)) or np.any(out == np.inf):
            raise ValueError("the law's logpdf returned NaN or +inf.")
        return out

    def rvs(self, size, rng):
        draw = np.asarray(self.law.rvs(size=size, random_state=rng), dtype=float)
        return as_float_array(draw.reshape(size, self.dim), name="rvs draw", ndim=2)


def as_law(law):
    """Wrap ``law`` in a :class:`_LawView` after checking it has the protocol."""
    if isinstance(law, _LawView):
        return law
    if not (callable(getattr(law, "logpdf", None)) and callable(getattr(law, "rvs", None))):
        raise ValueError(
            "each distribution needs logpdf(X) and rvs(size, random_state) (a frozen "
            f"scipy.stats law or a statlogit adapter); got {type(law).__name__}."
        )
    dim = getattr(law, "dim", None)
    if dim is None and isinstance(law, stats.distributions.rv_frozen):
        dim = 1
    if dim is None:
        probe = np.asarray(law.rvs(size=2, random_state=np.random.default_rng(0)))
        dim = 1 if probe.ndim == 1 else probe.shape[1]
    return _LawView(law, int(dim))
