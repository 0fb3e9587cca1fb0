"""Regression discontinuity with distribution-valued outcomes: R3D (Van Dijcke, 2025)."""

from statlogit.rdd.density import DensityTestResult, density_test
from statlogit.rdd.local import (
    BandwidthSelection,
    SideFit,
    TwoSidedFit,
    local_polynomial,
    select_bandwidth,
)
from statlogit.rdd.r3d import (
    R3D,
    R3DGiniTestResult,
    R3DTestResult,
    from_long,
)
from statlogit.rdd.validation import bandwidth_sensitivity, placebo_cutoffs, plot_checks

__all__ = [
    "BandwidthSelection",
    "DensityTestResult",
    "R3D",
    "R3DGiniTestResult",
    "R3DTestResult",
    "SideFit",
    "TwoSidedFit",
    "bandwidth_sensitivity",
    "density_test",
    "from_long",
    "local_polynomial",
    "placebo_cutoffs",
    "plot_checks",
    "select_bandwidth",
]
