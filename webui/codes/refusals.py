"""Guard refusals in the user's language, and the words that introduce them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from flask_babel import gettext, ngettext  # type: ignore[import-untyped]

from planflow.core.notes import number
from planflow.errors import Refusal

from ..i18n import current_language, role_label
from .words import (
    Params,
    action_name,
    count_of,
    criterion_words,
    gesture_name,
    person_name,
    state_name,
    when_text,
)

#: Guard refusals (``planflow.core.guards`` and the engine), by code.
REFUSALS: dict[str, Callable[[Params], str]] = {
    "no_items": lambda p: gettext("The plan has no items yet."),
    "items_without_due": lambda p: ngettext(
        "%(num)d item has no due date or month",
        "%(num)d items have no due date or month",
        count_of(p),
    ),
    "comment_required": lambda p: gettext("A comment giving the reason is required."),
    "not_self": lambda p: gettext("You submitted this plan, so someone else must act on it."),
    "inspection_unrecorded": lambda p: gettext("The inspector has not recorded any score yet."),
    "inspection_unscored": lambda p: gettext("The inspector has not scored every criterion yet."),
    "inspection_failed": lambda p: _inspection_failed(p),
    "already_voted": lambda p: gettext("You have already approved in this review round."),
    "conditions_not_met": lambda p: gettext("The conditions of this action are not met."),
    "recall_too_late": lambda p: gettext(
        "It is too late to recall the plan: %(who)s has already acted on it (%(action)s, %(at)s).",
        who=person_name(p.get("acted_by")),
        action=action_name(p.get("action")),
        at=when_text(p.get("at")),
    ),
    "urge_too_soon": lambda p: gettext(
        "They were urged less than %(hours)s hours ago; you can urge again from %(at)s.",
        hours=p["hours"],
        at=when_text(p["next_at"]),
    ),
    "nothing_to_urge": lambda p: gettext("Nobody else holds a task on this plan now."),
    "return_target_not_allowed": lambda p: gettext(
        "The plan cannot be returned to %(target)s; from here it may go back to: %(allowed)s.",
        target=state_name(p.get("target")),
        allowed=", ".join(state_name(s) for s in p.get("allowed", ())),
    ),
    # Transfer, add an approver, CC (``services.handover``).
    "unknown_user": lambda p: gettext("There is no user %(user)s.", user=p["user"]),
    "inactive_user": lambda p: gettext(
        "%(user)s is no longer active.", user=person_name(p.get("user"))
    ),
    "not_task_holder": lambda p: gettext("Only whoever holds the task now may do this."),
    "not_allowed_in_state": lambda p: gettext(
        "The plan's current step does not allow this (%(action)s).",
        action=gesture_name(p.get("action")),
    ),
    "transfer_to_self": lambda p: gettext("You cannot hand the task to yourself."),
    "deputy_cannot_submit": lambda p: gettext(
        "A deputy does not submit for someone else: the submission is the submitter's own."
    ),
    "transfer_to_submitter": lambda p: gettext(
        "%(user)s submitted this plan and may not decide on it.", user=person_name(p.get("user"))
    ),
    "transfer_target_lacks_role": lambda p: gettext(
        "%(user)s is not a %(role)s where this task waits.",
        user=person_name(p.get("user")),
        role=role_label(str(p.get("role", ""))),
    ),
    "transfer_target_not_in_unit": lambda p: gettext(
        "%(user)s does not belong to the unit where this task waits.",
        user=person_name(p.get("user")),
    ),
    "transfer_to_holder": lambda p: gettext(
        "%(user)s already has a part in this task.", user=person_name(p.get("user"))
    ),
    "approver_already_added": lambda p: gettext(
        "%(user)s already has a part in this task.", user=person_name(p.get("user"))
    ),
    "add_self_as_approver": lambda p: gettext("You cannot add yourself: you hold the task."),
    "add_submitter_as_approver": lambda p: gettext(
        "%(user)s submitted this plan and may not be added as an approver.",
        user=person_name(p.get("user")),
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


#: How a list of criteria is joined, by language (a Chinese list takes ，: a criterion's
#: own text may hold 、).
_LIST_SEPARATOR = {"zh": "，"}


def _inspection_failed(p: Params) -> str:
    """The sheet did not pass: the criteria to rectify by the sheet's own texts in the
    reader's language, and a total below the pass mark (``core.guards.why_not_passed``)."""
    words = [criterion_words(c) for c in p.get("criteria", ()) if isinstance(c, Mapping)]
    criteria = _LIST_SEPARATOR.get(current_language(), ", ").join(words)
    below = "total" in p and "pass_mark" in p
    total = number(p.get("total"))
    mark = number(p.get("pass_mark"))
    if words and below:
        return str(
            gettext(
                "The inspection did not pass. Criteria to rectify: %(criteria)s. The "
                "inspector's total of %(total)s is below the pass mark of %(mark)s.",
                criteria=criteria,
                total=total,
                mark=mark,
            )
        )
    if words:
        return str(
            gettext(
                "The inspection did not pass. Criteria to rectify: %(criteria)s.",
                criteria=criteria,
            )
        )
    if below:
        return str(
            gettext(
                "The inspection did not pass. The inspector's total of %(total)s is below "
                "the pass mark of %(mark)s.",
                total=total,
                mark=mark,
            )
        )
    return str(gettext("The inspection did not pass."))


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
