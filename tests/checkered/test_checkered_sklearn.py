"""scikit-learn's common estimator checks and probability scorers for
CheckeredClassifier."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, get_scorer, make_scorer
from sklearn.utils.estimator_checks import parametrize_with_checks

from statlogit import CheckeredClassifier
from statlogit.datasets import make_checkerboard


@parametrize_with_checks(
    [CheckeredClassifier(n_restarts=1, max_iter=50, random_state=0),
     CheckeredClassifier(n_hyperplanes=1, solver="em", max_iter=10, random_state=0)])
def test_sklearn_common_checks(estimator, check):
    check(estimator)


# ---------------------------------------------- scikit-learn's probability scorers

NAMES = np.array(["unsure", "doubt", "sure", "fairly sure"])  # not in sorted order


def _labels(codes, kind, n_classes):
    names = NAMES[:n_classes]
    if kind == "int":
        return (n_classes - codes) * 5  # descending integers: order differs from codes
    if kind == "str":
        return names[codes]
    return pd.Categorical(names[codes], categories=names, ordered=True)


def _auc(score, positive):
    """Mann-Whitney AUC by hand: P(score_pos > score_neg) + P(tie) / 2."""
    pos, neg = score[positive], score[~positive]
    diff = pos[:, None] - neg[None, :]
    return float(np.mean(diff > 0) + 0.5 * np.mean(diff == 0))


def _by_hand(name, proba, y, classes):
    y = np.asarray(y)
    onehot = y[:, None] == classes[None, :]
    if name == "neg_log_loss":
        return float(np.mean(np.log(proba[onehot])))
    if name == "neg_brier_score":
        return -float(np.mean((proba[:, 1] - onehot[:, 1]) ** 2))
    if name == "roc_auc":
        return _auc(proba[:, 1], onehot[:, 1])
    if name == "roc_auc_ovr":
        return float(np.mean([_auc(proba[:, k], onehot[:, k])
                              for k in range(len(classes))]))
    if name == "roc_auc_ovo":
        pairs = []
        for a in range(len(classes)):
            for b in range(a + 1, len(classes)):
                keep = onehot[:, a] | onehot[:, b]
                pairs.append(0.5 * (_auc(proba[keep, a], onehot[keep, a])
                                    + _auc(proba[keep, b], onehot[keep, b])))
        return float(np.mean(pairs))
    raise AssertionError(name)


@pytest.mark.parametrize("kind", ["int", "str", "categorical"])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_probability_scorers_equal_the_metric_by_hand(kind, n_classes):
    """Every scorer reads predict_proba in sorted classes_ order (issue 14)."""
    X, codes = make_checkerboard(300, 2, n_cells=3, random_state=0)
    codes = (codes + (X[:, 0] > 0.5) * (n_classes - 2)) % n_classes
    y = _labels(codes, kind, n_classes)
    clf = CheckeredClassifier(n_hyperplanes=2, n_restarts=2, random_state=0).fit(X, y)
    classes = np.asarray(clf.classes_)
    assert list(classes) == sorted(set(np.asarray(y).tolist()))
    proba = clf.predict_proba(X)
    scorers = (["neg_log_loss", "roc_auc", "neg_brier_score"] if n_classes == 2
               else ["neg_log_loss", "roc_auc_ovr", "roc_auc_ovo"])
    for name in scorers:
        scorer = get_scorer(name)
        if name == "neg_brier_score" and kind != "int":
            # scikit-learn asks for pos_label with string labels; classes_[1] is the
            # class whose probability predict_proba[:, 1] is
            scorer = make_scorer(brier_score_loss, greater_is_better=False,
                                 response_method="predict_proba", pos_label=classes[1])
        assert scorer(clf, X, y) == pytest.approx(
            _by_hand(name, proba, y, classes), rel=1e-12, abs=1e-12), name
