"""A documented internal hook: run the family with its numba kernels replaced.

The benchmarks (``benchmarks/bench_expectations.py``) time statlogit's own aISCV with
every numba kernel swapped for a plain-numpy twin (the weight kernels are numpy
already), which isolates what numba buys. They
do it through :func:`replaced_kernels`, the one supported way to reach the kernels from
outside the family; the module-level names it patches are listed in :data:`KERNELS`.
Not part of the user API; not thread-safe (it patches module attributes).
"""

import contextlib
import importlib

__all__ = ["KERNELS", "replaced_kernels"]

#: Kernel name -> the modules whose global of that name the aISCV code calls.
KERNELS = {
    "gaussian_logpdf": ("_fit", "_problem", "_samplers"),
    "gaussian_mixture_logpdf": ("_samplers",),
    "weighted_moments": ("_fit",),
    "cross_entropy_weights": ("adaptive",),
    "alpha_coefficients": ("_fit",),
    "sampler_ratios": ("_samplers",),
    "control_variate_residuals": ("_samplers",),
    "control_variate_fit": ("adaptive",),
    "inverse_affine_objective": ("statlogit.solvers.simplex_newton",),
    "logsumexp_rows": ("_fit", "_problem", "_samplers"),
}


def _module(name):
    full = name if name.startswith("statlogit.") else f"statlogit.expectations.{name}"
    return importlib.import_module(full)


@contextlib.contextmanager
def replaced_kernels(**twins):
    """Replace kernels by name inside the ``with`` block, restoring them afterwards.

    Parameters
    ----------
    **twins : callable
        ``name=function`` pairs; every name must be a key of :data:`KERNELS`, and the
        function must take the kernel's arguments and return its results.
    """
    unknown = sorted(set(twins) - set(KERNELS))
    if unknown:
        raise ValueError(f"unknown kernels {unknown}; choose among {sorted(KERNELS)}.")
    saved = []
    try:
        for name, twin in twins.items():
            for module in map(_module, KERNELS[name]):
                saved.append((module, name, getattr(module, name)))
                setattr(module, name, twin)
        yield
    finally:
        for module, name, original in reversed(saved):
            setattr(module, name, original)
