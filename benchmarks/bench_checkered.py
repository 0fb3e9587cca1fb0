"""Checkered regression: the numba forward-backward pass against plain numpy, and the
fit against MLPClassifier on a checkerboard.

Sizes from issue 8: n = 10**5, d = 20, m = 8 hyperplanes, two and four classes.

* pass only (logits -> log-likelihoods, coin probabilities, coin posteriors) and
  objective+gradient (``CheckeredObjective.value_and_grad``: the pass plus two BLAS
  products), numba kernel against the same forward-backward pass written in vectorised
  numpy in log space (two classes: ``np.logaddexp`` over the two parity states; four
  classes: ``logsumexp`` circular convolutions), looping over the m hyperplanes;
* fit: 10 L-BFGS iterations from the same start with either pass;
* MLP: on a 20-dimensional checkerboard (parity of 3 random hyperplanes), the time
  ``MLPClassifier`` needs to reach the test accuracy of ``CheckeredClassifier(m=3)``.

BLAS runs on one thread for every contender (the numba kernel is serial): on a shared
2-core machine multi-threaded OpenBLAS made single small GEMMs 10-50x slower and the
timings meaningless.
"""

import time
import warnings

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from benchmarks._harness import Case, report, time_call
from statlogit import CheckeredClassifier
from statlogit.checkered import CheckeredObjective, random_start
from statlogit.datasets import make_checkerboard

N, D, M = 100_000, 20, 8
FIT_ITER = 10


def numpy_log_conv(a, b):
    """Row-wise circular convolution in log space: out[:, r] = lse_j a[:, j] + b[:, r-j]."""
    c = a.shape[1]
    shift = (np.arange(c)[:, None] - np.arange(c)[None, :]) % c
    terms = a[:, None, :] + b[:, shift]
    top = terms.max(axis=2)
    return top + np.log(np.exp(terms - top[..., None]).sum(axis=2))


def numpy_posterior(Z, y):
    """The forward-backward pass of statlogit.checkered._kernels in plain numpy."""
    n, m, c = Z.shape
    log_s = log_softmax(Z, axis=2)
    unit = np.full((n, c), -np.inf)
    unit[:, 0] = 0.0
    alpha, beta = [unit], [unit]
    for k in range(m):
        alpha.append(numpy_log_conv(alpha[-1], log_s[:, k]))
        beta.append(numpy_log_conv(log_s[:, m - 1 - k], beta[-1]))
    beta = beta[::-1]
    rows = np.arange(n)
    log_p = alpha[m][rows, y]
    q = np.empty_like(Z)
    for k in range(m):
        loo = numpy_log_conv(alpha[k], beta[k + 1])
        for j in range(c):
            q[:, k, j] = np.exp(log_s[:, k, j] + loo[rows, (y - j) % c] - log_p)
    return log_p, np.exp(log_s), q


def numpy_binary_posterior(z, y):
    """The two-class pass (coin logits (z, 0)) in plain numpy, with ``logaddexp``."""
    n, m = z.shape
    log_s0, log_s1 = -np.logaddexp(0.0, -z), -np.logaddexp(0.0, z)
    even, odd = [np.zeros(n)], [np.full(n, -np.inf)]
    back_even, back_odd = [np.zeros(n)], [np.full(n, -np.inf)]
    for k in range(m):
        a, b, r = log_s0[:, k], log_s1[:, k], m - 1 - k
        even.append(np.logaddexp(even[-1] + a, odd[-1] + b))
        odd.append(np.logaddexp(even[-2] + b, odd[-1] + a))
        a, b = log_s0[:, r], log_s1[:, r]
        back_even.append(np.logaddexp(back_even[-1] + a, back_odd[-1] + b))
        back_odd.append(np.logaddexp(back_even[-2] + b, back_odd[-1] + a))
    back_even, back_odd = back_even[::-1], back_odd[::-1]
    is_even = y == 0
    log_p = np.where(is_even, even[m], odd[m])
    q = np.empty_like(z)
    for k in range(m):
        loo_even = np.logaddexp(even[k] + back_even[k + 1], odd[k] + back_odd[k + 1])
        loo_odd = np.logaddexp(even[k] + back_odd[k + 1], odd[k] + back_even[k + 1])
        q[:, k] = np.exp(log_s0[:, k] + np.where(is_even, loo_even, loo_odd) - log_p)
    return log_p, np.exp(log_s0), q


