"""aISCV studies (Demange-Chryst, Bachoc & Morio 2022): moments, beam laws, Sobol'.

The paper's numbers are those computed in the method notes from the authors' stored
result arrays (200 repetitions, N = 2e4).
"""


import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import factorial2

from simulations._registry import StudyResult, study
from statlogit import (
    IndependentMarginals,
    MixtureISExpectations,
    MonteCarloExpectations,
    MultipleExpectations,
    sobol_indices,
)
from statlogit.datasets import (
    CANTILEVER_BEAM_SOBOL_PAPER,
    cantilever_beam,
    cantilever_beam_nominal_marginals,
    make_cantilever_beam_laws,
)
from statlogit.simulation import monte_carlo, summarize

BUDGET = 20_000
ORDERS = 2 * np.arange(1, 11)
MOMENTS = factorial2(ORDERS - 1).astype(float)
PAPER_MOMENTS_ISCV = [0.66, 0.80, 0.92, 1.03, 1.13, 1.19, 1.37, 1.52, 1.70, 1.89]
PAPER_MOMENTS_MC = [1.07, 2.46, 5.08, 10.5, 21.2, 40.5, 72.9, 122, 187, 265]


def _summary(raw):
    """:func:`summarize` of the replications, one row (no grid)."""
    return summarize(raw).iloc[0]


def _spread(summary, metric):
    """Standard deviation over the repetitions (ddof 1), from :func:`summarize`'s
    Monte Carlo standard error of the mean: ``mcse * sqrt(count)``."""
    return summary[f"{metric}_mcse"] * np.sqrt(summary[f"{metric}_count"])


def _moments(X):
    return X[:, [0]] ** ORDERS


def _moments_rep(rng):
    iscv = MultipleExpectations(budget=BUDGET, weights=1 / MOMENTS**2,
                                random_state=rng).fit(_moments, stats.norm())
    mc = MonteCarloExpectations(budget=BUDGET, random_state=rng).fit(
        _moments, stats.norm())
    row = {"n_adaptive": iscv.n_adaptive_}
    for j in range(ORDERS.size):
        row[f"iscv_{j + 1}"] = iscv.estimates_[j] / MOMENTS[j]
        row[f"iscv_se_{j + 1}"] = iscv.std_errors_[j] / MOMENTS[j]
        row[f"mc_{j + 1}"] = mc.estimates_[j] / MOMENTS[j]
    return row


@study("iscv-moments", reps=200, quick_reps=4)
def run_moments(reps, *, n_jobs=None, seed=0, quick=False):
    """Gaussian moments E[X^2j], j=1..10: aISCV vs plain MC (relative std)."""
    raw = monte_carlo(_moments_rep, reps, seed=seed, n_jobs=n_jobs)
    summary = _summary(raw)
    j = np.arange(1, ORDERS.size + 1)
    mc_theory = np.sqrt((factorial2(2 * ORDERS - 1) / MOMENTS**2 - 1) / BUDGET)
    table = pd.DataFrame({
        "j": j,
        "iscv_rel_std_%": [100 * _spread(summary, f"iscv_{k}") for k in j],
        "iscv_mean_rel_se_%": [100 * summary[f"iscv_se_{k}_mean"] for k in j],
        "iscv_rel_bias_%": [100 * (summary[f"iscv_{k}_mean"] - 1) for k in j],
        "iscv_rel_bias_mcse_%": [100 * summary[f"iscv_{k}_mcse"] for k in j],
        "paper_iscv_rel_std_%": PAPER_MOMENTS_ISCV,
        "mc_rel_std_%": [100 * _spread(summary, f"mc_{k}") for k in j],
        "mc_theory_rel_std_%": 100 * mc_theory,
        "paper_mc_rel_std_%": PAPER_MOMENTS_MC,
    })
    criterion = float(np.sum((table["iscv_rel_std_%"] / 100) ** 2))
    se_criterion = float(np.sum((table["iscv_mean_rel_se_%"] / 100) ** 2))
    notes = (f"Sum of squared relative std (the weighted variance criterion): aISCV "
             f"{criterion:.3g} over {reps} reps ({se_criterion:.3g} from the reported "
             "SEs); paper 1.63e-3; plain MC theory "
             f"{float(np.sum(mc_theory**2)):.4g} (paper: 12.78 empirical, 49.75 theory). "
             f"Adaptive points used: {raw['n_adaptive'].value_counts().to_dict()}.")
    return StudyResult(raw=raw, table=table, figure=_moments_figure(table), notes=notes)


def _moments_figure(table):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
    ax.plot(table["j"], table["iscv_rel_std_%"], "o-", label="aISCV (ours)")
    ax.plot(table["j"], table["paper_iscv_rel_std_%"], "o--", label="aISCV (paper)")
    ax.plot(table["j"], table["mc_theory_rel_std_%"], "s-", label="MC (theory)")
    ax.plot(table["j"], table["paper_mc_rel_std_%"], "s--", label="MC (paper)")
    ax.set(yscale="log", xlabel="j (moment 2j)", ylabel="relative std (%)")
    ax.legend(fontsize=7)
    return fig


