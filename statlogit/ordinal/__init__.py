"""Ordinal regression for rare events: PRESTO and proportional odds (Faletto & Bien, 2023)."""

from statlogit.ordinal.classifier import (
    PrestoClassifier,
    PrestoClassifierCV,
    ProportionalOddsClassifier,
    presto_path,
)

__all__ = [
    "PrestoClassifier",
    "PrestoClassifierCV",
    "ProportionalOddsClassifier",
    "presto_path",
]
