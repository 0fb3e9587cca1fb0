"""The Monte Carlo engine: identical frames for any number of workers and backend."""

import joblib
import numpy as np
import pandas as pd
import pytest

from statlogit.simulation import expand_grid, monte_carlo


def _replication(rng, n, shift):
    x = rng.standard_normal(n) + shift
    return {"mean": float(x.mean()), "first": float(x[0])}


GRID = {"n": [5, 50], "shift": [0.0, 1.0]}


def test_frame_shape_columns_and_order():
    df = monte_carlo(_replication, 4, grid=GRID, seed=3)
    assert list(df.columns) == ["n", "shift", "rep", "mean", "first"]
    assert len(df) == 16
    assert df["rep"].tolist() == [0, 1, 2, 3] * 4
    assert df[["n", "shift"]].drop_duplicates().values.tolist() == [
        [5, 0.0], [5, 1.0], [50, 0.0], [50, 1.0]]


def test_seeds_are_spawned_children_of_one_seed_sequence():
    df = monte_carlo(_replication, 3, grid={"n": [1], "shift": [0.0]}, seed=11)
    children = np.random.SeedSequence(11).spawn(3)
    want = [np.random.default_rng(c).standard_normal(1)[0] for c in children]
    np.testing.assert_allclose(df["first"], want)


def test_identical_for_one_and_two_workers():
    one = monte_carlo(_replication, 6, grid=GRID, seed=7, n_jobs=1)
    two = monte_carlo(_replication, 6, grid=GRID, seed=7, n_jobs=2, chunk_size=5)
    pd.testing.assert_frame_equal(one, two)


def test_identical_on_a_dask_local_cluster():
    distributed = pytest.importorskip("dask.distributed")
    one = monte_carlo(_replication, 6, grid=GRID, seed=7, n_jobs=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster), joblib.parallel_config(backend="dask"):
        on_dask = monte_carlo(_replication, 6, grid=GRID, seed=7)
    pd.testing.assert_frame_equal(one, on_dask)


def test_different_seeds_differ():
    a = monte_carlo(_replication, 3, grid=GRID, seed=1)
    b = monte_carlo(_replication, 3, grid=GRID, seed=2)
    assert not np.allclose(a["mean"], b["mean"])


def test_expand_grid_keeps_order_and_accepts_lists():
    assert expand_grid(None) == [{}]
    assert expand_grid([{"a": [2, 1]}, {"b": ["x"]}]) == [{"a": 2}, {"a": 1}, {"b": "x"}]


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_rejects_bad_n_reps(bad):
    with pytest.raises(ValueError, match="n_reps must be a positive integer"):
        monte_carlo(_replication, bad)


def test_func_must_return_a_dict():
    with pytest.raises(TypeError, match="dict of metrics"):
        monte_carlo(lambda rng: 1.0, 1)
