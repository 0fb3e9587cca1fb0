"""scikit-learn's common estimator checks for CheckeredClassifier."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from statlogit import CheckeredClassifier


@parametrize_with_checks(
    [CheckeredClassifier(n_restarts=1, max_iter=50, random_state=0),
     CheckeredClassifier(n_hyperplanes=1, solver="em", max_iter=10, random_state=0)])
def test_sklearn_common_checks(estimator, check):
    check(estimator)
