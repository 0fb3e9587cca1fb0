"""Every plot of the family and every study figure: constrained layout, the fitted names,
a legend, nothing cut by a plain savefig, no warning from our plotting code."""

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from statlogit import GaussianCopula, MultipleExpectations, shapley_effects, sobol_indices  # noqa: E402
from statlogit.datasets import ishigami  # noqa: E402

NAMES = ["speed", "angle", "friction"]
UNIFORM = dict(zip(NAMES, [stats.uniform(-np.pi, 2 * np.pi)] * 3, strict=True))


@pytest.fixture(autouse=True)
def _strict_and_closed():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
    plt.close("all")


def check(ax, readable, *, labels=(), n_legend=1):
    fig = ax.figure
    assert fig.get_layout_engine() is not None
    assert type(fig.get_layout_engine()).__name__ == "ConstrainedLayoutEngine"
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert all(name in ticks for name in labels), ticks
    legend = ax.get_legend()
    assert legend is not None and len(legend.get_texts()) >= n_legend
    fig.canvas.draw()
    readable(fig)


def test_multiple_expectations_plot(assert_readable_figure):
    est = MultipleExpectations(budget=3000, random_state=0)
    est.fit(lambda X: X[:, [0]] ** np.array([2, 4]), stats.norm())
    check(est.plot(), assert_readable_figure, n_legend=2)


def test_sobol_plot_uses_the_input_names(assert_readable_figure):
    res = sobol_indices(ishigami, UNIFORM, 1000, method="saltelli", random_state=0)
    check(res.plot(), assert_readable_figure, labels=NAMES, n_legend=2)


def test_multi_output_sobol_plot_names_the_output(assert_readable_figure):
    def two(X):
        return pd.DataFrame({"lift": ishigami(X), "drag": X[:, 0] ** 2 + X[:, 2]})

    res = sobol_indices(two, UNIFORM, 1000, method="saltelli", random_state=0)
    ax = res.plot(output="drag")
    assert "drag" in ax.get_title()
    check(ax, assert_readable_figure, labels=NAMES, n_legend=2)


def test_shapley_plot(assert_readable_figure):
    law = GaussianCopula([stats.norm()] * 3, [[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]])
    res = shapley_effects(lambda X: X.sum(axis=1), law, 2000, names=NAMES,
                          random_state=0)
    check(res.plot(), assert_readable_figure, labels=NAMES)


def test_study_figures(assert_readable_figure):
    import simulations.expectations as study

    for result in (study.run_moments(2, quick=True), study.run_sobol(2, quick=True)):
        check(result.figure.axes[0], assert_readable_figure, n_legend=3)
    # the beam study takes ~15 s even with --quick: its figure from a table of its shape
    table = pd.DataFrame({"method": list(study.PAPER_BEAM),
                          "mean_sum_se2": [4e-6, 1.3e-4, 6e-5],
                          "paper_sum_var": [4.4e-6, 1.3e-4, 6.1e-5]})
    check(study._bar_figure(table).axes[0], assert_readable_figure,
          labels=list(study.PAPER_BEAM), n_legend=2)
