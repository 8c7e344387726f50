"""A plan document imported for a client: the part chosen and the refusals about it.

The command line (``planflow plans import``) and the HTTP API
(``POST /api/v1/plans/import``) read a document with ``reading``, import it
with ``planflow.core.content.importer.import_plan`` and refuse the same way,
here: a file in which no section or item was found (``import_nothing_found``:
replacing a plan's content with it would empty the plan), a part the file
does not have (``import_no_part``) and, when a plan is
to be created from it, a file of several plans with none chosen
(``import_several_plans``, listing them). The web page lets the user choose
the part on its preview instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from planflow.core.content.importer import ImportResult, Line, import_plan
from planflow.errors import ValidationError


def import_document(lines: Sequence[Line], *, year: int, part: int | None = None) -> ImportResult:
    """The document's plan (``part``, from 1, or the importer's choice); refused if the
    document holds no plan at all, or no such part."""
    result = import_plan(lines, year=year, part=part)
    if part is not None and part > len(result.parts):
        raise ValidationError(
            f"the file holds {len(result.parts)} plan(s), not {part}",
            code="import_no_part",
            params={"part": part, "count": len(result.parts)},
        )
    if not result.content.sections:
        raise ValidationError(
            "no sections or items were found in the document", code="import_nothing_found"
        )
    return result


def require_one_plan(result: ImportResult, part: int | None) -> None:
    """Before a plan is created: a file of several plans needs the part named."""
    if len(result.parts) > 1 and part is None:
        listed = "; ".join(f"{p.number}: {p.title} ({p.items} items)" for p in result.parts)
        raise ValidationError(
            f"the file holds {len(result.parts)} plans, choose one with --part N: {listed}",
            code="import_several_plans",
            params={"count": len(result.parts), "parts": [p.to_dict() for p in result.parts]},
        )
