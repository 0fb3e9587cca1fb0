"""The sketch operators, under their original import path.

Kept so that ``statlogit.sketches.SRHT`` and friends keep working; the operators live in
:mod:`statlogit.sketching.operators`.
"""

from statlogit.sketching import operators as _operators
from statlogit.sketching.operators import *  # noqa: F403

__all__ = list(_operators.__all__)
