"""Shared numba primitives against plain-numpy twins, including extreme arguments."""

import numpy as np
import pytest
import scipy.special

from statlogit.kernels import common

EXTREME = np.concatenate([
    np.linspace(-1000.0, 1000.0, 2001),
    [-1e3, -745.0, -40.0, -37.0, -36.9, 0.0, 1e-300, 18.0, 18.1, 33.3, 33.4, 700.0, 1e3],
])


def test_log1pexp_matches_numpy_logaddexp():
    got = np.array([common.log1pexp(z) for z in EXTREME])
    want = np.logaddexp(0.0, EXTREME)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


def test_sigmoid_matches_scipy_expit_without_overflow():
    with np.errstate(over="raise"):
        got = common.sigmoid_array(EXTREME)
    np.testing.assert_allclose(got, scipy.special.expit(EXTREME), rtol=1e-15, atol=1e-300)


@pytest.mark.parametrize("x", [-1e3, -50.0, -1.0, -0.7, -0.69, -1e-3, -1e-12, -1e-300])
def test_log1mexp_is_accurate_on_both_branches(x):
    want = float(np.log(-np.expm1(x))) if x > -0.69 else float(np.log1p(-np.exp(x)))
    assert common.log1mexp(x) == pytest.approx(want, rel=1e-14)


def test_log1mexp_at_zero_is_minus_infinity():
    assert common.log1mexp(0.0) == -np.inf


def test_logsumexp_rows_matches_scipy():
    rng = np.random.default_rng(0)
    a = rng.normal(scale=300.0, size=(50, 7))
    a[3] = -np.inf
    a[4, :3] = -np.inf
    got = common.logsumexp_rows(a)
    with np.errstate(divide="ignore"):
        want = scipy.special.logsumexp(a, axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-14)


def _exp_into(x):
    out, work = np.empty_like(x), np.empty_like(x)
    common.exp_into(x, out, work)
    return out


def test_exp_into_is_within_3_ulp_of_numpy_over_the_normal_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-708.0, 709.0, 200_000), rng.uniform(-1.0, 1.0, 100_000),
                        np.linspace(-0.35, 0.35, 10_001), [-708.0, 709.0, 0.0, -0.0]])
    got, want = _exp_into(x), np.exp(x)
    assert np.max(np.abs(got - want) / want) <= 3 * np.finfo(float).eps
    assert np.all(got[x == 0.0] == 1.0)


def test_exp_into_edge_arguments_equal_numpy_exactly():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-1e4, -708.0, 50_000), rng.uniform(709.0, 800.0, 1000),
                        [-np.inf, np.inf, np.nan, -1e308, 1e308, -745.2, -745.13, -1e4,
                         -708.0000001, 709.7, 709.8]])
    with np.errstate(over="ignore"):
        want = np.exp(x)
    got = _exp_into(x)
    subnormal_or_zero = want < np.finfo(float).tiny
    np.testing.assert_array_equal(got[subnormal_or_zero], want[subnormal_or_zero])
    assert np.array_equal(got[~np.isfinite(want)], want[~np.isfinite(want)], equal_nan=True)
    normal = np.isfinite(want) & ~subnormal_or_zero
    assert np.max(np.abs(got[normal] - want[normal]) / want[normal]) <= 3 * np.finfo(float).eps


def test_lazy_kernels_pickle_by_reference_and_expose_the_dispatcher():
    import pickle

    assert pickle.loads(pickle.dumps(common.log1pexp)) is common.log1pexp
    common.log1pexp(0.5)
    assert common.log1pexp.signatures  # forwarded to numba's dispatcher once compiled
    assert common.log1pexp.__name__ == "log1pexp" and common.log1pexp.__doc__


def test_njit_refuses_parallel_and_fastmath():
    from statlogit.kernels._numba import njit

    with pytest.raises(ValueError, match="parallel/fastmath"):
        njit(parallel=True)


def test_lazy_kernels_take_keyword_arguments_as_numba_does():
    assert common.log1pexp(z=0.5) == pytest.approx(np.logaddexp(0.0, 0.5), rel=1e-15)
