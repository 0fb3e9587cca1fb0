"""The model-agnostic solvers against closed forms and statsmodels."""

import warnings

import numpy as np
import pytest

from statlogit.solvers import weighted_lstsq


def test_weighted_lstsq_matches_statsmodels_wls():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(4)
    X = sm.add_constant(rng.standard_normal((50, 3)))
    y = X @ [1.0, 2.0, -1.0, 0.5] + rng.standard_normal(50)
    w = rng.uniform(0.1, 3.0, 50)
    coef, rank = weighted_lstsq(X, y, w)
    assert rank == 4
    np.testing.assert_allclose(coef, sm.WLS(y, X, weights=w).fit().params, rtol=1e-10)
    many, _ = weighted_lstsq(X, np.column_stack([y, 2 * y]), w)
    np.testing.assert_allclose(many[:, 1], 2 * coef, rtol=1e-10)


def test_weighted_lstsq_rank_deficient_gives_min_norm():
    X = np.column_stack([np.ones(10), np.ones(10)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coef, rank = weighted_lstsq(X, np.full(10, 2.0))
    assert rank == 1
    np.testing.assert_allclose(coef, [1.0, 1.0])
