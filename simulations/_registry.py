"""The study registry and the small helpers every study uses."""

import importlib
import pkgutil
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class StudyResult:
    """What a study returns.

    Attributes
    ----------
    raw : pandas.DataFrame
        Tidy results, one row per (setting, replication): written to ``NAME.csv``.
    table : pandas.DataFrame
        The summary table, with the paper's numbers in their own columns where known:
        written to ``NAME.md`` and printed.
    figure : matplotlib.figure.Figure or None
        Written to ``NAME.png``.
    notes : str
        Markdown printed under the table (what the numbers mean, what differs from the
        paper and why).
    """

    raw: pd.DataFrame
    table: pd.DataFrame
    figure: object = None
    notes: str = ""


@dataclass
class Study:
    """A registered study: a function ``run(reps, *, n_jobs, seed, quick)``."""

    name: str
    run: object
    reps: int
    quick_reps: int
    description: str = ""


STUDIES: dict[str, Study] = {}


def study(name, *, reps, quick_reps, description=None):
    """Register ``run(reps, *, n_jobs, seed, quick) -> StudyResult`` under ``name``.

    Parameters
    ----------
    name : str
        The command-line name, e.g. ``"presto-soup"``.
    reps : int
        Replications of a full run (the paper's, where affordable).
    quick_reps : int
        Replications with ``--quick`` (seconds, not minutes).
    description : str, optional
        One line for ``python -m simulations list``; defaults to the docstring's first
        line.
    """

    def register(run):
        if name in STUDIES:
            raise ValueError(f"study {name!r} is registered twice.")
        text = description or (run.__doc__ or "").strip().splitlines()[0]
        STUDIES[name] = Study(name, run, reps, quick_reps, text)
        return run

    return register


def load_all():
    """Import every study module of this package and return the registry."""
    import simulations

    for info in pkgutil.iter_modules(simulations.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"simulations.{info.name}")
    return STUDIES


def _cell(value):
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return "—"  # not available (e.g. no Monte Carlo SE for an argmin)
        if not np.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    return str(value)


def markdown_table(df, *, index=False):
    """Render a DataFrame as a GitHub Markdown table (no extra dependency)."""
    if index:
        df = df.reset_index()
    header = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *body])
