"""The one numba decorator every statlogit kernel uses.

Kernels are compiled (or loaded from numba's cache) on their first call, and numba itself
is imported then, not when a family is imported: ``from statlogit import R3D`` costs what
pandas, scipy and scikit-learn cost, and numba's own start-up (about 0.25 s) is paid by the
first fit that needs it.
"""

import functools
import os

CACHE = os.environ.get("STATLOGIT_NUMBA_CACHE", "1") != "0"


@functools.cache
def _numba():
    """Import numba once and teach it to read a :class:`Kernel` as its dispatcher.

    A kernel that calls another kernel sees a :class:`Kernel` among its globals when
    numba types it; typing it as the callee's dispatcher makes the call a plain
    compiled call, exactly as if the callee had been decorated by ``numba.njit``.
    """
    import numba
    from numba.extending import typeof_impl

    typeof_impl.register(Kernel)(lambda kernel, context: numba.typeof(kernel.dispatcher))
    return numba


class Kernel:
    """A ``numba.njit`` kernel that imports numba and compiles on its first call.

    Calling it calls the compiled dispatcher; every other attribute (``signatures``,
    ``py_func``, ...) is the dispatcher's.
    """

    def __init__(self, py_func, args, options):
        functools.update_wrapper(self, py_func)
        self._py_func, self._args, self._options = py_func, args, options
        self._dispatcher = None

    @property
    def dispatcher(self):
        """The ``numba`` dispatcher, created on first use."""
        if self._dispatcher is None:
            numba = _numba()
            self._dispatcher = numba.njit(*self._args, **self._options)(self._py_func)
        return self._dispatcher

    def __call__(self, *args, **kwargs):
        return self.dispatcher(*args, **kwargs)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.dispatcher, name)

    def __reduce__(self):
        return self.__qualname__  # pickled by reference, like the function it wraps


def njit(*args, **kwargs):
    """``numba.njit`` with statlogit's conventions: cached, serial, no fastmath, lazy.

    Use it bare (``@njit``) or with extra numba options (``@njit(inline="always")``);
    ``parallel`` and ``fastmath`` are refused.
    """
    if "parallel" in kwargs or "fastmath" in kwargs:
        raise ValueError("statlogit kernels are serial and IEEE-exact: drop parallel/fastmath.")
    options = {"cache": CACHE, "nogil": True, **kwargs}
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return Kernel(args[0], (), options)
    return lambda py_func: Kernel(py_func, args, options)
