"""The library's codes in the user's language: refusals, errors and system notes.

The library refuses with a stable code and parameters (``planflow.errors``,
listed in ``docs/codes.md``); this module is the web UI's catalogue for
them. It never reads the library's English sentences, except as the last
resort for a code it does not know (a custom guard of a deployment, say),
so that the user still learns why. Each text is a literal ``gettext`` call
so that extraction finds it. The notes the system writes into the record
(``planflow.core.notes``) carry their own texts in every language, which
the e-mails share; this module gives them the user's words for roles,
actions and metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from flask_babel import gettext, ngettext  # type: ignore[import-untyped]

from planflow.core import notes
from planflow.core.content.items import Problem
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.inspection.scoring import ScoreProblem
from planflow.core.notes import NoteLabels
from planflow.errors import PlanflowError, Refusal

from .i18n import action_label, current_language, format_when, role_label, state_label
from .users import planflow

Params = Mapping[str, Any]


def _count(params: Params, key: str = "count") -> int:
    return int(params.get(key, 0))


#: Guard refusals (``planflow.core.guards`` and the engine), by code.
REFUSALS: dict[str, Callable[[Params], str]] = {
    "no_items": lambda p: gettext("The plan has no items yet."),
    "items_without_due": lambda p: ngettext(
        "%(num)d item has no due date or month",
        "%(num)d items have no due date or month",
        _count(p),
    ),
    "comment_required": lambda p: gettext("A comment giving the reason is required."),
    "not_self": lambda p: gettext("You submitted this plan, so someone else must act on it."),
    "inspection_unrecorded": lambda p: gettext("The inspector has not recorded any score yet."),
    "inspection_unscored": lambda p: gettext("The inspector has not scored every criterion yet."),
    "inspection_failed": lambda p: gettext("The inspection did not pass."),
    "already_voted": lambda p: gettext("You have already approved in this review round."),
    "conditions_not_met": lambda p: gettext("The conditions of this action are not met."),
    "recall_too_late": lambda p: gettext(
        "It is too late to recall the plan: %(who)s has already acted on it (%(action)s, %(at)s).",
        who=_person(p.get("acted_by")),
        action=_action(p.get("action")),
        at=_when(p.get("at")),
    ),
    "urge_too_soon": lambda p: gettext(
        "They were urged less than %(hours)s hours ago; you can urge again from %(at)s.",
        hours=p["hours"],
        at=_when(p["next_at"]),
    ),
    "nothing_to_urge": lambda p: gettext("Nobody else holds a task on this plan now."),
    "return_target_not_allowed": lambda p: gettext(
        "The plan cannot be returned to %(target)s; from here it may go back to: %(allowed)s.",
        target=_state(p.get("target")),
        allowed=", ".join(_state(s) for s in p.get("allowed", ())),
    ),
    # Transfer, add an approver, CC (``services.handover``).
    "unknown_user": lambda p: gettext("There is no user %(user)s.", user=p["user"]),
    "inactive_user": lambda p: gettext(
        "%(user)s is no longer active.", user=_person(p.get("user"))
    ),
    "not_task_holder": lambda p: gettext("Only whoever holds the task now may do this."),
    "not_allowed_in_state": lambda p: gettext(
        "The plan's current step does not allow this (%(action)s).",
        action=_gesture(p.get("action")),
    ),
    "transfer_to_self": lambda p: gettext("You cannot hand the task to yourself."),
    "deputy_cannot_submit": lambda p: gettext(
        "A deputy does not submit for someone else: the submission is the submitter's own."
    ),
    "transfer_to_submitter": lambda p: gettext(
        "%(user)s submitted this plan and may not decide on it.", user=_person(p.get("user"))
    ),
    "transfer_target_lacks_role": lambda p: gettext(
        "%(user)s is not a %(role)s where this task waits.",
        user=_person(p.get("user")),
        role=role_label(str(p.get("role", ""))),
    ),
    "transfer_target_not_in_unit": lambda p: gettext(
        "%(user)s does not belong to the unit where this task waits.",
        user=_person(p.get("user")),
    ),
    "transfer_to_holder": lambda p: gettext(
        "%(user)s already has a part in this task.", user=_person(p.get("user"))
    ),
    "approver_already_added": lambda p: gettext(
        "%(user)s already has a part in this task.", user=_person(p.get("user"))
    ),
    "add_self_as_approver": lambda p: gettext("You cannot add yourself: you hold the task."),
    "add_submitter_as_approver": lambda p: gettext(
        "%(user)s submitted this plan and may not be added as an approver.",
        user=_person(p.get("user")),
    ),
    "add_approver_mode_not_allowed": lambda p: gettext(
        "Adding an approver this way is not allowed at this step."
    ),
    "too_many_approvers": lambda p: gettext(
        "A task can have at most %(max)s people.", max=p.get("max")
    ),
    "cc_nobody": lambda p: gettext("Name at least one person to copy."),
    "too_many_cc": lambda p: gettext(
        "You can copy at most %(max)s people at once.", max=p.get("max")
    ),
}


def _gesture(name: object) -> str:
    words = {
        "transfer": gettext("Transfer"),
        "add_approver": gettext("Add an approver"),
        "cc": gettext("CC"),
    }
    return str(words.get(str(name), name))


def _person(user_id: object) -> str:
    """A person a refusal names by id, by their display name where known."""
    pf = planflow()
    if isinstance(user_id, str):  # a name as it was typed
        return user_id
    username = pf.org_snapshot().usernames.get(user_id) if isinstance(user_id, int) else None
    if username is None:
        return str(gettext("someone else"))
    return pf.display_names([username]).get(username, username)


def person_name(user_id: object) -> str:
    """A person a notice or refusal names by user id, by their display name."""
    return _person(user_id)


def _action(name: object) -> str:
    """A trigger a refusal names, by its label in the definitions at hand."""
    for spec in planflow().registry.all():
        if isinstance(name, str) and spec.transition_named(name) is not None:
            return action_label(spec, name)
    return str(name or "")


def _state(name: object) -> str:
    """A state a refusal names, by its label in the definitions at hand."""
    for spec in planflow().registry.all():
        if isinstance(name, str) and name in spec.state_names:
            return state_label(spec, name)
    return str(name or "")


def _when(iso: object) -> str:
    try:
        return format_when(datetime.fromisoformat(str(iso)))
    except ValueError:
        return str(iso)


def refusal_text(refusal: Refusal) -> str:
    """A refusal in the user's language; the library's English for an unknown code."""
    render = REFUSALS.get(refusal.code)
    if render is None:
        return refusal.message
    try:
        return str(render(refusal.params))
    except (KeyError, TypeError, ValueError):  # params of an older or newer library
        return refusal.message


#: Refusals that waiting will not lift: this user may never take the action on this round.
LASTING = frozenset({"already_voted", "not_self", "deputy_cannot_submit"})
#: Blocks that no one can lift any more: the moment for the action has passed.
PASSED = frozenset({"recall_too_late"})


def blocked_intro(label: str, refusals: Iterable[Refusal]) -> str:
    """The words before an action's reasons: "not possible yet", unless no wait would help.

    "Approve is not possible yet: you have already approved in this review
    round" promised a later that never comes (a committee member's second
    vote, a submitter approving their own plan); "Recall is not possible yet:
    it is too late" contradicted itself.
    """
    codes = {r.code for r in refusals}
    if codes and codes <= PASSED:
        return str(gettext("%(action)s is no longer possible:", action=label))
    if codes <= LASTING | PASSED:
        return str(gettext("%(action)s is not possible for you:", action=label))
    return str(gettext("%(action)s is not possible yet:", action=label))


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
    "not_found": lambda p: gettext("The page or item you asked for does not exist."),
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
    render = ERRORS.get(error.code)
    if render is None:
        return None
    try:
        return str(render(error.params))
    except (KeyError, TypeError, ValueError):
        return None


#: Problems with plan content (``planflow.core.content.items.Problem``), next to the
#: editor's field. The other codes are about keys and the content's structure, which
#: the editor's fields never send.
CONTENT_PROBLEMS: dict[str, Callable[[Params], str]] = {
    "required": lambda p: gettext("This field is required."),
    "too_long": lambda p: gettext("At most %(max)d characters, please.", max=int(p["max"])),
    "control_character": lambda p: gettext("This text contains a control character; remove it."),
    "bidi_control": lambda p: gettext("This text contains a control character; remove it."),
    "month_range": lambda p: gettext("Choose one of the options."),
    "bad_date": lambda p: gettext(
        "This is not a date. Give it as year-month-day, e.g. 2027-03-31."
    ),
    "outside_year": lambda p: gettext(
        "The date must lie in the plan's year, %(year)s.", year=p["year"]
    ),
    "not_finite": lambda p: gettext("Give a number, e.g. 95 or 2.5."),
    "not_one_of": lambda p: gettext("Choose one of the options."),
    "no_previous_item": lambda p: gettext("The first item has no item before it to merge into."),
    "nothing_to_split": lambda p: gettext(
        "This item is one sentence; put a line break where it should be split."
    ),
    "unknown_key": lambda p: gettext("The preview changed meanwhile. Read the document again."),
    "unknown_owner": lambda p: gettext(
        "%(owner)s is not this plan's unit or a unit below it.", owner=p["owner"]
    ),
    "too_many": lambda p: gettext("At most %(max)d targets, please.", max=int(p["max"])),
}


def content_problem_text(problem: Problem) -> str | None:
    """A content problem in the user's language, or None for a code not listed here."""
    render = CONTENT_PROBLEMS.get(problem.code)
    if render is None:
        return None
    try:
        return str(render(problem.params))
    except (KeyError, TypeError, ValueError):
        return None


