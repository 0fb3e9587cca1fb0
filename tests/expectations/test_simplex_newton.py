"""statlogit.solvers.simplex_newton: the model-agnostic capped-simplex Newton method."""

import numpy as np
import pytest

from statlogit.expectations.kernel_hooks import replaced_kernels
from statlogit.solvers import OptimizeResult, minimize_inverse_affine


def test_result_type_and_cvxpy_optimum():
    pytest.importorskip("cvxpy")
    from statlogit.expectations._reference import mixture_weights

    rng = np.random.default_rng(5)
    G = rng.uniform(size=(200, 4)) ** 2
    c = rng.exponential(size=200)
    b = np.zeros(200)
    res = minimize_inverse_affine(c, G.T, b, np.full(4, 0.25), lower=1e-9)
    assert isinstance(res, OptimizeResult)
    assert res.converged and 0 < res.n_iter <= 200
    ref_alpha, ref_value = mixture_weights(c, G, b, lower=1e-9)
    assert abs(res.objective - ref_value) <= 1e-7 * ref_value
    np.testing.assert_allclose(res.x, ref_alpha, atol=1e-5)


@pytest.mark.parametrize("bad", ["nan", "negative", "shape", "lower"])
def test_bad_input_names_the_argument(bad):
    c, G_t, b, lower = np.ones(5), np.ones((2, 5)), np.zeros(5), 1e-6
    if bad == "nan":
        c = np.array([1.0, np.nan, 1, 1, 1])
    elif bad == "negative":
        G_t = -G_t
    elif bad == "shape":
        b = np.zeros(4)
    else:
        lower = 0.7
    with pytest.raises(ValueError, match="c |G_t|shape|lower"):
        minimize_inverse_affine(c, G_t, b, np.full(2, 0.5), lower=lower)


def test_kernel_hook_restores_and_refuses_unknown_names():
    import statlogit.solvers.simplex_newton as module

    original = module.inverse_affine_objective
    with replaced_kernels(inverse_affine_objective=len):
        assert module.inverse_affine_objective is len
    assert module.inverse_affine_objective is original
    with pytest.raises(ValueError, match="unknown kernels"):
        with replaced_kernels(not_a_kernel=len):
            pass
