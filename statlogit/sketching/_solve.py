r"""The two solvers behind :class:`~statlogit.SketchedLinearRegression`.

Both start from the sketch :math:`SA_0` of the unscaled design (see
:mod:`statlogit.sketching._design`) and make the problem scale-free and full-rank before
solving:

* **column scaling** :math:`c_j = 2^{-e_j}` with :math:`2^{e_j}` the magnitude of column
  :math:`j` of :math:`SA_0` (exact in floating point; columns from :math:`10^{-300}` to
  :math:`10^{300}` neither overflow nor underflow the Gram matrix);
* **zero columns**: a column whose sketch is below
  :math:`\max(m, d)\,u` times the terms centring cancelled (a constant column after the
  intercept's centring) is treated as exactly zero;
* **rank** by the singular values of the scaled sketch, with LAPACK's threshold
  :math:`\max(m, d)\,u\,\sigma_1`. A rank-deficient design (no ridge) is solved on its
  row space :math:`A_0 \operatorname{diag}(c) V_r` and the null space
  :math:`N = \operatorname{diag}(c) V_\perp` (orthonormalised) is projected out of the
  answer, which is then the *minimum-norm* least-squares solution in the original
  coordinates, as ``numpy.linalg.lstsq`` returns it.

Ridge (``alpha``, :math:`\alpha\|x\|^2` in the original coordinates) adds
:math:`\alpha c_j^2` to the diagonal of the scaled problem; its preconditioner is the R
of :math:`[SA; \sqrt{\alpha}\operatorname{diag}(c)]`.
"""

import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse
from sklearn.exceptions import ConvergenceWarning

_EPS = np.finfo(float).eps


@dataclass
class _Fit:
    """What a solver returns: raw coefficients (d, k) and what inference needs."""

    coef: np.ndarray
    rank: int
    n_iter: int
    linf_bound: np.ndarray
    bread: np.ndarray = None  # (A_0' A_0 + alpha I)^{-1} or its sketched version
    sketch: np.ndarray = None  # sketch-and-solve: S A_0 and S b residuals for the sandwich
    sketch_residual: np.ndarray = None
    rss: float = None  # exact mode, converged: sum of squared residuals at coef (scaled b)

    def rescale(self, factor):
        """Undo the response's power-of-two scaling (exact)."""
        self.coef = self.coef * factor
        self.linf_bound = self.linf_bound * factor
        if self.sketch_residual is not None:
            self.sketch_residual = self.sketch_residual * factor
        if self.rss is not None:
            self.rss = self.rss * factor**2


