"""Shared input checks with messages that say what to change.

Every estimator validates its inputs here, once, and hands the kernels C-contiguous
float64 arrays (so each numba kernel compiles once and never sees NaN or inf).
"""

import numbers

import numpy as np

__all__ = [
    "as_float_array",
    "check_finite",
    "check_same_length",
    "check_scalar",
    "check_labels",
    "check_sample_weight",
    "resolve_rng",
]


def as_float_array(a, *, name, ndim=None, min_samples=1, allow_empty=False):
    """Return ``a`` as a C-contiguous float64 array with finite entries.

    Parameters
    ----------
    a : array-like
        The input.
    name : str
        The argument name used in error messages.
    ndim : {None, 1, 2}
        Required number of dimensions; ``None`` accepts 1 or 2.
    min_samples : int
        Minimum length of the first axis.
    allow_empty : bool
        Accept a zero-length first axis.

    Returns
    -------
    numpy.ndarray
        A new or the same array, C-contiguous float64, never a view that a kernel could
        write through into the caller's data.

    Raises
    ------
    ValueError
        If the array has the wrong number of dimensions, too few rows, or non-finite
        entries.
    """
    arr = np.asarray(a)
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real-valued; got complex entries.")
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric; got dtype {arr.dtype}.") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional; got shape {arr.shape}.")
    if ndim is None and arr.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1- or 2-dimensional; got shape {arr.shape}.")
    n = arr.shape[0]
    if n < min_samples and not (allow_empty and n == 0):
        raise ValueError(
            f"{name} needs at least {min_samples} entries along its first axis; got {n}."
        )
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    check_finite(arr, name=name)
    return arr


def check_finite(arr, *, name):
    """Raise ``ValueError`` if ``arr`` holds NaN or infinity."""
    arr = np.asarray(arr)
    if not np.all(np.isfinite(arr)):
        n_bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"{name} contains {n_bad} NaN or infinite value(s); remove or impute them "
            "before fitting."
        )


def check_same_length(**arrays):
    """Raise ``ValueError`` unless all named arrays have the same first dimension."""
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{k} has {v}" for k, v in lengths.items())
        raise ValueError(f"Inconsistent numbers of samples: {described}.")


def check_scalar(value, *, name, lower=None, upper=None, include_lower=True,
                 include_upper=True, integer=False):
    """Check a scalar hyperparameter and return it as float (or int).

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        Its name, for the message.
    lower, upper : float, optional
        Bounds.
    include_lower, include_upper : bool
        Whether the bounds are attained.
    integer : bool
        Require an integral value.

    Returns
    -------
    float or int
    """
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        what = "an integer" if integer else "a real number"
        raise ValueError(f"{name} must be {what}; got {value!r}.")
    if not isinstance(value, numbers.Integral) and not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}.")
    if lower is not None and (value < lower or (value == lower and not include_lower)):
        op = ">=" if include_lower else ">"
        raise ValueError(f"{name} must be {op} {lower}; got {value!r}.")
    if upper is not None and (value > upper or (value == upper and not include_upper)):
        op = "<=" if include_upper else "<"
        raise ValueError(f"{name} must be {op} {upper}; got {value!r}.")
    return int(value) if integer else float(value)


def check_labels(y, *, min_classes=2, categories=None):
    """Encode labels as integer codes ``0..K-1``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels of any sortable type, or a pandas ordered ``Categorical``.
    min_classes : int
        Minimum number of distinct labels.
    categories : sequence, optional
        Explicit label order; every label in ``y`` must appear in it.

    Returns
    -------
    classes : numpy.ndarray
        The labels in their order.
    codes : numpy.ndarray of int64
        ``classes[codes] == y``.
    """
    cat_dtype = getattr(y, "dtype", None)
    if categories is None and getattr(cat_dtype, "ordered", False):
        categories = list(cat_dtype.categories)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y must be 1-dimensional; got shape {y.shape}.")
    if y.dtype.kind == "f":
        check_finite(y, name="y")
    if categories is None:
        classes, codes = np.unique(y, return_inverse=True)
    else:
        classes = np.asarray(categories)
        if len(np.unique(classes)) != len(classes):
            raise ValueError("categories must not contain duplicates.")
        lookup = {c: i for i, c in enumerate(classes.tolist())}
        unknown = sorted({str(v) for v in y.tolist() if v not in lookup})
        if unknown:
            raise ValueError(
                f"y contains labels not in categories: {unknown[:5]}; add them to "
                "categories or remove those rows."
            )
        codes = np.array([lookup[v] for v in y.tolist()], dtype=np.int64)
        present = np.unique(codes)
        if len(present) < min_classes:
            raise ValueError(
                f"y must contain at least {min_classes} classes; got {len(present)}."
            )
        return classes, codes
    if len(classes) < min_classes:
        raise ValueError(
            f"y must contain at least {min_classes} classes; got {len(classes)} "
            f"({classes.tolist()[:5]})."
        )
    return classes, codes.astype(np.int64)


def check_sample_weight(sample_weight, n_samples):
    """Return non-negative finite float64 weights of length ``n_samples``.

    ``None`` gives unit weights. Weights that are all zero are rejected.
    """
    if sample_weight is None:
        return np.ones(n_samples)
    w = as_float_array(sample_weight, name="sample_weight", ndim=1)
    if w.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has {w.shape[0]} entries but X has {n_samples} rows."
        )
    if np.any(w < 0):
        raise ValueError("sample_weight must be non-negative.")
    if not np.any(w > 0):
        raise ValueError("sample_weight must have at least one positive entry; all are zero.")
    return w


def resolve_rng(random_state):
    """Turn ``random_state`` into a ``numpy.random.Generator``.

    Accepts ``None``, an int, a ``SeedSequence``, a ``Generator`` (used as is) or a
    legacy ``RandomState`` (an integer seed is drawn from it, so successive fits with
    the same ``RandomState`` differ, as in scikit-learn).
    """
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if random_state is None or isinstance(
        random_state, numbers.Integral | np.random.SeedSequence | np.random.Generator
    ):
        return np.random.default_rng(random_state)
    raise ValueError(
        "random_state must be None, an int, a SeedSequence, a Generator or a "
        f"RandomState; got {random_state!r}."
    )

