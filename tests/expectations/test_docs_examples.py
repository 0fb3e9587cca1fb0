"""Every ``.. code-block:: python`` of the family's docs page runs as written."""

import pathlib
import re

import pytest

PAGE = pathlib.Path(__file__).parents[2] / "docs" / "families" / "expectations.rst"


def _blocks():
    text = PAGE.read_text()
    pattern = re.compile(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)")
    return [re.sub(r"^   ", "", m.group(1), flags=re.M) for m in pattern.finditer(text)]


@pytest.mark.parametrize("source", _blocks())
def test_docs_code_block_runs(source, capsys):
    import matplotlib

    matplotlib.use("Agg")
    exec(compile(source, str(PAGE), "exec"), {"__name__": "docs_example"})


def test_the_page_opens_with_the_sensitivity_examples():
    blocks = _blocks()
    assert "sobol_indices" in blocks[0] and "plot()" in blocks[0]
    assert "shapley_effects" in blocks[1]
