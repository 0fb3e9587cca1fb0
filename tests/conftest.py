"""Shared fixtures: a non-interactive matplotlib, a closing pyplot fixture, a layout check."""

import io
import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402


@pytest.fixture
def pyplot():
    """matplotlib.pyplot with every figure closed after the test."""
    plt = pytest.importorskip("matplotlib.pyplot")
    yield plt
    plt.close("all")


def text_outside_figure(fig, tolerance=1.0):
    """Texts of ``fig`` (labels, ticks, titles, legends) that a plain ``savefig`` cuts.

    The figure is drawn as a plain ``fig.savefig`` draws it (no ``bbox_inches="tight"``);
    the tight bounding box of everything drawn (matplotlib's own, which counts only the
    tick labels actually shown) must lie inside the figure. When it does not, the visible
    texts whose extents stick out by more than ``tolerance`` pixels are returned as
    ``(text, extent)`` pairs (the whole tight box if no single text is to blame).
    """
    from matplotlib.text import Text

    fig.savefig(io.BytesIO(), format="png")
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    tight = fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans)

    def sticks_out(box):
        return (box.x0 < frame.x0 - tolerance or box.y0 < frame.y0 - tolerance
                or box.x1 > frame.x1 + tolerance or box.y1 > frame.y1 + tolerance)

    if not sticks_out(tight):
        return []
    outside = []
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip():
            box = text.get_window_extent(renderer)
            if sticks_out(box) and box.overlaps(tight):
                outside.append((text.get_text(), tuple(float(v) for v in box.extents)))
    return outside or [("<figure content>", tuple(float(v) for v in tight.extents))]


@pytest.fixture
def assert_readable_figure():
    """Assert that no text of a figure lies outside it after a plain ``savefig``."""

    def check(fig):
        outside = text_outside_figure(fig)
        assert not outside, f"texts cut by a plain savefig: {outside}"

    return check
