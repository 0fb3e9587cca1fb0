"""scikit-learn's estimator checks for the PRESTO family."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from statlogit import PrestoClassifier, PrestoClassifierCV, ProportionalOddsClassifier

ESTIMATORS = [
    PrestoClassifier(),
    ProportionalOddsClassifier(),
    PrestoClassifierCV(n_alphas=3, cv=2, random_state=0),
]


def expected_failed_checks(estimator):
    """No check is expected to fail."""
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
