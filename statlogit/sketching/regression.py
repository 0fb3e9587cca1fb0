r"""Sketched least squares: exact sketch-and-precondition and the paper's sketch-and-solve.

Least squares :math:`x^* = \arg\min_x \|Ax - b\|_2` for tall :math:`A` (:math:`n \gg d`)
with a random sketch :math:`S \in \mathbb{R}^{m \times n}` (:mod:`statlogit.sketching.operators`).
"""

import copy
import functools
import numbers
import warnings

import numpy as np
import pandas as pd
import scipy.sparse
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import ThreadpoolController

from statlogit._validation import check_sample_weight, check_scalar
from statlogit.inference import WaldInferenceMixin
from statlogit.sketching import _inference
from statlogit.sketching._dask import _DaskDesign, dask_moments, is_dask_array
from statlogit.sketching._design import _CentredDesign, _SparseDesign
from statlogit.sketching._memmap import row_chunks
from statlogit.sketching._solve import exact_solve, sketch_and_solve
from statlogit.sketching.operators import SKETCHES, SketchOperator, make_sketch, sketch_size_rule
from statlogit.solvers.linear import weighted_lstsq

__all__ = ["SketchedLinearRegression"]

_SOLVERS = ("precondition", "sketch-and-solve")
_COV_TYPES = ("nonrobust", "HC1")


