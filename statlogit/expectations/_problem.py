"""What every many-expectations estimator shares: the problem and the results API."""

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import metadata_routing
from sklearn.utils.validation import check_is_fitted

from statlogit._validation import check_scalar
from statlogit.expectations._evaluation import Evaluator
from statlogit.expectations._gaussian_kernels import gaussian_logpdf, logsumexp_rows
from statlogit.expectations.laws import as_law, lognormal_scale_stack
from statlogit.inference import conf_int_frame, summary_from_table, wald_table


class ExpectationProblem:
    r"""J expectations :math:`I_j = E_{f_j}[\varphi_j(X)]` and how to evaluate them.

    ``distribution`` is one law (J = number of outputs of ``func``) or a list of laws
    (J = its length; ``func`` then has 1 output, broadcast, or J outputs, paired).
    """

    def __init__(self, func, distribution, n_jobs=None, batch_size=None):
        laws = list(distribution) if isinstance(distribution, list | tuple) else [
            distribution]
        if not laws:
            raise ValueError("distribution must be a law or a non-empty list of laws.")
        self.evaluator = Evaluator(func, n_jobs=n_jobs, batch_size=batch_size)
        self.func = func
        self.laws = [as_law(law) for law in laws]
        dims = {law.dim for law in self.laws}
        if len(dims) != 1:
            raise ValueError(f"all laws must have the same dimension; got {sorted(dims)}.")
        self.dim = dims.pop()
        self.n_outputs = None
        self.scale = None
        self._log_scale = lognormal_scale_stack([view.law for view in self.laws])

    @property
    def n_laws(self):
        return len(self.laws)

    @property
    def n_targets(self):
        return max(self.n_laws, self.n_outputs)

    @property
    def output_names(self):
        """The column names of a DataFrame-valued ``func`` (else None)."""
        return self.evaluator.output_names

    def evaluate(self, X):
        r"""Integrand values (n, J) at the points X, checked for shape and finiteness,
        divided by :attr:`scale`.

        The scale is a power of two (so dividing by it is exact) fixed at the first
        call: 1 unless the values there reach beyond :math:`2^{\pm 100}`, where their
        squares and variances would overflow or underflow; estimators multiply their
        results back (:meth:`BaseExpectations._unscale`).
        """
        return self.accept(self.evaluator(X, on_error=self._list_hint))

    def accept(self, values):
        """Scale, check and broadcast integrand values (n, k) computed elsewhere (the
        second half of :meth:`evaluate`)."""
        if self.scale is None:
            self.scale = _power_of_two_scale(values)
        if self.scale != 1.0:
            values /= self.scale
        self._check_outputs(values.shape[1])
        return self._broadcast(values)

    def _list_hint(self, exc):
        """A func that fails on the points of a list of univariate laws was most likely
        written for a vector of independent inputs (the other reading of a list)."""
        if self.n_laws < 2 or self.dim != 1 or not isinstance(
                exc, IndexError | ValueError | TypeError):
            return None
        return ValueError(
            f"func failed on points drawn from a list of {self.n_laws} univariate laws "
            f"({type(exc).__name__}: {exc}). A list of laws is read as {self.n_laws} "
            "alternative laws of the whole input X, one expectation per law, so X has "
            "1 column here. If the list gives the independent coordinates of one input "
            "vector, pass IndependentMarginals([...]) instead."
        )

    def _check_outputs(self, k):
        if self.n_outputs is None:
            if self.n_laws > 1 and k not in (1, self.n_laws):
                raise ValueError(
                    f"func has {k} outputs but {self.n_laws} laws were given; give one "
                    "output (shared by all laws) or one output per law."
                )
            self.n_outputs = k
        elif k != self.n_outputs:
            raise ValueError(f"func returned {k} outputs after {self.n_outputs}.")

    def _broadcast(self, values):
        if values.shape[1] == self.n_targets:
            return values
        return np.repeat(values, self.n_targets, axis=1)

    def law_index(self):
        """Index of the law of each target (all 0 for one law)."""
        if self.n_laws == 1:
            return np.zeros(self.n_targets, dtype=np.int64)
        return np.arange(self.n_targets)

    def log_laws(self, X):
        """log f_l(X) for every law, shape (n, n_laws); one numba pass of Gaussian
        log-densities when every law is a Gaussian copula with normal and zero-location
        lognormal marginals (see :func:`lognormal_scale_stack`)."""
        if self._log_scale is None:
            return np.column_stack([law.logpdf(X) for law in self.laws])
        is_log, means, chols = self._log_scale
        inside = np.all(X[:, is_log] > 0.0, axis=1)
        U = X.copy()
        U[:, is_log] = np.log(np.where(inside[:, None], X[:, is_log], 1.0))
        out = gaussian_logpdf(U, means, chols, slope=-is_log.astype(float))
        out[~inside] = -np.inf
        return out

    def log_initial(self, log_laws):
        r"""log q_0: the law, or the equal mixture :math:`J^{-1}\sum_j f_j`."""
        if self.n_laws == 1:
            return log_laws[:, 0].copy()
        return logsumexp_rows(log_laws) - np.log(self.n_laws)

    def sample_initial(self, size, rng):
        """Draw from q_0 (equal-weight mixture of the laws when there are several)."""
        if self.n_laws == 1:
            return self.laws[0].rvs(size, rng)
        counts = rng.multinomial(size, np.full(self.n_laws, 1.0 / self.n_laws))
        return self.sample_laws(counts, rng)

    def sample_laws(self, counts, rng):
        """Stack counts[l] draws from law l (for Gaussians on the log scale, from one
        normal draw: the same stream as drawing law by law)."""
        if self._log_scale is None:
            parts = [law.rvs(int(c), rng) for law, c in zip(self.laws, counts, strict=True)
                     if c > 0]
            return np.vstack(parts) if parts else np.empty((0, self.dim))
        is_log, means, chols = self._log_scale
        U = rng.standard_normal((int(np.sum(counts)), self.dim))
        stops = np.cumsum(counts)
        for law, (start, stop) in enumerate(zip(stops - counts, stops, strict=True)):
            U[start:stop] = means[law] + U[start:stop] @ chols[law].T
        U[:, is_log] = np.exp(U[:, is_log])
        return U


