"""Bag bookkeeping shared by the aggregate-learning estimators and mechanisms.

A *bag* partition is given as one label per instance. Internally it becomes integer
codes ``0..m-1`` in the order of the sorted unique labels, the bag sizes ``k_a`` and the
per-bag responses :math:`\\bar y_a`.
"""

import numbers
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.utils.validation import check_array, column_or_1d, validate_data

#: Relative tolerance for "y is constant within each bag".
CONSTANT_RTOL = 1e-10


@dataclass(frozen=True)
class Bags:
    """A partition of ``n`` instances into ``m`` non-empty bags.

    Attributes
    ----------
    labels : numpy.ndarray of shape (m,)
        The sorted unique bag labels.
    codes : numpy.ndarray of int64, shape (n,)
        ``labels[codes]`` is the bag label of each instance.
    sizes : numpy.ndarray of float64, shape (m,)
        Bag sizes :math:`k_a`.
    """

    labels: np.ndarray
    codes: np.ndarray
    sizes: np.ndarray

    @property
    def n_bags(self):
        return self.labels.shape[0]

    @property
    def n_samples(self):
        return self.codes.shape[0]

    def sums(self, values):
        """Per-bag sums of ``values`` (n,) or (n, p).

        Plain numpy/scipy (``bincount`` for a vector, a sparse bag-indicator product for
        a matrix): as fast as a numba loop here, and a first fit that needs no other
        kernel then never pays numba's start-up. Both add each bag's rows in index order.
        """
        arr = np.asarray(values, dtype=np.float64)
        if arr.ndim == 1:
            return np.bincount(self.codes, weights=arr, minlength=self.n_bags)
        return np.asarray(self._indicator() @ arr.reshape(arr.shape[0], -1))

    def _indicator(self):
        """The (m, n) sparse 0/1 matrix of bag memberships (CSR, built once)."""
        cached = self.__dict__.get("_indicator_matrix")
        if cached is None:
            n = self.n_samples
            cached = csr_matrix((np.ones(n), (self.codes, np.arange(n))),
                                shape=(self.n_bags, n))
            object.__setattr__(self, "_indicator_matrix", cached)
        return cached

    def means(self, values):
        """Per-bag means of ``values`` (n,) or (n, p)."""
        sums = self.sums(values)
        return sums / (self.sizes if sums.ndim == 1 else self.sizes[:, None])


def validated_X(estimator, X, *, reset=True):
    """``X`` as C-contiguous float64 (``validate_data`` when an estimator is given);
    every error names ``X`` (a ``ValueError``, or a ``TypeError`` for non-numbers)."""
    try:
        if estimator is None:
            return check_array(X, dtype=np.float64, order="C", input_name="X")
        return validate_data(estimator, X, dtype=np.float64, order="C", reset=reset)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        if "X" not in message.split():
            message = f"X is not usable: {message}"
        raise (ValueError if isinstance(exc, ValueError) else TypeError)(message) from exc


def singleton_bags(n_samples):
    """Every instance its own bag (the partition used when ``bags=None``)."""
    return Bags(np.arange(n_samples), np.arange(n_samples, dtype=np.int64),
                np.ones(n_samples))


def resolve_bags_argument(bags, groups):
    """Return the bag labels passed as ``bags=`` or its alias ``groups=``."""
    if bags is not None and groups is not None:
        raise ValueError(
            "Pass the bag labels once: either bags= or its alias groups=, not both."
        )
    return bags if bags is not None else groups


def encode_bags(bags, n_samples, *, min_bags=2):
    """Validate per-instance bag labels and encode them.

    Parameters
    ----------
    bags : array-like of shape (n_samples,)
        One label per instance (any sortable type; a pandas categorical must not have
        unused categories, which would be empty bags).
    n_samples : int
        Number of rows of ``X``.
    min_bags : int
        Fewest distinct bags accepted.

    Returns
    -------
    Bags
    """
    _reject_empty_categories(bags)
    _reject_mixed_types(bags)
    labels_in = np.asarray(bags)
    if labels_in.ndim != 1:
        raise ValueError(f"bags must be 1-dimensional; got shape {labels_in.shape}.")
    if labels_in.shape[0] == 0:
        raise ValueError("bags is empty: give one bag label per row of X.")
    if labels_in.shape[0] != n_samples:
        raise ValueError(
            f"bags has {labels_in.shape[0]} labels but X has {n_samples} rows: give "
            "exactly one bag label per instance."
        )
    if labels_in.dtype.kind == "f" and not np.all(np.isfinite(labels_in)):
        raise ValueError("bags contains NaN or infinite labels; give every row a bag.")
    if labels_in.dtype == object and any(v is None for v in labels_in.tolist()):
        raise ValueError("bags contains None labels; give every row a bag.")
    labels, codes = np.unique(labels_in, return_inverse=True)
    if labels.shape[0] < min_bags:
        raise ValueError(
            f"bags has {labels.shape[0]} distinct label(s); at least {min_bags} bags "
            "are needed (a single bag carries one response, nothing to learn from)."
        )
    codes = codes.astype(np.int64).ravel()
    sizes = np.bincount(codes, minlength=labels.shape[0]).astype(np.float64)
    return Bags(labels, codes, sizes)


