"""The top-level package: every family's public names, imported lazily."""

import importlib
import subprocess
import sys

import pytest

import statlogit


def test_every_family_public_name_is_exported_at_the_top():
    for family, names in statlogit._EXPORTS.items():
        module = importlib.import_module(f"statlogit.{family}")
        assert sorted(names) == sorted(module.__all__), family
        for name in names:
            assert getattr(statlogit, name) is getattr(module, name)


def test_star_import_and_dir_list_the_public_names():
    namespace = {}
    exec("from statlogit import *", namespace)
    assert {"R3D", "PrestoClassifierCV", "sobol_indices", "sketches"} <= set(namespace)
    assert {"R3D", "datasets", "simulation"} <= set(dir(statlogit))


def test_old_import_paths_keep_working():
    from statlogit.datasets import make_presto_ordinal
    from statlogit.simulation import monte_carlo
    from statlogit.sketches import SRHT

    assert callable(make_presto_ordinal) and callable(monte_carlo)
    assert statlogit.sketches.SRHT is SRHT is statlogit.SRHT


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        statlogit.Nope


def _loaded_in_a_fresh_process(statement, candidates):
    """The ``candidates`` that ``statement`` leaves in a new interpreter's sys.modules."""
    code = f"import sys; {statement}; print(sorted(set(sys.modules) & {set(candidates)!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def test_import_statlogit_loads_no_family_and_no_heavy_dependency():
    heavy = ("sklearn", "numba", "scipy", "pandas", "statlogit.rdd", "statlogit.ordinal")
    assert _loaded_in_a_fresh_process("import statlogit", heavy) == "[]"


def test_importing_a_family_defers_numba_and_model_selection_to_the_first_fit():
    statement = ("from statlogit import (PrestoClassifier, CheckeredClassifier, "
                 "AggregateRegressorCV, R3D, sobol_indices, SketchedLinearRegression)")
    assert _loaded_in_a_fresh_process(statement, ("numba", "sklearn.model_selection")) == "[]"


def test_datasets_load_one_family_per_generator_and_export_every_generator():
    others = [f"statlogit.{family}" for family in statlogit._EXPORTS if family != "rdd"]
    statement = "from statlogit.datasets import make_r3d_package"
    assert _loaded_in_a_fresh_process(statement, others) == "[]"
    namespace = {}
    exec("from statlogit.datasets import *", namespace)
    assert {"make_presto_ordinal", "make_r3d_package", "ishigami", "AggregateData"} <= set(
        namespace)
