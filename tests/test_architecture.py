"""The house rules of DESIGN.md, checked on the source: arrows only go down.

Every module of the package is parsed (imports inside functions included) and imported:
a family imports the shared floors but never another family; the floors import no family;
every module imports on its own (no circular imports).
"""

import ast
import importlib
import pathlib

import pytest

import statlogit

PACKAGE = pathlib.Path(statlogit.__file__).parent
FAMILIES = {"ordinal", "checkered", "aggregate", "rdd", "expectations", "sketching"}
FLOORS = {"solvers", "kernels", "inference", "_validation", "reference", "simulation"}
#: Modules that gather every family's names for users, by design (DESIGN.md).
GATHERERS = {"statlogit", "statlogit.datasets", "statlogit.sketches"}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


MODULES = dict(_modules())


def _imported(path):
    """Every ``statlogit.*`` module named by an import statement in the file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.split(".")[0] == "statlogit"}


def _room(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_the_walk_sees_every_family_and_floor():
    rooms = {_room(module) for module in MODULES}
    assert FAMILIES <= rooms
    assert FLOORS <= rooms


@pytest.mark.parametrize("module", sorted(set(MODULES) - GATHERERS))
def test_arrows_only_go_down(module):
    own = _room(module)
    targets = {_room(name) for name in _imported(MODULES[module])} - {None}
    others = (targets & FAMILIES) - {own}
    if own in FAMILIES:
        assert not others, f"{module} (family {own}) imports the families {sorted(others)}"
    else:
        assert own in FLOORS, f"{module} is in no family and on no floor of DESIGN.md"
        assert not others, f"{module} (a shared floor) imports the families {sorted(others)}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_imports_on_its_own(module):
    importlib.import_module(module)


def test_the_checker_catches_a_crossing_arrow(tmp_path):
    source = tmp_path / "bad.py"
    source.write_text("def f():\n    from statlogit.rdd._fit import fit_side\n")
    assert _room(next(iter(_imported(source)))) == "rdd"


def test_no_source_file_passes_500_lines():
    long = {module: n for module, path in MODULES.items()
            if (n := len(path.read_text().splitlines())) > 500}
    assert not long, f"split these by role (DESIGN.md): {long}"
