"""Monte Carlo checks of the l-infinity behaviour (method notes §8); run with -m slow."""

import numpy as np
import pytest

from statlogit.datasets import make_spike_regression
from statlogit.sketching.operators import SparseSign, make_sketch, sketch_size_rule

pytestmark = pytest.mark.slow
N, D, SEEDS = 8192, 32, 200


def error_ratios(X, y, sketch, m, seeds=SEEDS):
    """sqrt(d) ||x' - x*||_inf / (||r|| ||A^+||) of sketch-and-solve over seeds.

    ``sketch`` is a name or a callable ``seed -> operator``.
    """
    exact = np.linalg.lstsq(X, y, rcond=None)[0]
    scale = (np.linalg.norm(y - X @ exact)
             / (np.linalg.svd(X, compute_uv=False).min() * np.sqrt(X.shape[1])))
    data = np.column_stack([X, y])
    ratios = []
    for seed in range(seeds):
        operator = (sketch(seed) if callable(sketch)
                    else make_sketch(sketch, m, random_state=seed))
        sketched = operator.apply(data)
        coef = np.linalg.lstsq(sketched[:, :-1], sketched[:, -1], rcond=None)[0]
        ratios.append(np.abs(coef - exact).max() / scale)
    return np.array(ratios)


@pytest.fixture(scope="module")
def spike():
    return make_spike_regression(N, D, random_state=0)


@pytest.mark.parametrize("sketch", ["srht", "gaussian"])
def test_dense_sketches_hold_on_the_spike_instance(spike, sketch):
    ratios = error_ratios(*spike, sketch, 2048)
    assert np.quantile(ratios, 0.99) <= 0.6 and ratios.max() <= 0.8


def test_countsketch_breaks_on_the_spike_instance(spike):
    ratios = error_ratios(*spike, "countsketch", 2048)
    assert np.quantile(ratios, 0.99) >= 4.0
    assert np.mean(ratios > 1.0) >= 0.05


def test_sparse_sign_with_four_nonzeros_breaks_on_the_spike_instance(spike):
    ratios = error_ratios(*spike, lambda seed: SparseSign(2048, seed, nnz_per_col=4),
                          2048)
    assert np.quantile(ratios, 0.99) >= 1.0


@pytest.mark.parametrize("sketch", ["gaussian", "srht"])
def test_dense_sketch_calibration_and_rate(sketch):
    """Median ratio within 15% of sqrt(d/(m-d-1)) * median max|Z|, slope -1/2."""
    rng = np.random.default_rng(5)
    u, _ = np.linalg.qr(rng.standard_normal((N, D + 1)))
    X, y = u[:, :D], u[:, D]  # orthonormal design, residual orthogonal, ||r|| = 1
    max_z = np.median(np.abs(rng.standard_normal((20000, D))).max(axis=1))
    sizes = np.array([256, 512, 1024, 2048])
    medians = np.array([np.median(error_ratios(X, y, sketch, m)) for m in sizes])
    predicted = np.sqrt(D / (sizes - D - 1)) * max_z
    if sketch == "srht":
        predicted *= np.sqrt(1 - sizes / N)  # rows sampled without replacement
    np.testing.assert_allclose(medians, predicted, rtol=0.15)
    corrected = medians / np.sqrt(1 - sizes / N) if sketch == "srht" else medians
    slope = np.polyfit(np.log(sizes), np.log(corrected), 1)[0]
    assert -0.6 <= slope <= -0.4


@pytest.mark.parametrize("sketch", ["gaussian", "srht"])
def test_calibrated_row_rule_keeps_failures_below_delta(sketch):
    rng = np.random.default_rng(6)
    u, _ = np.linalg.qr(rng.standard_normal((N, D + 1)))
    m = sketch_size_rule(D, eps=0.5, delta=0.05)
    ratios = error_ratios(u[:, :D], u[:, D], sketch, m)
    assert np.mean(ratios > 0.5) <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / SEEDS)
