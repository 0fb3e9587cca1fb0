"""Ordinal regression for rare events: PRESTO and proportional odds (Faletto & Bien, 2023)."""

from statlogit.ordinal._reference import presto as presto_cvxpy
from statlogit.ordinal.classifier import PrestoClassifier
from statlogit.ordinal.path import PrestoClassifierCV, presto_path
from statlogit.ordinal.proportional_odds import ProportionalOddsClassifier

__all__ = [
    "PrestoClassifier",
    "PrestoClassifierCV",
    "ProportionalOddsClassifier",
    "presto_cvxpy",
    "presto_path",
]
