"""statlogit: estimators from six recent statistics papers.

One scikit-learn-style interface, numba inner loops, tests against independent truths.
The public names of each family are imported here; everything else is internal.
"""

__version__ = "0.1.0"

# --- PRESTO (ordinal) ---
# --- checkered ---
# --- aggregate ---
# --- R3D ---
# --- expectations ---
# --- sketched ---

__all__ = ["__version__"]
