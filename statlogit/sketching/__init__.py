"""Sketch operators and sketched least squares with an l-inf guarantee
(Song, Ye, Yin & Zhang, 2023).

``fwht`` (the fast Walsh-Hadamard transform behind the SRHT) is public for benchmarks
and users who want the transform itself; ``WorkerChunkMonitor`` observes how many
chunks each dask.distributed worker holds during a fit.
"""

from statlogit.sketching._dask import WorkerChunkMonitor
from statlogit.sketching._fwht import fwht
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
from statlogit.sketching.regression import (
    SketchedLinearRegression,
)

__all__ = [
    "fwht",
    "WorkerChunkMonitor",
    "OSNAP",
    "SKETCHES",
    "SRHT",
    "CountSketch",
    "GaussianSketch",
    "SketchOperator",
    "SparseSign",
    "make_sketch",
    "sketch_size_rule",
    "theory_sketch_size",
    "SketchedLinearRegression",
]
