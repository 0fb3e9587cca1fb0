"""Shared input checks: clear messages, canonical arrays."""

import numpy as np
import pandas as pd
import pytest

from statlogit._validation import (
    as_float_array,
    check_labels,
    check_same_length,
    check_sample_weight,
    check_scalar,
    resolve_rng,
)


def test_as_float_array_returns_c_contiguous_float64_copy_semantics():
    a = np.asfortranarray(np.arange(6, dtype=np.int32).reshape(3, 2))
    out = as_float_array(a, name="X", ndim=2)
    assert out.dtype == np.float64 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, a)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_as_float_array_rejects_non_finite(bad):
    with pytest.raises(ValueError, match="X contains 1 NaN or infinite"):
        as_float_array([[1.0, bad]], name="X")


def test_as_float_array_checks_shape_and_size():
    with pytest.raises(ValueError, match="must be 2-dimensional"):
        as_float_array([1.0, 2.0], name="X", ndim=2)
    with pytest.raises(ValueError, match="at least 3 entries"):
        as_float_array([1.0, 2.0], name="y", min_samples=3)
    with pytest.raises(ValueError, match="must be real-valued"):
        as_float_array(np.array([1 + 1j]), name="y")


def test_check_same_length_names_the_offenders():
    with pytest.raises(ValueError, match="X has 3, y has 2"):
        check_same_length(X=np.ones(3), y=np.ones(2))
    check_same_length(X=np.ones(3), y=np.ones(3), w=None)


def test_check_scalar_bounds_and_types():
    assert check_scalar(2, name="alpha", lower=0) == 2.0
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        check_scalar(-1.0, name="alpha", lower=0)
    with pytest.raises(ValueError, match="C must be > 0"):
        check_scalar(0.0, name="C", lower=0, include_lower=False)
    with pytest.raises(ValueError, match="must be an integer"):
        check_scalar(2.5, name="k", integer=True)
    with pytest.raises(ValueError, match="must be a real number"):
        check_scalar("a", name="alpha")
    with pytest.raises(ValueError, match="must be finite"):
        check_scalar(np.inf, name="alpha")


def test_check_labels_sorted_explicit_and_ordered_categorical():
    classes, codes = check_labels(["b", "a", "c", "a"])
    assert classes.tolist() == ["a", "b", "c"] and codes.tolist() == [1, 0, 2, 0]
    classes, codes = check_labels(["lo", "hi", "mid"], categories=["lo", "mid", "hi"])
    assert codes.tolist() == [0, 2, 1]
    cat = pd.Series(pd.Categorical(["hi", "lo"], categories=["lo", "hi"], ordered=True))
    classes, codes = check_labels(cat)
    assert classes.tolist() == ["lo", "hi"] and codes.tolist() == [1, 0]


def test_check_labels_errors():
    with pytest.raises(ValueError, match="at least 2 classes"):
        check_labels([1, 1, 1])
    with pytest.raises(ValueError, match="not in categories"):
        check_labels(["a", "z"], categories=["a", "b"])
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_labels([0.0, np.nan])


def test_check_sample_weight():
    np.testing.assert_array_equal(check_sample_weight(None, 3), np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        check_sample_weight([1.0, -1.0], 2)
    with pytest.raises(ValueError, match="at least one positive"):
        check_sample_weight([0.0, 0.0], 2)
    with pytest.raises(ValueError, match="has 2 entries but X has 3"):
        check_sample_weight([1.0, 1.0], 3)


def test_resolve_rng_is_reproducible():
    assert resolve_rng(5).random() == np.random.default_rng(5).random()
    gen = np.random.default_rng(1)
    assert resolve_rng(gen) is gen
    assert isinstance(resolve_rng(np.random.RandomState(0)), np.random.Generator)
    with pytest.raises(ValueError, match="random_state must be"):
        resolve_rng("seed")
