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

__all__ = [
    "BandwidthSelection",
    "DensityTestResult",
    "R3D",
    "R3DGiniTestResult",
    "R3DTestResult",
    "SideFit",
    "TwoSidedFit",
    "density_test",
    "from_long",
    "local_polynomial",
    "select_bandwidth",
]
