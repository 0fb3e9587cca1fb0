"""Replication functions for tests/test_simulation.py.

They live in a module that imports numpy only, so the worker processes that import it
start quickly (a test module imports pytest, hypothesis and statlogit).
"""

import numpy as np


def _replication(rng, n, shift):
    x = rng.standard_normal(n) + shift
    return {"mean": float(x.mean()), "first": float(x[0])}


def _fails_sometimes(rng, n):
    if n == 2:
        raise ZeroDivisionError(f"n = {n} is bad")
    return {"x": float(rng.standard_normal())}


def _covered(rng, n):
    x = rng.standard_normal(n)
    return {"covered": abs(x.mean()) < 1.96 / np.sqrt(n)}


def _coin(rng):
    return {"covered": bool(rng.random() < 0.3)}


def _pid(rng):
    import os

    return {"pid": os.getpid()}


_CALLS = []


def _slow_first_pid(rng):
    """A fast replication whose first call in a process takes 20 ms (a warm-up)."""
    import os
    import time

    if not _CALLS:
        time.sleep(0.02)
    _CALLS.append(1)
    return {"pid": os.getpid()}