def _beam_laws():
    return make_cantilever_beam_laws(100, random_state=0)[0]


def beam_reference(n_points, seed=12345):
    """Plain MC reference E_{f_j}[D] for the 100 laws (n_points each)."""
    rng = np.random.default_rng(seed)
    return np.array([cantilever_beam(law.rvs(n_points, rng)).mean()
                     for law in _beam_laws()])


def _beam_rep(rng):
    laws = _beam_laws()
    fits = {
        "iscv": MultipleExpectations(budget=BUDGET, weights="absolute",
                                     random_state=rng),
        "mc_individual": MonteCarloExpectations(budget=BUDGET, random_state=rng),
        "mc_mixture": MixtureISExpectations(budget=BUDGET, random_state=rng),
    }
    row = {}
    for name, est in fits.items():
        est.fit(cantilever_beam, laws)
        row[f"{name}_sum_se2"] = float(np.sum(est.std_errors_**2))
        row.update({f"{name}_{j}": v for j, v in enumerate(est.estimates_)})
    return row


PAPER_BEAM = {"iscv": (4.38e-6, 3.95e-6), "mc_individual": (1.309e-4, 1.30e-4),
              "mc_mixture": (6.10e-5, 5.81e-5)}


@study("iscv-beam-distributions", reps=200, quick_reps=2)
def run_beam(reps, *, n_jobs=None, seed=0, quick=False):
    """Cantilever beam under 100 input laws: aISCV vs MC individual and MC mixture."""
    raw = monte_carlo(_beam_rep, reps, seed=seed, n_jobs=n_jobs)
    reference = beam_reference(10_000 if quick else 400_000)
    summary = _summary(raw)
    rows = []
    for name, (paper_var, paper_sse) in PAPER_BEAM.items():
        est = raw[[f"{name}_{j}" for j in range(100)]].to_numpy()
        sse = np.sum((est - reference) ** 2, axis=1)
        spread = np.array([_spread(summary, f"{name}_{j}") for j in range(100)])
        rows.append({"method": name,
                     "sum_var_empirical": float(np.sum(spread**2)),
                     "mean_sum_se2": summary[f"{name}_sum_se2_mean"],
                     "median_sse_vs_reference": float(np.median(sse)),
                     "paper_sum_var": paper_var, "paper_median_sse": paper_sse})
    table = pd.DataFrame(rows)
    base = table.loc[0, "mean_sum_se2"]
    table["ratio_to_iscv"] = table["mean_sum_se2"] / base
    table["paper_ratio"] = table["paper_sum_var"] / PAPER_BEAM["iscv"][0]
    notes = ("Laws: 100 parameter vectors from a seeded Latin hypercube in the paper's "
             "box (non-positive-definite copulas redrawn), not the authors' stored "
             "vectors. sum_var_empirical is the variance over repetitions (the "
             "paper's metric); mean_sum_se2 the mean reported variance. The reference "
             "is plain MC with 400k points per law (10k with --quick: its error, about "
             "2.5e-7 in the SSE, is then not negligible).")
    return StudyResult(raw=raw, table=table, figure=_bar_figure(table), notes=notes)


def _bar_figure(table):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["mean_sum_se2"], 0.4, label="ours (mean sum SE^2)")
    ax.bar(x + 0.2, table["paper_sum_var"], 0.4, label="paper (sum Var)")
    ax.set(xticks=x, xticklabels=table["method"], yscale="log",
           ylabel="sum of variances over the 100 laws")
    ax.legend(fontsize=7)
    return fig


INPUTS = ["F_X", "F_Y", "E", "w", "t", "L"]
PAPER_SOBOL_STD_ISCV = [0.0058, 0.0058, 0.0057, 0.0049, 0.0055, 0.0044]
PAPER_SOBOL_STD_PF = [0.0207, 0.0209, 0.0210, 0.0190, 0.0202, 0.0214]


