"""Reproductions of the papers' tables and figures: ``python -m simulations run NAME``.

Each module of this package registers its studies with :func:`study`; the runner
(``python -m simulations``) discovers every module, so adding a study touches no shared
file.
"""

from simulations._registry import STUDIES, StudyResult, load_all, markdown_table, study

__all__ = ["STUDIES", "StudyResult", "load_all", "markdown_table", "study"]
