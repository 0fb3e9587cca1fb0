"""R3D's summary: a statsmodels ``Summary`` (via :mod:`statlogit.inference`) that is
also the per-level table (a DataFrame's columns, index, ``attrs``, ``loc``...)."""

import numpy as np
import pandas as pd
from statsmodels.iolib.summary2 import Summary

from statlogit.inference import summary_from_table, wald_table


class R3DSummary(Summary):
    """statsmodels ``Summary`` of an R3D fit (``as_text``, ``as_html``, ``as_latex``).

    Attribute access and indexing that a Summary lacks go to :attr:`frame`, the
    per-level DataFrame (``summary.columns``, ``summary["tau"]``, ``summary.attrs``),
    so code written for the table keeps working.
    """

    frame = None

    def __getattr__(self, name):
        if name.startswith("__") or self.__dict__.get("frame") is None:
            raise AttributeError(name)
        return getattr(self.__dict__["frame"], name)

    def __getitem__(self, key):
        return self.frame[key]

    def __len__(self):
        return len(self.frame)


def format_p_value(p_value, n_draws):
    """A bootstrap p-value, ``"< 1/(B+1)"`` when no draw reached the statistic."""
    floor = 1.0 / (n_draws + 1)
    if p_value < floor:
        return f"< 1/(B+1) = {floor:.2g}"
    return f"{p_value:.3g}"


def level_names(quantiles):
    return [f"q={q:g}" for q in quantiles]


def _span(values):
    values = np.asarray(values, dtype=float)
    lo, hi = float(np.min(values)), float(np.max(values))
    return f"{lo:.4g}" if np.isclose(lo, hi, rtol=1e-12) else f"{lo:.4g} - {hi:.4g}"


def build_summary(est, alpha):
    """The Summary of a fitted R3D (``est``) at level ``1 - alpha``."""
    table = wald_table(est.tau_, est.std_errors_, names=level_names(est.quantiles_),
                       alpha=alpha)
    B = est.bootstrap_draws_.shape[0]
    crit = est._critical_value(alpha)
    table["uniform lower"] = est.tau_ - crit
    table["uniform upper"] = est.tau_ + crit
    design = "fuzzy" if est.first_stage_ is not None else "sharp"
    what = "kink" if est.deriv else "jump"
    info = {
        "Method": f"{est.method}, p = {est.p}, {est.kernel} kernel",
        "Design": f"{design} {what}" + (f" (deriv = {est.deriv})" if est.deriv else ""),
        "No. units": est.n_units_,
        "Effective units below": _span(est.n_effective_[0]),
        "Effective units above": _span(est.n_effective_[1]),
        "Bandwidth": _span(est.bandwidth_),
    }
    if est.first_stage_ is not None:
        info["Treatment bandwidth"] = f"{est.treatment_bandwidth_:.4g}"
        info["First stage"] = f"{est.first_stage_:.4g}"
    if est.covariate_names_ is not None:
        info["Covariates"] = ", ".join(est.covariate_names_)
    if est.n_clusters_ is not None:
        info["Clusters"] = est.n_clusters_
    if est.donut:
        info["Donut"] = f"{est.donut:g}"
    info["Bootstrap draws"] = B
    nullity, homogeneity = est.test_nullity(), est.test_homogeneity()
    info["Nullity p-value"] = format_p_value(nullity.p_value, B)
    info["Homogeneity p-value"] = format_p_value(homogeneity.p_value, B)
    kind = "cluster-robust (CR1)" if est.n_clusters_ is not None else \
        getattr(est, "vce", "hc1").upper()
    notes = [
        f"Pointwise: {kind} standard errors, normal intervals. Uniform "
        f"{1 - alpha:g} band: estimate +- {crit:.4g} (multiplier bootstrap, B = {B}).",
        "Bootstrap p-values below 1/(B+1) are reported as such.",
    ]
    out = R3DSummary()
    out.__dict__.update(summary_from_table(
        table, title=f"R3D: {design} RD with distribution-valued outcomes",
        info=info, notes=notes).__dict__)
    out.frame = per_level_frame(est)
    return out


def per_level_frame(est):
    """The per-level DataFrame (the table ``summary()`` returned before 0.3)."""
    table = pd.DataFrame({
        "tau": est.tau_,
        "band_lower": est.band_[:, 0],
        "band_upper": est.band_[:, 1],
        "std_error": est.std_errors_,
        "bandwidth": est.bandwidth_,
        "m_plus": est.m_plus_,
        "m_minus": est.m_minus_,
        "n_below": est.n_effective_[0],
        "n_above": est.n_effective_[1],
    }, index=pd.Index(est.quantiles_, name="quantile"))
    table.attrs.update(critical_value=est.critical_value_, alpha=est.alpha,
                       method=est.method,
                       design="fuzzy" if est.first_stage_ is not None else "sharp",
                       first_stage=est.first_stage_)
    return table