class _Scaled:
    """Column scaling, zero columns, rank and null space of a sketch (see the module)."""

    def __init__(self, sa, reference, alpha, with_null_space=True):
        m, d = sa.shape
        magnitude = np.max(np.abs(sa), axis=0)
        self.zero = magnitude <= max(m, d) * _EPS * reference
        exponents = np.frexp(np.where(self.zero | (magnitude == 0.0), 1.0, magnitude))[1]
        self.scale = np.ldexp(1.0, -exponents)
        self.sa = sa * self.scale
        self.sa[:, self.zero] = 0.0
        self.penalty = alpha * self.scale**2 if alpha > 0 else np.zeros(d)
        if not np.all(np.isfinite(self.penalty)):
            raise ValueError(
                f"alpha={alpha} with columns of X below 1e-150 overflows the penalty; "
                "rescale those columns of X or use alpha=0.")
        # singular values and right vectors of SA from those of its R (d x d): the
        # O(m d^2) work is one QR, whose R also preconditions a full-rank design
        self.r = _triangular_factor(self.sa)
        _, singular, vt = np.linalg.svd(self.r, full_matrices=False)
        self.singular, self.vt = singular, vt
        top = singular[0] if singular.size else 0.0
        self.rank = int(np.sum(singular > max(m, d) * _EPS * top)) if top > 0 else 0
        if alpha > 0:
            self.rank = d
        self.transform, self.null = None, None
        if self.rank < d and alpha == 0:
            self.transform = vt[: self.rank].T.copy()
            self.transform[self.zero] = 0.0
            if with_null_space:
                self.null = vt[self.rank:].T.copy()

    def confirmed_by(self, design):
        r"""Whether the sketch's null space is one of the design's (one read of it).

        A sketch can lose rank that the design has (a CountSketch with colliding
        high-leverage rows, or a sketch nearly as tall as the data); then
        :math:`\|A_0\,\operatorname{diag}(c) v\|` is not small for its null vectors
        :math:`v` (zero columns, decided separately, are left out).
        """
        if self.transform is None:
            return True
        null = self.vt[self.rank:].T.copy()
        null[self.zero] = 0.0
        norms = design.product_norms(null * self.scale[:, None])
        return bool(np.all(norms <= 1e-8 * max(self.singular[0], np.finfo(float).tiny)))

    def minimum_norm(self, z):
        r"""Raw coefficients of least norm :math:`x = D(z + Vc)` from a solution ``z``.

        ``z`` (d, k) solves the scaled problem, :math:`V` spans its null space and
        :math:`D = \operatorname{diag}(c)`; :math:`c` minimises :math:`\|D(z + Vc)\|`,
        computed with :math:`D / \max D` (exact, no overflow whatever the scales).
        """
        if self.null is None:
            return z * self.scale[:, None]
        relative = self.scale / self.scale.max()
        shift = np.linalg.lstsq(relative[:, None] * self.null, relative[:, None] * z,
                                rcond=None)[0]
        return (z - self.null @ shift) * self.scale[:, None]


_GRAM_KAPPA = 3e6  # kappa(R) below which the Gram route's u kappa^2 is refined away


def exact_solve(design, b, operator, *, alpha, tol, max_iter):
    r"""Sketch-and-precondition with iterative refinement; ``b`` is (n, k).

    Passes over the design: the sketch, one pass forming the preconditioned Gram
    matrix and :math:`W^\top A^\top b` (the first solution costs no extra read, see
    :meth:`~statlogit.sketching._design._CentredDesign.preconditioned_gram` for the
    route by :math:`\kappa(R)`), then one per refinement step.
    """
    d = design.n_features
    scaled = _Scaled(design.sketch(operator), design.sketch_reference_, alpha)
    if not scaled.confirmed_by(design):
        return None
    design.set_transform(scaled.scale, scaled.transform)
    k = b.shape[1]
    if scaled.rank == 0:
        return _Fit(np.zeros((d, k)), 0, 1, np.zeros(k), bread=np.zeros((d, d)))
    sa = scaled.sa if scaled.transform is None else scaled.sa @ scaled.transform
    penalty = scaled.penalty if scaled.transform is None else np.zeros(scaled.rank)
    if scaled.transform is None and alpha == 0:
        r_sketch, singular = scaled.r, scaled.singular
    else:
        r_sketch = _triangular_factor(np.vstack([sa, np.diag(np.sqrt(penalty))]))
        singular = np.linalg.svd(r_sketch, compute_uv=False)
    w = _upper_inverse(r_sketch)
    kappa = singular[0] / singular[-1] if singular[-1] > 0 else np.inf
    routes = ["gram"] if kappa < _GRAM_KAPPA or scipy.sparse.issparse(design.X) else [
        "b32", "b"]
    for route in routes:
        gram, h0 = design.preconditioned_gram(w, penalty, b, route=route)
        r_chol = _cholesky(gram)
        if r_chol is not None:
            break
    else:
        return None
    inverse = w @ _upper_inverse(r_chol)  # F^{-1} with F'F ~ A'A + P
    y0 = scipy.linalg.solve_triangular(r_chol, h0, trans="T", check_finite=False)
    # ||b - A x0||^2 = ||b||^2 - ||y0||^2 (no penalty): the first residual, for free
    rss0 = max(float(np.sum(b * b)) - float(np.sum(y0 * y0)), 0.0)
    z, n_iter, last_step, rss = _refine(design, b, inverse, penalty, tol, max_iter,
                                        inverse @ y0, rss0)
    coef = scaled.minimum_norm(z if scaled.transform is None else scaled.transform @ z)
    expand = _expansion(scaled)
    bread = expand @ inverse @ inverse.T @ expand.T
    return _Fit(coef, scaled.rank, n_iter, np.max(np.abs(expand @ last_step), axis=0),
                bread=0.5 * (bread + bread.T), rss=rss)


