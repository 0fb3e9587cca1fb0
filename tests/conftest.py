"""Shared fixtures: a non-interactive matplotlib and a closing pyplot fixture."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402


@pytest.fixture
def pyplot():
    """matplotlib.pyplot with every figure closed after the test."""
    plt = pytest.importorskip("matplotlib.pyplot")
    yield plt
    plt.close("all")
