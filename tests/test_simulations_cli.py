"""The study runner end to end on the example study."""

import numpy as np
import pandas as pd

from simulations.__main__ import main
from simulations._registry import markdown_table


def test_list_shows_the_example_study(capsys):
    assert main(["list"]) == 0
    assert "ols-coverage" in capsys.readouterr().out


def test_run_writes_csv_markdown_and_png(tmp_path, capsys):
    assert main(["run", "ols-coverage", "--reps", "20", "--out", str(tmp_path)]) == 0
    raw = pd.read_csv(tmp_path / "ols-coverage.csv")
    assert len(raw) == 20 * 9 and {"n", "errors", "rep", "covered_HC3"} <= set(raw.columns)
    text = (tmp_path / "ols-coverage.md").read_text()
    assert "| errors | n |" in text and "nominal" in text
    assert (tmp_path / "ols-coverage.png").stat().st_size > 1000
    assert "wrote" in capsys.readouterr().out


def test_unknown_study_is_an_error(capsys):
    assert main(["run", "no-such-study"]) == 2
    assert "unknown study" in capsys.readouterr().err


def test_one_replication_is_singular(tmp_path, capsys):
    assert main(["run", "ols-coverage", "--reps", "1", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "ols-coverage.md").read_text()
    assert "1 replication, seed" in text and "1 replications" not in text
    capsys.readouterr()


def test_markdown_tables_show_a_missing_value_as_a_dash_not_nan():
    table = markdown_table(pd.DataFrame({"mc_se": [0.04065, np.nan, np.inf]}))
    assert table.splitlines()[2:] == ["| 0.04065 |", "| — |", "| inf |"]
