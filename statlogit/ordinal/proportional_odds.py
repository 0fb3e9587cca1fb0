r"""The proportional-odds (cumulative link) model by maximum likelihood, with inference.

:math:`P(y \le c_k \mid x) = F(a_k + \beta^\top x)`, one slope vector for every
boundary. The covariance is the inverse observed information of
:math:`(\beta, a)` (the exact Hessian of the summed negative log-likelihood), or a
sandwich built from the per-row scores (:func:`statlogit.inference.sandwich_covariance`).
"""

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from statlogit.inference import WaldInferenceMixin, check_cov_type, sandwich_covariance
from statlogit.ordinal._base import (
    OrdinalPredictorMixin,
    build_problem,
    warn_if_not_converged,
)
from statlogit.ordinal._brant import proportional_odds_tests
from statlogit.ordinal._plots import PlotMixin, feature_names

__all__ = ["ProportionalOddsClassifier"]


class ProportionalOddsClassifier(OrdinalPredictorMixin, PlotMixin, WaldInferenceMixin,
                                 ClassifierMixin, BaseEstimator):
    r"""Unpenalised proportional-odds (cumulative link) model, with standard errors.

    :math:`P(y \le c_k \mid x) = F(a_k + \beta^\top x)`, one slope vector for all
    boundaries (PRESTO's limit as the penalty on the differences grows), :math:`F`
    the logistic, standard normal or Gumbel-min distribution function (``link``).
    Fitted by maximum likelihood (proximal Newton with no penalty, on internally
    standardised columns, so scaling or shifting a column does not change the
    predictions). statsmodels' ``OrderedModel(distr=...)`` writes the same model as
    :math:`F(\text{cut}_k - x^\top b)` (``distr="logit"``, ``"probit"`` or
    ``scipy.stats.gumbel_l`` for the three links), so its ``b`` is ``-coef_`` and its
    cut points are ``intercept_`` (it stores them as the first cut point and the
    logarithms of the increments).

    Parameters
    ----------
    tol : float, default=1e-10
        Stop when the largest Newton step entry is below ``tol``.
    max_iter : int, default=100
        Maximum Newton iterations.
    categories : sequence, optional
        Explicit class order, lowest first.
    link : {"logit", "probit", "cloglog"}, default="logit"
    cov_type : {"nonrobust", "robust", "cluster"}, default="nonrobust"
        ``"nonrobust"``: inverse observed information; ``"robust"``: HC1 sandwich;
        ``"cluster"``: cluster-robust sandwich with ``fit(..., groups=)``
        (statsmodels' small-sample factors).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        The common slope :math:`\beta`.
    intercept_ : ndarray of shape (K-1,)
        Increasing intercepts :math:`a_k` (thresholds between ``categories_``).
    cov_ : ndarray of shape (n_features + K-1, n_features + K-1)
        Covariance of ``(coef_, intercept_)``, slopes first.
    std_errors_ : pandas.Series
        Square roots of its diagonal, indexed by feature and threshold names
        (``"low|mid"`` is the threshold between classes ``low`` and ``mid``).
    loglik_ : float
        Maximised (weighted) log-likelihood.
    classes_, categories_, n_iter_, n_features_in_, feature_names_in_
        As in :class:`~statlogit.PrestoClassifier`.
    """

    def __init__(self, *, tol=1e-10, max_iter=100, categories=None, link="logit",
                 cov_type="nonrobust"):
        self.tol = tol
        self.max_iter = max_iter
        self.categories = categories
        self.link = link
        self.cov_type = cov_type

    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit by maximum likelihood; returns ``self``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights (integer weights equal repeated rows).
        groups : array-like of shape (n_samples,), optional
            Cluster labels for ``cov_type="cluster"``.
        """
        cov_type = check_cov_type(self.cov_type, groups)
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape != (len(y),):
                raise ValueError(f"groups must hold one label per row ({len(y)}); got "
                                 f"shape {groups.shape}.")
            if sample_weight is not None:
                groups = groups[np.asarray(sample_weight, dtype=np.float64) > 0]
        problem, categories, classes, _ = build_problem(
            self, X, y, sample_weight, penalized=False, standardize=True,
            **self.get_params())
        result = problem.solve(0.0, free_slopes=False)
        warn_if_not_converged(result, "ProportionalOddsClassifier")
        self.classes_, self.categories_ = classes, categories
        self.intercept_, coef = problem.original(result)
        self.coef_ = coef[0]
        self.n_iter_ = result.n_iter
        self.loglik_ = -result.objective * problem.loss.n  # unpenalised: the mean NLL
        self.n_obs_ = problem.loss.X.shape[0]  # rows of positive weight
        self.cov_ = self._covariance(problem, result.x, cov_type, groups)
        self.std_errors_ = pd.Series(np.sqrt(np.diag(self.cov_)),
                                     index=self._param_names())
        return self

    def _covariance(self, problem, x, cov_type, groups):
        """Covariance of ``(beta, a)`` on the original scale of X."""
        loss, scaling = problem.parallel_loss, problem.scaling
        m = loss.n_boundaries
        p = loss.X.shape[1]
        order = np.r_[m + np.arange(p), np.arange(m)]  # (beta, a) from x = (a, beta)
        _, _, hess = loss.derivatives(x)
        hess = hess[np.ix_(order, order)] * loss.n
        identified = np.r_[~scaling.constant, np.ones(m, dtype=bool)]
        bread = np.full((p + m, p + m), np.nan)
        inner = np.ix_(identified, identified)
        bread[inner] = np.linalg.pinv(hess[inner], hermitian=True)
        if cov_type != "nonrobust":
            scores = loss.row_scores(x)[:, order][:, identified]
            bread[inner] = sandwich_covariance(bread[inner], scores, cov_type=cov_type,
                                               groups=groups)
        if np.any(scaling.constant):
            warnings.warn("Constant columns have no identified slope; their standard "
                          "errors are NaN.", UserWarning, stacklevel=3)
        # (beta, a) = J (psi_1, a~): beta = psi_1 / s, a_k = a~_k - m' beta
        jac = np.zeros((p + m, p + m))
        jac[:p, :p] = np.diag(1.0 / scaling.scale)
        jac[p:, :p] = -scaling.mean / scaling.scale
        jac[p:, p:] = np.eye(m)
        cov = np.where(np.isnan(bread), 0.0, bread)
        with np.errstate(over="ignore", invalid="ignore"):
            cov = jac @ cov @ jac.T
        if not np.all(np.isfinite(cov)):
            warnings.warn("The covariance overflows float64 on X's scale (a column's "
                          "scale is extreme); rescale X's columns for finite standard "
                          "errors.", UserWarning, stacklevel=3)
        unknown = np.r_[scaling.constant, np.zeros(m, dtype=bool)]
        eigen = np.linalg.eigvalsh(hess[inner])
        if not eigen[0] > 1e-10 * eigen[-1]:
            warnings.warn("The information matrix is singular (fewer rows than "
                          "parameters, collinear columns or separated classes): the "
                          "standard errors are not defined and are NaN.", UserWarning,
                          stacklevel=3)
            unknown[:] = True
        cov[unknown, :] = np.nan
        cov[:, unknown] = np.nan
        return cov

    def _param_names(self):
        thresholds = [f"{a}|{b}" for a, b in zip(self.categories_[:-1],
                                                 self.categories_[1:], strict=True)]
        return feature_names(self) + thresholds

    def _inference_frame(self):
        check_is_fitted(self)
        return pd.DataFrame({"coef": np.r_[self.coef_, self.intercept_],
                             "std err": self.std_errors_.to_numpy()},
                            index=self._param_names())

    def _summary_title(self):
        return f"Proportional odds ({self.link} link)"

    def _summary_info(self):
        return {"Link": self.link, "Classes (low to high)": ", ".join(
            str(c) for c in self.categories_), "No. Observations": self.n_obs_,
            "Log-likelihood": f"{self.loglik_:.6g}", "Covariance": self.cov_type,
            "Model": "P(y <= c_k | x) = F(a_k + x'coef)"}

    def test_proportional_odds(self, X, y, *, method="brant", sample_weight=None):
        """Test the proportional-odds assumption (equal slopes at every boundary).

        Parameters
        ----------
        X, y : the data (usually the training data)
        method : {"brant", "lr"}
            ``"brant"``: Brant's (1990) Wald test from the K-1 separate binary fits
            of :math:`1\\{y > c_k\\}` (logit link only), omnibus and per feature;
            ``"lr"``: likelihood ratio against the unconstrained cumulative model
            (PRESTO at ``alpha=0``, same link), omnibus only.
        sample_weight : array-like, optional

        Returns
        -------
        pandas.DataFrame
            Rows ``"omnibus"`` (and one per feature for Brant) with columns
            ``chi2``, ``df`` and ``p-value``.

        Notes
        -----
        When the test rejects, :class:`~statlogit.PrestoClassifierCV` is the remedy:
        it lets the boundaries' slopes differ where the data say so.
        """
        check_is_fitted(self)
        return proportional_odds_tests(self, X, y, method=method,
                                       sample_weight=sample_weight)

    def _boundary_coef(self):
        return np.tile(self.coef_, (len(self.intercept_), 1))

    def __sklearn_tags__(self):
        # One common slope cannot separate scikit-learn's unordered toy blobs.
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags
