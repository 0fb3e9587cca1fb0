"""aISCV (MultipleExpectations) against plain numpy implementations of the same algorithm.

Two peers, both run in this process on the same problems:

* ``numpy (paper recipe)``: the algorithm of the notes written in plain numpy/scipy as
  the authors' code does it: scipy ``multivariate_normal`` per component, the
  deterministic mixture h recomputed from scratch on the whole pool at every step,
  weighted moments per component, and the alpha sub-problem by SLSQP with an analytic
  numpy gradient.
* ``numpy kernels``: statlogit's own implementation with every numba kernel (Gaussian
  log-densities and moments, the alpha objective) swapped for a numpy twin (same
  caching, same Newton solver), which isolates what numba buys. (The weight kernels are
  numpy already: numpy's SIMD exponential is as fast as a numba loop there, and they
  cost no compilation in a fresh process.)

Each problem runs twice: with the paper's stopping rule (the default; where it fires
depends on the run) and with ``stopping="none"`` (the whole adaptive budget, so both
sides do the same work). Agreement: the largest difference between the two sides'
estimates in units of their combined standard error. Both sides draw from the same
seed in the same order, so they make the same run up to their alpha solvers and
rounding: values far below 1 (independent runs would give values of order 1-3 across
100 estimates). Warm-up runs (JIT compilation) are excluded by the harness. Run with
``python -m benchmarks.bench_expectations``.
"""

import numpy as np
from scipy import linalg, optimize, special, stats
from scipy.special import factorial2
from threadpoolctl import threadpool_limits

from benchmarks._harness import Case, report
from statlogit import MultipleExpectations
from statlogit.datasets import cantilever_beam, make_cantilever_beam_laws
from statlogit.expectations.kernel_hooks import replaced_kernels


def numpy_aiscv(func, distribution, budget, weights, seed, stopping=True):
    """The aISCV algorithm (single Gaussians, full covariance) in plain numpy/scipy.

    Non-negative integrands only; ``weights`` is "absolute" or an array. Returns the
    estimates and their standard errors.
    """
    rng = np.random.default_rng(seed)
    problem = _Problem(func, distribution)
    n_adaptive_max = budget // 2
    batch = n_adaptive_max // 5
    X = problem.sample_initial(batch, rng)
    values = problem.evaluate(X)
    log_laws = _log_laws(problem, X)
    law_of = problem.law_index()
    stages, sizes = [], [batch]

    def log_h():
        n = X.shape[0]
        columns = [np.log(sizes[0] / n) + problem.log_initial(log_laws)]
        for size, (means, covs, alpha) in zip(sizes[1:], stages, strict=True):
            columns.append(np.log(size / n) + _mixture_logpdf(X, means, covs, alpha))
        return special.logsumexp(np.column_stack(columns), axis=1)

    y = values * np.exp(log_laws[:, law_of] - log_h()[:, None])
    pilot = y.mean(axis=0)
    w = np.ones_like(pilot) if isinstance(weights, str) else np.asarray(weights)
    alpha = np.sqrt(w) * pilot / np.sum(np.sqrt(w) * pilot)
    beta, sigma2_prev = pilot, y.var(axis=0, ddof=1)
    while X.shape[0] + batch <= n_adaptive_max:
        lh = log_h()
        means, covs = _cross_entropy(X, values, log_laws[:, law_of] - lh[:, None])
        log_g = _component_logpdfs(X, means, covs)
        alpha = _slsqp_alpha(values, log_laws[:, law_of], log_g, lh, beta, w, alpha)
        new_X = _sample(means, covs, alpha, batch, rng)
        new_values, new_log_laws = problem.evaluate(new_X), _log_laws(problem, new_X)
        n_prev = X.shape[0]
        X = np.vstack([X, new_X])
        values = np.vstack([values, new_values])
        log_laws = np.vstack([log_laws, new_log_laws])
        stages.append((means, covs, alpha))
        sizes.append(batch)
        beta, sigma2 = _control_variates(new_X, new_values, new_log_laws[:, law_of],
                                         means, covs, alpha)
        if stopping and np.sum(w * sigma2_prev) / (budget - n_prev) <= np.sum(
                w * sigma2) / (budget - X.shape[0]):
            break
        sigma2_prev = sigma2
    final = _sample(means, covs, alpha, budget - X.shape[0], rng)
    log_g = _component_logpdfs(final, means, covs)
    log_s = special.logsumexp(log_g + np.log(alpha), axis=1)
    f_values = problem.evaluate(final) * np.exp(
        _log_laws(problem, final)[:, law_of] - log_s[:, None])
    residuals = f_values - beta * np.exp(log_g - log_s[:, None])
    return (residuals.mean(axis=0) + beta,
            residuals.std(axis=0, ddof=1) / np.sqrt(residuals.shape[0]))


