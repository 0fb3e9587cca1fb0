"""aISCV (MultipleExpectations) against plain numpy implementations of the same algorithm.

Two peers, both run in this process on the same problems:

* ``numpy (paper recipe)``: the algorithm of the notes written in plain numpy/scipy as
  the authors' code does it: scipy ``multivariate_normal`` per component, the
  deterministic mixture h recomputed from scratch on the whole pool at every step,
  weighted moments per component, and the alpha sub-problem by SLSQP with an analytic
  numpy gradient.
* ``numpy kernels``: statlogit's own implementation with its three numba kernels
  swapped for numpy twins (same caching, same Newton solver, laws evaluated by a
  vectorised numpy twin of the copula kernel), which isolates what numba buys.

Warm-up runs (JIT compilation) are excluded by the harness. Run with
``python -m benchmarks.bench_expectations``.
"""

import contextlib

import numpy as np
from scipy import optimize, special, stats
from scipy.special import factorial2
from threadpoolctl import threadpool_limits

from benchmarks._harness import Case, report
from statlogit import MultipleExpectations
from statlogit.datasets import cantilever_beam, make_cantilever_beam_laws
from statlogit.estimators import (
    _expectations_base,
    _expectations_fit,
    _expectations_samplers,
)
from statlogit.estimators._expectations_base import ExpectationProblem


def numpy_aiscv(func, distribution, budget, weights, seed, stopping=True):
    """The aISCV algorithm (single Gaussians, full covariance) in plain numpy/scipy.

    Non-negative integrands only; ``weights`` is "absolute" or an array. Returns the
    estimates.
    """
    rng = np.random.default_rng(seed)
    problem = ExpectationProblem(func, distribution)
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
    return np.mean(f_values - beta * np.exp(log_g - log_s[:, None]), axis=0) + beta


def _log_laws(problem, X):
    """Every law's logpdf, one law at a time (scipy / numpy per law)."""
    return np.column_stack([law.logpdf(X) for law in problem.laws])


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


# ---- numpy twins of the three kernels, swapped in for the "numpy kernels" peer ----

def _np_gaussian_logpdf(X, means, chols):
    out = np.empty((X.shape[0], means.shape[0]))
    for k in range(means.shape[0]):
        z = np.linalg.solve(chols[k], (X - means[k]).T)
        out[:, k] = (-0.5 * X.shape[1] * np.log(2 * np.pi)
                     - np.sum(np.log(np.diag(chols[k]))) - 0.5 * np.sum(z**2, axis=0))
    return out


def _np_weighted_moments(X, W, diag_only):
    totals = W.sum(axis=0)
    means = (W.T @ X) / totals[:, None]
    centred = X[None] - means[:, None]
    covs = np.einsum("kn,kni,knj->kij", W.T, centred, centred) / totals[:, None, None]
    if diag_only:
        covs = covs * np.eye(X.shape[1])
    return means, covs


def _np_copula_logpdf(X, is_log, loc, log_scale, shape, inv_chols, consts):
    shifted = X[:, None, :] - loc[None]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(is_log, np.log(shifted), shifted)
    z = (t - log_scale) / shape
    white = np.einsum("lrs,nls->nlr", inv_chols, z)
    out = -0.5 * np.sum(white**2, axis=2) - consts - np.sum(np.where(is_log, t, 0), 2)
    return np.where(np.all((shifted > 0) | ~is_log, axis=2), out, -np.inf)


def _np_alpha_objective(alpha, c, G, b):
    den = G @ alpha + b
    return np.sum(c / den), -(c / den**2) @ G


@contextlib.contextmanager
def numpy_kernels():
    """Swap statlogit's numba kernels for their numpy twins inside the block."""
    swaps = [(_expectations_samplers, "gaussian_logpdf", _np_gaussian_logpdf),
             (_expectations_fit, "gaussian_logpdf", _np_gaussian_logpdf),
             (_expectations_fit, "weighted_moments", _np_weighted_moments),
             (_expectations_fit, "alpha_objective", _np_alpha_objective),
             (_expectations_base, "gaussian_copula_logpdf", _np_copula_logpdf)]
    saved = [(mod, name, getattr(mod, name)) for mod, name, _ in swaps]
    try:
        for mod, name, twin in swaps:
            setattr(mod, name, twin)
        yield
    finally:
        for mod, name, original in saved:
            setattr(mod, name, original)


def _with_numpy_kernels(fit):
    def run():
        with numpy_kernels():
            return fit()
    return run


def _max_se_gap(ours, peer_estimates):
    est = ours[0]
    gap = np.max(np.abs(est.estimates_ - peer_estimates) / est.std_errors_)
    return f"max|diff|/SE={gap:.2g}"


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
        def ours(func=func, dist=dist, weights=weights):
            est = MultipleExpectations(budget=20_000, weights=weights, random_state=0)
            return est.fit(func, dist), None

        out.append(Case(
            name=name, ours=ours,
            peer=lambda func=func, dist=dist, w=weights: numpy_aiscv(
                func, dist, 20_000, w, 0),
            peer_name="numpy (paper recipe: scipy densities, SLSQP)",
            check=lambda o, p: _max_se_gap(o, p)))
        out.append(Case(
            name=name, ours=ours,
            peer=_with_numpy_kernels(lambda ours=ours: (ours()[0].estimates_.copy())),
            peer_name="numpy kernels (same code)",
            check=lambda o, p: _max_se_gap(o, p)))
    return out


if __name__ == "__main__":
    # one BLAS thread for both sides: statlogit is serial by design, and threaded BLAS
    # on a shared 2-core machine only adds noise
    with threadpool_limits(1):
        report(cases(), repeats=3, title="aISCV: statlogit (numba) vs plain numpy")
