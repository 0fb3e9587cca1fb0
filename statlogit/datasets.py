"""The papers' data-generating processes, as ``make_*`` functions: one place to find them.

Each family keeps its own generators in ``statlogit/<family>/_data.py``; this module
re-exports them, loading a family on first use (module ``__getattr__``, PEP 562), so
``from statlogit.datasets import make_r3d_package`` imports the regression discontinuity
family only. Every generator takes ``random_state`` (None, int, SeedSequence or
Generator) and returns plain numpy arrays (or a small dataclass documented in its docstring).
"""

import importlib

#: Generators and constants by family (a test checks each family's ``_data`` has them).
_GENERATORS = {
    "aggregate": ("AggregateData", "make_aggregate_regression", "make_bags_from_groups",
                  "make_random_bags"),
    "checkered": ("ACHAB_LINES", "XOR_MEANS", "make_checkerboard", "make_rock_paper_scissors",
                  "make_xor_mixture", "xor_mixture_bayes_accuracy", "xor_mixture_bayes_proba"),
    "expectations": ("CANTILEVER_BEAM_BOX", "CANTILEVER_BEAM_SOBOL_PAPER", "SOBOL_G_A",
                     "cantilever_beam", "cantilever_beam_law",
                     "cantilever_beam_nominal_marginals", "ishigami", "ishigami_first_order",
                     "ishigami_indices", "lognormal_law", "make_cantilever_beam_laws",
                     "sobol_g", "sobol_g_indices"),
    "ordinal": ("make_presto_ordinal",),
    "rdd": ("make_r3d_package", "make_r3d_two_level", "r3d_two_level_effect"),
    "sketching": ("make_coherent_regression", "make_linear_regression",
                  "make_sketch_instance", "make_spike_regression"),
}
_FAMILY_OF = {name: family for family, names in _GENERATORS.items() for name in names}

__all__ = list(_FAMILY_OF)


def __getattr__(name):
    if name not in _FAMILY_OF:
        raise AttributeError(f"module 'statlogit.datasets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"statlogit.{_FAMILY_OF[name]}._data"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
