"""Every plot of the ordinal family and its study figure: constrained layout, the fitted
feature/class names, a legend where several lines are drawn, nothing cut by a plain
savefig, no overlapping panels, no warning from statlogit's plotting code."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from statlogit import (  # noqa: E402
    PrestoClassifier,
    PrestoClassifierCV,
    ProportionalOddsClassifier,
)
from statlogit.datasets import make_presto_ordinal  # noqa: E402

NAMES = ["age", "dose", "score", "weight with a long name"]
LEVELS = ["none", "mild", "severe", "critical"]


# every warning (matplotlib's layout or tick warnings included) fails the test
pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(autouse=True)
def _closed():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    X, y, _, _ = make_presto_ordinal(400, len(NAMES), intercept=(0.0, 1.5, 3.0),
                                     random_state=2)
    frame = pd.DataFrame(X, columns=NAMES)
    labels = pd.Series(pd.Categorical.from_codes(y, LEVELS, ordered=True))
    return frame, labels


def legend_texts(ax):
    legend = ax.get_legend()
    assert legend is not None, ax.get_title()
    return [t.get_text() for t in legend.get_texts()]


def check(fig, readable):
    engine = fig.get_layout_engine()
    assert type(engine).__name__ == "ConstrainedLayoutEngine"
    fig.canvas.draw()
    readable(fig)
    renderer = fig.canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes]
    for i, first in enumerate(boxes):       # no panel's labels run into the next one
        for second in boxes[i + 1:]:
            assert not first.overlaps(second), (first, second)


@pytest.mark.parametrize("model", [PrestoClassifier(alpha=0.01),
                                   ProportionalOddsClassifier()],
                         ids=["presto", "proportional-odds"])
def test_slope_plot(model, data, assert_readable_figure):
    frame, y = data
    ax = model.fit(frame, y).plot()
    assert legend_texts(ax) == NAMES
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "none|mild", "mild|severe", "severe|critical"]
    check(ax.figure, assert_readable_figure)


def test_calibration_plot(data, assert_readable_figure):
    frame, y = data
    ax = PrestoClassifier(alpha=0.01).fit(frame, y).plot_calibration(frame, y, n_bins=5)
    assert "critical" in ax.get_xlabel() and "critical" in ax.get_ylabel()
    assert len(legend_texts(ax)) == 2
    check(ax.figure, assert_readable_figure)
    ProportionalOddsClassifier().fit(frame, y).plot_calibration(frame, y, ax=ax)
    assert legend_texts(ax) == ["calibrated", "PrestoClassifier",
                                "ProportionalOddsClassifier"]   # one diagonal
    diagonal = ax.get_lines()[0]
    top = max(max(line.get_xdata().max(), line.get_ydata().max())
              for line in ax.get_lines()[1:])
    assert diagonal.get_xdata()[-1] >= top            # it covers both models' points
    check(ax.figure, assert_readable_figure)


def test_cv_plot(data, assert_readable_figure):
    frame, y = data
    cv = PrestoClassifierCV(n_alphas=6, cv=2, random_state=0).fit(frame, y)
    left, right = cv.plot()
    assert left.figure is right.figure
    assert legend_texts(left)[:len(NAMES)] == NAMES
    assert len(left.get_lines()) >= len(NAMES)
    assert all(line.get_label() in NAMES for line in left.get_lines()[:len(NAMES)])
    assert "critical" in left.get_ylabel()
    assert len(legend_texts(right)) >= 1
    check(left.figure, assert_readable_figure)


def test_cv_plot_many_features(assert_readable_figure):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 24))
    signal = X[:, :4].sum(axis=1) + rng.logistic(size=300)
    y = np.searchsorted(np.quantile(signal, [0.4, 0.7, 0.9]), signal)
    frame = pd.DataFrame(X, columns=[f"feature_{j:02d}" for j in range(24)])
    cv = PrestoClassifierCV(n_alphas=5, cv=2, random_state=0).fit(frame, y)
    left, _ = cv.plot()
    assert legend_texts(left) == list(frame.columns)
    styles = {(line.get_color(), line.get_linestyle()) for line in left.get_lines()[:24]}
    assert len(styles) == 24                      # no two features drawn alike
    check(left.figure, assert_readable_figure)
    ax = PrestoClassifier(alpha=0.02).fit(frame, y).plot()
    assert legend_texts(ax) == list(frame.columns)
    check(ax.figure, assert_readable_figure)


def test_study_figure(assert_readable_figure):
    from simulations.ordinal import METHODS, _box_figure

    rng = np.random.default_rng(0)
    raw = pd.DataFrame({"dev_prob": np.repeat([1 / 3, 0.5], 6),
                        "alpha3": np.tile(np.repeat([5.0, 5.5, 6.0], 2), 2),
                        **{f"mse_{m}": rng.uniform(1e-4, 1e-2, 12) for m in METHODS}})
    fig = _box_figure(raw, ["dev_prob", "alpha3"], "mse_", "rare-probability MSE")
    for ax in fig.axes:
        assert [t.get_text() for t in ax.get_xticklabels()] == list(METHODS)
    check(fig, assert_readable_figure)
