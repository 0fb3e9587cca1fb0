"""
Churn that logistic regression cannot see: checkered regression on an XOR pattern
=================================================================================

A subscription service loses its *young, high-income* customers and its *older,
low-income* ones; the other two groups stay. The churn risk is an XOR of two
thresholds, so no single line separates it and logistic regression sits near a
coin flip. :class:`statlogit.CheckeredClassifier` with two hyperplanes models the
label as the parity of two logistic "coins" and recovers the four quadrants, with
probabilities.
"""

# %%
# The data: a pandas frame in, named columns and string labels
# -------------------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from statlogit import CheckeredClassifier

rng = np.random.default_rng(0)
n = 600
customers = pd.DataFrame({
    "age": rng.uniform(18, 75, n).round(),
    "income (k$)": rng.lognormal(np.log(45), 0.45, n).round(1),
})
young = customers["age"] < 40
rich = customers["income (k$)"] > 45
risk = np.where(young == rich, 0.88, 0.12)  # churn probability per quadrant
churn = pd.Series(np.where(rng.uniform(size=n) < risk, "leaves", "stays"), name="churn")
customers.head()

# %%
# Cross-validated comparison: a summary table
# -------------------------------------------
# Both models get standardised inputs (the penalty ``C`` acts on raw coefficients).
models = {
    "logistic regression": make_pipeline(StandardScaler(), LogisticRegression()),
    "checkered, m = 2": make_pipeline(
        StandardScaler(), CheckeredClassifier(n_hyperplanes=2, random_state=0)),
}
rows = {}
for name, model in models.items():
    scores = cross_validate(model, customers, churn, cv=5,
                            scoring=["accuracy", "neg_log_loss"])
    rows[name] = {"accuracy": scores["test_accuracy"].mean(),
                  "log-loss": -scores["test_neg_log_loss"].mean(),
                  "fit seconds": scores["fit_time"].mean()}
summary = pd.DataFrame(rows).T
# the yardstick: the true churn probabilities of these customers
truth = pd.DataFrame({"leaves": risk, "stays": 1.0 - risk})
summary.loc["true probabilities (Bayes)"] = [
    accuracy_score(churn, truth.idxmax(axis=1)),
    log_loss(churn, truth, labels=["leaves", "stays"]), np.nan]
print(summary.round(3))

# %%
# The fitted regions
# ------------------
# ``plot`` draws the decision regions and the two hyperplanes on the fitted
# feature names, with the customers on top.
clf = CheckeredClassifier(n_hyperplanes=2, random_state=0).fit(customers, churn)
fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
clf.plot(ax=ax, X=customers, y=churn)
ax.set_title("churn regions of a checkered fit, m = 2")
proba = pd.DataFrame(clf.predict_proba(customers.head(3)), columns=clf.classes_)
print(proba.round(3))
plt.show()
