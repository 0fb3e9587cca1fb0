"""First fit of every aggregate estimator in a fresh process: cold and warm numba cache.

The family's share of ``benchmarks.bench_startup`` (same timer, same fresh interpreters),
with one line per estimator: ``cold`` is the first fit with an empty numba cache,
``warm`` the best of three first fits once the cache is on disk. Seconds after
``import statlogit``. Run ``python -m benchmarks.bench_aggregate_startup``.
"""

import os
import tempfile

from benchmarks.bench_startup import _run

SETUP = ("import numpy as np\n"
         "from statlogit.datasets import make_aggregate_regression\n"
         "d = make_aggregate_regression(n_samples=300, n_features=5, random_state=0)\n"
         "rng = np.random.default_rng(0)\n")
FIRST_FITS = {
    "AggregateRegressor": "statlogit.AggregateRegressor(rho=0.5).fit(d.X, d.y_bag, bags=d.bags)",
    "AggregateRegressorCV": "statlogit.AggregateRegressorCV().fit(d.X, d.y_bag, bags=d.bags)",
    "AggregateGLMRegressor": ("statlogit.AggregateGLMRegressor().fit(\n"
                              "    d.X, 1 / (1 + np.exp(-d.y_bag)), bags=d.bags)"),
    "AggregateClassifier": ("statlogit.AggregateClassifier().fit(\n"
                            "    d.X, (rng.random(300) < 0.5).astype(int), bags=d.bags)"),
    "AggregateClassifier(exact, 3 classes)": (
        "statlogit.AggregateClassifier(loss='exact').fit(\n"
        "    d.X, rng.integers(0, 3, 300), bags=d.bags)"),
}


def main():
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, body in FIRST_FITS.items():
        with tempfile.TemporaryDirectory() as cache:
            cold = _run("import statlogit", SETUP + body, cache)["fit"]
            warm = min(_run("import statlogit", SETUP + body, cache)["fit"] for _ in range(3))
        print(f"{name:40s} cold {cold:6.2f} s   warm {warm:6.3f} s", flush=True)


if __name__ == "__main__":
    main()
