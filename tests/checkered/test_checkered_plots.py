"""Issue 20: every checkered figure (CheckeredClassifier.plot and the three study
figures) uses constrained layout and the fitted names, has a legend, keeps every text
inside the figure under a plain ``savefig`` (``assert_readable_figure``) and raises no
warning from statlogit's plotting code."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from statlogit import CheckeredClassifier
from statlogit.datasets import make_xor_mixture


def _constrained(fig):
    return fig.get_layout_engine().__class__.__name__ == "ConstrainedLayoutEngine"


@pytest.fixture(scope="module")
def named_fit():
    X, y = make_xor_mixture(200, random_state=1)
    frame = pd.DataFrame(X, columns=["income", "age"])
    labels = np.array(["no", "yes"])[y]
    return CheckeredClassifier(n_restarts=1, random_state=0).fit(frame, labels), frame, labels


def test_plot_uses_feature_names_class_legend_and_constrained_layout(
        named_fit, pyplot, assert_readable_figure):
    """Names on the axes, a class legend, no scikit-learn warning, and every text inside
    the figure when saved with a plain savefig."""
    clf, frame, labels = named_fit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = clf.plot(X=frame, y=labels)
        assert_readable_figure(ax.figure)
    assert ax.get_xlabel() == "income" and ax.get_ylabel() == "age"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["no", "yes", "hyperplanes"]
    assert _constrained(ax.figure)
    renderer = ax.figure.canvas.get_renderer()
    box, drawn = ax.figure.bbox, ax.get_tightbbox(renderer)  # every drawn artist
    assert box.x0 - 1 <= drawn.x0 and drawn.x1 <= box.x1 + 1
    assert box.y0 - 1 <= drawn.y0 and drawn.y1 <= box.y1 + 1
    with pytest.raises(ValueError, match="y must hold one label of classes_"):
        clf.plot(X=frame, y=np.array(["maybe"] * 200))


def test_multiclass_plot_without_points_is_readable(pyplot, assert_readable_figure):
    """Three classes (no hyperplane lines): one legend entry per class, window from the
    training range, long feature names still inside the figure."""
    X, y = make_blobs(300, n_features=2, centers=3, random_state=0)
    frame = pd.DataFrame(X, columns=["a rather long first feature name",
                                            "second feature, in long units"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = CheckeredClassifier(n_restarts=1, random_state=0).fit(frame, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = clf.plot(resolution=50)
        assert_readable_figure(ax.figure)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1", "2"]
    assert ax.get_xlabel() == "a rather long first feature name"
    assert _constrained(ax.figure)


def _study_figure_is_readable(fig, assert_readable_figure):
    assert _constrained(fig)
    assert_readable_figure(fig)
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_title()
        assert ax.get_legend() is not None


def test_xor_study_figure(pyplot, assert_readable_figure):
    from simulations.checkered import _xor_figure

    table = pd.DataFrame({"n_train": [1000] * 3,
                          "model": ["checkered m=2", "logistic", "random forest"],
                          "accuracy": [0.95, 0.5, 0.93], "accuracy_mcse": [0.01] * 3})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)  # the fit, not the plot
        fig = _xor_figure(table, seed=0)
    _study_figure_is_readable(fig, assert_readable_figure)


@pytest.mark.slow
def test_board_and_solvers_study_figures(pyplot, assert_readable_figure):
    from simulations.checkered import _board_figure, _solvers_figure

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figures = [_board_figure(seed=0), _solvers_figure(seed=0, quick=True)]
    for fig in figures:
        _study_figure_is_readable(fig, assert_readable_figure)
