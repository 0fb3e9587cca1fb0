"""Regression discontinuity with distribution-valued outcomes: R3D (Van Dijcke, 2025)."""

from statlogit.rdd.r3d import (
    R3D,
    R3DGiniTestResult,
    R3DTestResult,
    from_long,
)

__all__ = [
    "R3D",
    "R3DGiniTestResult",
    "R3DTestResult",
    "from_long",
]
