"""The sketching and OLS study figures: constrained layout, nothing cut by a plain savefig."""

import warnings

import numpy as np
import pandas as pd

from simulations import ols, sketched


def _linf_table():
    rows = []
    for design in ("gaussian", "spike"):
        for sketch in ("srht", "countsketch"):
            for m in (128, 512, 2048):
                rows.append({"design": design, "sketch": sketch, "m": m,
                             "median": 1 / np.sqrt(m), "p99": 3 / np.sqrt(m),
                             "theory_median": 1.1 / np.sqrt(m)})
    return pd.DataFrame(rows)


def _speed_table():
    rows = []
    for d in (16, 64):
        for n in (1 << 14, 1 << 16, 1 << 18):
            rows.append({"d": d, "n": n, "speed-up precondition (srht)": 3.0 + d / 64,
                         "speed-up sketch-and-solve (srht)": 8.0 + n / 2**18})
    return pd.DataFrame(rows)


def _ols_table():
    rows = [{"errors": e, "n": n, "covered_nonrobust": 0.9, "covered_HC3": 0.94}
            for e in ("normal", "heteroskedastic") for n in (50, 500)]
    return pd.DataFrame(rows)


def test_study_figures_are_readable(pyplot, assert_readable_figure):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figures = [sketched._linf_figure(_linf_table(), ["gaussian", "spike"]),
                   sketched._speed_figure(_speed_table(), [16, 64]),
                   ols._figure(_ols_table())]
    # the linf figure: one solid and one dashed line per sketch, legend on the last panel
    for fig, n_legend in zip(figures, (3, 4, 2), strict=True):
        assert type(fig.get_layout_engine()).__name__ == "ConstrainedLayoutEngine"
        legend = fig.axes[-1].get_legend()
        assert legend is not None and len(legend.get_texts()) >= n_legend
        assert all(text.get_text() for text in legend.get_texts())
        assert all(ax.get_xlabel() for ax in fig.axes) and fig.axes[0].get_ylabel()
        fig.canvas.draw()
        assert_readable_figure(fig)
