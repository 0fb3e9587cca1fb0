"""The sketch operators, under their original import path.

Kept so that ``statlogit.sketches.SRHT`` and friends keep working; the operators live in
:mod:`statlogit.sketching.operators`.
"""

from statlogit.sketching.operators import (
    OSNAP,
    SKETCHES,
    SRHT,
    CountSketch,
    GaussianSketch,
    SketchOperator,
    SparseSign,
    make_sketch,
    sketch_size_rule,
    theory_sketch_size,
)

__all__ = [
    "SketchOperator",
    "SRHT",
    "GaussianSketch",
    "CountSketch",
    "SparseSign",
    "OSNAP",
    "SKETCHES",
    "make_sketch",
    "sketch_size_rule",
    "theory_sketch_size",
]
