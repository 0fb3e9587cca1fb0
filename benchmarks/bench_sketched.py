"""Sketched least squares against numpy.linalg.lstsq, and the FWHT against A.sum().

Run ``python -m benchmarks.bench_sketched`` (n = 2**20, d = 64: about 2 GB of memory and
a few minutes) or ``python -m benchmarks.bench_sketched --log2-n 16`` for a quick look.
Every number is the median wall time of repeats in this process, numba compilation
excluded by a warm-up run. The goals of issue 7: sketch-and-solve >= 5x and the exact
"precondition" solver >= 3x faster than numpy.linalg.lstsq, at 1e-10 relative accuracy.
The last table is the hard regime (condition number 1e6, large residual), where no
double-precision solver reaches 1e-10: errors against an exactly known solution.
"""

import argparse
import os
import warnings

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from benchmarks._harness import time_call
from statlogit import SketchedLinearRegression
from statlogit.sketching import fwht, make_sketch


def _problem(n, d, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    A[:, 1:] += 0.5 * A[:, :1]  # correlated columns, condition number ~ 10
    b = A @ rng.standard_normal(d) + rng.standard_normal(n)
    return A, b


def _exact_problem(n, d, condition, seed=0):
    """Integer-valued A = P[B; B], y = P[p + c; p - c], p = B x*: x* solves it exactly.

    B has singular values logspaced over ``condition``; ||r|| = 0.7 ||A|| ||x*||.
    """
    rng = np.random.default_rng(seed)
    half = n // 2
    u, _ = np.linalg.qr(rng.standard_normal((half, d)))
    v, _ = np.linalg.qr(rng.standard_normal((d, d)))
    base = (u * np.logspace(0, -np.log10(condition), d)) @ v.T
    del u
    shift = 30 - int(np.ceil(np.log2(np.abs(base).max())))
    B = np.round(np.ldexp(base, shift))
    exact = np.round(512.0 * rng.standard_normal(d))
    c = rng.standard_normal(half)
    c = np.round(c * np.linalg.norm(B, 2) * np.linalg.norm(exact)
                 / (np.sqrt(2.0) * np.linalg.norm(c)))
    p = B @ exact
    rows = rng.permutation(n)
    A = np.ldexp(np.vstack([B, B])[rows], -shift)
    y = np.ldexp(np.concatenate([p + c, p - c])[rows], -shift)
    return A, y, exact


def _solvers(A, b):
    """(name, callable) pairs; each returns the coefficient vector."""
    def fit(**params):
        model = SketchedLinearRegression(fit_intercept=False, random_state=0, **params)
        return lambda: model.fit(A, b).coef_

    return [
        ("sketch-and-solve, srht (m = 16d)", fit(solver="sketch-and-solve")),
        ("sketch-and-solve, countsketch (m = 16d)",
         fit(solver="sketch-and-solve", sketch="countsketch")),
        ("precondition, srht (m = 4d)", fit()),
        ("precondition, countsketch (m = 4d)", fit(sketch="countsketch")),
    ]


def _environment():
    blas = [(i["internal_api"], i.get("architecture"), i["num_threads"])
            for i in threadpool_info() if i["user_api"] == "blas"]
    flags = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    load = os.getloadavg()
    return (f"BLAS {blas}; {flags}; load average {load[0]:.1f} on {os.cpu_count()} "
            "cores (other processes share the machine: wall times are inflated)")


def solver_table(A, b, repeats):
    t_peer, reference = time_call(lambda: np.linalg.lstsq(A, b, rcond=None)[0],
                                  repeats=repeats, warmup=0)
    print(f"\n## Least squares, n = {A.shape[0]}, d = {A.shape[1]}\n")
    print(f"numpy.linalg.lstsq (LAPACK gelsd): {t_peer:.3g} s\n")
    print("| solver | statlogit (s) | speed-up vs lstsq | relative error vs lstsq |")
    print("|---|---|---|---|")
    for name, solve in _solvers(A, b):
        seconds, coef = time_call(solve, repeats=repeats)
        error = np.linalg.norm(coef - reference) / np.linalg.norm(reference)
        print(f"| {name} | {seconds:.3g} | {t_peer / seconds:.2f}x | {error:.1e} |")


def hard_table(n, d, repeats):
    A, y, exact = _exact_problem(n, d, 1e6)
    print(f"\n## Hard regime: condition number 1e6, ||r|| = 0.7 ||A|| ||x*||, n = {n}, "
          f"d = {d}\n")
    print("| solver | seconds | speed-up vs lstsq | relative error vs exact x* |")
    print("|---|---|---|---|")
    model = SketchedLinearRegression(fit_intercept=False, random_state=0)
    t_peer, peer = time_call(lambda: np.linalg.lstsq(A, y, rcond=None)[0],
                             repeats=repeats, warmup=0)
    seconds, coef = time_call(lambda: model.fit(A, y).coef_, repeats=repeats, warmup=0)
    for name, time_s, solution in [("numpy.linalg.lstsq", t_peer, peer),
                                   ("precondition, srht (m = 4d)", seconds, coef)]:
        error = np.linalg.norm(solution - exact) / np.linalg.norm(exact)
        print(f"| {name} | {time_s:.3g} | {t_peer / time_s:.2f}x | {error:.1e} |")


def bandwidth_table(A, repeats):
    size = A.nbytes
    t_sum, _ = time_call(A.sum, repeats=repeats)
    work = A.copy()
    t_fwht, _ = time_call(lambda: fwht(work, overwrite=True), repeats=repeats)
    operator = make_sketch("srht", 16 * A.shape[1], random_state=0)
    t_srht, _ = time_call(lambda: operator.apply(A), repeats=repeats)
    print(f"\n## Memory bandwidth, {A.shape[0]} x {A.shape[1]} float64 "
          f"({size / 2**20:.0f} MiB)\n")
    print("| operation | seconds | x A.sum() | bytes moved (minimum) | GB/s |")
    print("|---|---|---|---|---|")
    rows = [("A.sum() (one read: the floor)", t_sum, size),
            ("fwht (in place, full transform, read + write)", t_fwht, 2 * size),
            ("SRHT sketch, m = 16d (one read)", t_srht, size)]
    for name, seconds, moved in rows:
        print(f"| {name} | {seconds:.3g} | {seconds / t_sum:.1f} | "
              f"{moved / 2**20:.0f} MiB | {moved / seconds / 1e9:.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log2-n", type=int, default=20)
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="limit BLAS threads (default: as configured)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)  # sparse sketch-and-solve warns
    with threadpool_limits(args.blas_threads):
        run(args)


def run(args):
    warm_A, warm_b = _problem(4096, args.d)
    for _, solve in _solvers(warm_A, warm_b):
        solve()
    fwht(warm_A, overwrite=False)
    A, b = _problem(2**args.log2_n, args.d)
    print(_environment())
    solver_table(A, b, args.repeats)
    bandwidth_table(A, args.repeats)
    del A, b
    hard_table(2**args.log2_n, args.d, args.repeats)


if __name__ == "__main__":
    main()
