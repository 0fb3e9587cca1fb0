r"""Checkered regression (Achab, 2022-2023): the parity of m logistic coins.

Binary model, with :math:`z_k = w_k^\top x + b_k`:

.. math::

    P(y = \texttt{classes\_[0]} \mid x) = \tfrac12\Bigl(1 + \prod_{k=1}^m
    \tanh(z_k / 2)\Bigr),

the probability that an even number of independent coins, coin :math:`k` landing on
"1" with probability :math:`\sigma(-z_k)`, land on "1". With :math:`c \ge 3` classes every
hyperplane carries a softmax coin over :math:`\mathbb{Z}_c` and the class is the sum of
the coins modulo :math:`c`: the class distribution is the circular convolution of the m
softmax vectors. ``m = 1`` is (multinomial) logistic regression.
"""

import contextlib
import re
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from statlogit._validation import check_sample_weight, check_scalar, resolve_rng
from statlogit.checkered._objective import CheckeredObjective, log_proba
from statlogit.checkered._solve import SOLVE, random_start

__all__ = ["CheckeredClassifier"]

SOLVERS = tuple(SOLVE)
#: Largest number of coin probabilities (n_samples x n_hyperplanes x n_classes) a fit
#: may hold: the forward-backward pass keeps several arrays of that size (8 bytes each).
MAX_COIN_CELLS = 10**8


