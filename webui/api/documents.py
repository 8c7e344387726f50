"""Plan documents through the API: a .txt/.docx plan imported, a plan and its inspection as .docx.

``POST /plans/import`` takes the document as a multipart file part
(``file``) or as text (JSON ``text``, or a form field ``text``) and answers
what ``planflow plans import --dry-run --json`` prints: with ``dry_run`` it
creates nothing (200); without, it creates the draft as the caller, like
the command without ``--dry-run`` (201, with ``plan``). The reading, the
importing and the refusals are the library's (``read_plan_bytes``,
``import_document``, ``require_one_plan``), shared with the command line;
the draft is created by ``Planflow.create_plan(content=...)`` as on the web.

``GET /plans/{id}/document.docx`` and ``/inspection.docx`` are the Word
files of the web page's download buttons (``Planflow.documents``), in the
caller's language; a plan the caller may not see is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from pydantic import BaseModel, Field, ValidationError
from spectree import Response as Responses
from werkzeug.datastructures import FileStorage

from planflow.core.content.importer import ImportResult
from planflow.core.text import MAX_PLAN_TITLE
from planflow.integrations.documents.importing import import_document, require_one_plan
from planflow.integrations.documents.reading import MAX_BYTES, read_plan_bytes

from ..i18n import current_language
from ..users import planflow
from .auth import caller, require_scope
from .errors import InvalidRequest
from .plans import PLAN, READ_ERRORS
from .schemas import Problem, Strict
from .spec import DOCX, validate

#: Room for the library's own size check to answer in words (not a bare 413).
MAX_IMPORT_REQUEST = MAX_BYTES + 2 * 1024 * 1024
IMPORT_ENDPOINT = "api.import_plan"


class ImportRequest(Strict):
    """A plan document to import: its text here, or (multipart) its file as ``file``."""

    text: str | None = Field(None, description="The document as plain text (or send `file`).")
    year: int = Field(ge=2000, le=2100, description="The plan's year.")
    unit: str | None = Field(
        None, max_length=100, description="Code of the plan's unit; needed unless dry_run."
    )
    dry_run: bool = Field(False, description="Create nothing; answer the parsed outline.")
    part: int | None = Field(None, ge=1, le=1000, description="Which plan of a file of several.")
    title: str | None = Field(None, max_length=MAX_PLAN_TITLE)
    workflow: str = Field("annual_plan", max_length=100)


class ImportForm(ImportRequest):
    file: Any = Field(
        None,
        json_schema_extra={"type": "string", "format": "binary"},
        description="The .txt or .docx file.",
    )


class ImportPreview(BaseModel):
    """What ``planflow plans import --dry-run --json`` prints: ``sections`` as
    ``PUT /plans/{id}/content`` takes them, and the importer's account."""

    title: str
    sections: list[dict[str, Any]]
    part: int
    parts: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    warnings: list[dict[str, Any]]


class ImportedPlan(ImportPreview):
    plan: int = Field(description="The id of the draft created.")


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/plans/import", "import_plan", import_plan, methods=["POST"])
    bp.add_url_rule(f"/plans/{PLAN}/document.docx", "plan_docx", plan_docx, methods=["GET"])
    bp.add_url_rule(
        f"/plans/{PLAN}/inspection.docx", "inspection_docx", inspection_docx, methods=["GET"]
    )


def multipart_refusal() -> InvalidRequest | None:
    """A multipart body's problems, found before spectree validates it.

    spectree writes its validation errors as JSON with their inputs, and an
    input holding a file part is no JSON: so a file part anywhere but ``file``
    and any bad text field are refused here, without the inputs.
    """
    stray = sorted(name for name in request.files if name != "file")
    if stray:
        message = "only the document may be sent as a file part"
        return InvalidRequest([{"field": n, "message": message, "code": "text"} for n in stray])
    documents = len(request.files.getlist("file"))
    if documents > 1:
        message = f"send one document, in one file part ({documents} were sent)"
        problem = {"field": "file", "message": message, "code": "one_file"}
        return InvalidRequest([problem | {"params": {"count": documents}}])
    if "file" in request.form and "file" not in request.files:
        # The document sent as a text field: say so, not "no such field".
        message = "send the document as a file part"
        return InvalidRequest([{"field": "file", "message": message, "code": "file"}])
    fields = {name: v[0] if len(v) == 1 else v for name, v in request.form.lists()}
    if "file" in request.files:
        fields.pop("file", None)  # the part is checked by the endpoint
    try:
        ImportRequest.model_validate(fields)
    except ValidationError as error:
        return InvalidRequest.from_pydantic(error)
    return None