class SketchedLinearRegression(WaldInferenceMixin, RegressorMixin, BaseEstimator):
    r"""Least squares through a random sketch: exact by default, the paper's mode on request.

    Minimises :math:`\|y - X\beta - \beta_0\|_2^2` for tall :math:`X` (n samples, d
    features). Write :math:`A` for the centred design and :math:`b` for the centred
    response (the intercept is :math:`\bar y - \bar x^\top \beta`).

    ``solver="precondition"`` (default, exact): sketch :math:`SA` with
    :math:`m \approx 4d` rows, take :math:`SA = QR`, so that :math:`AW`,
    :math:`W = R^{-1}`, is well conditioned; one pass in row chunks forms
    :math:`W^\top A^\top b` and the preconditioned Gram matrix
    :math:`W^\top A^\top A W = R_2^\top R_2` (from :math:`A^\top A` for modest
    :math:`\kappa(R)`, else as the single-precision Gram matrix of :math:`B = AW`), so
    that :math:`F = R_2 W^{-1}` satisfies :math:`F^\top F \approx A^\top A` and gives
    the first solution; then corrected semi-normal equations :math:`x \leftarrow x +
    F^{-1}F^{-\top} A^\top (b - Ax)` (iterative refinement) until the relative step is
    below ``tol`` (or predicted to be by the observed contraction); each step reads
    :math:`A` once, forming the residual and the gradient chunk by chunk, with the
    gradient summed with compensation. Agrees with LAPACK (``numpy.linalg.lstsq``) to
    about ``tol`` relative while reading :math:`A` two to four times instead of
    factorising it. For ill-conditioned designs with large residuals every
    double-precision solver is limited by :math:`u(\kappa + \kappa^2\|r\|/(\|A\|\|x\|))`
    (Wedin); there the refinement's error is set by the rounding of
    :math:`A^\top(b - Ax)`, which the compensated sum keeps below LAPACK's (median error
    ratio 0.2-0.3 against the exact solution for :math:`\kappa = 10^4`-:math:`10^6`);
    it stops quietly at that level (at once when that level exceeds the solution) and
    warns (``ConvergenceWarning``) if it stalls far above it.

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
    sketch : str or SketchOperator, optional
        One of ``"srht"``, ``"gaussian"``, ``"countsketch"``, ``"sparse_sign"``,
        ``"osnap"`` (see :mod:`statlogit.sketching.operators`), or an operator, whose own
        ``sketch_size`` and ``random_state`` are then used. By default ``"srht"`` for
        sketch-and-solve (the coordinate-wise guarantee) and ``"countsketch"`` for
        ``"precondition"``, whose exact answer does not depend on the sketch (the
        cheapest one: one read of :math:`X` in :math:`O(nd)`).
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
    alpha : float, default=0.0
        Ridge penalty in scikit-learn's ``Ridge`` scaling: minimises
        :math:`\sum_i w_i (y_i - x_i^\top\beta - \beta_0)^2 + \alpha\|\beta\|_2^2`
        (the intercept is not penalised). Standard errors are only reported for
        ``alpha = 0``.
    cov_type : {"nonrobust", "HC1"}, default="nonrobust"
        Covariance of the coefficients: classical (:math:`\hat\sigma^2 (X^\top W
        X)^{-1}`) or White's heteroskedasticity-robust sandwich with the small-sample
        factor :math:`n/(n-p)`, as statsmodels ``OLS`` computes them. In
        sketch-and-solve mode the covariance is that of the *sketched* estimator (see
        Notes), so intervals include the sketch's randomness.
    random_state : None, int, SeedSequence or Generator
        Randomness of the sketch.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        As :class:`sklearn.linear_model.LinearRegression`: one row per column of a
        two-dimensional ``y``.
    intercept_ : float or ndarray of shape (n_targets,)
    cov_ : ndarray of shape (p, p)
        Covariance of ``[intercept_, coef_]`` (``p = n_features + 1``; without
        intercept only ``coef_``); one response and ``alpha = 0`` only.
    std_errors_ : ndarray of shape (p,)
        Square roots of the diagonal of ``cov_``, in the same order.
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
    Input: dense arrays, ``numpy.memmap`` (read in row chunks) and ``scipy.sparse``
    matrices (CSR/CSC; never densified: the sketch is an :math:`O(\mathrm{nnz})`
    sparse product, the refinement uses sparse products, centring and weights enter
    as rank-one and diagonal corrections). With sparse input and a dense-mixing
    sketch, ``solver="precondition"`` uses a :class:`~statlogit.sketching.SparseSign`
    preconditioner (the exact answer does not depend on the sketch).

    Scale: columns are rescaled internally by powers of two (exact), so scaling a
    column by any factor from :math:`10^{-300}` to :math:`10^{300}` changes neither
    the predictions nor the rank decision.

    Rank-deficient designs (after centring: a constant column, duplicated columns):
    the numerical rank is read off the singular values of the scaled sketch (which
    has the design's null space); the fit warns and returns the *minimum-norm*
    least-squares solution of the centred problem, as ``numpy.linalg.lstsq`` gives it
    (exact mode: solved on the row space, the null space projected out; sketch-and-
    solve: of the sketched problem). It never returns NaN.

    Standard errors in sketch-and-solve mode: :math:`x' - \beta = (x^* - \beta) +
    (x' - x^*)`, the sampling error of the full-data fit plus the sketch's error,
    :math:`\operatorname{Var} \approx \sigma^2 (A^\top A)^{-1}(1 + (n-d)/(m-d-1))`.
    ``cov_`` is the sandwich of the sketched regression
    :math:`G^{-1} (\sum_k e_k^2 s_k s_k^\top) G^{-1}` (``HC1``) or
    :math:`\hat\sigma_S^2 G^{-1}` (``nonrobust``) on the sketched rows
    :math:`s_k` of :math:`SA`, :math:`G = (SA)^\top SA`, :math:`e = S(b - Ax')`
    (the sketched rows are mixtures of many observations, hence nearly homoskedastic:
    Lee & Ng, 2022), times :math:`1 + (m-d-1)/(n-d)`, the share of the full-data
    sampling error that the sketched residuals do not see.

    References
    ----------
    Z. Song, M. Ye, J. Yin, L. Zhang. A nearly-optimal bound for fast regression with
    :math:`\ell_\infty` guarantee. ICML 2023. H. Avron, P. Maymounkov, S. Toledo.
    Blendenpik: supercharging LAPACK's least-squares solver. SISC 2010.
    """

    def __init__(self, sketch=None, sketch_size=None, eps=None, delta=0.01,
                 solver="precondition", tol=1e-10, max_iter=20, fit_intercept=True,
                 alpha=0.0, cov_type="nonrobust", random_state=None):
        self.sketch = sketch
        self.sketch_size = sketch_size
        self.eps = eps
        self.delta = delta
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.alpha = alpha
        self.cov_type = cov_type
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y, sample_weight=None):
        """Fit the coefficients.

        Parameters
        ----------
        X : array-like, numpy.memmap, scipy.sparse matrix or dask array
            Shape (n_samples, n_features). A dask array is solved chunk by chunk where
            its blocks live (a dask.distributed cluster when a ``Client`` is active),
            never gathered.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights; integer weights equal repeating rows.
        """
        self._check_params()
        _check_real(X, "X")
        _check_real(y, "y")
        distributed = is_dask_array(X)
        if distributed:
            self.__dict__.pop("feature_names_in_", None)
            self.n_features_in_ = X.shape[1] if X.ndim == 2 else None
        elif isinstance(X, np.memmap) and X.ndim == 2 and X.dtype == np.float64:
            X, y = self._validate_memmap(X, y)
        else:
            X, y = validate_data(self, X, y, dtype=np.float64, order="C", y_numeric=True,
                                 multi_output=True, accept_sparse=["csr", "csc"])
        n, d = X.shape[0], X.shape[-1]
        if n < d:
            raise ValueError(
                f"SketchedLinearRegression needs at least as many samples as features; "
                f"got n_samples={n}, n_features={d}. Add samples or drop features."
            )
        weights = None if sample_weight is None else check_sample_weight(sample_weight, n)
        root = None if weights is None else np.sqrt(weights)
        if distributed:
            X, y, x_mean, y_mean = dask_moments(X, y, weights, self.fit_intercept)
        else:
            x_mean, y_mean = self._means(X, y, weights)
        b = (y - y_mean).reshape(n, -1)
        if root is not None:
            b = b * root[:, None]
        b_scale = _power_of_two(np.max(np.abs(b)) if b.size else 0.0)
        b = b / b_scale
        sparse = scipy.sparse.issparse(X)
        kind = _DaskDesign if distributed else _SparseDesign if sparse else _CentredDesign
        design = kind(X, x_mean, root)
        operator = self._operator(n, d, sparse or distributed or isinstance(X, np.memmap))
        self.sketch_size_ = operator.sketch_size
        fit = self._solve(design, b, operator)
        fit.rescale(b_scale)
        coef = fit.coef
        self.rank_, self.n_iter_ = fit.rank, fit.n_iter
        bound = fit.linf_bound
        self.linf_bound_ = float(bound[0]) if y.ndim == 1 else bound
        intercept = y_mean - x_mean @ coef if self.fit_intercept else np.zeros(coef.shape[1])
        self.coef_ = coef[:, 0] if y.ndim == 1 else coef.T
        self.intercept_ = float(intercept[0]) if y.ndim == 1 else intercept
        for name in ("cov_", "std_errors_", "df_resid_"):
            self.__dict__.pop(name, None)
        if y.ndim == 1 and self.alpha == 0:
            self._inference(design, fit, b * b_scale, weights, x_mean, n)
        return self

    def predict(self, X):
        """Predicted responses :math:`X\\hat\\beta + \\hat\\beta_0`."""
        check_is_fitted(self)
        _check_real(X, "X")
        if is_dask_array(X):  # lazily, chunk by chunk
            if X.ndim != 2 or X.shape[1] != self.n_features_in_:
                raise ValueError(f"X must have {self.n_features_in_} columns; got shape "
                                 f"{X.shape}.")
            return X @ self.coef_.T + self.intercept_
        X = validate_data(self, X, dtype=np.float64, reset=False,
                          accept_sparse=["csr", "csc"])
        return np.asarray(X @ self.coef_.T) + self.intercept_

    # ------------------------------------------------------------------ setup
    def _check_params(self):
        if self.solver not in _SOLVERS:
            raise ValueError(f"solver must be one of {_SOLVERS}; got {self.solver!r}.")
        if self.cov_type not in _COV_TYPES:
            raise ValueError(f"cov_type must be one of {_COV_TYPES}; got {self.cov_type!r}.")
        if self.sketch is not None and not isinstance(self.sketch, SketchOperator) and (
                not isinstance(self.sketch, str) or self.sketch not in SKETCHES):
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
        check_scalar(self.alpha, name="alpha", lower=0.0)
        if isinstance(self.random_state, numbers.Integral) and not isinstance(
                self.random_state, bool) and self.random_state < 0:
            raise ValueError(f"random_state must be a non-negative integer; got "
                             f"{self.random_state!r}.")
        if not isinstance(self.fit_intercept, bool | np.bool_):
            raise ValueError(f"fit_intercept must be True or False; got {self.fit_intercept!r}.")
        if self.sketch_size is not None:
            check_scalar(self.sketch_size, name="sketch_size", lower=1, integer=True)

    def _validate_memmap(self, X, y):
        """A 2-D float64 memory map is read in chunks, never copied whole."""
        validate_data(self, X[:1], dtype=np.float64)  # names, n_features_in_
        y = _check_response(y, X.shape[0])
        for _, block in row_chunks(X, 1 << 14):
            if not np.all(np.isfinite(block)):
                raise ValueError("Input X contains NaN or infinity; remove or impute them.")
        return X, y

    def _means(self, X, y, weights):
        d = X.shape[1]
        if not self.fit_intercept:
            return np.zeros(d), np.zeros(y.shape[1:])
        if weights is None:
            weights = np.ones(X.shape[0])
        total = weights.sum()
        if isinstance(X, np.memmap):  # in chunks, letting the pages go
            x_mean = sum(weights[rows] @ block for rows, block in row_chunks(X, 1 << 14))
            return x_mean / total, np.asarray(weights @ y / total)
        x_mean = np.asarray(X.T @ weights).ravel() / total
        return x_mean, np.asarray(weights @ y / total)

    def _operator(self, n, d, sparse=False):
        """The sketch operator, drawn for ``n`` rows, with a validated size."""
        if isinstance(self.sketch, SketchOperator):
            operator = copy.deepcopy(self.sketch)
            m = check_scalar(operator.sketch_size, name="sketch.sketch_size", lower=1,
                             integer=True)
        else:
            m = self._sketch_size(n, d)
            name = self.sketch or ("srht" if self.solver == "sketch-and-solve"
                                   else "countsketch")
            if sparse and self.solver == "precondition" and SKETCHES[name].dense_mixing:
                name = "sparse_sign"  # the preconditioner needs only an embedding
            operator = make_sketch(name, m, random_state=self.random_state)
        if m < d or m > n:
            raise ValueError(
                f"sketch_size={m} must lie between n_features={d} and n_samples={n}: "
                "fewer rows than features cannot determine the coefficients and more "
                "rows than samples is slower than solving directly."
            )
        if isinstance(operator, SKETCHES["sparse_sign"]) and operator.nnz_per_col > m:
            operator = make_sketch("countsketch", m, random_state=self.random_state)
        return operator.fit(n)

    def _sketch_size(self, n, d):
        if self.sketch_size is not None:
            return self.sketch_size
        multiple = 4 if self.solver == "precondition" else 16
        m = sketch_size_rule(max(d, 1), self.eps, self.delta, multiple=multiple)
        if m > n and self.eps is not None:
            warnings.warn(
                f"eps={self.eps} needs sketch_size={m} > n_samples={n}; using n_samples "
                "rows. For an exact answer use solver='precondition'.", UserWarning,
                stacklevel=4)
        return max(d, min(m, n), 1)

    # ---------------------------------------------------------------- solvers
    def _solve(self, design, b, operator):
        if self.solver == "sketch-and-solve":
            if not operator.dense_mixing:
                warnings.warn(
                    f"sketch-and-solve with the sparse sketch {type(operator).__name__} "
                    "has no coordinate-wise (l-infinity) guarantee: on coherent designs "
                    "the error can concentrate on single coefficients. Use sketch='srht' "
                    "or 'gaussian', or solver='precondition'.", UserWarning, stacklevel=3)
            fit = sketch_and_solve(design, b, operator, alpha=self.alpha,
                                   delta=self.delta)
            if fit is not None:
                return fit
            warnings.warn(
                "The sketch lost rank that the design has (too few or colliding sketch "
                "rows); solving exactly instead. Increase sketch_size or use "
                "sketch='srht'.", UserWarning, stacklevel=3)
        # the passes over A are chunk-sized BLAS calls, which threads only slow down
        # (2.1x on the benchmark's ill-conditioned case with two OpenBLAS threads)
        with _blas_controller().limit(limits=1, user_api="blas"):
            fit = exact_solve(design, b, operator, alpha=self.alpha, tol=self.tol,
                              max_iter=self.max_iter)
        if fit is not None and fit.rank < design.X.shape[1]:
            warnings.warn(
                f"The design is numerically rank-deficient (rank {fit.rank} < "
                f"{design.X.shape[1]} features); returning the minimum-norm least-squares "
                "solution.", UserWarning, stacklevel=3)
        return fit if fit is not None else self._minimum_norm_fallback(design, b)

    def _minimum_norm_fallback(self, design, b):
        warnings.warn(
            "The sketch could not certify the design's rank (rank-deficient design or "
            "a sketch that lost rank); returning the minimum-norm least-squares "
            "solution from LAPACK gelsd on the full data.", UserWarning, stacklevel=4)
        design.set_transform(None)
        coef, rank = weighted_lstsq(design.dense(), b)
        return _inference.lapack_fit(coef, rank)

    # -------------------------------------------------------------- inference
    def _inference(self, design, fit, b, weights, x_mean, n):
        cov, df = _inference.covariance(
            design, fit, b, weights=weights, x_mean=x_mean, n=n,
            intercept=self.fit_intercept, cov_type=self.cov_type,
            sketched=self.solver == "sketch-and-solve")
        if cov is None:
            return
        self.cov_ = cov
        self.std_errors_ = np.sqrt(np.diag(cov))
        self.df_resid_ = df

    def _inference_frame(self):
        check_is_fitted(self)
        if not hasattr(self, "std_errors_"):
            raise ValueError(
                "Standard errors are available for one response, alpha=0 and a "
                "full-rank design only; refit with a 1-D y and alpha=0.")
        names = list(getattr(self, "feature_names_in_",
                             [f"x{j}" for j in range(self.n_features_in_)]))
        params = list(self.coef_)
        if self.fit_intercept:
            names, params = ["const", *names], [self.intercept_, *params]
        return pd.DataFrame({"coef": params, "std err": self.std_errors_}, index=names)

    def _inference_df(self):
        """t quantiles for the classical exact-mode covariance, normal ones otherwise
        (as statsmodels: ``OLS.fit(cov_type="HC1")`` reports z statistics)."""
        classical = self.solver == "precondition" and self.cov_type == "nonrobust"
        return self.df_resid_ if classical else None

    def _summary_info(self):
        return {"solver": self.solver, "cov_type": self.cov_type,
                "sketch_size": self.sketch_size_, "rank": self.rank_}


