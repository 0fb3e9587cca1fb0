"""The one numba decorator every statlogit kernel uses."""

import os

import numba

CACHE = os.environ.get("STATLOGIT_NUMBA_CACHE", "1") != "0"


def njit(*args, **kwargs):
    """``numba.njit`` with statlogit's conventions: cached, serial, no fastmath.

    Use it bare (``@njit``) or with extra numba options (``@njit(inline="always")``);
    ``parallel`` and ``fastmath`` are refused.
    """
    if "parallel" in kwargs or "fastmath" in kwargs:
        raise ValueError("statlogit kernels are serial and IEEE-exact: drop parallel/fastmath.")
    options = {"cache": CACHE, "nogil": True, **kwargs}
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return numba.njit(**options)(args[0])
    return numba.njit(*args, **options)