def _power_of_two_scale(values):
    top = float(np.max(np.abs(values))) if values.size else 0.0
    if top == 0.0 or 2.0**-100 <= top <= 2.0**100:
        return 1.0
    return 2.0 ** np.floor(np.log2(top))


def check_budget(budget):
    return check_scalar(budget, name="budget", lower=2, integer=True)


class BaseExpectations(BaseEstimator):
    """Results API shared by the many-expectations estimators.

    Subclasses set ``estimates_``, ``covariance_``, ``std_errors_`` and
    ``n_evaluations_`` in ``fit``.
    """

    # fit's arguments are the problem, not routable metadata: no set_fit_request.
    __metadata_request__fit = {name: metadata_routing.UNUSED
                               for name in ("func", "distribution")}

    def _unscale(self, problem):
        """Results back in ``func``'s units (see :meth:`ExpectationProblem.evaluate`)."""
        self.output_names_ = problem.output_names
        scale = problem.scale or 1.0
        if scale == 1.0:
            return
        with np.errstate(over="ignore", under="ignore"):
            self.estimates_ = self.estimates_ * scale
            self.std_errors_ = self.std_errors_ * scale
            self.covariance_ = (self.covariance_ * scale) * scale
        if not (np.all(np.isfinite(self.std_errors_))
                and np.all(np.isfinite(self.covariance_))):
            raise ValueError(
                f"func's values reach about {scale:.3g}: the covariance of the estimates "
                "overflows float64. Divide func by a constant (and multiply the "
                "estimates back)."
            )

    def _set_results(self, residuals, offsets):
        """Estimates mean(residuals) + offsets with the covariance of their mean
        (``residuals`` is centred in place)."""
        m = residuals.shape[0]
        mean = residuals.mean(axis=0)
        residuals -= mean
        cov = (residuals.T @ residuals) / (m * (m - 1.0))
        self.estimates_ = mean + offsets
        self.covariance_ = cov
        self.std_errors_ = np.sqrt(np.clip(np.diag(cov), 0.0, None))

    def _estimate_names(self):
        """Row labels: ``func``'s DataFrame column names, else ``E[0]``, ``E[1]``, ..."""
        names = getattr(self, "output_names_", None)
        if names is not None and len(names) == len(self.estimates_):
            return [str(name) for name in names]
        return [f"E[{j}]" for j in range(len(self.estimates_))]

    def _inference_frame(self):
        check_is_fitted(self, "estimates_")
        return pd.DataFrame({"coef": self.estimates_, "std err": self.std_errors_},
                            index=pd.Index(self._estimate_names()))

    def conf_int(self, alpha=0.05):
        r"""Normal-approximation intervals :math:`\hat I_j \pm z_{1-\alpha/2}\,
        \widehat{se}_j`.

        Parameters
        ----------
        alpha : float
            1 - coverage, in (0, 0.5] (``0.05`` for 95 % intervals; a value above 0.5
            is refused, as it is most likely a coverage level such as 0.95).

        Returns
        -------
        pandas.DataFrame
            Columns ``lower``, ``upper``, indexed by the estimate names (``func``'s
            DataFrame columns, else ``E[0]``, ``E[1]``, ...).
        """
        frame = self._inference_frame()
        return conf_int_frame(frame["coef"], frame["std err"], names=frame.index,
                              alpha=check_alpha(alpha))

    def summary(self, alpha=0.05):
        """statsmodels ``Summary``: estimate, standard error, z, p-value (of
        :math:`I_j = 0`) and the (1 - alpha) interval of every expectation."""
        frame = self._inference_frame()
        table = wald_table(frame["coef"], frame["std err"], names=frame.index,
                           alpha=check_alpha(alpha))
        info = {"Estimator": type(self).__name__, "Expectations": len(frame),
                "Integrand evaluations": getattr(self, "n_evaluations_", "")}
        return summary_from_table(
            table, title="Expectations",
            info=info, notes=["Standard errors: normal approximation of the estimator's "
                              "sampling distribution (asymptotic covariance_)."])