class CheckeredClassifier(ClassifierMixin, BaseEstimator):
    r"""Checkered regression: a classifier whose decision regions tessellate space.

    The m hyperplanes :math:`z_k = w_k^\top x + b_k` cut the feature space into cells
    coloured like a checkerboard: crossing one hyperplane flips the predicted binary
    class. Binary model:

    .. math::

        P(y = \texttt{classes\_[0]} \mid x) = \tfrac12\Bigl(1 + \prod_{k=1}^m
        \tanh\bigl(\tfrac{w_k^\top x + b_k}{2}\bigr)\Bigr),

    the parity of m independent logistic coins. With :math:`c \ge 3` classes, hyperplane
    group :math:`k` has logits :math:`Z_k = W_k x + b_k \in \mathbb{R}^c` and
    :math:`p(\cdot \mid x) = \operatorname{softmax}(Z_1) \circledast \cdots
    \circledast \operatorname{softmax}(Z_m)` (circular convolution over
    :math:`\mathbb{Z}_c`, residue ``j`` is ``classes_[j]``, so the order of
    ``classes_`` defines the cyclic structure). ``n_hyperplanes=1`` is
    scikit-learn's ``LogisticRegression`` (binary: ``coef_`` is minus its ``coef_``,
    because hyperplane logits favour ``classes_[0]``; multinomial: the same
    ``coef_``).

    The fit minimises, as ``LogisticRegression`` does,

    .. math::

        C \sum_i w_i \bigl(-\log p(y_i \mid x_i)\bigr) + \tfrac12 \lVert W \rVert^2

    (intercepts unpenalised). The objective is not convex, but it is sum-log-concave:
    the minus log of a sum of :math:`c^{m-1}` log-concave terms.

    Parameters
    ----------
    n_hyperplanes : int, default=2
        Number m of hyperplanes (of softmax coins for more than two classes).
    C : float, default=1.0
        Inverse L2 penalty strength, exactly as in ``LogisticRegression``.
    solver : {"lbfgs", "xgd", "em"}, default="lbfgs"
        ``"lbfgs"``: L-BFGS on the exact gradient (recommended). ``"xgd"``: the
        paper's cross-gradient descent with :math:`\mu` fixed at the start and steps
        :math:`\gamma_t = D/(B\sqrt t)` (Theorem 4.2); it minimises a convex
        majoriser, not the likelihood, and typically stops far from the MLE.
        ``"em"`` (beyond the paper): XGD with :math:`\mu` refreshed, i.e. EM: the
        E-step computes the posterior of every coin, the M-step fits m soft-label
        logistic regressions (the convex majoriser) by L-BFGS; the objective decreases
        monotonically.
    n_restarts : int, default=5
        Random non-zero starts (``W = 0`` is a saddle point); the fit with the lowest
        objective is kept. One start is used when ``n_hyperplanes=1`` (convex).
    max_iter : int, default=500
        Iterations per start (EM iterations for ``"em"``).
    tol : float, default=1e-4
        L-BFGS: sup norm of the projected gradient of the objective divided by
        :math:`C\sum_i w_i`. XGD: sup norm of the cross-gradient. EM: relative decrease
        of the objective between EM iterations. Gradients are taken in standardised
        coordinates (see Notes), so ``tol`` does not depend on the columns' units.
    random_state : None, int, SeedSequence or Generator, default=None
        Seeds the random starts.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (m, n_features) or (m, n_classes, n_features)
        Hyperplane normals :math:`w_k` (binary) or logit matrices :math:`W_k`.
    intercept_ : ndarray of shape (m,) or (m, n_classes)
    n_iter_ : int
        Iterations of the retained start.
    loss_ : float
        Objective :math:`C\sum_i w_i CE_i + \tfrac12\lVert W\rVert^2` at the solution.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only with pandas input whose columns are all strings.
    feature_range_ : ndarray of shape (2, n_features)
        Column minima and maxima of the training data (used by :meth:`plot`).

    Notes
    -----
    Probabilities and gradients come from a forward-backward pass over the
    hyperplanes that only adds and multiplies non-negative numbers (falling back to log
    space where a probability would underflow), never from
    :math:`\tfrac12(1 \pm \prod \tanh)`, which cancels for confidently wrong points.
    Hyperplanes can be permuted and sign-flipped in pairs without changing the model:
    compare probabilities, not ``coef_``.

    *Units.* The L2 penalty is on the raw coefficients, as in ``LogisticRegression``
    (this is what makes ``n_hyperplanes=1`` identical to it), so the fit depends on
    the units of the columns: multiplying ``X`` by ``a`` and ``C`` by :math:`1/a^2`
    gives the same probabilities, while rescaling a single column changes the
    penalty's meaning. Shifting columns changes nothing (intercepts are unpenalised).
    All three solvers walk in exact standardised coordinates (weighted column means and
    standard deviations; the objective is unchanged), so shifts and scales neither slow
    nor stall them and ``tol`` is measured in standardised units. For a fit that does
    not depend on units, standardise in a pipeline:
    ``make_pipeline(StandardScaler(), CheckeredClassifier())``.

    References
    ----------
    M. Achab (2022), *Checkered regression*, TechRxiv 19213977. M. Achab (2023),
    *Beyond log-concavity: theory and algorithm for sum-log-concave optimization*,
    arXiv:2309.15298.

    Examples
    --------
    >>> from statlogit import CheckeredClassifier
    >>> from statlogit.datasets import make_xor_mixture
    >>> X, y = make_xor_mixture(400, random_state=0)
    >>> clf = CheckeredClassifier(n_hyperplanes=2, random_state=0).fit(X, y)
    >>> bool(clf.score(X, y) > 0.9)
    True
    """

    def __init__(self, n_hyperplanes=2, C=1.0, solver="lbfgs", n_restarts=5,
                 max_iter=500, tol=1e-4, random_state=None):
        self.n_hyperplanes = n_hyperplanes
        self.C = C
        self.solver = solver
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def _check_params(self):
        check_scalar(self.n_hyperplanes, name="n_hyperplanes", lower=1, integer=True)
        check_scalar(self.C, name="C", lower=0.0, include_lower=False)
        check_scalar(self.n_restarts, name="n_restarts", lower=1, integer=True)
        check_scalar(self.max_iter, name="max_iter", lower=1, integer=True)
        check_scalar(self.tol, name="tol", lower=0.0, include_lower=False)
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}; got {self.solver!r}.")

    def fit(self, X, y, sample_weight=None):
        """Fit by ``n_restarts`` random starts of the chosen solver.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights; weight 2 is the same as a duplicated row.

        Returns
        -------
        self
        """
        self._check_params()
        with _naming_the_argument():
            X, y = validate_data(self, X, y, dtype=np.float64, order="C")
            check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                "CheckeredClassifier needs at least 2 classes in y; got 1 class "
                f"({self.classes_[0]!r})."
            )
        weights = check_sample_weight(sample_weight, X.shape[0])
        _check_problem_size(self, X.shape[0], len(self.classes_), weights)
        objective = CheckeredObjective(X, codes.astype(np.int64), weights,
                                       self.n_hyperplanes, len(self.classes_), self.C)
        theta, n_iter, converged = self._best_of_restarts(objective)
        if not converged:
            warnings.warn(
                f"CheckeredClassifier (solver={self.solver!r}) did not converge in "
                f"{n_iter} iterations; increase max_iter or tol.",
                ConvergenceWarning, stacklevel=2,
            )
        coef, intercept = objective.unpack(theta)
        squeeze = objective.groups == 1
        self.coef_ = coef[:, 0, :].copy() if squeeze else coef.copy()
        self.intercept_ = intercept[:, 0].copy() if squeeze else intercept.copy()
        self.n_iter_ = int(n_iter)
        self.loss_ = objective.loss(theta)
        self.feature_range_ = np.vstack([X.min(axis=0), X.max(axis=0)])
        return self

    def _best_of_restarts(self, objective):
        try:
            rng = resolve_rng(self.random_state)
        except ValueError as exc:  # numpy's "expected non-negative integer" names nothing
            raise ValueError(
                "random_state must be None, a non-negative int, a SeedSequence, a "
                f"Generator or a RandomState; got {self.random_state!r}."
            ) from exc
        n_starts = 1 if self.n_hyperplanes == 1 else self.n_restarts
        best = None
        for _ in range(n_starts):
            theta0 = random_start(objective, rng)
            theta, n_iter, converged = SOLVE[self.solver](
                objective, theta0, self.max_iter, self.tol)
            value = objective.value(theta)
            if best is None or value < best[0]:
                best = (value, theta, n_iter, converged)
        return best[1:]

    def _coef_groups(self):
        if self.coef_.ndim == 2:
            return self.coef_[:, None, :], self.intercept_[:, None]
        return self.coef_, self.intercept_

    def predict_log_proba(self, X):
        """Class log-probabilities, shape (n_samples, n_classes), in ``classes_`` order."""
        check_is_fitted(self)
        with _naming_the_argument():
            X = validate_data(self, X, reset=False, dtype=np.float64, order="C")
        return log_proba(X, *self._coef_groups())

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes); rows sum to 1."""
        return np.exp(self.predict_log_proba(X))

    def decision_function(self, X):
        """Binary: :math:`\\log p_1 - \\log p_0`, shape (n,) (positive means
        ``classes_[1]``). Multiclass: the log-probabilities, shape (n, c)."""
        log_p = self.predict_log_proba(X)
        if log_p.shape[1] == 2:
            return log_p[:, 1] - log_p[:, 0]
        return log_p

    def predict(self, X):
        """The most probable class of every row."""
        codes = np.argmax(self.predict_log_proba(X), axis=1)
        return self.classes_[codes]

    def plot(self, ax=None, *, X=None, y=None, resolution=300):
        """Decision regions (and, for two classes, the hyperplanes) of a 2-D fit.

        The axes are labelled with the fitted feature names (``feature_names_in_``,
        from a DataFrame) and a legend names the classes; a new figure uses constrained
        layout.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure is created otherwise.
        X, y : array-like, optional
            Points to overlay (their range also sets the window); ``y`` in the labels
            of ``classes_``.
        resolution : int
            Grid points per axis.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        from matplotlib.colors import Normalize
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        check_is_fitted(self)
        if self.n_features_in_ != 2:
            raise ValueError(
                f"plot needs 2 features; this fit has {self.n_features_in_}.")
        check_scalar(resolution, name="resolution", lower=2, integer=True)
        points, colour = self._plot_points(X, y)
        if ax is None:
            ax = plt.subplots(figsize=(4.8, 4), layout="constrained")[1]
        low, high = self._plot_window(points)
        grid = np.meshgrid(np.linspace(low[0], high[0], resolution),
                           np.linspace(low[1], high[1], resolution))
        flat = np.column_stack([grid[0].ravel(), grid[1].ravel()])
        # the grid has no feature names: use the model directly, not predict_proba
        codes = np.argmax(log_proba(flat, *self._coef_groups()), axis=1)
        n_classes = len(self.classes_)
        cmap, norm = plt.get_cmap("coolwarm"), Normalize(-0.5, n_classes - 0.5)
        ax.contourf(grid[0], grid[1], codes.reshape(grid[0].shape),
                    levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, norm=norm,
                    alpha=0.35)
        handles = [Patch(facecolor=cmap(norm(k)), alpha=0.6, label=str(label))
                   for k, label in enumerate(self.classes_)]
        if self.coef_.ndim == 2:
            ax.contour(grid[0], grid[1], (flat @ self.coef_.T + self.intercept_).reshape(
                *grid[0].shape, -1).prod(axis=-1), levels=[0.0], colors="k",
                linewidths=0.8)
            handles.append(Line2D([], [], color="k", lw=0.8, label="hyperplanes"))
        if points is not None:
            ax.scatter(points[:, 0], points[:, 1], c=colour,
                       cmap=None if colour is None else cmap,
                       norm=None if colour is None else norm, s=8, edgecolor="k",
                       linewidth=0.2)
        names = getattr(self, "feature_names_in_", ["$x_1$", "$x_2$"])
        ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]), xlabel=str(names[0]),
               ylabel=str(names[1]), title=f"checkered regression, m = {self.n_hyperplanes}")
        ax.legend(handles=handles, title="class", loc="best", fontsize="small")
        return ax

    def _plot_points(self, X, y):
        """Overlay points as a float (n, 2) array and their class codes (or None)."""
        if X is None:
            if y is not None:
                raise ValueError("plot got y without X; pass the points X as well.")
            return None, None
        with _naming_the_argument():
            points = check_array(X, dtype=np.float64)
        if points.shape[1] != 2:
            raise ValueError(f"plot's X must have the 2 fitted features; got "
                             f"{points.shape[1]} columns.")
        if y is None:
            return points, None
        labels = np.asarray(y)
        if labels.shape != (points.shape[0],) or not np.all(np.isin(labels, self.classes_)):
            raise ValueError(
                f"plot's y must hold one label of classes_ {list(self.classes_)} per row "
                "of X.")
        return points, np.searchsorted(self.classes_, labels)

    def _plot_window(self, points):
        box = self.feature_range_ if points is None else np.vstack(
            [points.min(axis=0), points.max(axis=0)])
        pad = 0.05 * (box[1] - box[0]) + 1e-9
        return box[0] - pad, box[1] + pad