def beam_sobol_exact(n_nodes=40):
    r"""Exact pick-freeze expectations and first-order indices of the nominal beam.

    The displacement factors as :math:`D = c\,L^3 E^{-1}\psi(F_X, F_Y, w, t)` with
    independent inputs, so :math:`E[D]`, :math:`E[D^2]` and
    :math:`A_i = E[D\,D^{(i)}] = E[E[D\mid X_i]^2]` follow from one-dimensional
    moments of L and E and a tensor Gauss-Hermite rule (in normal scores) for
    :math:`\psi`; 30 and 70 nodes agree to 1e-12.

    Returns
    -------
    expectations : ndarray of shape (8,)
        :math:`A_1..A_6`, :math:`E[D]`, :math:`E[D^2]` (inputs F_X, F_Y, E, w, t, L).
    indices : ndarray of shape (6,)
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(n_nodes)
    weights = weights / weights.sum()
    inputs = IndependentMarginals(cantilever_beam_nominal_marginals())
    fx, fy, young, w, t, length = inputs.from_normal(np.repeat(nodes[:, None], 6, 1)).T
    w4, t4 = w[:, None], t[None, :]
    psi = np.sqrt((fx[:, None, None, None] / w4**2) ** 2
                  + (fy[None, :, None, None] / t4**2) ** 2) / (w4 * t4)
    grid = np.einsum("a,b,c,d->abcd", weights, weights, weights, weights)
    conditional = []  # E[E[psi | x_k]^2] for k = F_X, F_Y, w, t
    for k in range(4):
        others = tuple(axis for axis in range(4) if axis != k)
        conditional.append(weights @ (np.sum(grid * psi, axis=others) / weights) ** 2)
    e_psi, e_psi2 = np.sum(grid * psi), np.sum(grid * psi**2)
    c = 4e-9
    l3, l6 = weights @ length**3, weights @ length**6
    e1, e2 = weights @ young**-1.0, weights @ young**-2.0
    base = (c * l3 * e1) ** 2
    a = [base * conditional[0], base * conditional[1], (c * l3 * e_psi) ** 2 * e2,
         base * conditional[2], base * conditional[3], (c * e1 * e_psi) ** 2 * l6]
    mean, second = c * l3 * e1 * e_psi, c**2 * l6 * e2 * e_psi2
    expectations = np.array([*a, mean, second])
    return expectations, (expectations[:6] - mean**2) / (second - mean**2)


def _sobol_rep(rng):
    marginals = cantilever_beam_nominal_marginals()
    row = {}
    for method in ("iscv", "pick-freeze"):
        res = sobol_indices(cantilever_beam, marginals, budget=BUDGET, method=method,
                            orders=("first",), random_state=rng)  # the paper's design
        for name, s, se in zip(INPUTS, res.first_order, res.std_errors, strict=True):
            row[f"{method}_{name}"] = s
            row[f"{method}_se_{name}"] = se
    return row


def _sobol_columns(raw, method, exact):
    """Mean, spread, mean SE and sd of the z-scores against ``exact``, per input
    (through :func:`summarize`, the z-scores added to the replications first)."""
    z = {f"{method}_z_{n}": (raw[f"{method}_{n}"] - value) / raw[f"{method}_se_{n}"]
         for n, value in zip(INPUTS, exact, strict=True)}
    summary = _summary(raw.assign(**z))
    return {"mean": np.array([summary[f"{method}_{n}_mean"] for n in INPUTS]),
            "std": np.array([_spread(summary, f"{method}_{n}") for n in INPUTS]),
            "mean_se": np.array([summary[f"{method}_se_{n}_mean"] for n in INPUTS]),
            "z_sd": np.array([_spread(summary, f"{method}_z_{n}") for n in INPUTS])}


@study("iscv-sobol", reps=200, quick_reps=3)
def run_sobol(reps, *, n_jobs=None, seed=0, quick=False):
    """First-order Sobol' indices of the beam: aISCV vs pick-freeze at equal runs."""
    raw = monte_carlo(_sobol_rep, reps, seed=seed, n_jobs=n_jobs)
    exact = beam_sobol_exact()[1]
    table = {"input": INPUTS, "exact_S": exact, "paper_S": CANTILEVER_BEAM_SOBOL_PAPER}
    for short, method, paper in (("iscv", "iscv", PAPER_SOBOL_STD_ISCV),
                                 ("pf", "pick-freeze", PAPER_SOBOL_STD_PF)):
        columns = _sobol_columns(raw, method, exact)
        table.update({f"{short}_{key}": value for key, value in columns.items()})
        table[f"paper_{short}_std"] = paper
    table = pd.DataFrame(table)
    se_ratio = np.sum(table["pf_mean_se"] ** 2) / np.sum(table["iscv_mean_se"] ** 2)
    spread_ratio = np.sum(table["pf_std"] ** 2) / np.sum(table["iscv_std"] ** 2)
    notes = (f"Sum-of-variances ratio pick-freeze / aISCV: {spread_ratio:.3g} from the "
             f"spread over the repetitions, {se_ratio:.3g} from the delta-method SEs "
             "(paper 14.6, from the spread over 200 reps). N = 2e4 points = 1.4e5 model "
             "runs per method. exact_S: Gauss-Hermite quadrature. *_z_sd: standard "
             "deviation of (estimate - exact_S) / SE, 1 for calibrated SEs; its sampling "
             "error is about 1/sqrt(2 reps), shared by the six inputs, whose errors are "
             "strongly correlated.")
    return StudyResult(raw=raw, table=table, figure=_sobol_figure(table), notes=notes)


def _sobol_figure(table):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
    x = np.arange(len(table))
    ax.errorbar(x - 0.1, table["iscv_mean"], yerr=2 * table["iscv_mean_se"], fmt="o",
                label="aISCV")
    ax.errorbar(x + 0.1, table["pf_mean"], yerr=2 * table["pf_mean_se"], fmt="s",
                label="pick-freeze")
    ax.plot(x, table["exact_S"], "k_", ms=14, label="exact (quadrature)")
    ax.set(xticks=x, xticklabels=table["input"], ylabel="first-order index")
    ax.legend(fontsize=7)
    return fig