class _Problem:
    """The expectations of ``func`` under one law or a list of laws, in plain numpy
    (draws in the same order as statlogit's, so both sides share one random stream)."""

    def __init__(self, func, distribution):
        self.func = func
        self.laws = list(distribution) if isinstance(distribution, list) else [
            distribution]
        self.dim = getattr(self.laws[0], "dim", 1)

    def _rvs(self, law, size, rng):
        return np.asarray(law.rvs(size=size, random_state=rng)).reshape(size, self.dim)

    def sample_initial(self, size, rng):
        if len(self.laws) == 1:
            return self._rvs(self.laws[0], size, rng)
        counts = rng.multinomial(size, np.full(len(self.laws), 1.0 / len(self.laws)))
        return np.vstack([self._rvs(law, int(c), rng)
                          for law, c in zip(self.laws, counts, strict=True) if c])

    def evaluate(self, X):
        values = np.asarray(self.func(X), dtype=float).reshape(X.shape[0], -1)
        return np.repeat(values, len(self.laws), axis=1) if values.shape[1] == 1 \
            and len(self.laws) > 1 else values

    def law_index(self):
        """Column of each target's law (one column, broadcast, for one law)."""
        return np.arange(len(self.laws))

    def log_initial(self, log_laws):
        return special.logsumexp(log_laws, axis=1) - np.log(log_laws.shape[1])


def _log_laws(problem, X):
    """Every law's logpdf, one law at a time (scipy / numpy per law)."""
    arg = X[:, 0] if problem.dim == 1 else X
    return np.column_stack([np.asarray(law.logpdf(arg)).reshape(-1)
                            for law in problem.laws])


def _component_logpdfs(X, means, covs):
    return np.column_stack([stats.multivariate_normal(m, c).logpdf(X).reshape(-1)
                            for m, c in zip(means, covs, strict=True)])


def _mixture_logpdf(X, means, covs, alpha):
    return special.logsumexp(_component_logpdfs(X, means, covs) + np.log(alpha), axis=1)


def _cross_entropy(X, values, log_ratio):
    log_c = np.log(values) + log_ratio
    c = np.exp(log_c - log_c.max(axis=0))
    jitter = np.diag(1e-6 * np.var(X, axis=0) + np.finfo(float).tiny)
    means = (c.T @ X) / c.sum(axis=0)[:, None]
    covs = [np.cov(X, rowvar=False, aweights=c[:, j], bias=True).reshape(
        X.shape[1], X.shape[1]) + jitter for j in range(c.shape[1])]
    return means, covs


def _slsqp_alpha(values, log_f, log_g, log_h, beta, w, alpha0):
    m = log_g.max(axis=1)
    G = np.exp(log_g - m[:, None])
    resid = values * np.exp(log_f - m[:, None]) - beta * G
    log_c = np.log(np.sum(w * resid**2, axis=1)) + m - log_h
    c = np.exp(log_c - log_c.max())
    scale = np.sum(c / (G @ alpha0))

    def fun(a):
        den = G @ a
        return np.sum(c / den) / scale, -(c / den**2) @ G / scale

    k = G.shape[1]
    res = optimize.minimize(fun, alpha0, jac=True, method="SLSQP",
                            bounds=[(9e-12, 1.0)] * k,
                            constraints=[{"type": "eq", "fun": lambda a: a.sum() - 1}],
                            options={"ftol": 1e-12, "maxiter": 500})
    return np.clip(res.x, 9e-12, 1.0) / np.clip(res.x, 9e-12, 1.0).sum()


def _sample(means, covs, alpha, size, rng):
    counts = rng.multinomial(size, alpha / alpha.sum())
    blocks = []
    for k in np.flatnonzero(counts):
        z = rng.standard_normal((counts[k], means.shape[1]))
        blocks.append(means[k] + z @ np.linalg.cholesky(covs[k]).T)
    return np.vstack(blocks)


