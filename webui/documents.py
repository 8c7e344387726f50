"""Blueprint ``documents``: a plan and its inspection result as Word files to download.

Whoever may see the plan may download them (``access.visible_plan``: 404
otherwise); the library writes the file in the reader's language
(``Planflow.documents``). The file name carries the plan's id and year.
"""

from __future__ import annotations

from flask import Blueprint, Response

from .access import visible_plan
from .i18n import current_language
from .users import me, planflow, require_login

bp = Blueprint("documents", __name__, url_prefix="/plans")
require_login(bp)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _download(data: bytes, name: str) -> Response:
    response = Response(data, mimetype=DOCX)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<id:plan_id>/plan.docx")
def plan(plan_id: int) -> Response:
    pf, user = planflow(), me()
    found = visible_plan(pf, user.username, plan_id)
    data = pf.documents.plan_docx(plan_id, as_user=user.username, language=current_language())
    return _download(data, f"plan-{plan_id}-{found.year}.docx")


@bp.route("/<id:plan_id>/inspection.docx")
def inspection(plan_id: int) -> Response:
    pf, user = planflow(), me()
    found = visible_plan(pf, user.username, plan_id)
    data = pf.documents.inspection_docx(plan_id, as_user=user.username, language=current_language())
    return _download(data, f"inspection-{plan_id}-{found.year}.docx")
