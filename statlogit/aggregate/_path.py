r"""Linear algebra of the :math:`\rho`-estimator: one decomposition for the whole path.

The centred design is equilibrated (each column divided by its largest absolute value,
unless a ridge penalty fixes the units) and reduced to its triangular factor by a
blocked Householder QR (TSQR: no copy of ``X`` is made and the Gram matrix is never
formed, so the condition number is not squared). The SVD of the triangular factor
decides the numerical rank as ``numpy.linalg.lstsq`` does: singular values above
``max(n, p) * eps * s_max`` are kept.
"""

from dataclasses import dataclass

import numpy as np
import scipy.linalg

__all__ = ["RhoPath", "build_rho_path"]

#: Rows per block of the blocked QR (no copy of X is made).
BLOCK_ROWS = 65_536
#: Smallest pivot 1 + (rho - 1) lambda accepted before a rho is called infeasible.
PIVOT_TOL = 1e-10


@dataclass
class RhoPath:
    r"""One generalised eigendecomposition serving every :math:`\rho`.

    With :math:`H = X^\top X + n\alpha I` (centred when there is an intercept),
    :math:`A_2 = X^\top(I-P)X` the within-bag scatter and :math:`b = X^\top P y`,
    the pencil :math:`A_2 v = \lambda H v` with :math:`V^\top H V = I` gives
    :math:`A_1 + n\alpha I + \rho A_2 = V^{-\top}(I + (\rho-1)\Lambda)V^{-1}`, so

    .. math:: \hat\theta_\rho = V \operatorname{diag}\bigl(1/(1 + (\rho-1)\lambda_j)\bigr)
              V^\top b ,

    :math:`O(p^2)` per :math:`\rho` after the :math:`O(np^2)` decomposition. Directions
    outside the numerical row space of the design are dropped, which gives the
    minimum-norm solution (in equilibrated units).

    Attributes
    ----------
    basis : numpy.ndarray of shape (p, r)
        :math:`V`, restricted to the numerical row space of the design.
    eigenvalues : numpy.ndarray of shape (r,)
        :math:`\lambda_j \in [0, 1]`, the share of within-bag scatter per direction.
    projected_target : numpy.ndarray of shape (r,)
        :math:`V^\top b`.
    x_mean : numpy.ndarray of shape (p,)
        Column means of ``X`` (zeros without intercept).
    y_mean : float
        Size-weighted mean of the bag responses (zero without intercept).
    """

    basis: np.ndarray
    eigenvalues: np.ndarray
    projected_target: np.ndarray
    x_mean: np.ndarray
    y_mean: float

    @property
    def rank(self):
        return self.basis.shape[1]

    def pivots(self, rhos):
        """The pivots :math:`1 + (\\rho-1)\\lambda_j`, shape (len(rhos), r)."""
        return 1.0 + (np.asarray(rhos, dtype=float)[:, None] - 1.0) * self.eigenvalues

    def feasible(self, rhos):
        """Whether the objective has a unique minimiser at each ``rho``."""
        return np.all(self.pivots(rhos) > PIVOT_TOL, axis=1)

    def coefs(self, rhos):
        """Coefficients and intercepts for every ``rho``: (len(rhos), p), (len(rhos),).

        Raises
        ------
        ValueError
            If some ``rho`` has no unique minimiser (bag-level loss with fewer bags
            than features).
        """
        rhos = np.asarray(rhos, dtype=float)
        bad = ~self.feasible(rhos)
        if np.any(bad):
            raise ValueError(
                f"rho={rhos[bad][0]:g} has no unique minimiser: the bag-mean design "
                "is rank deficient (fewer bags than features, or collinear bag "
                "means). Use rho > 0, alpha > 0 or more bags."
            )
        coefs = (self.projected_target / self.pivots(rhos)) @ self.basis.T
        intercepts = self.y_mean - coefs @ self.x_mean
        require_finite_coefficients(coefs, intercepts)
        return coefs, intercepts


