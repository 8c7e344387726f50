"""Plain-text plan importer: ``parse_plan_text`` turns a pasted plan into PlanContent.

The importer itself is ``planflow.core.content.importer`` (numbering grammar,
levels, debris, due months and targets); this is its shortest use, for the
editor's paste box: the content alone, of the first plan in the text that is
not a review. It never fails on any text; whatever it produces passes
``PlanContent.from_dict``.
"""

from __future__ import annotations

from planflow.core.content.importer import import_text
from planflow.core.content.model import PlanContent


def parse_plan_text(text: str, *, year: int) -> PlanContent:
    """Import a plain-text plan: numbered headings become sections and items."""
    return import_text(text, year=year).content