def _upper_inverse(r):
    """Inverse of an upper-triangular matrix (upper triangular)."""
    return scipy.linalg.solve_triangular(r, np.eye(r.shape[0]), check_finite=False)


def _expansion(scaled):
    """The matrix :math:`\\operatorname{diag}(c)\\,T` from solver to raw coordinates."""
    diag = np.diag(scaled.scale)
    return diag if scaled.transform is None else diag @ scaled.transform


def _cholesky(gram):
    try:
        r_chol = scipy.linalg.cholesky(gram, lower=False, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    return r_chol if np.all(np.isfinite(r_chol)) else None


def _refine(design, b, inverse, penalty, tol, max_iter, coef, rss0):
    r"""Iterative refinement on the corrected semi-normal equations.

    From the first solution ``coef`` (iteration 1),
    :math:`z \leftarrow z + F^{-1}F^{-\top}(A^\top(b - Az) - Pz)`, one read of
    :math:`A` per step, until the relative step is below ``tol`` or, with the observed
    contraction :math:`\rho = \|s_k\|/\|s_{k-1}\| \le 1/4`, the next one would be
    (:math:`\rho\|s_k\| \le` ``tol`` :math:`\|z\|`); stops quietly when the steps
    stall at the attainable accuracy (:func:`_attainable_error`) and warns with a
    ``ConvergenceWarning`` if they stall far above it or ``max_iter`` is reached. When
    that level already exceeds :math:`\|z\|` at the first solution (``rss0`` its
    residual sum of squares), no digit is attainable and no step is taken.
    """
    previous = np.linalg.norm(coef)
    step = coef.copy()
    rss = None
    singular = np.linalg.svd(inverse, compute_uv=False)
    if _attainable_error(singular, coef, np.sqrt(rss0)) >= previous:
        return coef, 1, step, rss0 if not penalty.any() else None
    for iteration in range(2, max_iter + 1):
        residual_norm, gradient = design.residual_gradient(b, coef)
        step = _solve_normal(inverse, gradient - penalty[:, None] * coef)
        coef += step
        step_size = np.linalg.norm(step)
        target = tol * np.linalg.norm(coef)
        ratio = step_size / previous if previous > 0 else 0.0
        if step_size <= target or (ratio <= 0.25 and ratio * step_size <= target):
            # ||b - A(x + s)||^2 = ||r||^2 - 2 s'A'r + s'A'A s = ||r||^2 - s'g (A'A s = g)
            rss = max(residual_norm**2 - float(np.sum(step * gradient)), 0.0)
            break
        attainable = _attainable_error(singular, coef, residual_norm)
        if ratio > 0.5 or attainable >= np.linalg.norm(coef):
            # stalled, or no digit is attainable (Wedin): one step reaches the floor
            rss = max(residual_norm**2 - float(np.sum(step * gradient)), 0.0)
            if step_size > 100.0 * attainable:
                _warn_not_converged(step_size, coef, iteration, tol, max_iter,
                                    stagnated=True)
            break
        previous = step_size
    else:
        iteration = max_iter
        _warn_not_converged(np.linalg.norm(step), coef, iteration, tol, max_iter,
                            stagnated=False)
    return coef, iteration, step, rss if not penalty.any() else None


def _warn_not_converged(step_size, coef, iteration, tol, max_iter, *, stagnated):
    relative = step_size / max(np.linalg.norm(coef), np.finfo(float).tiny)
    reason = ("stagnated: the design's conditioning limits the attainable accuracy "
              "(numpy.linalg.lstsq is limited alike)" if stagnated else
              "increase max_iter")
    warnings.warn(
        f"Iterative refinement did not reach tol={tol} after {iteration} "
        f"iterations (max_iter={max_iter}; last relative step {relative:.2e}); "
        f"{reason}.", ConvergenceWarning, stacklevel=5)


def sketch_and_solve(design, b, operator, *, alpha, delta):
    """The paper's estimator :math:`\\arg\\min_x \\|S(A_0x - b)\\|^2 + \\alpha\\|x\\|^2`."""
    d, k = design.n_features, b.shape[1]
    sketched = design.sketch(operator, b)
    m = sketched.shape[0]
    sa, sb = sketched[:, :d], sketched[:, d:]
    scaled = _Scaled(sa, design.sketch_reference_, alpha)
    if not scaled.confirmed_by(design):
        return None
    if alpha > 0:
        stacked = np.vstack([scaled.sa, np.diag(np.sqrt(scaled.penalty))])
        z = np.linalg.solve(stacked.T @ stacked, scaled.sa.T @ sb) if d else np.zeros((0, k))
        gram_inverse = np.linalg.inv(stacked.T @ stacked)
    else:
        r = scaled.rank
        basis = scaled.vt[:r].T / scaled.singular[:r]
        z = basis @ ((scaled.sa @ basis).T @ sb)  # V S^-1 U' Sb: no squared condition
        gram_inverse = basis @ basis.T
    coef = scaled.minimum_norm(z)
    residual = sb - sa @ coef
    if scaled.rank < d:
        warnings.warn(
            f"The sketched design has numerical rank {scaled.rank} < {d} features; "
            "returning the minimum-norm solution of the sketched problem.",
            UserWarning, stacklevel=4)
        bound = np.full(k, math.inf)
    else:
        diag = np.diag(gram_inverse) * scaled.scale**2
        bound = _linf_bound(diag, residual, m, d, delta)
    bread = gram_inverse * np.outer(scaled.scale, scaled.scale)
    return _Fit(coef, scaled.rank, 1, bound, bread=bread, sketch=sa,
                sketch_residual=residual)


def _triangular_factor(matrix):
    """The R of a thin QR, with a non-negative diagonal."""
    r = scipy.linalg.qr(matrix, mode="r", check_finite=False)[0][: matrix.shape[1]]
    signs = np.where(np.diag(r) < 0.0, -1.0, 1.0)
    return r * signs[:, None]


def _attainable_error(singular, coef, residual_norm):
    r"""Forward-error level of least squares in double precision (Wedin's bound).

    :math:`u\,(\kappa + \kappa^2 \|r\| / (\|A\|\|x\|))\,\|x\|` with :math:`\kappa`
    and :math:`\|A\|` read off the factor (``singular``: the singular values of its
    inverse): no solver, LAPACK included, can promise better; the refinement stops
    quietly once its steps stall at this level.
    """
    kappa = singular[0] / singular[-1]
    coef_norm = max(np.linalg.norm(coef), np.finfo(float).tiny)
    ratio = residual_norm * singular[-1] / coef_norm
    return _EPS * (kappa + kappa**2 * ratio) * coef_norm


def _solve_normal(inverse, g):
    r""":math:`F^{-1}F^{-\top} g` from the explicit upper-triangular :math:`F^{-1}`."""
    return inverse @ (inverse.T @ g)


def _linf_bound(inverse_gram_diag, sketched_residual, m, d, delta):
    r"""A-posteriori estimate of the sketch-and-solve coordinate error, per response.

    :math:`\sqrt{2\ln(2d/\delta)}\,\hat\sigma_r \max_j \sqrt{[(SA)^\top SA]^{-1}_{jj}
    /(m-d-1)}` with :math:`\hat\sigma_r = \|S(Ax'-b)\|\sqrt{m/(m-d)}`.
    """
    k = sketched_residual.shape[1]
    if m <= d + 1:
        return np.full(k, math.inf)
    sigma_r = np.linalg.norm(sketched_residual, axis=0) * math.sqrt(m / (m - d))
    quantile = math.sqrt(2.0 * math.log(2.0 * d / delta))
    return quantile * sigma_r * math.sqrt(inverse_gram_diag.max() / (m - d - 1))
