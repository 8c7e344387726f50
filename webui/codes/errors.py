"""The library's errors (``PlanflowError.code``) in the user's language."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask_babel import gettext  # type: ignore[import-untyped]

from planflow.errors import PlanflowError, Refusal

from ..i18n import role_label
from .refusals import refusal_text
from .words import Params, worded


def _guard_failed(p: Params) -> str:
    refusals = [
        Refusal(str(r.get("code", "")), r.get("params") or {})
        for r in p.get("refusals", ())
        if isinstance(r, Mapping)
    ]
    reasons = " ".join(refusal_text(r) for r in refusals)
    return str(gettext("This action was refused: %(reasons)s", reasons=reasons))


def _stale_version(p: Params) -> str:
    # A version ahead of the plan's was never seen by anyone: a client (an API
    # caller, an edited form) sent a wrong number, and "someone else changed
    # it" would send the reader looking for a change nobody made.
    try:
        ahead = int(p["expected"]) > int(p["current"])
    except (KeyError, TypeError, ValueError):
        ahead = False
    if ahead:
        return str(
            gettext(
                "This plan is at version %(current)s: there is no version %(expected)s yet. "
                "Nothing was saved. Send the version you read from the plan.",
                expected=p["expected"],
                current=p["current"],
            )
        )
    return str(
        gettext(
            "Someone else changed this plan while you were looking at it "
            "(you had version %(expected)s, it is now at version %(current)s). "
            "Nothing was saved. Check the plan as it is now and try again.",
            expected=p["expected"],
            current=p["current"],
        )
    )


def _file_size(size: int) -> str:
    from ..progress_forms import file_size  # the pages' own wording of a size

    return file_size(size)


#: Errors (``PlanflowError.code``) whose text does not depend on the exception object.
ERRORS: dict[str, Callable[[Params], str]] = {
    "stale_version": _stale_version,
    "guard_failed": _guard_failed,
    "action_not_allowed": lambda p: gettext(
        "This action is not possible while the plan is in its current state."
    ),
    "permission_denied": lambda p: gettext(
        "You may not do this: it needs the role of %(role)s.", role=role_label(str(p["role"]))
    ),
    "admin_forbidden": lambda p: gettext(
        "You may not do this: it needs the role of %(role)s.", role=role_label(str(p["role"]))
    ),
    "not_found": lambda p: (
        gettext("This API has no such address; its addresses are listed at /api/v1/docs.")
        if p.get("kind") == "address"
        else gettext("The page or item you asked for does not exist.")
    ),
    # The HTTP API's own refusals (webui/api).
    "token_missing": lambda p: gettext(
        "Send a personal access token in the header: Authorization: Bearer pft_…"
    ),
    "token_invalid": lambda p: gettext("This access token is not valid: unknown or revoked."),
    "token_expired": lambda p: gettext("This access token has expired: make a new one."),
    "token_scope": lambda p: gettext(
        "This needs a token with the scope %(needed)s; this one has %(scope)s.",
        needed=p["needed"],
        scope=p["scope"],
    ),
    "rate_limited": lambda p: gettext(
        "Too many requests with this token in one minute (at most %(limit)s). "
        "Wait a little and try again.",
        limit=p["limit"],
    ),
    "invalid_request": lambda p: gettext(
        "The request does not fit: check %(fields)s.", fields=p["fields"]
    ),
    "json_required": lambda p: gettext("Send the body as JSON (Content-Type: application/json)."),
    "json_invalid": lambda p: gettext("The body is not valid JSON."),
    "too_large": lambda p: gettext(
        "The request is too large: this address takes at most %(limit)s.",
        limit=_file_size(int(p["max_bytes"])),
    ),
    "method_not_allowed": lambda p: gettext(
        "This address takes only %(methods)s.", methods=", ".join(p["allowed"])
    ),
    # Refused input (``ValidationError``): the forms check most of it first.
    "title_required": lambda p: gettext(
        "A plan needs a title of 1 to %(max)s characters.", max=p["max"]
    ),
    "year_out_of_range": lambda p: gettext(
        "The year must lie between %(min)s and %(max)s.", min=p["min"], max=p["max"]
    ),
    "comment_empty": lambda p: gettext("A comment cannot be empty."),
    # A bulk selection that cannot be meant (``Planflow.bulk``): nothing was done.
    "bulk_empty": lambda p: gettext("Select at least one plan, then approve or return."),
    "bulk_too_many": lambda p: gettext(
        "At most %(max)s plans at once; %(count)s were selected.", max=p["max"], count=p["count"]
    ),
    "bulk_duplicate": lambda p: gettext(
        "Plan %(plan)s is selected twice; nothing was done.", plan=p["plan_id"]
    ),
    "bulk_bad_item": lambda p: gettext(
        "Plan %(plan)s at version %(version)s cannot be meant; nothing was done.",
        plan=p["plan_id"],
        version=p["version"],
    ),
    "bulk_action_unknown": lambda p: gettext("Choose approve or return."),
    # Delegation (委托, ``Planflow.delegations``): each names its field.
    "delegate_to_self": lambda p: gettext("You cannot be your own deputy."),
    "unknown_deputy": lambda p: gettext("There is no user %(user)s.", user=p["user"]),
    "inactive_deputy": lambda p: gettext(
        "This person's account is not active: choose another deputy."
    ),
    "invalid_date": lambda p: gettext("Give the date as YYYY-MM-DD, for example 2027-01-31."),
    "delegation_ends_before_start": lambda p: gettext("The last day comes before the first day."),
    "delegation_in_past": lambda p: gettext("The last day has already passed."),
    "delegation_too_long": lambda p: gettext(
        "A delegation can cover at most %(max)s days.", max=p["max"]
    ),
    "delegation_overlaps": lambda p: gettext(
        "You already have a deputy for these tasks from %(start)s to %(end)s.",
        start=p["starts_on"],
        end=p["ends_on"],
    ),
    "deputy_away": lambda p: gettext(
        "Your deputy is away themselves from %(start)s to %(end)s: choose someone else.",
        start=p["starts_on"],
        end=p["ends_on"],
    ),
    "unknown_workflow": lambda p: gettext("There is no such workflow."),
    "unknown_role": lambda p: gettext("There is no such role."),
    "unknown_state": lambda p: gettext(
        "No kind of plan has the state %(state)s.", state=p["state"]
    ),
    "text_too_long": lambda p: gettext(
        "This text can have at most %(max)s characters; it has %(length)s.",
        max=p["max"],
        length=p["length"],
    ),
    "text_control_character": lambda p: gettext(
        "This text contains a control character; remove it."
    ),
    # A direction override is a control character too, to the person who typed it.
    "text_bidi_control": lambda p: gettext("This text contains a control character; remove it."),
    "unknown_item": lambda p: gettext("The plan has no such item."),
    "round_finished": lambda p: gettext("This inspection round is already finished."),
    "no_scores": lambda p: gettext("No scores were given."),
    "criteria_unscored": lambda p: gettext(
        "Score every criterion before you finish the inspection."
    ),
    "password_too_short": lambda p: gettext(
        "A password needs at least %(min)s characters.", min=p["min"]
    ),
    "password_too_long": lambda p: gettext(
        "A password can have at most %(max)s characters.", max=p["max"]
    ),
    "password_invalid": lambda p: gettext(
        "This password contains a character that cannot be used."
    ),
    # Refusals a page checks first in its own words; a page that changed meanwhile
    # (a plan moved on, a form older than the sheet) can still meet them.
    "wrong_state": lambda p: gettext(
        "This action is not possible while the plan is in its current state."
    ),
    "work_closed": lambda p: gettext(
        "This action is not possible while the plan is in its current state."
    ),
    "content_locked": lambda p: gettext(
        "This action is not possible while the plan is in its current state."
    ),
    "content_year_mismatch": lambda p: gettext(
        "The content is for %(content)s, the plan for %(plan)s.",
        content=p["content_year"],
        plan=p["plan_year"],
    ),
    # Importing a plan document (``planflow.integrations.documents``, the import page).
    "document_missing": lambda p: gettext("The file could not be read."),
    "document_too_big": lambda p: gettext(
        "The file is too large: at most %(max)s MB can be imported.",
        max=int(p["max"]) // (1024 * 1024),
    ),
    "document_empty": lambda p: gettext(
        "There is nothing to import: the file or the text is empty."
    ),
    "document_binary": lambda p: gettext(
        "This file is not text. Import a Word (.docx) or text (.txt) file."
    ),
    "document_kind": lambda p: gettext(
        "This kind of file cannot be read. Save it as Word (.docx) or text (.txt) and import that."
    ),
    "document_encoding": lambda p: gettext(
        "The text's encoding was not recognised. Save it as UTF-8 text or as Word (.docx)."
    ),
    "document_damaged": lambda p: gettext(
        "The Word file is damaged. Open it in Word, save it again and import that."
    ),
    "import_nothing_found": lambda p: gettext("No sections or items were found in the document."),
    "import_preview_invalid": lambda p: gettext(
        "The preview sent back by the page could not be read, so nothing was saved. "
        "Read the document again."
    ),
    "content_invalid": lambda p: gettext("Nothing was saved. Correct the marked fields."),
    "invalid_scores": lambda p: gettext("Nothing was saved. Correct the marked fields."),
    "unknown_status": lambda p: gettext("Choose one of the options."),
    "unknown_language": lambda p: gettext("Choose one of the options."),
    "unknown_email_preference": lambda p: gettext("Choose immediately, a daily digest or off."),
    "measured_not_number": lambda p: gettext("Give a number, e.g. 95 or 2.5."),
    # Webhooks and group robots (``core.webhooks``, ``core.robots``): the admin page.
    "webhook_url_invalid": lambda p: gettext(
        "This is not a usable address for a webhook or robot (%(reason)s).", reason=p["reason"]
    ),
    "webhook_url_private": lambda p: gettext(
        'The address %(host)s is a private or local one (%(address)s). Tick "allow private '
        'addresses" if this receiver is on your own network.',
        host=p["host"],
        address=p["address"],
    ),
    "webhook_url_unresolvable": lambda p: gettext(
        "The host name %(host)s cannot be found.", host=p["host"]
    ),
    "webhook_event_unknown": lambda p: gettext("Choose one of the events offered."),
    "webhook_events_required": lambda p: gettext("Choose at least one event."),
    "webhook_kind_unknown": lambda p: gettext(
        "Choose a webhook or one of the robots offered (DingTalk, WeCom, Feishu)."
    ),
    "robot_language_unknown": lambda p: gettext("Choose one of the languages offered."),
    "user_channels_off": lambda p: gettext(
        "An administrator has not allowed people their own webhooks or robots."
    ),
    "robot_secret_required": lambda p: gettext(
        "A %(kind)s robot needs the signing secret shown in its security settings.",
        kind=p["kind"],
    ),
    "database_not_initialised": lambda p: gettext(
        "The database has no planflow tables yet. An administrator must set it up "
        "with the command planflow init."
    ),
    "database_unavailable": lambda p: (
        gettext(
            "The connection to the database was lost while saving, so it is not known "
            "whether your change was saved. Look at the page again before you repeat it."
        )
        if p.get("saved") == "unknown"
        else gettext(
            "The database is unavailable at the moment, so nothing was saved. "
            "Please try again in a little while."
        )
    ),
}


def error_text(error: PlanflowError) -> str | None:
    """The error in the user's language, or None when this catalogue lacks its code."""
    return worded(ERRORS, error.code, error.params)


#: Problems with plan content (``planflow.core.content.items.Problem``), next to the
#: editor's field. The other codes are about keys and the content's structure, which
#: the editor's fields never send.