def _control_variates(X, values, log_f, means, covs, alpha):
    log_g = _component_logpdfs(X, means, covs)
    log_s = special.logsumexp(log_g + np.log(alpha), axis=1)
    y = values * np.exp(log_f - log_s[:, None])
    a = np.exp(log_g - log_s[:, None])
    ac, yc = a - a.mean(axis=0), y - y.mean(axis=0)
    beta = np.sum(ac * yc, axis=0) / np.sum(ac**2, axis=0)
    return beta, np.var(y - beta * a, axis=0, ddof=1)


# ---- numpy twins of statlogit's kernels, swapped in for the "numpy kernels" peer ----

def _np_gaussian_logpdf(X, means, chols, slope=None):
    out = np.empty((X.shape[0], means.shape[0]))
    for k in range(means.shape[0]):
        z = linalg.solve_triangular(chols[k], (X - means[k]).T, lower=True)
        out[:, k] = (-0.5 * X.shape[1] * np.log(2 * np.pi)
                     - np.sum(np.log(np.diag(chols[k]))) - 0.5 * np.sum(z**2, axis=0))
    return out if slope is None else out + (X @ slope)[:, None]


def _np_mixture_logpdf(X, means, chols, log_weights):
    return special.logsumexp(_np_gaussian_logpdf(X, means, chols) + log_weights, axis=1)


def _np_weighted_moments(X, W, diag_only):
    totals = W.sum(axis=0)
    means = (W.T @ X) / totals[:, None]
    centred = X[None] - means[:, None]
    covs = np.einsum("kn,kni,knj->kij", W.T, centred, centred) / totals[:, None, None]
    if diag_only:
        covs = covs * np.eye(X.shape[1])
    return means, covs


def _np_alpha_objective(alpha, c, G_t, b):
    den = alpha @ G_t + b
    return np.sum(c / den), -G_t @ (c / den**2), den


def numpy_kernels():
    """Swap statlogit's numba kernels for their numpy twins inside the block."""
    return replaced_kernels(
        gaussian_logpdf=_np_gaussian_logpdf, gaussian_mixture_logpdf=_np_mixture_logpdf,
        weighted_moments=_np_weighted_moments,
        inverse_affine_objective=_np_alpha_objective)


def _with_numpy_kernels(fit):
    def run():
        with numpy_kernels():
            return fit()
    return run


def _max_gap(ours, peer):
    """Largest |difference| over the combined standard error of both estimates."""
    gap = np.abs(ours.estimates_ - peer[0]) / np.hypot(ours.std_errors_, peer[1])
    return f"max|diff|/SE={gap.max():.2g}"


def cases():
    J = 10
    truth = factorial2(2 * np.arange(1, J + 1) - 1).astype(float)

    def moments(X):
        return X[:, [0]] ** (2 * np.arange(1, J + 1))

    laws = make_cantilever_beam_laws(100, random_state=0)[0]
    problems = [("Gaussian moments J=10 N=2e4", moments, stats.norm(), 1 / truth**2),
                ("beam 100 laws N=2e4", cantilever_beam, laws, "absolute")]
    out = []
    for name, func, dist, weights in problems:
        for stopping in ("paper", "none"):
            label = f"{name}, stopping={stopping}"

            def ours(func=func, dist=dist, weights=weights, stopping=stopping):
                return MultipleExpectations(budget=20_000, weights=weights,
                                            stopping=stopping, random_state=0).fit(
                    func, dist)

            def peer(func=func, dist=dist, weights=weights, stopping=stopping):
                return numpy_aiscv(func, dist, 20_000, weights, 0,
                                   stopping=stopping == "paper")

            def twin(ours=ours):
                est = ours()
                return est.estimates_.copy(), est.std_errors_.copy()

            out.append(Case(name=label, ours=ours, peer=peer,
                            peer_name="numpy (paper recipe: scipy densities, SLSQP)",
                            check=_max_gap))
            out.append(Case(name=label, ours=ours, peer=_with_numpy_kernels(twin),
                            peer_name="numpy kernels (same code)", check=_max_gap))
    return out


if __name__ == "__main__":
    # one BLAS thread for both sides: statlogit is serial by design, and threaded BLAS
    # on a shared 2-core machine only adds noise
    with threadpool_limits(1):
        report(cases(), repeats=3, title="aISCV: statlogit (numba) vs plain numpy")