def _points(p: Params) -> str:
    return notes.number(p["points"])


#: A bad entry of a scoring sheet (``planflow.core.inspection.scoring.ScoreProblem``),
#: said at its criterion's field. The inspector's sheet says some of them its own way.
SCORE_PROBLEMS: dict[str, Callable[[Params], str]] = {
    "below_zero": lambda p: gettext("This cannot be below 0."),
    "above_points": lambda p: gettext(
        "This criterion has %(points)s points; give at most that.", points=_points(p)
    ),
    "not_finite": lambda p: gettext("This number is too large."),
    "not_number": lambda p: gettext("Give a number, e.g. 7.5."),
    "no_target": lambda p: gettext("This criterion has no target, so it takes no measured value."),
    # Only a page older than the sheet, or changed outside it, sends these two.
    "duplicate": lambda p: gettext(
        "This criterion was sent more than once. Reload the page and try again."
    ),
    "unknown_criterion": lambda p: gettext(
        "The scoring sheet has no such criterion. Reload the page and try again."
    ),
}


def score_problem_text(problem: ScoreProblem) -> str:
    """A bad entry of a sheet in the user's language; the English for an unknown code."""
    render = SCORE_PROBLEMS.get(problem.code)
    if render is None:
        return problem.message
    try:
        return str(render(problem.params))
    except (KeyError, TypeError, ValueError):
        return problem.message


