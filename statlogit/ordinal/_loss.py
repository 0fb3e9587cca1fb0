r"""The cumulative-link loss of PRESTO and proportional odds, for the proximal-Newton solver.

Parameters live in a ``(K-1, p+1)`` matrix ``theta`` (flattened for the solver): row
``k`` holds the intercept :math:`a_k` of boundary ``k`` and the difference
:math:`\psi_k = \beta_k - \beta_{k-1}` (:math:`\psi_1 = \beta_1`), so PRESTO's penalty
is a weighted lasso on the :math:`\psi` columns. The loss is

.. math:: f(\theta) = \frac{1}{W} \sum_i w_i \big(-\log P(y_i \mid x_i)\big),
          \qquad W = \sum_i w_i,

with :math:`P(y \le c_k \mid x) = F(a_k + \beta_k^\top x)` for the link's
distribution function :math:`F`. Its domain is the polyhedron where every training
row's cumulative predictors increase strictly (every class gets a positive
probability); the barrier used to finish fits on its boundary is
:math:`-(\mu/W) \sum \log(\eta_{i,k+1} - \eta_{ik})` over the gaps no likelihood term
already guards (each row's terms weighted by :math:`w_i`, so integer weights
are repeated rows also for the barrier). The exact gradient and Hessian come from
the per-row derivatives in :math:`\eta` (numba kernels in
:mod:`statlogit.ordinal._kernels`) and the weighted Gram matrices (numba for small
problems, BLAS class by class otherwise); a Hessian costs :math:`O(n p^2 K)`.
"""

import numpy as np

from statlogit.ordinal._kernels import (
    CLOGLOG,
    LOGIT,
    PROBIT,
    barrier_terms,
    parallel_curvature,
    row_column_sums,
    weighted_derivatives,
    weighted_grams,
    weighted_neg_loglik,
)

LINKS = {"logit": LOGIT, "probit": PROBIT, "cloglog": CLOGLOG}
BLAS_MIN_FEATURES = 48
BLAS_MIN_WORK = 3e4
BARRIER_CURVATURE_FLOOR = 1e-6


def boundaries(theta):
    """Per-boundary ``(intercepts, slopes)`` from the difference parametrisation."""
    return theta[:, 0], np.cumsum(theta[:, 1:], axis=0)


def reverse_cumsum(a, axis):
    return np.flip(np.cumsum(np.flip(a, axis=axis), axis=axis), axis=axis)


def null_theta(y, n_classes, n_features, sample_weight=None, link="logit"):
    """The intercept-only maximum-likelihood fit: ``F^{-1}`` of cumulative frequencies."""
    from scipy import stats

    counts = np.bincount(y, weights=sample_weight, minlength=n_classes)
    cumulative = np.cumsum(counts)[:-1] / counts.sum()
    theta = np.zeros((n_classes - 1, n_features + 1))
    if link == "logit":
        theta[:, 0] = np.log(cumulative) - np.log1p(-cumulative)
    elif link == "probit":
        theta[:, 0] = stats.norm.ppf(cumulative)
    else:
        theta[:, 0] = np.log(-np.log1p(-cumulative))
    return theta