def _label_kind(value):
    if isinstance(value, str | bytes | np.str_ | np.bytes_):
        return "string"
    if isinstance(value, numbers.Number | np.number | np.bool_):
        return "number"
    return type(value).__name__


def _reject_mixed_types(bags):
    """Labels must be all strings or all numbers (numpy would cast 1 to "1" silently)."""
    if isinstance(bags, np.ndarray) and bags.dtype != object:
        return
    if getattr(getattr(bags, "dtype", None), "categories", None) is not None:
        values = bags.dtype.categories.tolist()
    elif getattr(getattr(bags, "dtype", None), "kind", "O") != "O":
        return
    else:
        values = list(np.ravel(np.asarray(bags, dtype=object)))
    kinds = {_label_kind(v) for v in values if v is not None}
    if len(kinds) > 1:
        raise ValueError(
            f"bags mixes label types ({', '.join(sorted(kinds))}); use one type for "
            "every bag label (e.g. convert them all with str())."
        )


def _reject_empty_categories(bags):
    categories = getattr(getattr(bags, "dtype", None), "categories", None)
    if categories is None:
        return
    used = set(np.asarray(bags).tolist())
    empty = [c for c in categories.tolist() if c not in used]
    if empty:
        raise ValueError(
            f"bags has {len(empty)} empty bag(s) (categories without instances, e.g. "
            f"{empty[:3]}); drop them with .cat.remove_unused_categories()."
        )


def bag_responses(y, bags):
    """Return the per-bag responses :math:`\\bar y_a` from either accepted form of ``y``.

    ``y`` is one value per instance, constant within every bag, or one value per bag
    ordered as the sorted unique bag labels (a pandas Series is aligned on its index
    when the index holds bag labels). A length equal to ``n_samples`` is always read
    per instance.
    """
    aligned = _align_series(y, bags)
    try:
        values = check_array(column_or_1d(aligned, warn=True), ensure_2d=False,
                             dtype=np.float64, input_name="y")
    except (ValueError, TypeError) as exc:
        message = str(exc)
        kind = ValueError if isinstance(exc, ValueError) else TypeError
        raise kind(message if " y " in f" {message} " else
                   f"y is not usable: {message}") from exc
    if values.shape[0] == bags.n_samples:
        return _means_of_constant(values, bags)
    if values.shape[0] == bags.n_bags:
        return values
    raise ValueError(
        f"y has {values.shape[0]} values, but there are {bags.n_samples} instances "
        f"and {bags.n_bags} bags: give one value per instance (constant within its "
        "bag) or one per bag (ordered as the sorted unique bag labels)."
    )


def _align_series(y, bags):
    index = getattr(y, "index", None)
    if index is None or np.ndim(y) != 1 or len(y) == bags.n_samples:
        return y
    known = set(bags.labels.tolist())
    given = set(index.tolist())
    if known <= given:
        extra = sorted(map(str, given - known))
        if extra:
            raise ValueError(
                f"y has values for {len(extra)} bag(s) without instances (empty bags, "
                f"e.g. {extra[:3]}); drop them or add their instances."
            )
        return y.reindex(bags.labels)
    return y


def _means_of_constant(values, bags):
    means = bags.means(values)
    spread = np.abs(values - means[bags.codes])
    scale = 1.0 + np.max(np.abs(values))
    if np.max(spread) > CONSTANT_RTOL * scale:
        bad = np.unique(bags.codes[spread > CONSTANT_RTOL * scale])
        raise ValueError(
            f"y is not constant within {bad.shape[0]} bag(s) (e.g. bag "
            f"{bags.labels[bad[0]]!r}): pass the bag's aggregate response for every "
            "instance of the bag, or one value per bag."
        )
    return means


def subset_bags(bags, rows):
    """The partition restricted to instances ``rows`` (whole bags), re-encoded.

    Returns the new :class:`Bags` and the positions of its bags in ``bags.labels``.
    """
    kept, codes = np.unique(bags.codes[rows], return_inverse=True)
    codes = codes.astype(np.int64).ravel()
    sizes = np.bincount(codes, minlength=kept.shape[0]).astype(np.float64)
    if np.any(sizes != bags.sizes[kept]):
        raise ValueError(
            "The cross-validation splitter cut through bags; use a group splitter "
            "(e.g. GroupKFold) so that every bag is wholly in training or validation."
        )
    return Bags(bags.labels[kept], codes, sizes), kept
