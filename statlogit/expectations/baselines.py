"""Baselines with the interface of MultipleExpectations: plain MC and mixture IS."""

import numpy as np

from statlogit._validation import resolve_rng
from statlogit.expectations._problem import (
    BaseExpectations,
    ExpectationProblem,
    check_budget,
)


class _Baseline(BaseExpectations):
    """Shared parameters and ``fit`` of the non-adaptive baselines."""

    def __init__(self, budget=20_000, random_state=None, n_jobs=None, batch_size=None):
        self.budget = budget
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.batch_size = batch_size

    def fit(self, func, distribution):
        """Estimate; same arguments as :meth:`MultipleExpectations.fit`."""
        problem = ExpectationProblem(func, distribution, self.n_jobs, self.batch_size)
        budget = check_budget(self.budget)
        rng = resolve_rng(self.random_state)
        self._estimate(problem, budget, rng)
        self._unscale(problem)
        self.n_evaluations_ = budget
        return self


class MonteCarloExpectations(_Baseline):
    r"""Plain Monte Carlo for J expectations.

    One law: N points from f, :math:`\hat I_j = N^{-1}\sum_i \varphi_j(X_i)` (one
    sample shared by every j). A list of J laws ("MC individual"): N/J points from each
    :math:`f_j` (the remainder to the first laws), each :math:`\hat I_j` from its own
    points, so the estimates are independent.

    Parameters
    ----------
    budget : int
        Total number of points (exactly).
    random_state : None, int, SeedSequence or Generator
    n_jobs, batch_size : int or None
        How ``func`` is evaluated (see :class:`MultipleExpectations`).
    """

    def _estimate(self, problem, budget, rng):
        if problem.n_laws == 1:
            self._set_results(problem.evaluate(problem.sample_initial(budget, rng)), 0.0)
        else:
            self._fit_individual(problem, budget, rng)

    def _fit_individual(self, problem, budget, rng):
        n_laws = problem.n_laws
        if budget < 2 * n_laws:
            raise ValueError(f"budget={budget} leaves fewer than 2 points for some of "
                             f"the {n_laws} laws; use budget >= {2 * n_laws}.")
        counts = np.full(n_laws, budget // n_laws)
        counts[: budget % n_laws] += 1
        means, variances = np.empty(n_laws), np.empty(n_laws)
        for j, (law, n_j) in enumerate(zip(problem.laws, counts, strict=True)):
            values = problem.evaluate(law.rvs(int(n_j), rng))[:, j]
            means[j] = values.mean()
            variances[j] = values.var(ddof=1) / n_j
        self.estimates_ = means
        self.covariance_ = np.diag(variances)
        self.std_errors_ = np.sqrt(variances)


class MixtureISExpectations(_Baseline):
    r"""Multiple importance sampling with the balance heuristic ("MC mixture").

    N points from :math:`q = J^{-1}\sum_j f_j` and
    :math:`\hat I_j = N^{-1}\sum_i \varphi_j(X_i) f_j(X_i)/q(X_i)`, weights computed in
    log space. With one law it is plain Monte Carlo.

    Parameters
    ----------
    budget : int
        Total number of points (exactly).
    random_state : None, int, SeedSequence or Generator
    n_jobs, batch_size : int or None
        How ``func`` is evaluated (see :class:`MultipleExpectations`).
    """

    def _estimate(self, problem, budget, rng):
        X = problem.sample_initial(budget, rng)
        values = problem.evaluate(X)
        log_laws = problem.log_laws(X)
        log_q = problem.log_initial(log_laws)
        ratios = np.exp(log_laws[:, problem.law_index()] - log_q[:, None])
        self._set_results(values * ratios, 0.0)