def _check_real(a, name):
    """Refuse complex and string input with a message naming the argument."""
    if scipy.sparse.issparse(a):
        dtype = a.dtype
    else:
        dtype = getattr(a, "dtype", None)
        if not isinstance(dtype, np.dtype):
            try:
                dtype = np.asarray(a).dtype
            except (TypeError, ValueError):
                return
    if dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} must be real-valued.")
    if dtype.kind in "US":
        raise ValueError(f"{name} must be numeric; got strings (dtype {dtype}). Encode "
                         "categories as numbers first.")
    if dtype.kind == "O" and not scipy.sparse.issparse(a):
        try:
            np.asarray(a).astype(np.float64)
        except ValueError as exc:
            raise ValueError(f"{name} must be numeric; got values that are not numbers "
                             f"({exc}).") from exc


def _check_response(y, n):
    y = np.asarray(y, dtype=np.float64)
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"y must have shape (n_samples,) or (n_samples, n_targets) with "
                         f"n_samples={n}; got {y.shape}.")
    if not np.all(np.isfinite(y)):
        raise ValueError("Input y contains NaN or infinity; remove or impute them.")
    return y


@functools.cache
def _blas_controller():
    """One :class:`threadpoolctl.ThreadpoolController` (finding the libraries takes ms)."""
    return ThreadpoolController()


def _power_of_two(value):
    """The power of two at or above ``value`` (1 for 0): an exact rescaling factor."""
    return float(np.ldexp(1.0, int(np.frexp(value)[1]))) if value > 0 else 1.0
