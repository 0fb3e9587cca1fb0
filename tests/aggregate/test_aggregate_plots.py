"""Every plot of the family and every study figure: constrained layout, named axes, a
legend where several lines are drawn, nothing cut by a plain savefig, no warning from
our plotting code."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from simulations import aggregate as study  # noqa: E402
from statlogit import AggregateRegressorCV  # noqa: E402
from statlogit.datasets import make_aggregate_regression  # noqa: E402

#: Every warning is an error here (from our plotting code or what it calls).
pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(autouse=True)
def _figures_closed(pyplot):
    """Every figure closed after each test (the shared ``pyplot`` fixture)."""
    return pyplot


def check(fig, readable, *, n_legend=2):
    assert type(fig.get_layout_engine()).__name__ == "ConstrainedLayoutEngine"
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert legends and max(len(leg.get_texts()) for leg in legends) >= n_legend
    for ax in fig.axes:
        assert ax.get_xlabel()
    fig.canvas.draw()
    readable(fig)


def test_cv_plot(assert_readable_figure):
    d = make_aggregate_regression(n_samples=200, n_features=3, random_state=0)
    X = pd.DataFrame(d.X, columns=["age", "income", "tenure"])
    est = AggregateRegressorCV(cv=3).fit(X, d.y_bag, bags=d.bags)
    ax = est.plot()
    assert "AggregateRegressorCV" in ax.get_title()
    assert ax.get_ylabel() == "estimated instance-level MSE"
    assert f"rho = {est.rho_:g}" in [t.get_text() for t in ax.get_legend().get_texts()]
    check(ax.figure, assert_readable_figure)


def test_cv_plot_on_given_axes_draws_there(assert_readable_figure):
    d = make_aggregate_regression(n_samples=200, n_features=3, random_state=0)
    est = AggregateRegressorCV(cv=3).fit(d.X, d.y_bag, bags=d.bags)
    fig, ax = plt.subplots(layout="constrained")
    assert est.plot(ax=ax) is ax
    check(fig, assert_readable_figure)


# The study figures from small synthetic summaries of the shape the studies produce.

def test_risk_figure(assert_readable_figure):
    rows = [{"psi": psi, "k": k, "rho": rho, "mean": 1.0 + rho, "sem": 0.05}
            for psi in (4, 10) for k in (2, 5, 10) for rho in np.linspace(0, 1, 11)]
    check(study._risk_figure(pd.DataFrame(rows)), assert_readable_figure, n_legend=6)


def test_privacy_figure(assert_readable_figure):
    rows = [{"epsilon": eps, "rho": rho, "k": k, "mean": 1.0 / k + 0.1, "sem": 0.01,
             "theory": 1.0 / k + 0.1}
            for eps in (1.0, 2.0, 5.0) for rho in study.PRIVACY_RHOS for k in range(1, 11)]
    check(study._privacy_figure(pd.DataFrame(rows)), assert_readable_figure, n_legend=3)


def test_real_figure(assert_readable_figure):
    k = [1, 2, 5, 10, 20]
    table = pd.DataFrame({"k": k, "bag_level": 3.0, "instance_level": 3.1,
                          "cv_tuned": 3.0, "oracle_rho": 2.9, "cv_estimate": 2.8})
    check(study._real_figure(table), assert_readable_figure, n_legend=5)


def test_proportions_figure(assert_readable_figure):
    index = pd.MultiIndex.from_product(
        [["log_loss", "accuracy", "calibration_error"], list(study.PROPORTION_METHODS),
         study.PROPORTION_BAG_SIZES], names=["metric", "method", "k"])
    summary = pd.DataFrame({"mean": 0.5, "sem": 0.01}, index=index)
    fig = study._proportions_figure(summary)
    check(fig, assert_readable_figure, n_legend=len(study.PROPORTION_METHODS))
