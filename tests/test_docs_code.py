"""Every Python code block of the README and the docs runs as written.

README fences marked ``python`` and reST ``.. code-block:: python`` blocks are collected;
the blocks of one page run in order in one namespace (a page reads as one session), in a
scratch working directory. Literal ``::`` blocks are shell commands and are not run.
"""

import pathlib
import re
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
DIRECTIVE = re.compile(r"^\.\. code-block:: python\n((?:[ \t]*\n|[ \t]+.*\n)+)", re.M)


def _rst_blocks(text):
    blocks = []
    for match in DIRECTIVE.finditer(text):
        body = match.group(1)
        lines = body.splitlines()
        code = [line for line in lines if not line.strip().startswith(":")]
        blocks.append(textwrap.dedent("\n".join(code)).strip("\n"))
    return blocks


def _pages():
    readme = ROOT / "README.md"
    yield "README.md", FENCE.findall(readme.read_text())
    for page in sorted((ROOT / "docs").rglob("*.rst")):
        if "_build" in page.parts or "auto_examples" in page.parts:
            continue
        blocks = _rst_blocks(page.read_text())
        if blocks:
            yield str(page.relative_to(ROOT)), blocks


PAGES = dict(_pages())


def test_the_collector_finds_the_readme_example_and_reads_rst_blocks():
    assert PAGES["README.md"], "the README must keep its runnable Python example"
    sample = ".. code-block:: python\n   :caption: x\n\n   a = 1\n   b = a + 1\n\nprose\n"
    assert _rst_blocks(sample) == ["a = 1\nb = a + 1"]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_code_blocks_run(page, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib").use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    for number, block in enumerate(PAGES[page], 1):
        try:
            exec(compile(block, f"{page} block {number}", "exec"), namespace)
        except Exception as error:  # report which block of which page failed
            raise AssertionError(f"{page}, code block {number} fails:\n{block}") from error
    import matplotlib.pyplot as plt

    plt.close("all")
