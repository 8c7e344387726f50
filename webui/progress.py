"""Blueprint ``progress``: a plan's execution page, progress reports and evidence files.

``/plans/<id>/progress`` shows every approved item under its section with
its due date, target, latest report and evidence files
(``planflow.services.progress_board``). The plan's own drafter and submitter update
an item in one form: status, report, a measured value for items with a
target, and optionally a file. A report and its file are kept together or
not at all (``ExecutionService.report_progress(evidence=...)``); a file alone
is ``attach_evidence``. Every save is pinned to the version the page showed.
A refusal re-shows the page with what was typed (a browser cannot re-fill a
file field, so the user is asked to choose the file again).

A file over the limit is a refusal like any other, the typed report shown
again (``evidence_upload`` says how far over it a form is still read); only
a body beyond that is refused unread (413), with the page and the limit.
``static/progress.js`` checks the size in the browser before anything is sent.

Every route loads the plan through ``access.visible_plan`` first; a missing
item or an evidence id of another plan is a 404 too. Downloads are always
attachments, typed only as one of the allowed kinds, never sniffed.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response

from planflow.core.text import TextError, clean_text
from planflow.errors import PermissionDenied, PlanflowError, StaleVersion
from planflow.services.execution import MAX_REPORT, WorkClosed
from planflow.services.progress_board import BoardItem, ProgressBoard
from planflow.storage.evidence_files import KINDS, EvidenceRefused, safe_content_type
from planflow.views import PlanView

from . import plan_views as views
from .access import visible_plan
from .errors import describe, error_page, status_of
from .evidence_upload import body_limit, chosen_file, too_large_note
from .i18n import state_label
from .progress_forms import (
    STATUS_LABELS,
    ProgressForm,
    board_refusal,
    file_refusal,
    file_size,
    gettext,
    states_text,
)
from .users import me, planflow, require_login, signed_in

bp = Blueprint("progress", __name__, url_prefix="/plans")
require_login(bp)

#: What the file picker offers (the library checks the file itself).
ACCEPT = ",".join(ext for kind in KINDS for ext in kind.extensions)


@bp.url_value_preprocessor
def _room_for_a_file(endpoint: str | None, _values: object) -> None:
    # URL value preprocessors run before every before_request function, so the
    # limit is raised before CSRFProtect reads the form (under the app's 1 MiB).
    if endpoint == "progress.report":
        request.max_content_length = body_limit(planflow().execution.store.max_bytes)


def _item_anchor(key: str) -> str:
    return f"item-{key}"


def _form_for(entry: BoardItem) -> ProgressForm:
    p = entry.progress
    values = p.measured_values if p else ()
    shown = {
        ("measured" if n == 1 else f"measured_{n}"): f"{v:g}"
        for n, v in enumerate(values, 1)
        if v is not None
    }
    return ProgressForm.for_targets(len(entry.item.targets))(
        formdata=None,
        prefix=_item_anchor(entry.item.key),
        status=p.status if p else "not_started",
        report=p.report if p else "",
        **shown,
    )


def _board_page(
    plan: PlanView,
    board: ProgressBoard,
    *,
    failed: tuple[str, ProgressForm] | None = None,
    message: str | None = None,
    status: int = 200,
    fresh: bool = False,
) -> tuple[str, int]:
    """The page; a ``failed`` form keeps the version it was sent with unless ``fresh``.

    Only after a stale refusal, with the current report shown above the
    form, is the form pinned to the version now shown.
    """
    pf = planflow()
    spec = views.spec_of(pf, plan)
    forms = {}
    if board.may_report:
        forms = {e.item.key: _form_for(e) for e in board.items()}
    kept = None
    if failed is not None:
        key, form = failed
        if board.may_report and key in forms:
            forms[key] = form
        else:
            # The form is gone (the plan moved on): what was typed stays readable.
            kept = (key, form.report.data or "")
    people = [e.uploaded_by for i in board.items() for e in i.evidence]
    people += [i.progress.updated_by for i in board.items() if i.progress]
    html = render_template(
        "progress/board.html",
        plan=plan,
        spec=spec,
        unit=plan.unit,
        board=board,
        forms=forms,
        failed_key=failed[0] if failed else None,
        pinned=_pinned(failed[1]) if failed and not fresh else None,
        kept=kept,
        names=pf.display_names(people),
        status_labels=STATUS_LABELS,
        refusal=board_refusal(spec, board),
        limit=file_size(pf.execution.store.max_bytes),
        max_bytes=pf.execution.store.max_bytes,
        too_large_note=too_large_note(pf.execution.store.max_bytes),
        kinds=", ".join(kind.name.upper() for kind in KINDS),
        kind_names={t: kind.name.upper() for kind in KINDS for t in kind.content_types},
        max_report=MAX_REPORT,
        accept=ACCEPT,
        file_size=file_size,
        message=message,
    )
    return html, status


def _pinned(form: ProgressForm) -> int | None:
    value = form.expected_version.data
    return value if isinstance(value, int) and not form.expected_version.errors else None


def _load(plan_id: int) -> tuple[PlanView, ProgressBoard]:
    pf, user = planflow(), me()
    plan = visible_plan(pf, user.username, plan_id)
    return plan, pf.execution.board(plan_id, user.username)


@bp.route("/<id:plan_id>/progress")
def board(plan_id: int) -> tuple[str, int]:
    plan, found = _load(plan_id)
    return _board_page(plan, found)


def _unchanged(
    entry: BoardItem, status: str, report: str, values: tuple[float | None, ...]
) -> bool:
    def trimmed(found: tuple[float | None, ...]) -> tuple[float | None, ...]:
        while found and found[-1] is None:
            found = found[:-1]
        return found

    p = entry.progress
    if p is None:
        return status == "not_started" and not report and not trimmed(values)
    same = trimmed(p.measured_values) == trimmed(values)
    return (p.status, p.report) == (status, report) and same


@bp.route("/<id:plan_id>/progress/<item_key>", methods=["POST"])
def report(plan_id: int, item_key: str) -> Response | tuple[str, int]:
    pf, user = planflow(), me()
    plan, found = _load(plan_id)
    entry = found.item(item_key)
    if entry is None:
        abort(404)
    form = ProgressForm.for_targets(len(entry.item.targets))(prefix=_item_anchor(item_key))
    if entry.item.target is None:
        del form.measured  # the page offers no measured value for it
    upload, file_refused = None, None
    if form.is_submitted():
        try:
            upload = chosen_file(form.evidence.data, pf.execution.store)
        except EvidenceRefused as error:
            file_refused = error  # shown with the form's own errors; nothing else is tried
    valid = form.validate()
    if file_refused is not None:
        message, status = _refused(file_refused, form, plan, chosen=True)
        return _board_page(plan, found, failed=(item_key, form), message=message, status=status)
    if not valid:
        if upload is not None:
            form.evidence.errors.append(gettext("Choose the file again."))
        return _board_page(plan, found, failed=(item_key, form), status=422)
    try:
        text = clean_text(
            form.report.data or "", field="report", max_length=MAX_REPORT, multiline=True
        )
        measured = form.measured_value() if entry.item.target else None
        more = form.more_values()
        version = form.expected_version.data
        values = (measured, *more)
        if upload is not None and _unchanged(entry, form.status.data, text, values):
            pf.execution.attach_evidence(
                plan_id, item_key, upload.filename, upload.content_type, upload.data,
                actor=user.username, expected_version=version,
            )  # fmt: skip
        else:
            pf.execution.report_progress(
                plan_id, item_key, form.status.data, text,
                actor=user.username, measured=measured, expected_version=version,
                evidence=upload, more=more,
            )  # fmt: skip
    except PlanflowError as error:
        message, status = _refused(error, form, plan, chosen=upload is not None)
        plan, fresh = _load(plan_id)
        stale = isinstance(error, StaleVersion)
        return _board_page(
            plan, fresh, failed=(item_key, form), message=message, status=status, fresh=stale
        )
    if upload is not None:
        flash(
            gettext(
                "Saved: item %(number)s, with the file %(name)s.",
                number=entry.number,
                name=upload.filename,
            ),
            "success",
        )
    else:
        flash(gettext("Saved: item %(number)s.", number=entry.number), "success")
    anchor = _item_anchor(item_key)
    return redirect(url_for("progress.board", plan_id=plan_id) + f"#{anchor}")


def _refused(
    error: PlanflowError, form: ProgressForm, plan: PlanView, *, chosen: bool
) -> tuple[str, int]:
    """Put a library refusal next to its field; the page's message and status.

    ``chosen``: a file came with the form (the browser will not send it again).
    """
    again = " " + gettext("Choose the file again.") if chosen else ""
    kept = gettext("Nothing was saved. What you typed is kept below.") + again
    if isinstance(error, EvidenceRefused):
        form.evidence.errors.append(file_refusal(error, planflow().execution.store.max_bytes))
        return kept, 422
    if isinstance(error, TextError):
        # The form's own checks normally catch this first, in the user's language.
        form.report.errors.append(describe(error))
        return kept, 422
    if isinstance(error, WorkClosed):
        spec = views.spec_of(planflow(), plan)
        return gettext(
            "Progress can be reported only while the plan is %(states)s; it is now %(state)s."
            " Nothing was saved.",
            states=states_text(spec, error.allowed),
            state=state_label(spec, error.state),
        ), 422
    if isinstance(error, PermissionDenied):
        return gettext(
            "Only the drafter or submitter of the plan's own unit can report progress."
            " Nothing was saved."
        ), 403
    return describe(error) + again, status_of(error)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> tuple[str, int]:
    """A body beyond ``body_limit`` is refused before it is read: say why on the page.

    Nothing of the form could be read, so the item's form is opened as it was
    saved, with the refusal next to its file field; the page says the typed
    report is lost rather than leave the user to find out.
    """
    view_args = request.view_args or {}
    plan_id = view_args.get("plan_id")
    limit = file_size(planflow().execution.store.max_bytes)
    too_large = gettext(
        "The file is too large: evidence files may be at most %(limit)s.", limit=limit
    )
    if not signed_in() or not isinstance(plan_id, int):
        return error_page(413, too_large)
    try:
        plan, found = _load(plan_id)
    except HTTPException as error:  # a plan the user may not see: raised here it would be a 500
        return error_page(error.code or 404)
    message = (
        too_large
        + " "
        + gettext(
            "Nothing was saved, and what you typed could not be read with it:"
            " please write it again and choose a smaller file."
        )
    )
    failed = None
    entry = found.item(str(view_args.get("item_key", "")))
    if entry is not None and found.may_report:
        form = _form_for(entry)
        form.evidence.errors = [too_large]
        failed = (entry.item.key, form)
    return _board_page(plan, found, failed=failed, message=message, status=413)


@bp.route("/<id:plan_id>/evidence/<id:evidence_id>")
def download(plan_id: int, evidence_id: int) -> Response:
    pf = planflow()
    visible_plan(pf, me().username, plan_id)
    row, path = pf.execution.open_evidence(plan_id, evidence_id)
    mimetype = safe_content_type(row.content_type)
    # send_file writes the name RFC 5987-encoded (filename*=UTF-8''...) when it is not ASCII.
    response = send_file(
        path, mimetype=mimetype, as_attachment=True, download_name=row.filename, max_age=0
    )
    # No charset: a text file may be GB18030, and the browser must not guess either.
    response.headers["Content-Type"] = mimetype
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
