"""
Regression from bag means: diabetes progression reported per group of patients
===============================================================================

A registry knows every patient's covariates (age, BMI, blood pressure, six blood
serum measurements) but, for privacy, releases the one-year disease progression only
as the **mean over groups of ten patients** ("bags"). Can we still fit a per-patient
linear model? :class:`statlogit.AggregateRegressorCV` fits
:math:`\\rho`-interpolations between the bag-level loss (bag means against bag means,
:math:`\\rho=0`) and the instance-level loss (every patient fitted to his bag's mean,
:math:`\\rho=1`), and chooses :math:`\\rho` by a debiased cross-validation that uses the
bag means only.
"""

# %%
# Data: individual covariates, responses only as bag means
# --------------------------------------------------------
# scikit-learn's diabetes data (442 patients, bundled with scikit-learn). We keep 30 %
# of the patients aside with their individual responses to check the fits; the other
# 70 % are put into random bags of ten and only each bag's mean response is kept.
import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split

from statlogit import AggregateRegressor, AggregateRegressorCV
from statlogit.datasets import make_random_bags

X, y = load_diabetes(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
bags = make_random_bags(len(X_train), 10, random_state=0)
bag_mean = pd.Series(y_train.to_numpy()).groupby(bags).transform("mean").to_numpy()
print(f"{len(X_train)} training patients in {np.unique(bags).size} bags; "
      f"{len(X_test)} test patients")

# %%
# Choose rho from the bag means, then read the coefficients
# ---------------------------------------------------------
# Each training patient carries his bag's mean; ``bags`` tells the estimator which
# patients share a mean. Standard errors are clustered by bag.
model = AggregateRegressorCV(rhos=np.linspace(0, 1, 11), cv=5).fit(
    X_train, bag_mean, bags=bags)
print(f"rho chosen by bag-level CV: {model.rho_:g}")
print(model.summary())

# %%
# How good are the per-patient predictions?
# -----------------------------------------
# Test MSE on the held-out patients' *individual* responses, for the pure bag- and
# instance-level fits, the CV-tuned fit, and (for scale) ordinary least squares on the
# individual responses that the registry did not release.
fits = {"bag level (rho=0)": AggregateRegressor(rho=0.0),
        "instance level (rho=1)": AggregateRegressor(rho=1.0)}
rows = {name: est.fit(X_train, bag_mean, bags=bags).predict(X_test)
        for name, est in fits.items()}
rows[f"CV-tuned (rho={model.rho_:g})"] = model.predict(X_test)
rows["OLS on individual responses"] = LinearRegression().fit(X_train, y_train).predict(
    X_test)
table = pd.DataFrame({"test MSE": {name: np.mean((y_test.to_numpy() - pred) ** 2)
                                   for name, pred in rows.items()}})
print(table.round(0))
print(f"debiased bag-level CV estimate of the CV-tuned fit's MSE: {model.cv_mean_.min():.0f}")

# %%
# The CV-tuned fit beats both pure losses; the CV estimate, the minimum over the grid
# from only 31 bags, is noisy. OLS shows what the released bag means cost.

# %%
# The cross-validation curve: the debiased estimate of the per-patient MSE for each
# rho, from bag means only, with one-standard-error bars and the chosen rho.
ax = model.plot()
