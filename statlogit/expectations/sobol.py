"""First-order Sobol' indices by pick-freeze, estimated with aISCV or plain Monte Carlo."""

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from statlogit._validation import check_scalar
from statlogit.expectations.adaptive import MultipleExpectations
from statlogit.expectations.baselines import MonteCarloExpectations
from statlogit.expectations.laws import IndependentMarginals


@dataclass
class SobolResult:
    r"""First-order Sobol' indices with delta-method standard errors.

    Attributes
    ----------
    first_order, std_errors : ndarray of shape (d,)
    covariance : ndarray of shape (d, d)
        Delta-method covariance of the indices.
    expectations : ndarray of shape (d + 2,)
        :math:`E[\varphi\varphi^{(i)}]` (i = 1..d), :math:`E[\varphi]`,
        :math:`E[\varphi^2]`.
    estimator : MultipleExpectations or MonteCarloExpectations
        The fitted estimator of the expectations.
    n_model_runs : int
        ``budget * (d + 1)``.
    """

    first_order: np.ndarray
    std_errors: np.ndarray
    covariance: np.ndarray
    expectations: np.ndarray
    estimator: object
    n_model_runs: int

    def conf_int(self, level=0.95):
        """Normal-approximation intervals for the indices, shape (d, 2)."""
        level = check_scalar(level, name="level", lower=0.0, upper=1.0,
                             include_lower=False, include_upper=False)
        half = special.ndtri(0.5 + level / 2.0) * self.std_errors
        return np.column_stack([self.first_order - half, self.first_order + half])


def sobol_indices(model, marginals, *, budget=20_000, method="iscv",
                  random_state=None, **options):
    r"""First-order Sobol' indices by pick-freeze, estimated with aISCV or plain MC.

    With :math:`X, X'` independent copies of the input and
    :math:`X^{(i)} = (X'_1, .., X_i, .., X'_d)` (coordinate i from X),

    .. math::
        S_i = \frac{E[\varphi(X)\varphi(X^{(i)})] - E[\varphi]^2}
                   {E[\varphi^2] - E[\varphi]^2}.

    The d + 2 expectations live under :math:`f\otimes f`, written in standard normal
    coordinates :math:`u\in\mathbb R^{2d}` (:math:`x_r = F_r^{-1}(\Phi(u_r))`), and
    are estimated from one sample; the plug-in ratio gets delta-method standard errors
    from the covariance of the expectations.

    Parameters
    ----------
    model : callable
        Maps an (n, d) array to n finite outputs.
    marginals : list of frozen univariate scipy.stats laws
        Independent inputs.
    budget : int
        Points in :math:`\mathbb R^{2d}`; each costs d + 1 model runs.
    method : {"iscv", "pick-freeze"}
        aISCV (:class:`MultipleExpectations`, ``weights="absolute"`` unless given in
        ``options``) or the basic pick-freeze Monte Carlo estimator.
    random_state : None, int, SeedSequence or Generator
    **options
        Passed to :class:`MultipleExpectations`.

    Returns
    -------
    SobolResult
    """
    inputs = IndependentMarginals(marginals)
    d = inputs.dim
    integrands = _PickFreezeIntegrands(model, inputs)
    standard = stats.multivariate_normal(np.zeros(2 * d), np.eye(2 * d))
    if method == "iscv":
        options = {"weights": "absolute", **options}
        estimator = MultipleExpectations(budget=budget, random_state=random_state,
                                         **options)
    elif method == "pick-freeze":
        if options:
            raise ValueError(f"options {sorted(options)} only apply to method='iscv'.")
        estimator = MonteCarloExpectations(budget=budget, random_state=random_state)
    else:
        raise ValueError(f"method must be 'iscv' or 'pick-freeze'; got {method!r}.")
    estimator.fit(integrands, standard)
    first_order, jac = _sobol_ratio(estimator.estimates_, d)
    cov = jac @ estimator.covariance_ @ jac.T
    return SobolResult(first_order, np.sqrt(np.clip(np.diag(cov), 0.0, None)), cov,
                       estimator.estimates_, estimator, int(budget) * (d + 1))


def _sobol_ratio(expectations, d):
    """Indices S_i = (A_i - m^2) / (s - m^2) and their Jacobian in (A, m, s)."""
    A, m, s = expectations[:d], expectations[d], expectations[d + 1]
    variance = s - m**2
    if not variance > 0:
        raise ValueError("the estimated output variance is not positive; the model "
                         "looks constant; increase budget or check the model.")
    first_order = (A - m**2) / variance
    jac = np.zeros((d, d + 2))
    jac[:, :d] = np.eye(d) / variance
    jac[:, d] = -2.0 * m * (1.0 - first_order) / variance
    jac[:, d + 1] = -first_order / variance
    return first_order, jac


class _PickFreezeIntegrands:
    """u in R^{2d} -> (phi(x) phi(x^(1..d)), phi(x), phi(x)^2); d + 1 model runs."""

    def __init__(self, model, inputs):
        self.model = model
        self.inputs = inputs

    def __call__(self, U):
        d = self.inputs.dim
        n = U.shape[0]
        x = self.inputs.from_normal(U[:, :d])
        x_other = self.inputs.from_normal(U[:, d:])
        hybrids = np.repeat(x_other[None], d, axis=0)
        hybrids[np.arange(d), :, np.arange(d)] = x.T
        runs = np.vstack([x, hybrids.reshape(d * n, d)])
        y = np.asarray(self.model(runs), dtype=float).reshape(-1)
        if y.shape[0] != (d + 1) * n:
            raise ValueError(f"model must return one value per row; got {y.shape[0]} "
                             f"values for {(d + 1) * n} rows.")
        y = y.reshape(d + 1, n)
        return np.column_stack([(y[0] * y[1:]).T, y[0], y[0] ** 2])
