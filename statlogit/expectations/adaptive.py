"""MultipleExpectations: the adaptive run (aISCV) and its results."""

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from statlogit._validation import check_scalar, resolve_rng
from statlogit.expectations._fit import (
    Parts,
    alpha_problem,
    fit_gaussian_mixtures,
    fit_gaussians,
)
from statlogit.expectations._problem import (
    BaseExpectations,
    ExpectationProblem,
    check_budget,
    resolve_weights,
)
from statlogit.expectations._samplers import Batch, Pool, Sampler
from statlogit.expectations._weight_kernels import control_variate_fit, cross_entropy_weights


class MultipleExpectations(BaseExpectations):
    r"""J expectations from one adaptive sample (aISCV).

    Estimates :math:`I_j = E_{f_j}[\varphi_j(X)]`, :math:`j=1..J`, from points drawn
    from a mixture :math:`g_\alpha = \sum_k \alpha_k g_k` with one component per
    expectation, each estimate using its own component as a control variate
    (known mean 1 under :math:`g_\alpha`):

    .. math::
        \hat I_j = \frac1M\sum_{i=1}^M
        \frac{\varphi_j(X_i) f_j(X_i) - \beta_j g_j(X_i)}{g_\alpha(X_i)} + \beta_j .

    With :math:`g_j \propto \varphi_j f_j` and :math:`\beta_j = I_j` every estimate
    has zero variance for any :math:`\alpha`. The algorithm approaches that adaptively
    while minimising :math:`\sum_j w_j \operatorname{Var}\hat I_j`:

    1. pilot: :math:`N_k = \lfloor\lfloor N a\rfloor / B\rfloor` points from
       :math:`q_0 = f` (or :math:`J^{-1}\sum_j f_j`); :math:`\alpha_j\propto
       \sqrt{w_j}\hat I_j^0`, :math:`\beta = \hat I^0`;
    2. while the adaptive budget :math:`\lfloor N a\rfloor` allows another batch:
       refit every :math:`g_j` by cross-entropy on all points so far with weights
       :math:`\varphi_j f_j/h`, h the deterministic mixture of past samplers;
       minimise the pooled IS estimate of :math:`\sum_j w_j
       E_{g_\alpha}[((\varphi_j f_j-\beta_j g_j)/g_\alpha)^2]` over the simplex
       (convex); draw :math:`N_k` fresh points; re-estimate :math:`\beta` by least
       squares on them; stop if
       :math:`\sum_j w_j\hat\sigma_{j,\text{prev}}^2/(N-n_\text{prev}) \le
       \sum_j w_j\hat\sigma_j^2/(N-n)` (``stopping="paper"``);
    3. final: the remaining :math:`M = N - n` points, fresh from the last sampler,
       give the (unbiased) estimates and their standard errors.

    Signed integrands: a target taking both signs on the pilot is split into
    :math:`\varphi_j^+` and :math:`\varphi_j^-`, each an expectation with its own
    component, and :math:`\hat I_j = \hat I_j^+ - \hat I_j^-` (a deviation from the
    paper, which assumes :math:`\varphi_j\ge 0`). Every density is handled in log
    space.

    Parameters
    ----------
    budget : int
        Total number of points at which ``func`` is evaluated (exactly).
    weights : {"relative", "absolute"} or array of shape (J,)
        Criterion weights: :math:`1/\hat I_j^{0\,2}` from the pilot (per part), 1,
        or given (non-negative, not all zero; the paper's moments case uses the true
        :math:`1/I_j^2`).
    family : {"gaussian", "gaussian_mixture"}
        One Gaussian per expectation, or a two-component Gaussian mixture fitted by
        weighted EM.
    covariance : {"full", "diag"}
        Covariance structure of the Gaussians.
    adaptive_fraction : float
        At most this share of the budget is spent adapting.
    n_batches : int
        The adaptive budget is cut into this many batches (pilot included).
    stopping : {"paper", "none"}
        The variance-budget rule, or always use the whole adaptive budget.
    defensive : float in [0, 1)
        Share of :math:`q_0` in every sampler (0 in the paper).
    random_state : None, int, SeedSequence or Generator
        Randomness.
    n_jobs : int or None
        joblib workers evaluating ``func`` (None: joblib's default, 1 unless a
        ``joblib.parallel_config`` says otherwise, e.g. ``backend="dask"`` for a
        dask.distributed cluster). The estimates do not depend on it.
    batch_size : int or None
        Rows per call of ``func`` (None: one call per sample when serial, about four
        batches per worker otherwise). The estimates do not depend on it.
    zero_targets : {"raise", "keep"}
        A target that is zero at every pilot point is refused, or kept: its component
        is then fitted to the pool without weights, it gets weight 0 in the criterion,
        and its estimate is importance sampling with the final sampler (unbiased; its
        standard error shows how well the sampler covers where it is not zero).

    Attributes
    ----------
    estimates_, std_errors_ : ndarray of shape (J,)
    covariance_ : ndarray of shape (J, J)
        Covariance of the estimates, from the final sample.
    n_evaluations_, n_adaptive_, n_final_ : int
    alpha_, beta_, weights_ : ndarray of shape (P,)
        Per part (P = J unless targets were split; see ``parts_``).
    parts_ : pandas.DataFrame
        Target index and sign of each part.
    means_, covariances_ : ndarray
        The last Gaussians (part-major for mixtures).
    history_ : pandas.DataFrame
        One row per step (pilot first): points so far, both sides of the stopping
        test, whether it fired, alpha and beta.
    output_names_ : list of str or None
        The columns of a DataFrame-valued ``func`` (they label :meth:`conf_int` and
        :meth:`summary`; without them the rows are ``E[0]``, ``E[1]``, ...).

    Notes
    -----
    **Lists of laws.** ``distribution`` may be one law or a list of laws. A list is
    always read as J *alternative* laws of the whole input vector (one expectation
    per law). To give the independent coordinates of one input vector, pass
    :class:`~statlogit.IndependentMarginals` (``sobol_indices`` reads its ``inputs``
    list that way, because there the inputs are always one vector); a function that
    fails on the 1-column points of a list of univariate laws gets an error saying so.

    **Scale.** Values of ``func`` beyond :math:`2^{\pm100}` are divided internally by
    a power of two (exactly) and the results multiplied back.
    """

    def __init__(self, budget=20_000, weights="relative", family="gaussian",
                 covariance="full", adaptive_fraction=0.5, n_batches=5,
                 stopping="paper", defensive=0.0, random_state=None, n_jobs=None,
                 batch_size=None, zero_targets="raise"):
        self.budget = budget
        self.weights = weights
        self.family = family
        self.covariance = covariance
        self.adaptive_fraction = adaptive_fraction
        self.n_batches = n_batches
        self.stopping = stopping
        self.defensive = defensive
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.zero_targets = zero_targets

    def fit(self, func, distribution):
        """Estimate the expectations of ``func`` under ``distribution``.

        Parameters
        ----------
        func : callable
            Maps an (n, d) array to (n, J) (or (n,) for one output), vectorised.
        distribution : law or list of laws
            Objects with ``logpdf(X)`` and ``rvs(size, random_state)``.

        Returns
        -------
        self
        """
        settings = self._check_params()
        problem = ExpectationProblem(func, distribution, self.n_jobs, self.batch_size)
        steps = self.fit_steps(problem, resolve_rng(self.random_state), settings)
        X = next(steps)
        try:
            while True:
                X = steps.send(problem.evaluate(X))
        except StopIteration:
            return self

    def fit_steps(self, problem, rng, settings=None, paired=False):
        """The run as a generator: it yields the points where the integrands are
        needed and receives their values (``problem.evaluate``, or
        ``problem.accept`` of values computed elsewhere), so several runs can share
        their calls of an expensive model; it returns the final stage's centred
        residuals (M, J).

        ``paired=True``: the final sample is drawn point by point from two streams
        seeded from ``rng`` before the pilot (:meth:`Sampler.sample_paired`; q_0 must be
        the standard normal law), so runs started from generators in the same state
        draw their i-th final point from the same random numbers.
        """
        settings = self._check_params() if settings is None else settings
        final_rngs = None
        if paired:
            final_rngs = [np.random.default_rng(seed)
                          for seed in rng.integers(0, 2**63, size=2)]
        budget, n_adaptive_max, batch = self._budget_split(problem.dim)
        X = problem.sample_initial(batch, rng)
        pool, parts = self._pilot(problem, X, (yield X), n_adaptive_max)
        runner = _Adaptation(problem, parts, pool, settings, budget, rng)
        runner.start(self.weights)
        while pool.n + batch <= n_adaptive_max and not runner.stopped:
            yield from runner.step(batch)
        residuals = yield from self._final_estimate(runner, budget - pool.n, final_rngs)
        self._store(runner, pool.n, budget)
        self._unscale(problem)
        self.beta_ = self.beta_ * problem.scale
        return residuals

    def _check_params(self):
        for name, allowed in (("family", ("gaussian", "gaussian_mixture")),
                              ("covariance", ("full", "diag")),
                              ("stopping", ("paper", "none")),
                              ("zero_targets", ("raise", "keep"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}; got "
                                 f"{getattr(self, name)!r}.")
        check_scalar(self.adaptive_fraction, name="adaptive_fraction", lower=0.0,
                     upper=1.0, include_lower=False, include_upper=False)
        check_scalar(self.n_batches, name="n_batches", lower=2, integer=True)
        defensive = check_scalar(self.defensive, name="defensive", lower=0.0, upper=1.0,
                                 include_upper=False)
        return {"defensive": defensive, "diag": self.covariance == "diag",
                "mixture": self.family == "gaussian_mixture",
                "stopping": self.stopping == "paper"}

    def _budget_split(self, dim):
        budget = check_budget(self.budget)
        n_adaptive_max = int(budget * self.adaptive_fraction)
        batch = n_adaptive_max // self.n_batches
        needed = 2 * (dim + 1)
        if batch < needed:
            raise ValueError(
                f"budget={budget} gives batches of {batch} points, too few to fit a "
                f"{dim}-dimensional covariance (need >= {needed}); raise budget to at "
                f"least {int(np.ceil(needed * self.n_batches / self.adaptive_fraction))} "
                "or lower n_batches."
            )
        return budget, n_adaptive_max, batch

    def _pilot(self, problem, X, targets, capacity):
        parts = Parts.from_pilot(targets, problem.law_index(),
                                 keep_zero=self.zero_targets == "keep")
        pool = Pool(make_batch(problem, parts, X, targets), capacity=capacity,
                    max_stages=self.n_batches)
        return pool, parts

    def _final_estimate(self, runner, size, final_rngs):
        with_q0 = runner.settings["defensive"] > 0
        if final_rngs is None:
            batch = yield from runner.draw(size, with_q0=with_q0)
        else:
            X = runner.sampler.sample_paired(size, *final_rngs)
            batch = make_batch(runner.problem, runner.parts, X, (yield X), with_q0)
        residuals = runner.parts.combine(runner.sampler.residuals(batch, runner.beta))
        offsets = runner.parts.combine(runner.beta[None, :])[0]
        self._set_results(residuals, offsets)
        return residuals

    def _store(self, runner, n_adaptive, budget):
        comps = runner.sampler.components
        self.n_adaptive_ = n_adaptive
        self.n_final_ = budget - n_adaptive
        self.n_evaluations_ = budget
        self.alpha_ = runner.sampler.alpha
        self.beta_ = runner.beta
        self.weights_ = runner.weights
        self.parts_ = pd.DataFrame({"target": runner.parts.cols,
                                    "sign": runner.parts.signs.astype(int)})
        self.means_ = comps.means
        self.covariances_ = comps.chols @ np.swapaxes(comps.chols, 1, 2)
        self.history_ = pd.DataFrame(runner.history)

    def plot(self, ax=None):
        """Plot the predicted final weighted variance along the adaptive steps."""
        check_is_fitted(self, "history_")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
        h = self.history_
        ax.plot(h["n_points"], h["criterion"], "o-", label=r"$\sum_j w_j\hat\sigma_j^2/(N-n)$")
        fired = h[h["stopped"]]
        ax.plot(fired["n_points"], fired["criterion"], "rx", ms=10, label="stopping rule")
        ax.set(yscale="log", xlabel="points drawn (n)",
               ylabel="predicted weighted variance")
        ax.legend(fontsize=8)
        return ax


def make_batch(problem, parts, X, targets, with_q0=True):
    """Part values, log f per part and log q_0 (NaN unless ``with_q0``) at X."""
    log_laws = problem.log_laws(X)
    log_q0 = problem.log_initial(log_laws) if with_q0 else np.full(X.shape[0], np.nan)
    return Batch(X, parts.values(targets), parts.law_columns(log_laws), log_q0)


class _Adaptation:
    """The state of one adaptive run: pool, current sampler, beta, history."""

    def __init__(self, problem, parts, pool, settings, budget, rng):
        self.problem, self.parts, self.pool = problem, parts, pool
        self.settings, self.budget, self.rng = settings, budget, rng
        self.stopped = False
        self.history = []
        self.sampler = None

    def start(self, weights):
        pool = self.pool
        with np.errstate(over="ignore", under="ignore"):  # numpy's exp: no kernel to compile
            y = np.sign(pool.values) * np.exp(pool.log_abs_target - pool.log_h()[:, None])
        pilot = y.mean(axis=0)
        with np.errstate(divide="ignore"):
            self.weights = self._part_weights(weights, pilot)
        self.weights[~np.isfinite(self.weights)] = 0.0  # parts unseen on the pilot
        self.alpha = np.sqrt(self.weights) * np.abs(pilot)
        self.alpha /= self.alpha.sum()
        self.beta = pilot
        self.sigma2 = np.var(y, axis=0, ddof=1)
        self._record(np.nan, self._criterion(self.sigma2, pool.n))

    def _part_weights(self, weights, pilot):
        if isinstance(weights, str):
            return resolve_weights(weights, pilot, self.parts.n_parts)
        target_weights = resolve_weights(weights, None, self.problem.n_targets)
        return target_weights[self.parts.cols]

    def _criterion(self, sigma2, n):
        return float(np.sum(self.weights * sigma2) / (self.budget - n))

    def step(self, size):
        pool, s = self.pool, self.settings
        log_h = pool.log_h()
        comps = self._refit(log_h)
        problem = alpha_problem(pool.values, pool.log_abs_target, comps.logpdf(pool.X),
                                log_h, pool.log_q0, self.beta, self.weights,
                                s["defensive"])
        self.alpha = problem.minimize(self.alpha)
        self.sampler = Sampler(comps, self.alpha, s["defensive"])
        batch = yield from self.draw(size)
        y, a, log_s = self.sampler.ratios(batch)
        n_prev = pool.n
        pool.add(batch, self.sampler,
                 np.concatenate([problem.log_sampler(self.alpha), log_s]))
        self.beta, sigma2 = control_variate_fit(y, a)
        before = self._criterion(self.sigma2, n_prev)
        after = self._criterion(sigma2, pool.n)
        self.stopped = s["stopping"] and before <= after
        self.sigma2 = sigma2
        self._record(before, after)

    def _refit(self, log_h):
        pool, s = self.pool, self.settings
        weights = cross_entropy_weights(pool.values, pool.log_abs_target, log_h)
        weights[:, weights.sum(axis=0) == 0.0] = 1.0  # unseen parts: the pool's spread
        if s["mixture"]:
            return fit_gaussian_mixtures(pool.X, weights, s["diag"], self.rng)
        return fit_gaussians(pool.X, weights, s["diag"])

    def draw(self, size, with_q0=True):
        """A fresh batch from the current sampler (a generator: yields the points,
        receives the targets there)."""
        X = self.sampler.sample(size, self.rng, self.problem)
        return make_batch(self.problem, self.parts, X, (yield X), with_q0)

    def _record(self, before, after):
        self.history.append({
            "step": len(self.history), "n_points": self.pool.n,
            "criterion_prev": before, "criterion": after, "stopped": self.stopped,
            "alpha": self.alpha.copy(), "beta": np.asarray(self.beta).copy(),
        })
