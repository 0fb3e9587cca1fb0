"""The family page's code blocks run as written."""

import pathlib
import re

import pytest

PAGE = pathlib.Path(__file__).parents[2] / "docs" / "families" / "presto.rst"


def _blocks():
    text = PAGE.read_text()
    pattern = re.compile(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)")
    return [re.sub(r"^   ", "", block, flags=re.M) for block in pattern.findall(text)]


@pytest.mark.parametrize("index", range(len(_blocks())))
def test_code_block_runs(index, pyplot, capsys):
    exec(compile(_blocks()[index], f"presto.rst block {index}", "exec"), {})
    assert capsys.readouterr() is not None
