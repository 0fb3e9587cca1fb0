r"""One aISCV run per output of a multi-output model, sharing the model's calls.

Every run starts from a random generator in the same state, so each output's run is
exactly the run a one-output model would get with the same ``random_state``. The runs
advance in lockstep: the pilot is the same sample for every output, so the model runs
there once; at every later stage the points all runs ask for go to the model in one
call (which :class:`~statlogit.expectations._evaluation.Evaluator` cuts into joblib
batches).

The final samples are paired (:meth:`Sampler.sample_paired`): point i of every
output's final sample comes from the same random numbers, so the pairs are
independent over i, and the covariance between outputs' estimates (which the
aggregated indices need) is estimated from them:

.. math::
    \widehat{\operatorname{Cov}}(\hat I_k, \hat I_l) = \sum_{i < \min(M_k, M_l)}
    \frac{r_{k,i}\, r_{l,i}^\top}{\sqrt{M_k(M_k-1)M_l(M_l-1)}},

r the centred final residuals (M_k rows for output k). This is :math:`R^\top R` for the
stacked, zero-padded residuals, so the whole matrix is positive semi-definite; its
diagonal blocks are each run's own covariance.
"""

import copy

import numpy as np
from scipy import stats

from statlogit._validation import resolve_rng
from statlogit.expectations._problem import ExpectationProblem
from statlogit.expectations.adaptive import MultipleExpectations


class _Run:
    """One output's adaptive run: the estimator, its problem and its generator."""

    def __init__(self, design, output, rng, budget, options):
        d2 = 2 * design.d
        law = stats.multivariate_normal(np.zeros(d2), np.eye(d2))
        self.design, self.output = design, output
        self.estimator = MultipleExpectations(budget=budget, **options)
        self.problem = ExpectationProblem(design, law)  # values come from the driver
        self.steps = self.estimator.fit_steps(self.problem, rng, paired=True)
        self.residuals = None

    def send(self, y):
        """Give this run its output's runs at the points it asked for; return the next
        points it needs, or None once it has finished."""
        values = self.problem.accept(self.design.integrands(y[:, :, [self.output]]))
        try:
            return self.steps.send(values)
        except StopIteration as done:
            self.residuals = done.value
            return None


def fit_per_output(design, budget, options, random_state):
    """Run aISCV for every output of ``design``'s model; return the per-output
    estimators, the stacked estimates and their covariance (output-major)."""
    base = resolve_rng(random_state)
    snapshot = copy.deepcopy(base)  # the state every other output's run starts from
    first = _Run(design, 0, base, budget, options)
    U = next(first.steps)
    y = design.outputs([U])[0]
    runs = [first]
    for k in range(1, design.n_outputs):
        run = _Run(design, k, copy.deepcopy(snapshot), budget, options)
        if not np.array_equal(next(run.steps), U):  # the same stream, the same pilot
            raise RuntimeError("the outputs' runs drew different pilot samples.")
        runs.append(run)
    pending = {run.output: y for run in runs}
    while pending:
        requests = {}
        for run in runs:
            if run.output in pending:
                points = run.send(pending[run.output])
                if points is not None:
                    requests[run.output] = points
        if not requests:
            break
        outputs = design.outputs(list(requests.values()))
        pending = dict(zip(requests, outputs, strict=True))
    estimators = [run.estimator for run in runs]
    estimates = np.concatenate([est.estimates_ for est in estimators])
    return estimators, estimates, _stacked_covariance(runs)


def _stacked_covariance(runs):
    """The covariance of all outputs' estimates from their paired final residuals."""
    sizes = [run.residuals.shape[0] for run in runs]
    widths = [run.residuals.shape[1] for run in runs]
    starts = np.concatenate([[0], np.cumsum(widths)])
    R = np.zeros((max(sizes), starts[-1]))
    for run, m, start, stop in zip(runs, sizes, starts[:-1], starts[1:], strict=True):
        R[:m, start:stop] = run.residuals * (run.problem.scale / np.sqrt(m * (m - 1.0)))
    cov = R.T @ R
    for run, start, stop in zip(runs, starts[:-1], starts[1:], strict=True):
        cov[start:stop, start:stop] = run.estimator.covariance_
    return cov
