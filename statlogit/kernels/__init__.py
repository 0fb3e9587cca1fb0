"""Floor 1: numba inner loops.

Conventions, in one place (:mod:`statlogit.kernels._numba`): every kernel is compiled with
``cache=True``, never ``parallel=True`` (slower on small machines; parallelism lives in
joblib) and never ``fastmath`` (it silently drops NaN checks). Kernels take C-contiguous
float64 arrays, allocate their outputs, never write into their inputs and import nothing
from the rest of statlogit. One module per family; shared primitives in
:mod:`statlogit.kernels.common`.

Set the environment variable ``STATLOGIT_NUMBA_CACHE=0`` to disable the on-disk cache
(for instance after a stale-cache crash).
"""
