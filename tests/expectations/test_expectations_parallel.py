"""Results do not depend on n_jobs or the joblib backend (a dask.distributed cluster)."""

import joblib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from statlogit import MultipleExpectations, sobol_indices
from statlogit.datasets import ishigami

UNIFORM = [stats.uniform(-np.pi, 2 * np.pi)] * 3


def _square(X):
    return X[:, 0] ** 2 + X[:, 1]


def _two(X):
    return np.column_stack([ishigami(X), X[:, 0] ** 2 + X[:, 2]])


def _runs(**parallel):
    sobol = sobol_indices(ishigami, UNIFORM, 1500, method="iscv", random_state=7,
                          batch_size=700, **parallel)
    # one adaptive run per output, their stages batched into shared model calls
    multi = sobol_indices(_two, UNIFORM, 1500, method="iscv", random_state=7,
                          batch_size=700, **parallel)
    me = MultipleExpectations(budget=3000, random_state=7, batch_size=400,
                              **parallel).fit(_square, stats.multivariate_normal(
                                  np.zeros(2)))
    return sobol.table_, me.estimates_, me.std_errors_, multi.table_


def test_n_jobs_1_2_and_a_dask_cluster_are_bit_identical():
    distributed = pytest.importorskip("dask.distributed")
    serial = _runs(n_jobs=1)
    two = _runs(n_jobs=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster), joblib.parallel_config(backend="dask"):
        dask = _runs()
    for other in (two, dask):
        pd.testing.assert_frame_equal(serial[0], other[0], check_exact=True)
        np.testing.assert_array_equal(serial[1], other[1])
        np.testing.assert_array_equal(serial[2], other[2])
        pd.testing.assert_frame_equal(serial[3], other[3], check_exact=True)
