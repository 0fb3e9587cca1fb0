"""Start-up costs a newcomer meets: import time and the first fit of every family.

Each measurement runs in a fresh interpreter (``subprocess``), as a user's first script
does. Three columns per family:

- ``cold``: first fit with an empty numba cache (compilation included);
- ``warm``: first fit in a new process once the cache is on disk (what every later
  session pays);
- import: ``import statlogit`` (lazy: it loads no family) and each family's own import,
  against importing what statlogit cannot avoid (``sklearn.base``, ``scipy.stats``,
  ``pandas``), median of repeated fresh processes. The first-fit columns start after the
  family's import; numba is imported by the first kernel call, so they include it.

Run ``python -m benchmarks.bench_startup``.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile

#: One small first fit per family, after ``import statlogit``.
FIRST_FITS = {
    "ordinal": (
        "from statlogit.datasets import make_presto_ordinal\n"
        "X, y = make_presto_ordinal(n_samples=300, random_state=0)[:2]\n"
        "statlogit.PrestoClassifier(alpha=0.01).fit(X, y)"),
    "checkered": (
        "from statlogit.datasets import make_checkerboard\n"
        "X, y = make_checkerboard(n_samples=300, random_state=0)[:2]\n"
        "statlogit.CheckeredClassifier(n_hyperplanes=2, random_state=0).fit(X, y)"),
    "aggregate": (
        "from statlogit.datasets import make_aggregate_regression\n"
        "d = make_aggregate_regression(n_samples=300, n_features=5, random_state=0)\n"
        "statlogit.AggregateRegressor(rho=0.5).fit(d.X, d.y_bag, bags=d.bags)"),
    "rdd": (
        "from statlogit.datasets import make_r3d_package\n"
        "x, Y, _ = make_r3d_package(n_units=200, n_draws=20, random_state=0)\n"
        "statlogit.R3D(n_bootstrap=50, random_state=0).fit(x, Y)"),
    "expectations": (
        "from scipy import stats\n"
        "statlogit.MultipleExpectations(budget=2000, random_state=0).fit(\n"
        "    lambda X: X[:, 0] ** 2, stats.norm())"),
    "sketching": (
        "import numpy as np\n"
        "A = np.random.default_rng(0).standard_normal((4096, 8))\n"
        "statlogit.SketchedLinearRegression(random_state=0).fit(A, A @ np.ones(8))"),
}

TIMER = """
import json, time
start = time.perf_counter()
{imports}
imported = time.perf_counter()
{body}
done = time.perf_counter()
print(json.dumps({{"import": imported - start, "fit": done - imported}}))
"""


def _run(imports, body="", cache_dir=None):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    out = subprocess.run([sys.executable, "-c", TIMER.format(imports=imports, body=body)],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def import_times(repeats=7):
    """Median fresh-process import times: statlogit vs its unavoidable dependencies."""
    base = [_run("import sklearn.base, scipy.stats, pandas")["import"] for _ in range(repeats)]
    ours = [_run("import statlogit")["import"] for _ in range(repeats)]
    return statistics.median(base), statistics.median(ours)


def first_fit_times():
    """Per family: import seconds, cold (empty numba cache) and warm first-fit seconds."""
    rows = {}
    for family, body in FIRST_FITS.items():
        imports = f"import statlogit, statlogit.{family}"
        with tempfile.TemporaryDirectory() as cache:
            cold = _run(imports, body, cache)["fit"]
            warm = [_run(imports, body, cache) for _ in range(3)]
        rows[family] = (statistics.median(r["import"] for r in warm), cold,
                        min(r["fit"] for r in warm))
    return rows


def main():
    base, ours = import_times()
    print(f"import statlogit: {ours:.3f} s (lazy); unavoidable imports (sklearn.base, "
          f"scipy.stats, pandas): {base:.2f} s")
    print(f"{'family':<14}{'import (s)':>11}{'vs unavoidable':>16}{'cold fit (s)':>14}"
          f"{'warm fit (s)':>14}")
    for family, (imported, cold, warm) in first_fit_times().items():
        print(f"{family:<14}{imported:>11.2f}{imported / base:>15.2f}x{cold:>14.2f}"
              f"{warm:>14.2f}")
    print("goals: import <= 1.15x the unavoidable, warm first fit < 0.5 s after import, "
          "cold < 5 s per family")


if __name__ == "__main__":
    main()