class CumulativeLinkLoss:
    r"""The smooth part :math:`(1/W)\sum_i w_i (-\log P(y_i \mid x_i))` on prepared data.

    Parameters
    ----------
    X : ndarray (n, p)
        C-contiguous float64 design (already centred/scaled).
    y : ndarray of int64 (n,)
        Class codes ``0..K-1``.
    n_classes : int
    link : {"logit", "probit", "cloglog"}
    sample_weight : ndarray (n,), optional
        Positive row weights.
    """

    def __init__(self, X, y, n_classes, *, link="logit", sample_weight=None):
        self.X = X
        self.y = y
        self.link = link
        self._code = LINKS[link]
        self.n_boundaries = n_classes - 1
        self.weights = (np.ones(X.shape[0]) if sample_weight is None
                        else np.ascontiguousarray(sample_weight, dtype=np.float64))
        self.n = float(self.weights.sum())
        self.shape = (self.n_boundaries, X.shape[1] + 1)
        self._rows = [np.flatnonzero(y == c) for c in range(n_classes)]
        self._by_class = (X.shape[1] >= BLAS_MIN_FEATURES
                          or X.shape[0] * (X.shape[1] + 1) ** 2 >= BLAS_MIN_WORK)
        self._designs = None
        self._mask = None
        self._last = None  # (theta, eta) of the last derivatives() call
        self._trial = None  # (theta, eta, likelihood) of the last value() call

    @property
    def _design_by_class(self):
        """``[1, X]`` split by class (built at the first Hessian that uses it), or
        None when the compiled single pass is used."""
        if self._by_class and self._designs is None:
            self._designs = [np.hstack([np.ones((rows.size, 1)), self.X[rows]])
                             for rows in self._rows]
        return self._designs if self._by_class else None

    # ------------------------------------------------------------ the solver's protocol

    def eta(self, theta):
        intercepts, slopes = boundaries(np.reshape(theta, self.shape))
        return np.ascontiguousarray(self.X @ slopes.T + intercepts)

    def value(self, theta, barrier=0.0):
        """Mean negative log-likelihood, plus the crossing barrier when ``barrier > 0``."""
        eta = self.eta(theta)
        total = weighted_neg_loglik(eta, self.y, self.weights, self._code)
        # a line search's accepted point is where the derivatives are asked next
        self._trial = (np.array(theta, dtype=np.float64), eta, total)
        if barrier > 0.0 and np.isfinite(total):
            total += self._barrier_terms(eta, barrier, False)[0]
        return total / self.n

    def line(self, theta, direction):
        r"""``phi(t, barrier)``: :meth:`value` at ``theta + t * direction``.

        The linear predictors are linear in ``theta``, so both ends are computed once
        and each value costs :math:`O(nK)` instead of a product with X (the solver's
        line searches along boundary-limited directions call it many times).
        """
        base, rate = self._eta_at(theta), self.eta(direction)
        return lambda t, barrier=0.0: self._value_at(base + t * rate, barrier)

    def _eta_at(self, theta):
        """:meth:`eta`, reusing that of the last :meth:`derivatives` point (the solver
        asks for the step bound and the line there right after; ``_last`` is
        ``(theta, eta)`` or, without a barrier, ``(theta, eta, derivatives)``)."""
        last = self._last
        if last is not None and np.array_equal(last[0], theta):
            return last[1]
        return self.eta(theta)

    def _value_at(self, eta, barrier):
        total = weighted_neg_loglik(eta, self.y, self.weights, self._code)
        if barrier > 0.0 and np.isfinite(total):
            total += self._barrier_terms(eta, barrier, False)[0]
        return total / self.n

    def derivatives(self, theta, barrier=0.0):
        r"""``(value, gradient, hessian)`` in the flattened ``theta`` coordinates.

        With ``barrier = mu > 0`` the value is that of :meth:`value` with the same
        ``barrier``: the likelihood plus :math:`-(\mu/W)\sum \log(\eta_{i,k+1} -
        \eta_{ik})` over the crossing gaps that no likelihood term already guards.
        """
        last = self._last
        if (barrier == 0.0 and last is not None and len(last) == 3
                and np.array_equal(last[0], theta)):
            return last[2]  # asked again at the solution (standard errors)
        trial = self._trial
        if trial is not None and np.array_equal(trial[0], theta):
            eta, known = trial[1], trial[2]
            _, g_eta, h_diag, h_off = weighted_derivatives(
                eta, self.y, self.weights, self._code, with_value=False)
            value = known if np.isfinite(_) else np.inf
        else:
            eta = self.eta(theta)
            value, g_eta, h_diag, h_off = weighted_derivatives(eta, self.y, self.weights,
                                                               self._code)
        self._last = (np.array(theta, dtype=np.float64), eta)
        if not np.isfinite(value):
            return value, None, None
        if barrier > 0.0:
            extra, g_gap, h_gap = self._barrier_terms(eta, barrier)
            value += extra
            g_eta[:, :-1] -= g_gap
            g_eta[:, 1:] += g_gap
            return (value / self.n, self._gradient(g_eta),
                    self._barrier_hessian(h_diag, h_off, h_gap))
        out = value / self.n, self._gradient(g_eta), self._hessian(h_diag, h_off)
        self._last = (*self._last, out)
        return out

    def largest_step(self, theta, direction):
        """Largest t keeping every row's cumulative predictors increasing (eta is linear)."""
        gaps = np.diff(self._eta_at(theta), axis=1)
        rates = np.diff(self.eta(direction), axis=1)
        closing = rates < 0
        if not np.any(closing):
            return np.inf
        return float(np.min(gaps[closing] / -rates[closing]))

    def min_gap(self, theta):
        """Smallest crossing gap guarded by the barrier (``inf`` if there is none)."""
        gaps = np.diff(self._eta_at(theta), axis=1)
        return float(np.min(gaps[self._barrier_mask(gaps.shape)], initial=np.inf))

    def barrier_weight(self):
        """Number of barrier-guarded gaps over :math:`W` (the duality-gap bound per mu)."""
        shape = (self.X.shape[0], self.n_boundaries - 1)
        counts = np.count_nonzero(self._barrier_mask(shape), axis=1)
        return float(self.weights @ counts) / self.n

    def interior_point(self):
        """The intercept-only fit (every gap equals a positive intercept gap)."""
        return null_theta(self.y, self.n_boundaries + 1, self.X.shape[1], self.weights,
                          self.link).ravel()

    def full_theta(self, x):
        """``x`` as the ``(K-1, p+1)`` matrix ``theta``."""
        return np.reshape(x, self.shape)

    # ------------------------------------------------------------ inference helpers

    def row_scores(self, theta):
        r"""Per-row gradients :math:`w_i \nabla(-\log p_i)` in the flattened ``theta``."""
        eta = self.eta(theta)
        _, g_eta, _, _ = weighted_derivatives(eta, self.y, self.weights, self._code)
        n, m = g_eta.shape
        scores = np.empty((n, m, self.X.shape[1] + 1))
        scores[:, :, 0] = g_eta
        tail = reverse_cumsum(g_eta, axis=1)
        scores[:, :, 1:] = tail[:, :, None] * self.X[:, None, :]
        return scores.reshape(n, -1)

    # ------------------------------------------------------------ internals

    def _barrier_terms(self, eta, mu, with_derivatives=True):
        r"""Log barrier on the gaps :math:`\eta_{i,k+1} - \eta_{ik}` of each row,
        except the gap of the row's own (middle) class, which its likelihood term
        already keeps positive. Returns ``(value, d/dgap, d2/dgap2)`` per gap (the
        derivatives zero where there is no barrier). Negligible curvature of
        far-from-active gaps is dropped (the gradient stays exact): it keeps the Gram
        matrices as sparse as without barrier."""
        return barrier_terms(eta, self.y, self.weights, mu, BARRIER_CURVATURE_FLOOR,
                             with_derivatives)

    def _barrier_mask(self, shape):
        if self._mask is None or self._mask.shape != shape:
            mask = np.ones(shape, dtype=bool)
            middle = np.flatnonzero((self.y > 0) & (self.y < self.n_boundaries))
            mask[middle, self.y[middle] - 1] = False
            self._mask = mask
        return self._mask

    def _gradient(self, g_eta):
        grad = np.empty((self.n_boundaries, self.X.shape[1] + 1))
        grad[:, 0] = g_eta.sum(axis=0)
        grad[:, 1:] = reverse_cumsum(g_eta.T @ self.X, axis=0)
        return (grad / self.n).ravel()

    def _hessian(self, h_diag, h_off):
        """Exact Hessian in ``theta``, from the per-boundary Gram blocks."""
        if self._design_by_class:
            return self._from_blocks(self._blocks_by_class(h_diag, h_off))
        return self._from_blocks(self._blocks_numba(self.X, h_diag, h_off))

    def _barrier_hessian(self, h_diag, h_off, h_gap):
        """The Hessian with the barrier's curvature ``h_gap`` on the crossing gaps.

        The barrier puts curvature on boundaries other than a row's own class, so the
        class-by-class shortcut does not cover it: the rows that carry it (curvatures
        below a floor are dropped, so near the end of a polish only a few do) add one
        Gram matrix per gap.
        """
        if not self._design_by_class:
            h_diag[:, :-1] += h_gap
            h_diag[:, 1:] += h_gap
            h_off -= h_gap
            return self._hessian(h_diag, h_off)
        blocks = self._blocks_by_class(h_diag, h_off)
        rows = np.flatnonzero(np.any(h_gap != 0.0, axis=1))
        if rows.size:
            # gap k's curvature c: + Gram(c) on blocks (k, k) and (k+1, k+1), - on
            # (k, k+1) and (k+1, k)
            design = np.hstack([np.ones((rows.size, 1)), self.X[rows]])
            for k, gram in enumerate(_grams(design, h_gap[rows])):
                blocks[k, :, k, :] += gram
                blocks[k + 1, :, k + 1, :] += gram
                blocks[k, :, k + 1, :] -= gram
                blocks[k + 1, :, k, :] -= gram
        return self._from_blocks(blocks)

    def _from_blocks(self, hess):
        """Blocks in the boundaries' slopes -> Hessian in the differences ``psi``
        (reverse cumulative sums over the boundaries of the slope rows and columns,
        in place)."""
        m, q = self.shape
        for k in range(m - 2, -1, -1):
            hess[k, 1:] += hess[k + 1, 1:]
        for k in range(m - 2, -1, -1):
            hess[:, :, k, 1:] += hess[:, :, k + 1, 1:]
        return np.ascontiguousarray(hess.reshape(m * q, m * q) / self.n)

    def _blocks_numba(self, X, h_diag, h_off):
        """Few rows or features: one numba pass over the rows of ``X``."""
        m, q = self.shape
        grams = weighted_grams(X, np.ascontiguousarray(np.hstack([h_diag, h_off])))
        hess = np.zeros((m, q, m, q))
        for k in range(m):
            hess[k, :, k, :] = grams[k]
        for k in range(m - 1):
            hess[k, :, k + 1, :] = hess[k + 1, :, k, :] = grams[m + k]
        return hess

    def _blocks_by_class(self, h_diag, h_off):
        """Enough rows or features: BLAS class by class, since a row of class ``c``
        only has curvature in boundaries ``c-1`` and ``c`` (one product per class for
        its two or three weighted Gram matrices)."""
        m, q = self.shape
        hess = np.zeros((m, q, m, q))
        for c, (rows, design) in enumerate(zip(self._rows, self._design_by_class,
                                               strict=True)):
            if c == 0:
                hess[0, :, 0, :] += _grams(design, h_diag[rows, :1])[0]
            elif c == m:
                hess[m - 1, :, m - 1, :] += _grams(design, h_diag[rows, m - 1:])[0]
            else:
                weights = np.column_stack([h_diag[rows, c - 1], h_diag[rows, c],
                                           h_off[rows, c - 1]])
                low, high, off = _grams(design, weights)
                hess[c - 1, :, c - 1, :] += low
                hess[c, :, c, :] += high
                hess[c - 1, :, c, :] = off
                hess[c, :, c - 1, :] = off
        return hess