@contextlib.contextmanager
def _naming_the_argument():
    """Re-raise scikit-learn's input errors with the argument they are about.

    ``validate_data`` says "Found array with 0 sample(s)" or "could not convert string
    to float" without naming ``X`` or ``y``; the original message is kept (scikit-learn's
    own checks match on it) and the cause is chained.
    """
    try:
        yield
    except (ValueError, TypeError) as exc:
        message = str(exc)
        if message.startswith("Unknown label type"):
            prefix = ("y must hold class labels (integers, strings or categories), "
                      "not continuous values: ")
        elif "inconsistent numbers of samples" in message:
            prefix = "X and y must have the same number of rows: "
        elif re.search(r"\b(X|y)\b", message):
            raise
        else:
            prefix = ("X must be a numeric 2-D array (n_samples, n_features) of finite "
                      "real numbers; encode text columns first: ")
        raise type(exc)(prefix + message) from exc


def _check_problem_size(estimator, n_samples, n_classes, weights):
    """Refuse problems whose working arrays or weight total cannot be represented."""
    cells = n_samples * estimator.n_hyperplanes * n_classes
    if cells > MAX_COIN_CELLS:
        raise ValueError(
            f"n_hyperplanes={estimator.n_hyperplanes} with {n_samples} rows and "
            f"{n_classes} classes needs {cells:.3g} coin probabilities (more than "
            f"{MAX_COIN_CELLS:.0e}); lower n_hyperplanes or subsample the rows."
        )
    with np.errstate(over="ignore"):
        scale = estimator.C * float(np.sum(weights))
    if not np.isfinite(scale) or scale <= 0.0 or 1.0 / scale == 0.0:
        raise ValueError(
            f"C * sum(sample_weight) = {estimator.C!r} * {scale / estimator.C!r} is "
            "not a positive finite float64 number; rescale sample_weight (only the "
            "relative weights and C * sum(sample_weight) matter) or change C."
        )
