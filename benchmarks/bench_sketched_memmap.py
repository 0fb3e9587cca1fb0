"""A 4 GB numpy memmap fit by SketchedLinearRegression with peak memory under 1 GB.

Issue 18's out-of-core acceptance. Run ``python -m benchmarks.bench_sketched_memmap``
(about 4.3 GB of free disk in the temporary directory, a few minutes) or with
``--log2-n 20`` for a quick look. The script writes a (2^23, 64) float64 memory map and
its response in row blocks (never holding the matrix), computes a trusted solution by
a blocked Householder QR of ``[1 | X | y]`` (the R factor updated block by block),
fits the map in a fresh subprocess under ``/usr/bin/time -v`` (one BLAS thread),
prints the subprocess's "Maximum resident set size", its times and the largest
coefficient difference to the QR solution, and deletes the files.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

_BLOCK = 1 << 16

_FIT = """
import sys, time
import numpy as np
from statlogit import SketchedLinearRegression
path, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
X = np.memmap(path + "/X.dat", dtype=np.float64, mode="r", shape=(n, d))
y = np.load(path + "/y.npy")
start = time.perf_counter()
model = SketchedLinearRegression(random_state=0).fit(X, y)
print(f"fit {time.perf_counter() - start:.2f} s, {model.n_iter_} iterations")
np.save(path + "/coef.npy", np.r_[model.intercept_, model.coef_])
"""


def write_problem(path, n, d, seed=0):
    """X (memory map, row blocks) and y = 1 + X beta + noise; returns the QR solution."""
    rng = np.random.default_rng(seed)
    beta = np.linspace(-1.0, 1.0, d)
    mixing = np.eye(d) + 0.3 * rng.standard_normal((d, d)) / np.sqrt(d)
    X = np.memmap(os.path.join(path, "X.dat"), dtype=np.float64, mode="w+", shape=(n, d))
    y = np.empty(n)
    r = np.zeros((0, d + 2))
    for start in range(0, n, _BLOCK):
        rows = slice(start, min(start + _BLOCK, n))
        block = rng.standard_normal((rows.stop - rows.start, d)) @ mixing + 2.0
        y[rows] = 1.0 + block @ beta + rng.standard_normal(block.shape[0])
        X[rows] = block
        stacked = np.vstack([r, np.column_stack([np.ones(block.shape[0]), block, y[rows]])])
        r = np.linalg.qr(stacked, mode="r")
    X.flush()
    del X
    np.save(os.path.join(path, "y.npy"), y)
    return np.linalg.solve(r[: d + 1, : d + 1], r[: d + 1, d + 1])


def fit_under_time(path, n, d):
    """Run the fit in a subprocess under /usr/bin/time -v; returns (stdout, stderr)."""
    env = {**os.environ, **{k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                              "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}}
    done = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-c", _FIT, path, str(n),
                           str(d)], capture_output=True, text=True, env=env, check=True)
    return done.stdout, done.stderr


def _field(stderr, name):
    match = re.search(rf"{re.escape(name)}.*?: (.*)", stderr)
    return match.group(1).strip() if match else "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log2-n", type=int, default=23)
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--dir", default=None, help="where to write the map (a temp dir)")
    args = parser.parse_args()
    n, d = 1 << args.log2_n, args.d
    path = tempfile.mkdtemp(prefix="statlogit-memmap-", dir=args.dir)
    try:
        start = time.perf_counter()
        truth = write_problem(path, n, d)
        size = os.path.getsize(os.path.join(path, "X.dat"))
        print(f"## numpy memmap ({n}, {d}) float64, {size / 2**30:.2f} GiB on disk "
              f"(written with the QR reference in {time.perf_counter() - start:.0f} s); "
              f"load average {os.getloadavg()[0]:.1f}\n")
        out, err = fit_under_time(path, n, d)
        coef = np.load(os.path.join(path, "coef.npy"))
    finally:
        shutil.rmtree(path, ignore_errors=True)
    peak_kb = int(_field(err, "Maximum resident set size"))
    difference = np.max(np.abs(coef - truth) / np.maximum(np.abs(truth), 1e-300))
    print(f"subprocess: {out.strip()}; user {_field(err, 'User time')} s, system "
          f"{_field(err, 'System time')} s, wall {_field(err, 'Elapsed (wall clock)')}")
    print(f"Maximum resident set size: {peak_kb / 1024:.0f} MiB "
          f"({peak_kb / 1024 / (size / 2**20):.3f} of the map; goal < 1024 MiB)")
    print(f"max relative coefficient difference vs blocked QR of [1 | X | y]: "
          f"{difference:.1e}")


if __name__ == "__main__":
    main()
