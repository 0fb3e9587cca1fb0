"""The R3D docs page opens with a runnable example: run it as written."""

from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "families" / "r3d.rst"


def _first_code_block(text):
    start = text.index(".. code-block:: python\n") + len(".. code-block:: python\n")
    lines = []
    for line in text[start:].splitlines()[1:]:
        if line and not line.startswith("   "):
            break
        lines.append(line[3:])
    return "\n".join(lines)


def test_the_usage_example_runs(pyplot, capsys):
    text = PAGE.read_text()
    assert text.index("Usage") < text.index("The estimand")  # usage first, then math
    namespace = {}
    exec(compile(_first_code_block(text), str(PAGE), "exec"), namespace)  # noqa: S102
    est, test = namespace["est"], namespace["test"]
    assert est.covariate_names_ == ["age"] and est.n_clusters_ == 100
    assert 0.0 <= test.p_value <= 1.0
    assert set(namespace["placebo"]["cutoff"]) == {-0.5, 0.5}
    assert "Effective units below" in capsys.readouterr().out


def test_the_usage_example_warns_nothing(pyplot, capsys):
    import warnings

    code = _first_code_block(PAGE.read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(code, str(PAGE), "exec"), {})  # noqa: S102