#: An error's code, said briefly (inside a note: "the automatic action was refused (…)").
ERROR_NAMES: dict[str, Callable[[], str]] = {
    "guard_failed": lambda: gettext("a condition of the action is not met"),
    "action_not_allowed": lambda: gettext("not possible in this state"),
    "permission_denied": lambda: gettext("not permitted"),
}


def note_labels(spec: WorkflowSpec | None) -> NoteLabels:
    """The user's words for the names a note carries, from the plan's definition."""
    lang = current_language()

    def metric(name: str) -> str:
        sheet = spec.inspection if spec is not None else None
        return sheet.metric_label(name, lang) if sheet is not None else name

    def action(name: str) -> str:
        return action_label(spec, name) if spec is not None else name

    def criterion(code: str) -> str:
        sheet = spec.inspection if spec is not None else None
        return sheet.criterion_label(code, lang) if sheet is not None else code

    def error(code: str) -> str:
        said = ERROR_NAMES.get(code)
        return str(said()) if said is not None else code

    return NoteLabels(
        metric=metric, role=role_label, action=action, error=error, criterion=criterion
    )


def note_text(note: Mapping[str, Any], spec: WorkflowSpec | None) -> str:
    """A text the system wrote into the record, in the user's language."""
    return notes.render(note, current_language(), note_labels(spec))


def record_text(comment: str | None, detail: object, spec: WorkflowSpec | None) -> str | None:
    """What an audit record says: its note in the user's language, else its comment."""
    found = notes.of_detail(detail)
    return note_text(found, spec) if found is not None else comment


def payload_text(payload: Mapping[str, Any], spec: WorkflowSpec | None) -> str | None:
    """What a notification says besides its summary: its note, else its comment."""
    found = notes.note_of(payload.get("note"))
    if found is not None:
        return note_text(found, spec)
    comment = payload.get("comment")
    return comment if isinstance(comment, str) and comment else None
