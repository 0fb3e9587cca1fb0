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


def test_import_statlogit_loads_no_family_and_no_heavy_dependency():
    code = ("import sys, statlogit; heavy = ('sklearn', 'numba', 'scipy', 'pandas', "
            "'statlogit.rdd', 'statlogit.ordinal'); "
            "print([m for m in heavy if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_importing_a_family_defers_numba_and_model_selection_to_the_first_fit():
    code = ("import sys; from statlogit import (PrestoClassifier, CheckeredClassifier, "
            "AggregateRegressorCV, R3D, sobol_indices, SketchedLinearRegression); "
            "print([m for m in ('numba', 'sklearn.model_selection') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_datasets_load_one_family_per_generator_and_export_every_generator():
    code = ("import sys; from statlogit.datasets import make_r3d_package; "
            "print(sorted(m for m in sys.modules if m.startswith('statlogit.') "
            "and m.count('.') == 1 and m not in ('statlogit.datasets', 'statlogit.rdd', "
            "'statlogit.inference', 'statlogit._validation', 'statlogit.kernels', "
            "'statlogit.solvers')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
    namespace = {}
    exec("from statlogit.datasets import *", namespace)
    assert {"make_presto_ordinal", "make_r3d_package", "ishigami", "AggregateData"} <= set(
        namespace)
