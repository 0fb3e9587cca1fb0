"""The figure-layout check itself catches a cut label (so the plot tests can fail)."""

import pytest

from tests.conftest import text_outside_figure


def test_a_label_outside_the_figure_is_reported(pyplot):
    fig, ax = pyplot.subplots(figsize=(2, 2))
    ax.set_xlabel("a label far too long to fit inside a two-inch figure " * 3)
    assert text_outside_figure(fig)


def test_constrained_layout_keeps_labels_inside(pyplot, assert_readable_figure):
    fig, ax = pyplot.subplots(figsize=(4, 3), layout="constrained")
    ax.plot([0, 1], [0, 1], label="line")
    ax.set_xlabel("running variable")
    ax.set_ylabel("quantile")
    ax.legend()
    assert_readable_figure(fig)


def test_cut_ylabel_fails_the_fixture(pyplot, assert_readable_figure):
    fig = pyplot.figure(figsize=(3, 3))
    ax = fig.add_axes((0.0, 0.1, 0.9, 0.8))
    ax.set_ylabel("cut")
    with pytest.raises(AssertionError, match="cut"):
        assert_readable_figure(fig)
