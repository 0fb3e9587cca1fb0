"""Sketch operators and their kernels: numpy twins, subspace embedding, the FWHT."""

import numpy as np
import pytest
import scipy.linalg

from statlogit import sketches
from statlogit.sketching import _fwht
from statlogit.sketching import _kernels as kernels

ALL_SKETCHES = sorted(sketches.SKETCHES)


def fwht_twin(a):
    """Plain numpy Walsh-Hadamard transform of the rows, one level at a time."""
    n, k = a.shape
    out = a.copy()
    h = 1
    while h < n:
        pairs = out.reshape(n // (2 * h), 2, h, k)
        out = np.stack([pairs[:, 0] + pairs[:, 1], pairs[:, 0] - pairs[:, 1]], axis=1)
        out = out.reshape(n, k)
        h *= 2
    return out


def srht_twin(a, signs, n_pad, rows, scale):
    padded = np.zeros((n_pad, a.shape[1]))
    padded[: a.shape[0]] = signs[:, None] * a
    return scale * (scipy.linalg.hadamard(n_pad) @ padded)[rows]


def sparse_twin(a, rows, values, m):
    dense = np.zeros((m, a.shape[0]))
    for nz in range(rows.shape[1]):
        np.add.at(dense, (rows[:, nz], np.arange(a.shape[0])), values[:, nz])
    return dense @ a


# ----------------------------------------------------------------------------- FWHT
@pytest.mark.parametrize(("n", "k"), [(1, 1), (2, 3), (16, 1), (256, 40), (2048, 40)])
def test_fwht_equals_scipy_hadamard_product(n, k):
    a = np.random.default_rng(n * k).standard_normal((n, k))
    before = a.copy()
    np.testing.assert_allclose(_fwht.fwht(a), scipy.linalg.hadamard(n) @ a, atol=1e-9)
    np.testing.assert_array_equal(a, before)


@pytest.mark.parametrize(("n", "k"), [(1 << 17, 1), (1 << 13, 9), (1 << 12, 33)])
def test_fwht_two_level_path_matches_twin_and_inverts(n, k):
    a = np.random.default_rng(k).standard_normal((n, k))
    assert n * k > _fwht._L2_DOUBLES  # exercises the gather / scatter level
    once = _fwht.fwht(a)
    np.testing.assert_allclose(once, fwht_twin(a), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(_fwht.fwht(once) / n, a, atol=1e-12)


def test_fwht_vector_and_extreme_values():
    v = np.array([1e300, 1e-300, 3e299, -7e299])
    np.testing.assert_allclose(_fwht.fwht(v), scipy.linalg.hadamard(4) @ v, rtol=1e-14)


# ----------------------------------------------------------------------------- kernels
@pytest.mark.parametrize(("n", "k", "m"), [(1, 1, 1), (5, 3, 8), (100, 2, 50),
                                           (1000, 7, 300), (3000, 1, 2048)])
def test_srht_kernel_matches_dense_twin_on_both_schedules(n, k, m):
    rng = np.random.default_rng(n + m)
    a = rng.standard_normal((n, k))
    n_pad = 1 << (n - 1).bit_length()
    signs = rng.choice([-1.0, 1.0], n)
    rows = np.sort(rng.choice(n_pad, m, replace=False)).astype(np.int64)
    want = srht_twin(a, signs, n_pad, rows, 0.5)
    got = kernels.srht_sketch(a, signs, n_pad, rows, 0.5)
    np.testing.assert_allclose(got, want, atol=1e-12)
    for block in {0, 1, max(1, n_pad // 4), n_pad}:
        forced = kernels.srht_sketch(a, signs, n_pad, rows, 0.5, block=block)
        np.testing.assert_allclose(forced, want, atol=1e-12)


def test_srht_kernel_does_not_modify_input():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 4))
    before = a.copy()
    kernels.srht_sketch(a, np.ones(300), 512, np.arange(0, 512, 8, dtype=np.int64), 1.0)
    np.testing.assert_array_equal(a, before)


@pytest.mark.parametrize("nnz", [1, 3])
def test_sparse_kernel_matches_dense_twin(nnz):
    rng = np.random.default_rng(nnz)
    a = rng.standard_normal((400, 5))
    a[0] = 1e200  # extreme values pass through linearly
    rows = rng.integers(0, 37, size=(400, nnz)).astype(np.int64)
    values = rng.standard_normal((400, nnz))
    got = kernels.sparse_sketch(a, rows, values, 37)
    np.testing.assert_allclose(got, sparse_twin(a, rows, values, 37), rtol=1e-12)


# ----------------------------------------------------------------------------- operators
@pytest.mark.parametrize("name", ALL_SKETCHES)
def test_every_sketch_is_a_subspace_embedding(name):
    rng = np.random.default_rng(7)
    u, _ = np.linalg.qr(rng.standard_normal((3000, 8)))
    for seed in range(5):
        sketched = sketches.make_sketch(name, 400, random_state=seed).apply(u)
        singular = np.linalg.svd(sketched, compute_uv=False)
        assert 0.6 < singular.min() <= singular.max() < 1.4, (name, seed, singular)


@pytest.mark.parametrize("name", ALL_SKETCHES)
def test_sketch_is_unbiased_isometry_on_average(name):
    x = np.random.default_rng(1).standard_normal(1000)
    norms = [np.sum(sketches.make_sketch(name, 64, random_state=s).apply(x) ** 2)
             for s in range(200)]
    assert np.mean(norms) == pytest.approx(x @ x, rel=0.06)


@pytest.mark.parametrize("name", ALL_SKETCHES)
def test_apply_is_linear_consistent_and_deterministic(name):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((300, 3))
    op = sketches.make_sketch(name, 40, random_state=5)
    sa = op.apply(a)
    assert sa.shape == (40, 3)
    np.testing.assert_allclose(op.apply(a[:, 1]), sa[:, 1], atol=1e-12)
    np.testing.assert_allclose(op.todense() @ a, sa, atol=1e-12)
    again = sketches.make_sketch(name, 40, random_state=5).apply(a)
    np.testing.assert_array_equal(again, sa)
    with pytest.raises(ValueError, match="drawn for 300 rows"):
        op.apply(a[:10])


def test_sparse_sketch_structure():
    op = sketches.SparseSign(50, random_state=0, nnz_per_col=6).fit(2000)
    assert all(len(set(r)) == 6 for r in op.hash_rows_.tolist())
    osnap = sketches.OSNAP(50, random_state=0, nnz_per_col=5).fit(2000)
    np.testing.assert_array_equal(osnap.hash_rows_ // 10, np.tile(np.arange(5), (2000, 1)))
    dense = sketches.CountSketch(20, random_state=0).fit(100).todense()
    np.testing.assert_array_equal(np.count_nonzero(dense, axis=0), np.ones(100))


def test_srht_rademacher_diagonal_gives_zero_error_on_2026_counterexample():
    n = 1024
    u = np.zeros(n)
    u[:2] = np.sqrt(0.5)
    r = np.zeros(n)
    r[:2] = [np.sqrt(0.5), -np.sqrt(0.5)]
    for seed in range(20):
        op = sketches.SRHT(256, random_state=seed)
        su, sr = op.apply(u), op.apply(r)
        assert abs(su @ sr / (su @ su)) < 1e-12


def test_bad_sketch_arguments():
    with pytest.raises(ValueError, match="Unknown sketch"):
        sketches.make_sketch("fourier", 10)
    with pytest.raises(ValueError, match="padded length 128"):
        sketches.SRHT(200).fit(100)
    with pytest.raises(ValueError, match="nnz_per_col=8 exceeds"):
        sketches.SparseSign(4).fit(100)
    with pytest.raises(ValueError, match="sketch_size must be an integer"):
        sketches.GaussianSketch(2.5).fit(100)
    with pytest.raises(ValueError, match="NaN or infinite"):
        sketches.SRHT(4).apply(np.array([1.0, np.nan, 2.0, 3.0]))
    with pytest.raises(ValueError, match="before todense"):
        sketches.SRHT(4).todense()


def test_row_rules():
    assert sketches.sketch_size_rule(64, eps=0.5, delta=0.05) == 4083
    assert sketches.sketch_size_rule(16, eps=0.25, delta=0.01) == 4149
    assert sketches.sketch_size_rule(10) == 40
    assert sketches.theory_sketch_size(64, 10**6, 0.5, 0.05) == 1216297
    with pytest.raises(ValueError, match="eps"):
        sketches.sketch_size_rule(10, eps=0.0)


@pytest.mark.parametrize("n", [1, 2, 8, 64, 1024])
@pytest.mark.parametrize("k", [1, 5])
def test_fwht_equals_hadamard_product(n, k):
    rng = np.random.default_rng(n + k)
    a = rng.standard_normal((n, k))
    before = a.copy()
    np.testing.assert_allclose(_fwht.fwht(a), scipy.linalg.hadamard(n) @ a, atol=1e-9)
    np.testing.assert_array_equal(a, before)


def test_fwht_is_its_own_inverse_up_to_n():
    rng = np.random.default_rng(3)
    v = rng.standard_normal(4096)
    np.testing.assert_allclose(_fwht.fwht(_fwht.fwht(v)) / 4096, v, atol=1e-12)


def test_fwht_rejects_non_power_of_two():
    with pytest.raises(ValueError, match="power-of-two"):
        _fwht.fwht(np.ones(6))


def test_fwht_rejects_non_finite_input():
    with pytest.raises(ValueError, match="NaN or infinite"):
        _fwht.fwht(np.array([np.nan, 1.0]))