def _document_bytes(body: ImportRequest) -> bytes:
    """The document sent: the file part, or the text (read by the same reader as a .txt)."""
    sent = getattr(body, "file", None)
    if sent is not None and not isinstance(sent, FileStorage):
        problem = {"field": "file", "message": "send the document as a file part", "code": "file"}
        raise InvalidRequest([problem])
    if isinstance(sent, FileStorage) and body.text is not None:
        problem = {"field": "text", "message": "send a file or text, not both", "code": "both"}
        raise InvalidRequest([problem])
    if isinstance(sent, FileStorage):
        data: bytes = sent.read(MAX_BYTES + 1)
        return data
    if body.text is None:
        problem = {"field": "file", "message": "send a file or text", "code": "missing"}
        raise InvalidRequest([problem])
    return body.text.encode("utf-8")


@validate(
    json=ImportRequest,
    form=ImportForm,
    resp=Responses(HTTP_200=ImportPreview, HTTP_201=ImportedPlan, HTTP_404=Problem, **READ_ERRORS),
    tags=["plans"],
)
def import_plan(json: ImportRequest, form: ImportForm) -> tuple[ImportPreview, int]:
    """Import a .txt or .docx plan (Chinese, Korean, English) as a draft, or only read it.

    Send JSON with ``text``, or ``multipart/form-data`` with the file as
    ``file`` and the other fields as form fields. With ``dry_run`` nothing is
    created: the answer is the outline (200). Without, the draft is created at
    ``unit`` as the caller (201, scope ``write``); a file of several plans
    then needs ``part`` (422 ``import_several_plans``). A file the reader
    refuses is 422 with ``document_<reason>`` (empty, binary, too_big, kind,
    encoding, damaged).
    """
    # spectree fills the one the body came as (multipart: ``form``) and leaves the other None.
    body: ImportRequest | None = form if form is not None else json
    if body is None:
        raise InvalidRequest([{"field": "body", "message": "send a document", "code": "missing"}])
    if not body.dry_run:
        require_scope("write")
        if not body.unit:
            problem = {"field": "unit", "message": "needed unless dry_run", "code": "needed"}
            raise InvalidRequest([problem])
    lines = read_plan_bytes(_document_bytes(body))
    result = import_document(lines, year=body.year, part=body.part)
    if body.dry_run:
        return ImportPreview.model_validate(result.to_dict()), 200
    require_one_plan(result, body.part)
    assert body.unit is not None
    plan_id = _create(body, result, body.unit)
    return ImportedPlan.model_validate({"plan": plan_id, **result.to_dict()}), 201


def _create(body: ImportRequest, result: ImportResult, unit: str) -> int:
    return planflow().create_plan(
        unit_code=unit,
        year=body.year,
        title=(body.title or result.title)[:MAX_PLAN_TITLE],
        actor=caller(),
        workflow=body.workflow,
        content=result.content,
    )


def _docx(data: bytes, name: str) -> Response:
    response = Response(data, mimetype=DOCX)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@validate(resp=Responses(HTTP_200=None, HTTP_404=Problem, **READ_ERRORS), tags=["plans"])
def plan_docx(plan_id: int) -> Response:
    """The plan as a Word file: sections, items (owner, due month, targets), approval record."""
    pf = planflow()
    plan = pf.plan(plan_id, as_user=caller())
    data = pf.documents.plan_docx(plan_id, as_user=caller(), language=current_language())
    return _docx(data, f"plan-{plan_id}-{plan.year}.docx")


@validate(resp=Responses(HTTP_200=None, HTTP_404=Problem, **READ_ERRORS), tags=["inspections"])
def inspection_docx(plan_id: int) -> Response:
    """The plan's latest inspection as a Word file: scoring sheet, outcome, rectification."""
    pf = planflow()
    plan = pf.plan(plan_id, as_user=caller())
    data = pf.documents.inspection_docx(plan_id, as_user=caller(), language=current_language())
    return _docx(data, f"inspection-{plan_id}-{plan.year}.docx")
