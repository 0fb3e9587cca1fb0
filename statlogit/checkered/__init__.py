"""Sum-log-concave (checkered) classification (Achab, 2022, 2023)."""

from statlogit.checkered.classifier import (
    CheckeredClassifier,
)

__all__ = [
    "CheckeredClassifier",
]