def check_alpha(alpha):
    """``alpha`` = 1 - coverage in (0, 0.5]; a coverage level such as 0.95 is refused."""
    alpha = check_scalar(alpha, name="alpha", lower=0.0, upper=1.0,
                         include_lower=False, include_upper=False)
    if alpha > 0.5:
        raise ValueError(f"alpha={alpha:g} is 1 - coverage and must be <= 0.5; for "
                         f"{alpha:.0%} intervals pass alpha={1 - alpha:.3g}.")
    return alpha


def resolve_weights(weights, pilot, n_targets):
    """Weights of the criterion sum_j w_j Var(I_j): "relative", "absolute" or an array."""
    if isinstance(weights, str):
        if weights == "relative":
            return 1.0 / pilot**2
        if weights == "absolute":
            return np.ones_like(pilot)
        raise ValueError(f"weights must be 'relative', 'absolute' or an array; got "
                         f"{weights!r}.")
    if isinstance(weights, numbers.Number):
        raise ValueError("weights must be 'relative', 'absolute' or an array of length J.")
    w = np.asarray(weights, dtype=float).ravel()
    if w.shape[0] != n_targets:
        raise ValueError(f"weights has {w.shape[0]} entries but there are {n_targets} "
                         "expectations.")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
        raise ValueError("weights must be finite, non-negative and not all zero.")
    return w

