"""numba kernel of R3D: the isotonic projection of ``method="frechet"``.

:func:`isotonic_rows`: unweighted isotonic (PAVA) fit of every row of a matrix. The
local polynomial fits and the within-unit quantiles are batched numpy
(:mod:`statlogit.rdd._fit`, :mod:`statlogit.rdd._inputs`): a default R3D fit needs no
numba kernel, so a fresh process pays neither compilation nor numba's start-up; small
isotonic projections use scipy (:func:`statlogit.rdd._fit.isotonic_rows`). This module
is imported on first use, for large ones only.
"""

import numpy as np

from statlogit.kernels._numba import njit


@njit
def isotonic_rows(Y):
    """Unweighted least-squares isotonic (non-decreasing) fit of every row (PAVA)."""
    n, m = Y.shape
    out = np.empty((n, m))
    level = np.empty(m)
    size = np.empty(m, dtype=np.int64)
    for i in range(n):
        blocks = 0
        for j in range(m):
            level[blocks] = Y[i, j]
            size[blocks] = 1
            blocks += 1
            while blocks > 1 and level[blocks - 2] > level[blocks - 1]:
                total = size[blocks - 2] + size[blocks - 1]
                level[blocks - 2] = (level[blocks - 2] * size[blocks - 2]
                                     + level[blocks - 1] * size[blocks - 1]) / total
                size[blocks - 2] = total
                blocks -= 1
        pos = 0
        for b in range(blocks):
            for _ in range(size[b]):
                out[i, pos] = level[b]
                pos += 1
    return out