def _column_scales(X, fit_intercept, alpha, weights):
    """Column means (weighted) and equilibrating scales, block by block."""
    n, p = X.shape
    top = np.zeros(p)
    for start in range(0, n, BLOCK_ROWS):
        block = X[start:start + BLOCK_ROWS][weights[start:start + BLOCK_ROWS] > 0]
        if block.shape[0]:
            top = np.maximum(top, np.max(np.abs(block), axis=0))
    scale = np.where(top > 0, top, 1.0) if alpha == 0 else np.ones(p)
    if not fit_intercept:
        return np.zeros(p), scale
    total = np.zeros(p)
    for start in range(0, n, BLOCK_ROWS):
        total += weights[start:start + BLOCK_ROWS] @ (X[start:start + BLOCK_ROWS] / scale)
    return total / weights.sum() * scale, scale


def _triangular_factor(X, shift, scale, weights):
    """R of the QR of :math:`W^{1/2}(X - s)/c`, block by block (TSQR)."""
    p = X.shape[1]
    R = np.zeros((0, p))
    for start in range(0, X.shape[0], BLOCK_ROWS):
        root = np.sqrt(weights[start:start + BLOCK_ROWS])[:, None]
        block = (X[start:start + BLOCK_ROWS] - shift) / scale * root
        stacked = np.asfortranarray(np.vstack([R, block]))
        factor, _, _, info = scipy.linalg.lapack.dgeqrf(stacked, overwrite_a=True)
        if info != 0:
            raise ValueError(f"The QR factorisation of X failed (LAPACK info={info}).")
        R = np.triu(factor[:p])
    return R


def build_rho_path(X, ybar, bags, *, fit_intercept=True, alpha=0.0, sample_weight=None):
    r"""Decompose the :math:`\rho`-pencil once (see :class:`RhoPath`).

    Parameters
    ----------
    X : numpy.ndarray of shape (n, p)
        Instance features (C-contiguous float64).
    ybar : numpy.ndarray of shape (m,)
        Per-bag responses, ordered as ``bags.labels``.
    bags : Bags
        The partition (from :func:`statlogit.aggregate.encode_bags`).
    fit_intercept : bool
        Centre ``X`` and ``ybar`` (the intercept is profiled out exactly).
    alpha : float
        Ridge penalty :math:`\alpha\lVert\theta\rVert^2` (objective divided by the total
        weight :math:`n`).
    sample_weight : numpy.ndarray of shape (n,), optional
        Instance weights :math:`w_i`: bag weights :math:`K_a = \sum_{i\in B_a} w_i`,
        bag means of the features weighted by :math:`w_i` (integer weights equal
        repeated rows).

    Returns
    -------
    RhoPath
    """
    n, p = X.shape
    weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    total_weight = weights.sum()
    sizes = bags.sums(weights)
    x_mean, scale = _column_scales(X, fit_intercept, alpha, weights)
    y_mean = float(sizes @ ybar / total_weight) if fit_intercept else 0.0
    # bag sums of the weighted, centred, equilibrated features
    sums = (bags.sums(X * weights[:, None] / scale) - sizes[:, None] * (x_mean / scale))
    R = _triangular_factor(X, x_mean, scale, weights)
    _, singular, vt = scipy.linalg.svd(R, full_matrices=False, check_finite=False)
    keep = singular > (singular[0] if singular.size else 0.0) * max(n, p) * np.finfo(float).eps
    if alpha > 0:
        keep = singular > 0
    singular, vt = singular[keep], vt[keep]
    damped = np.sqrt(singular**2 + total_weight * alpha)
    whiten = vt.T / damped                      # T: T' (Xc'Xc + n alpha) T = I on range
    positive = sizes > 0
    between = (sums[positive] / np.sqrt(sizes[positive])[:, None]) @ whiten
    within = np.diag((singular / damped) ** 2) - between.T @ between
    lam, rotation = np.linalg.eigh(within) if within.size else (np.zeros(0), np.zeros((0, 0)))
    basis = whiten @ rotation
    target = basis.T @ (sums.T @ (ybar - y_mean))
    return RhoPath(basis / scale[:, None], np.clip(lam, 0.0, 1.0), target, x_mean, y_mean)


def require_finite_coefficients(coefs, intercepts):
    """Refuse coefficients that overflow when taken back to the units of X."""
    if not (np.all(np.isfinite(coefs)) and np.all(np.isfinite(intercepts))):
        raise ValueError(
            "The coefficients overflow float64 at this scale of X and y; rescale "
            "X (e.g. standardise its columns) or y."
        )
