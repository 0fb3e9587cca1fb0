"""FISTA lasso (statlogit.solvers.fista) against scikit-learn's coordinate-descent Lasso."""

import numpy as np
from sklearn.linear_model import Lasso

from benchmarks._harness import Case, report
from statlogit.solvers import fista, prox_l1


def fista_lasso(X, y, alpha, tol=1e-10):
    """The lasso (1/2n)||y - Xw||^2 + alpha ||w||_1 (centred data) by FISTA."""
    n = X.shape[0]
    lipschitz = np.linalg.norm(X, 2) ** 2 / n

    def smooth(w):
        r = X @ w - y
        return 0.5 * (r @ r) / n, X.T @ r / n

    return fista(smooth, lambda v, t: prox_l1(v, alpha * t), np.zeros(X.shape[1]),
                 step=1.0 / lipschitz, tol=tol, max_iter=100_000).x


def cases():
    out = []
    for n, p in [(1000, 50), (10_000, 200)]:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n, p))
        X -= X.mean(axis=0)
        beta = np.zeros(p)
        beta[:10] = rng.standard_normal(10)
        y = X @ beta + rng.standard_normal(n)
        y -= y.mean()
        alpha = 0.05
        out.append(Case(
            name=f"lasso n={n} p={p}",
            ours=lambda X=X, y=y, a=alpha: fista_lasso(X, y, a),
            peer=lambda X=X, y=y, a=alpha: Lasso(alpha=a, fit_intercept=False,
                                                 tol=1e-12, max_iter=100_000).fit(X, y).coef_,
            peer_name="sklearn Lasso (CD)",
            check=lambda a, b: f"max|dcoef|={np.max(np.abs(a - b)):.1e}",
        ))
    return out


if __name__ == "__main__":
    report(cases(), title="FISTA lasso vs scikit-learn Lasso")