class NumpyObjective(CheckeredObjective):
    """The same objective with the numpy pass in place of the numba kernel."""

    def posterior(self, theta):
        logits = self.logits(theta)
        if self.groups == 1:
            return numpy_binary_posterior(logits, self.codes)
        return numpy_posterior(logits, self.codes)


def problem(n_classes, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    y = rng.integers(0, n_classes, size=N)
    args = (X, y.astype(np.int64), np.ones(N), M, n_classes, 1.0)
    fast, slow = CheckeredObjective(*args), NumpyObjective(*args)
    return fast, slow, random_start(fast, rng)


def fixed_lbfgs(objective, theta0):
    return minimize(objective.value_and_grad, theta0, jac=True, method="L-BFGS-B",
                    options={"maxiter": FIT_ITER, "gtol": 0.0, "ftol": 0.0}).fun


def cases(n_classes):
    """(evaluation cases, fit case) at the issue's sizes for ``n_classes`` classes."""
    fast, slow, theta = problem(n_classes)
    label = f"c={n_classes} n={N} d={D} m={M}"
    peer = "numpy log-space pass"
    evaluations = [
        Case(f"pass only, {label}", lambda: fast.posterior(theta),
             lambda: slow.posterior(theta), peer,
             check=lambda a, b: f"max|dlogp|={np.max(np.abs(a[0] - b[0])):.1e}"),
        Case(f"objective+gradient, {label}", lambda: fast.value_and_grad(theta),
             lambda: slow.value_and_grad(theta), peer,
             check=lambda a, b: f"max|dgrad|={np.max(np.abs(a[1] - b[1])):.1e}"),
    ]
    fit = Case(f"fit ({FIT_ITER} L-BFGS iterations), {label}",
               lambda: fixed_lbfgs(fast, theta), lambda: fixed_lbfgs(slow, theta), peer,
               check=lambda a, b: f"|dobj|={abs(a - b):.1e}")
    return evaluations, fit


def mlp_to_accuracy(X, y, X_test, y_test, target, max_epochs=200):
    """Train an MLP epoch by epoch until its test accuracy reaches ``target``."""
    mlp = MLPClassifier(hidden_layer_sizes=(32,), random_state=0)
    start = time.perf_counter()
    epochs, accuracy = 0, 0.0
    while epochs < max_epochs and accuracy < target:
        mlp.partial_fit(X, y, classes=np.array([0, 1]))
        accuracy = mlp.score(X_test, y_test)
        epochs += 1
    return time.perf_counter() - start, accuracy, epochs


def mlp_comparison():
    rng = np.random.default_rng(1)
    normals = rng.standard_normal((3, D))
    lines = (normals, rng.uniform(-1.0, 1.0, size=3))
    X, y = make_checkerboard(N, D, hyperplanes=lines, bounds=(-3, 3), random_state=2)
    X_test, y_test = make_checkerboard(20_000, D, hyperplanes=lines, bounds=(-3, 3),
                                       random_state=3)
    clf = CheckeredClassifier(n_hyperplanes=3, C=100.0, n_restarts=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t_ours, _ = time_call(lambda: clf.fit(X, y), repeats=1)
        accuracy = clf.score(X_test, y_test)
        t_mlp, mlp_accuracy, epochs = mlp_to_accuracy(X, y, X_test, y_test,
                                                      accuracy - 0.005)
    print(f"\n## MLP on a {D}-d checkerboard (parity of 3 hyperplanes, n={N})\n")
    print("| model | fit time (s) | test accuracy |")
    print("|---|---|---|")
    print(f"| CheckeredClassifier(m=3, 3 restarts) | {t_ours:.3g} | {accuracy:.4f} |")
    print(f"| MLPClassifier(32) until accuracy >= {accuracy - 0.005:.4f} "
          f"({epochs} epochs) | {t_mlp:.3g} | {mlp_accuracy:.4f} |")
    reached = mlp_accuracy >= accuracy - 0.005
    bound = "" if reached else (" (a lower bound: the MLP did not reach the target "
                                f"accuracy in {epochs} epochs)")
    print(f"\nspeed-up of checkered over MLP: {t_mlp / t_ours:.2f}x{bound}")


def main():
    for n_classes in (2, 4):
        evaluations, fit = cases(n_classes)
        report(evaluations, repeats=3,
               title=f"Checkered forward-backward, {n_classes} classes: numba vs numpy")
        report([fit], repeats=1)
    mlp_comparison()


if __name__ == "__main__":
    with threadpool_limits(limits=1):
        main()