def _gram(design, weights):
    return design.T @ (design * weights[:, None])


def _grams(design, weights):
    """``[design.T @ diag(w) @ design for w in weights.T]`` in one matrix product."""
    n, q = design.shape
    scaled = (design[:, None, :] * weights[:, :, None]).reshape(n, -1)
    return (design.T @ scaled).reshape(q, weights.shape[1], q).transpose(1, 0, 2)


class ParallelLinkLoss(CumulativeLinkLoss):
    r"""The proportional-odds restriction of :class:`CumulativeLinkLoss`.

    Parameters ``x = (a_1, ..., a_{K-1}, \beta)``: one slope vector for every boundary,
    :math:`\eta_{ik} = a_k + x_i^\top\beta`. The Hessian needs one weighted Gram
    matrix of X (weights :math:`\sum_k h_{kk} + 2\sum_k h_{k,k+1}` per row) instead of
    :math:`2K - 3`, so a proportional-odds fit costs :math:`O(n p^2)` per iteration.
    """

    def __init__(self, X, y, n_classes, *, link="logit", sample_weight=None):
        super().__init__(X, y, n_classes, link=link, sample_weight=sample_weight)
        self.shape = (self.n_boundaries + X.shape[1],)
        self._by_class = False

    def full_theta(self, x):
        """The same point in the difference parametrisation ``(K-1, p+1)``."""
        m = self.n_boundaries
        theta = np.zeros((m, self.X.shape[1] + 1))
        theta[:, 0] = x[:m]
        theta[0, 1:] = x[m:]
        return theta

    def eta(self, x):
        m = self.n_boundaries
        return np.ascontiguousarray((self.X @ x[m:])[:, None] + x[:m])

    def interior_point(self):
        return np.r_[super().interior_point().reshape(self.n_boundaries, -1)[:, 0],
                     np.zeros(self.X.shape[1])]

    def largest_step(self, x, direction):
        """Every row's gaps are the intercepts' gaps: the step keeping them positive."""
        m = self.n_boundaries
        gaps, rates = np.diff(x[:m]), np.diff(direction[:m])
        closing = rates < 0
        if not np.any(closing):
            return np.inf
        return float(np.min(gaps[closing] / -rates[closing]))

    def min_gap(self, x):
        m = self.n_boundaries
        guarded = self._barrier_mask((self.X.shape[0], m - 1)).any(axis=0)
        return float(np.min(np.diff(x[:m])[guarded], initial=np.inf))

    def row_scores(self, x):
        r"""Per-row gradients :math:`w_i \nabla(-\log p_i)` in ``x = (a, \beta)``."""
        _, g_eta, _, _ = weighted_derivatives(self.eta(x), self.y, self.weights,
                                              self._code)
        return np.hstack([g_eta, g_eta.sum(axis=1)[:, None] * self.X])

    def _gradient(self, g_eta):
        rows, columns = row_column_sums(g_eta)
        return np.r_[columns, self.X.T @ rows] / self.n

    def _hessian(self, h_diag, h_off):
        m = self.n_boundaries
        total, columns, diag_sums, off_sums = parallel_curvature(h_diag, h_off)
        hess = np.zeros((m + self.X.shape[1],) * 2)
        hess[np.arange(m), np.arange(m)] = diag_sums
        hess[np.arange(m - 1), np.arange(1, m)] = off_sums
        hess[np.arange(1, m), np.arange(m - 1)] = off_sums
        cross = self.X.T @ columns  # (p, m)
        hess[m:, :m] = cross
        hess[:m, m:] = cross.T
        hess[m:, m:] = _gram(self.X, total)
        return hess / self.n
