r"""Sketched least squares: exact sketch-and-precondition and the paper's sketch-and-solve.

Least squares :math:`x^* = \arg\min_x \|Ax - b\|_2` for tall :math:`A` (:math:`n \gg d`)
with a random sketch :math:`S \in \mathbb{R}^{m \times n}` (:mod:`statlogit.sketching.operators`).
"""

import copy
import math
import warnings

import numpy as np
import scipy.linalg
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from statlogit._validation import check_scalar
from statlogit.sketching.operators import SKETCHES, SketchOperator, make_sketch, sketch_size_rule
from statlogit.solvers.linear import weighted_lstsq

__all__ = ["SketchedLinearRegression"]

_SOLVERS = ("precondition", "sketch-and-solve")
_CHUNK_ROWS = 1 << 12
_PAIR_ROWS = 8


class SketchedLinearRegression(RegressorMixin, BaseEstimator):
    r"""Least squares through a random sketch: exact by default, the paper's mode on request.

    Minimises :math:`\|y - X\beta - \beta_0\|_2^2` for tall :math:`X` (n samples, d
    features). Write :math:`A` for the centred design and :math:`b` for the centred
    response (the intercept is :math:`\bar y - \bar x^\top \beta`).

    ``solver="precondition"`` (default, exact): sketch :math:`SA` with
    :math:`m \approx 4d` rows, take :math:`SA = QR`, so that :math:`AR^{-1}` is well
    conditioned; a Cholesky-QR pass in row chunks
    (:math:`G = R^{-\top}A^\top A R^{-1} = R_2^\top R_2`) gives
    :math:`\tilde R = R_2 R` with :math:`A \approx \tilde Q \tilde R`; then
    corrected semi-normal equations :math:`x \leftarrow x + \tilde R^{-1}\tilde
    R^{-\top} A^\top (b - Ax)` (iterative refinement) until the relative step is below
    ``tol``; each step reads :math:`A` once, forming the residual and the gradient
    chunk by chunk, with the gradient summed pairwise. Agrees with LAPACK
    (``numpy.linalg.lstsq``) to about ``tol`` relative while reading :math:`A` a few
    times instead of factorising it. For ill-conditioned designs with large residuals
    every double-precision solver is limited by
    :math:`u(\kappa + \kappa^2\|r\|/(\|A\|\|x\|))` (Wedin); there the refinement's
    error is set by the rounding of :math:`A^\top(b - Ax)`, which the pairwise sum
    keeps at LAPACK's level (median error ratio 1-2 against the exact solution for
    :math:`\kappa = 10^4`-:math:`10^6`); it stops quietly at that level and warns
    (``ConvergenceWarning``) if it stalls far above it.

    ``solver="sketch-and-solve"`` (approximate): :math:`x' = \arg\min_x
    \|SAx - Sb\|_2`. With a dense-mixing sketch (``"srht"``, ``"gaussian"``) and
    :math:`m = d + \lceil 2d\ln(2d/\delta)/\varepsilon^2 \rceil` rows,

    .. math:: \|x' - x^*\|_\infty \le \frac{\varepsilon}{\sqrt d}\,\|Ax^* - b\|_2\,
              \|A^+\|_2

    with probability about :math:`1-\delta` (Song, Ye, Yin & Zhang, 2023; rigorous for
    the Gaussian sketch, empirically calibrated for the SRHT). Sparse sketches
    (CountSketch, sparse sign, OSNAP) have no such guarantee and trigger a warning.
    Statistically, sketch-and-solve inflates the coefficient variance by about
    :math:`1 + (n-d)/(m-d-1)`: standard errors grow by about :math:`\sqrt{n/m}`.

    Parameters
    ----------
    sketch : str or SketchOperator, default="srht"
        One of ``"srht"``, ``"gaussian"``, ``"countsketch"``, ``"sparse_sign"``,
        ``"osnap"`` (see :mod:`statlogit.sketching.operators`), or an operator, whose own
        ``sketch_size`` and ``random_state`` are then used.
    sketch_size : int, optional
        Rows :math:`m` of the sketch, ``n_features <= m <= n_samples``. By default
        from ``eps`` and ``delta`` (:func:`statlogit.sketching.operators.sketch_size_rule`), or
        without ``eps`` :math:`4d` (precondition) / :math:`16d` (sketch-and-solve);
        a default larger than ``n_samples`` is capped there.
    eps : float in (0, 1], optional
        Target coordinate-wise accuracy of sketch-and-solve (sets ``sketch_size``).
    delta : float in (0, 1), default=0.01
        Failure probability used by the row rule and by ``linf_bound_``.
    solver : {"precondition", "sketch-and-solve"}, default="precondition"
    tol : float, default=1e-10
        Relative step size at which the refinement of ``"precondition"`` stops.
    max_iter : int, default=20
        Maximum refinement steps (each reads :math:`X` once).
    fit_intercept : bool, default=True
    random_state : None, int, SeedSequence or Generator
        Randomness of the sketch.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Refinement steps taken (1 for sketch-and-solve and for the rank-deficient
        fallback: a single direct solve).
    sketch_size_ : int
        The :math:`m` used.
    rank_ : int
        Numerical rank found for the (centred) design.
    linf_bound_ : float
        Estimated bound on :math:`\|\hat\beta - x^*\|_\infty` that holds with
        probability about :math:`1-\delta`. Sketch-and-solve:
        :math:`\sqrt{2\ln(2d/\delta)}\,\hat\sigma_r \max_j
        \sqrt{[(SA)^\top SA]^{-1}_{jj}/(m-d-1)}` with
        :math:`\hat\sigma_r = \|S(Ax'-b)\|\sqrt{m/(m-d)}` (exact in distribution for the
        Gaussian sketch); ``inf`` when :math:`m \le d+1`. Precondition: the size of
        the last refinement step, an upper estimate of the remaining error.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only with pandas input.

    Notes
    -----
    Rank-deficient designs: when the sketched factor is numerically singular the fit
    warns and returns the *minimum-norm* least-squares solution, computed by LAPACK
    ``gelsd`` on the full data (precondition) or on the sketched problem
    (sketch-and-solve). It never returns NaN.

    References
    ----------
    Z. Song, M. Ye, J. Yin, L. Zhang. A nearly-optimal bound for fast regression with
    :math:`\ell_\infty` guarantee. ICML 2023. H. Avron, P. Maymounkov, S. Toledo.
    Blendenpik: supercharging LAPACK's least-squares solver. SISC 2010.
    """

    def __init__(self, sketch="srht", sketch_size=None, eps=None, delta=0.01,
                 solver="precondition", tol=1e-10, max_iter=20, fit_intercept=True,
                 random_state=None):
        self.sketch = sketch
        self.sketch_size = sketch_size
        self.eps = eps
        self.delta = delta
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.random_state = random_state

    def fit(self, X, y):
        """Fit the coefficients; ``X`` (n_samples, n_features), ``y`` (n_samples,)."""
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float64, order="C", y_numeric=True)
        n, d = X.shape
        if n < d:
            raise ValueError(
                f"SketchedLinearRegression needs at least as many samples as features; "
                f"got n_samples={n}, n_features={d}. Add samples or drop features."
            )
        x_mean = X.mean(axis=0) if self.fit_intercept else np.zeros(d)
        y_mean = float(y.mean()) if self.fit_intercept else 0.0
        design = _CentredDesign(X, x_mean)
        operator = self._operator(n, d)
        self.sketch_size_ = operator.sketch_size
        if self.solver == "precondition":
            coef = self._fit_precondition(design, y - y_mean, operator)
        else:
            coef = self._fit_sketch_and_solve(design, y - y_mean, operator)
        self.coef_ = coef
        self.intercept_ = y_mean - float(x_mean @ coef) if self.fit_intercept else 0.0
        return self

    def predict(self, X):
        """Predicted responses :math:`X\\hat\\beta + \\hat\\beta_0`."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_ + self.intercept_

    # ------------------------------------------------------------------ setup
    def _check_params(self):
        if self.solver not in _SOLVERS:
            raise ValueError(f"solver must be one of {_SOLVERS}; got {self.solver!r}.")
        if not isinstance(self.sketch, SketchOperator) and self.sketch not in SKETCHES:
            raise ValueError(
                f"Unknown sketch {self.sketch!r}; use one of {sorted(SKETCHES)} or a "
                "statlogit.sketching.operators.SketchOperator."
            )
        check_scalar(self.delta, name="delta", lower=0.0, upper=1.0,
                     include_lower=False, include_upper=False)
        if self.eps is not None:
            check_scalar(self.eps, name="eps", lower=0.0, upper=1.0, include_lower=False)
        check_scalar(self.tol, name="tol", lower=0.0)
        check_scalar(self.max_iter, name="max_iter", lower=1, integer=True)
        if self.sketch_size is not None:
            check_scalar(self.sketch_size, name="sketch_size", lower=1, integer=True)

    def _operator(self, n, d):
        """The sketch operator, drawn for ``n`` rows, with a validated size."""
        if isinstance(self.sketch, SketchOperator):
            operator = copy.deepcopy(self.sketch)
            m = check_scalar(operator.sketch_size, name="sketch.sketch_size", lower=1,
                             integer=True)
        else:
            m = self._sketch_size(n, d)
            operator = make_sketch(self.sketch, m, random_state=self.random_state)
        if m < d or m > n:
            raise ValueError(
                f"sketch_size={m} must lie between n_features={d} and n_samples={n}: "
                "fewer rows than features cannot determine the coefficients and more "
                "rows than samples is slower than solving directly."
            )
        return operator.fit(n)

    def _sketch_size(self, n, d):
        if self.sketch_size is not None:
            return self.sketch_size
        multiple = 4 if self.solver == "precondition" else 16
        m = sketch_size_rule(d, self.eps, self.delta, multiple=multiple)
        if m > n and self.eps is not None:
            warnings.warn(
                f"eps={self.eps} needs sketch_size={m} > n_samples={n}; using n_samples "
                "rows. For an exact answer use solver='precondition'.", UserWarning,
                stacklevel=3)
        return max(d, min(m, n))

    # ---------------------------------------------------------------- solvers
    def _fit_precondition(self, design, b, operator):
        d = design.n_features
        r_sketch = _triangular_factor(design.sketch(operator))
        self.rank_ = _numerical_rank(r_sketch, operator.sketch_size)
        # the passes over A are chunk-sized BLAS calls, which threads only slow down
        # (2.1x on the benchmark's ill-conditioned case with two OpenBLAS threads)
        with threadpool_limits(limits=1, user_api="blas"):
            factor = _cholesky_qr_factor(design, r_sketch) if self.rank_ == d else None
            if factor is not None:
                return self._refine(design, b, factor)
        return self._minimum_norm_fallback(design, b)

    def _refine(self, design, b, factor):
        """Iterative refinement on the corrected semi-normal equations."""
        d = design.n_features
        coef = np.zeros(d)
        residual_norm, gradient = design.residual_gradient(b, coef)
        previous = np.inf
        for iteration in range(1, self.max_iter + 1):
            step = _solve_normal(factor, gradient)
            coef += step
            step_size = np.linalg.norm(step)
            if step_size <= self.tol * np.linalg.norm(coef):
                break
            if step_size > 0.5 * previous:
                if step_size > 100.0 * _attainable_error(factor, coef, residual_norm):
                    self._warn_not_converged(step_size, coef, iteration, stagnated=True)
                break
            previous = step_size
            residual_norm, gradient = design.residual_gradient(b, coef)
        else:
            self._warn_not_converged(step_size, coef, iteration, stagnated=False)
        self.n_iter_ = iteration
        self.linf_bound_ = float(np.max(np.abs(step)))
        return coef

    def _warn_not_converged(self, step_size, coef, iteration, *, stagnated):
        relative = step_size / max(np.linalg.norm(coef), np.finfo(float).tiny)
        reason = ("stagnated: the design's conditioning limits the attainable accuracy "
                  "(numpy.linalg.lstsq is limited alike)" if stagnated else
                  "increase max_iter")
        warnings.warn(
            f"Iterative refinement did not reach tol={self.tol} after {iteration} "
            f"iterations (max_iter={self.max_iter}; last relative step {relative:.2e}); "
            f"{reason}.", ConvergenceWarning, stacklevel=4)

    def _fit_sketch_and_solve(self, design, b, operator):
        if not operator.dense_mixing:
            warnings.warn(
                f"sketch-and-solve with the sparse sketch {type(operator).__name__} has "
                "no coordinate-wise (l-infinity) guarantee: on coherent designs the "
                "error can concentrate on single coefficients. Use sketch='srht' or "
                "'gaussian', or solver='precondition'.", UserWarning, stacklevel=3)
        d = design.n_features
        m = operator.sketch_size
        sketched = design.sketch(operator, b)
        sa, sb = sketched[:, :d], sketched[:, d]
        coef, _, rank, _ = scipy.linalg.lstsq(sa, sb, lapack_driver="gelsd")
        self.rank_ = int(rank)
        self.n_iter_ = 1
        if rank < d:
            warnings.warn(
                f"The sketched design has numerical rank {rank} < {d} features; "
                "returning the minimum-norm solution of the sketched problem.",
                UserWarning, stacklevel=3)
            self.linf_bound_ = math.inf
            return coef
        self.linf_bound_ = _linf_bound(sa, sb - sa @ coef, m, d, self.delta)
        return coef

    def _minimum_norm_fallback(self, design, b):
        warnings.warn(
            f"The design is numerically rank-deficient (rank {self.rank_} < "
            f"{design.n_features} features); returning the minimum-norm least-squares "
            "solution from LAPACK gelsd on the full data.", UserWarning, stacklevel=4)
        coef, rank = weighted_lstsq(design.dense(), b)
        self.rank_ = rank
        self.n_iter_ = 1
        self.linf_bound_ = 0.0
        return coef


class _CentredDesign:
    r"""The centred design :math:`A = X - \mathbf 1 \mu^\top`, never formed.

    Products and sketches go through :math:`X` and a rank-one correction, so the
    intercept costs no copy of :math:`X`.
    """

    def __init__(self, X, mean):
        self.X = X
        self.mean = mean
        self.centred = bool(np.any(mean != 0.0))
        self.n_features = X.shape[1]

    def chunks(self):
        """Row blocks of :math:`A` with their row slices (cache-sized; copies when centring)."""
        for start in range(0, self.X.shape[0], _CHUNK_ROWS):
            rows = slice(start, start + _CHUNK_ROWS)
            yield rows, self.X[rows] - self.mean if self.centred else self.X[rows]

    def residual_gradient(self, b, coef):
        r""":math:`\|r\|_2` and :math:`A^\top r` for :math:`r = b - Ax`, in one read of :math:`A`.

        The gradient is nearly zero while its terms :math:`a_{ij} r_i` are not: a plain
        ``r @ A`` accumulates rounding errors of about :math:`u\|a_j\|\|r\|` per
        coordinate, which :math:`(A^\top A)^{-1}` magnifies into the error floor of the
        refinement when the residual is large. Pairwise summation
        (:func:`_accurate_rmatvec`) leaves about :math:`u\|a_j\|\|r\|/\sqrt n`, the
        rounding of the products themselves.
        """
        squares, parts = 0.0, []
        for rows, block in self.chunks():
            residual = b[rows] - block @ coef
            squares += residual @ residual
            parts.append(_accurate_rmatvec(block, residual))
        return math.sqrt(squares), _pairwise_sum(np.array(parts))

    def dense(self):
        return self.X - self.mean

    def sketch(self, operator, *vectors):
        r""":math:`S[A \mid v_1 \mid \dots]` with :math:`SA = SX - (S\mathbf 1)\mu^\top`."""
        sx = operator.apply(self.X, check_input=False)
        if not vectors and not self.centred:
            return sx
        extra = operator.apply(np.column_stack([np.ones(self.X.shape[0]), *vectors]),
                               check_input=False)
        sx -= np.outer(extra[:, 0], self.mean)
        return np.hstack([sx, extra[:, 1:]])


def _triangular_factor(matrix):
    """The R of a thin QR, with a non-negative diagonal."""
    r = scipy.linalg.qr(matrix, mode="r", check_finite=False)[0][: matrix.shape[1]]
    signs = np.where(np.diag(r) < 0.0, -1.0, 1.0)
    return r * signs[:, None]


def _numerical_rank(r, m):
    """Rank of an upper-triangular factor by the LAPACK-style diagonal threshold."""
    diag = np.abs(np.diag(r))
    if diag.size == 0 or diag.max() == 0.0:
        return 0
    threshold = max(m, r.shape[1]) * np.finfo(float).eps * diag.max()
    return int(np.sum(diag > threshold))


def _cholesky_qr_factor(design, r_sketch):
    r""":math:`\tilde R = R_2 R` with :math:`R_2^\top R_2 = (AR^{-1})^\top(AR^{-1})`.

    One read of :math:`A` in row chunks. When the sketched factor shows a modest
    condition number (:math:`\kappa < 10^3`) the Gram matrix :math:`A^\top A` is
    accumulated (BLAS ``syrk``, the fastest pass) and preconditioned afterwards,
    :math:`R^{-\top}A^\top A R^{-1}`: its rounding error, about
    :math:`u\kappa^2 \le 10^{-10}`, is removed by the refinement. Otherwise
    :math:`AR^{-1}` is formed chunk by chunk (``trsm``) before its Gram matrix, which
    stays accurate to :math:`u` whatever :math:`\kappa` (Cholesky-QR on a
    well-conditioned matrix). ``None`` when the Cholesky factorisation fails
    (numerically rank-deficient :math:`A`).
    """
    d = design.n_features
    gram = np.zeros((d, d))
    if np.linalg.cond(r_sketch) < 1e3:
        for _, block in design.chunks():
            gram += block.T @ block
        half = scipy.linalg.solve_triangular(r_sketch, gram, trans="T",
                                             check_finite=False)
        gram = scipy.linalg.solve_triangular(r_sketch, half.T, trans="T",
                                             check_finite=False)
        gram = 0.5 * (gram + gram.T)
    else:
        for _, block in design.chunks():
            y_t = scipy.linalg.solve_triangular(r_sketch, block.T, trans="T",
                                                check_finite=False)
            gram += y_t @ y_t.T
    try:
        r_chol = scipy.linalg.cholesky(gram, lower=False, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(r_chol)):
        return None
    return r_chol @ r_sketch


def _attainable_error(factor, coef, residual_norm):
    r"""Forward-error level of least squares in double precision (Wedin's bound).

    :math:`u\,(\kappa + \kappa^2 \|r\| / (\|A\|\|x\|))\,\|x\|` with :math:`\kappa`
    and :math:`\|A\|` read off :math:`\tilde R`: no solver, LAPACK included, can
    promise better; the refinement stops quietly once its steps stall at this level.
    """
    singular = np.linalg.svd(factor, compute_uv=False)
    kappa = singular[0] / singular[-1]
    coef_norm = max(np.linalg.norm(coef), np.finfo(float).tiny)
    ratio = residual_norm / (singular[0] * coef_norm)
    return np.finfo(float).eps * (kappa + kappa**2 * ratio) * coef_norm


def _accurate_rmatvec(block, residual):
    r""":math:`B^\top r` summed pairwise: groups of ``_PAIR_ROWS`` rows, then a tree."""
    groups = block.shape[0] // _PAIR_ROWS
    head = groups * _PAIR_ROWS
    partial = np.einsum("gk,gkj->gj", residual[:head].reshape(groups, _PAIR_ROWS),
                        block[:head].reshape(groups, _PAIR_ROWS, block.shape[1]))
    return _pairwise_sum(partial) + residual[head:] @ block[head:]


def _pairwise_sum(rows):
    """Column sums of a 2-D array by numpy's pairwise summation (along a contiguous axis)."""
    return np.ascontiguousarray(rows.T).sum(axis=1)


def _solve_normal(factor, g):
    r""":math:`\tilde R^{-1}\tilde R^{-\top} g`."""
    z = scipy.linalg.solve_triangular(factor, g, trans="T", check_finite=False)
    return scipy.linalg.solve_triangular(factor, z, check_finite=False)


def _linf_bound(sa, sketched_residual, m, d, delta):
    """A-posteriori estimate of the sketch-and-solve coordinate error (see the class)."""
    if m <= d + 1:
        return math.inf
    _, singular, vt = np.linalg.svd(sa, full_matrices=False)
    inverse_gram_diag = np.sum((vt / singular[:, None]) ** 2, axis=0)
    sigma_r = np.linalg.norm(sketched_residual) * math.sqrt(m / (m - d))
    quantile = math.sqrt(2.0 * math.log(2.0 * d / delta))
    return float(quantile * sigma_r * math.sqrt(inverse_gram_diag.max() / (m - d - 1)))
