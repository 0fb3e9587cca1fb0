"""
Least squares on a tall design: exact, fast, and honest (sketched least squares)
================================================================================

A retailer regresses two million transaction amounts on a handful of drivers.
:class:`statlogit.SketchedLinearRegression` gives the exact least-squares answer (the
sketch only preconditions the solve) with a statsmodels-style summary, or, in
``solver="sketch-and-solve"`` mode, a cheaper approximate answer whose standard errors
include the sketch's own randomness (Song, Ye, Yin & Zhang, 2023).
"""

# %%
# Data: a DataFrame of drivers
# ----------------------------
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from statlogit import SketchedLinearRegression

rng = np.random.default_rng(0)
n = 1 << 20
X = pd.DataFrame({
    "price": rng.lognormal(3.0, 0.4, n),
    "discount": rng.uniform(0, 0.3, n),
    "weekend": rng.integers(0, 2, n).astype(float),
    "temperature": rng.normal(15, 8, n),
})
y = (20 - 0.3 * X.price + 40 * X.discount + 5 * X.weekend + 0.1 * X.temperature
     + rng.standard_normal(n) * (2 + X.weekend))       # heteroskedastic noise

# %%
# Exact mode: the least-squares solution, robust standard errors
# --------------------------------------------------------------
start = time.perf_counter()
exact = SketchedLinearRegression(cov_type="HC1").fit(X, y)
print(f"exact fit: {time.perf_counter() - start:.2f} s")
print(exact.summary())

# %%
# The same coefficients as numpy's least squares:
design = np.column_stack([np.ones(n), X.to_numpy()])
reference = np.linalg.lstsq(design, y.to_numpy(), rcond=None)[0]
print("max difference to numpy lstsq:",
      np.abs(np.r_[exact.intercept_, exact.coef_] - reference).max())

# %%
# Sketch-and-solve: a fast approximation with honest intervals
# ------------------------------------------------------------
# The sketched estimate differs from the exact one by the sketch's error; its standard
# errors account for it, so its intervals are wider, and still cover.
fast = SketchedLinearRegression(solver="sketch-and-solve", eps=0.5, cov_type="HC1",
                                random_state=0).fit(X, y)
table = pd.DataFrame({
    "exact": exact.coef_, "exact se": exact.std_errors_[1:],
    "sketched": fast.coef_, "sketched se": fast.std_errors_[1:],
}, index=X.columns)
print(table)

fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
positions = np.arange(len(X.columns))
for shift, (name, model) in zip((-0.12, 0.12), (("exact", exact), ("sketch-and-solve", fast)),
                                   strict=True):
    bounds = model.conf_int(alpha=0.05).iloc[1:]
    ax.errorbar(positions + shift, model.coef_,
                yerr=[model.coef_ - bounds["lower"], bounds["upper"] - model.coef_],
                fmt="o", capsize=4, label=name)
ax.set_xticks(positions, X.columns)
ax.set_ylabel("coefficient (95 % interval)")
ax.legend()
plt.show()
