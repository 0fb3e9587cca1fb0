"""The batch progress bar: drawn on a terminal, silent otherwise, never changing results."""

import sys

import numpy as np
import pytest
from scipy import stats

from statlogit import MonteCarloExpectations


def square(X):
    return X[:, 0] ** 2


def fit(batch_size, n_jobs=None):
    return MonteCarloExpectations(budget=1000, batch_size=batch_size, n_jobs=n_jobs,
                                  random_state=0).fit(square, stats.norm())


@pytest.mark.parametrize("tty", [True, False])
def test_bar_on_a_terminal_only(tty, capsys, monkeypatch):
    reference = fit(None).estimates_
    capsys.readouterr()
    monkeypatch.setattr(type(sys.stderr), "isatty", lambda self: tty,
                        raising=False)
    est = fit(batch_size=100)
    err = capsys.readouterr().err
    if tty:
        assert "0/10" in err and "batch/s" in err  # a bar over 10 batches of 100 rows
    else:
        assert err == ""
    np.testing.assert_array_equal(est.estimates_, reference)


def test_no_bar_for_a_single_batch_or_in_process_runs(capsys, monkeypatch):
    monkeypatch.setattr(type(sys.stderr), "isatty", lambda self: True,
                        raising=False)
    fit(batch_size=None)  # one call of func
    fit(batch_size=100, n_jobs=1)  # n_jobs=1: plain loop, no joblib, no bar
    assert capsys.readouterr().err == ""
