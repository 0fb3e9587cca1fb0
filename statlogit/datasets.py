"""The papers' data-generating processes, as ``make_*`` functions: one place to find them.

Each family keeps its own generators in ``statlogit/<family>/_data.py``; this module
re-exports them. Every generator takes ``random_state`` (None, int, SeedSequence or
Generator) and returns plain numpy arrays (or a small dataclass documented in its docstring).
"""

from statlogit.aggregate._data import (
    AggregateData,
    make_aggregate_regression,
    make_bags_from_groups,
    make_random_bags,
)
from statlogit.checkered._data import (
    ACHAB_LINES,
    XOR_MEANS,
    make_checkerboard,
    make_rock_paper_scissors,
    make_xor_mixture,
    xor_mixture_bayes_accuracy,
    xor_mixture_bayes_proba,
)
from statlogit.expectations._data import (
    CANTILEVER_BEAM_BOX,
    CANTILEVER_BEAM_SOBOL_PAPER,
    SOBOL_G_A,
    cantilever_beam,
    cantilever_beam_law,
    cantilever_beam_nominal_marginals,
    ishigami,
    ishigami_first_order,
    ishigami_indices,
    lognormal_law,
    make_cantilever_beam_laws,
    sobol_g,
    sobol_g_indices,
)
from statlogit.ordinal._data import (
    make_presto_ordinal,
)
from statlogit.rdd._data import (
    make_r3d_package,
    make_r3d_two_level,
    r3d_two_level_effect,
)
from statlogit.sketching._data import (
    make_coherent_regression,
    make_linear_regression,
    make_sketch_instance,
    make_spike_regression,
)

__all__ = [
    "make_presto_ordinal",
    "ACHAB_LINES",
    "make_checkerboard",
    "XOR_MEANS",
    "make_xor_mixture",
    "xor_mixture_bayes_proba",
    "xor_mixture_bayes_accuracy",
    "make_rock_paper_scissors",
    "make_random_bags",
    "make_bags_from_groups",
    "AggregateData",
    "make_aggregate_regression",
    "make_r3d_package",
    "make_r3d_two_level",
    "r3d_two_level_effect",
    "cantilever_beam",
    "lognormal_law",
    "CANTILEVER_BEAM_BOX",
    "cantilever_beam_law",
    "make_cantilever_beam_laws",
    "cantilever_beam_nominal_marginals",
    "CANTILEVER_BEAM_SOBOL_PAPER",
    "ishigami",
    "ishigami_first_order",
    "ishigami_indices",
    "sobol_g",
    "sobol_g_indices",
    "SOBOL_G_A",
    "make_linear_regression",
    "make_coherent_regression",
    "make_spike_regression",
    "make_sketch_instance",
]
