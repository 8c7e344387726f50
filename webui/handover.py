"""The plan page's transfer, add-an-approver and CC forms (转交, 加签, 抄送).

Routes on the ``plans`` blueprint, thin over ``Planflow.transfer``,
``add_approver`` and ``cc``: the library decides who may, to whom, and
refuses with codes the page words in the reader's language. A refusal
re-renders the plan page with the reason; success flashes what happened.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import flash, redirect, url_for
from flask_babel import gettext  # type: ignore[import-untyped]
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms import SelectChoice, SelectField, StringField  # type: ignore[import-untyped]

from planflow.errors import PlanflowError
from planflow.views import HandoverResult, PlanPage

from .access import visible_plan
from .errors import describe, status_of
from .forms import PlainText, PlanflowForm, _max, _required, _strip
from .plans import _detail, bp
from .users import me, planflow

#: How many people one CC form takes (the library refuses more than its own limit).
MAX_NAMES = 2000


class TransferForm(PlanflowForm):
    to = StringField(_l("Transfer to"), filters=[_strip], validators=[_required(), _max(100)])
    reason = StringField(_l("Reason (optional)"), filters=[_strip], validators=[_max(500)])


#: The modes of adding an approver, in the form's order (the page lists those allowed).
APPROVER_MODES = (
    SelectChoice("before", _l("Before me")),
    SelectChoice("after", _l("After me")),
    SelectChoice("alongside", _l("Alongside me (both must approve)")),
)


class AddApproverForm(PlanflowForm):
    user = StringField(_l("Approver"), filters=[_strip], validators=[_required(), _max(100)])
    mode = SelectField(_l("When they decide"), choices=list(APPROVER_MODES), validate_choice=True)


class CcForm(PlanflowForm):
    people = StringField(
        _l("Copy to (usernames)"),
        filters=[_strip],
        validators=[_required(), _max(MAX_NAMES), PlainText()],
    )


def _run(
    plan_id: int,
    form: PlanflowForm,
    call: Callable[[], HandoverResult],
    said: Callable[[HandoverResult], str],
) -> Response | tuple[str, int]:
    pf, user = planflow(), me()
    visible_plan(pf, user.username, plan_id)
    if not form.validate():
        errors = [e for field in form for e in field.errors]
        return _detail(plan_id, message=" ".join(str(e) for e in errors), status=422)
    try:
        done = call()
    except PlanflowError as error:
        return _detail(plan_id, message=describe(error), status=status_of(error))
    flash(said(done), "success")
    return redirect(url_for("plans.detail", plan_id=plan_id))


def _names(usernames: tuple[str, ...]) -> str:
    names = planflow().display_names(list(usernames))
    return ", ".join(names.get(u, u) for u in usernames)


@bp.route("/<id:plan_id>/transfer", methods=["POST"])
def transfer(plan_id: int) -> Response | tuple[str, int]:
    form = TransferForm()
    return _run(
        plan_id,
        form,
        lambda: planflow().transfer(plan_id, me().username, form.to.data, form.reason.data or None),
        lambda done: gettext("The task was transferred to %(user)s.", user=_names((form.to.data,))),
    )


@bp.route("/<id:plan_id>/add-approver", methods=["POST"])
def add_approver(plan_id: int) -> Response | tuple[str, int]:
    form = AddApproverForm()
    return _run(
        plan_id,
        form,
        lambda: planflow().add_approver(plan_id, me().username, form.user.data, form.mode.data),
        lambda done: gettext("%(user)s was added as an approver.", user=_names((form.user.data,))),
    )


@bp.route("/<id:plan_id>/cc", methods=["POST"])
def cc(plan_id: int) -> Response | tuple[str, int]:
    form = CcForm()

    def people() -> list[str]:
        return [p for p in re.split(r"[\s,;，、]+", form.people.data or "") if p]

    return _run(
        plan_id,
        form,
        lambda: planflow().cc(plan_id, me().username, people()),
        lambda done: gettext("Copied to %(people)s.", people=_names(done.notified)),
    )


def page_parts(page: PlanPage) -> dict[str, object]:
    """What the plan page shows of these gestures: the holder's forms, the CC receipts,
    and the display names of the people they name (read with the page)."""
    options = page.handover
    people = page.names
    parts: dict[str, object] = {"handover": options, "receipts": page.receipts, "people": people}
    if options is not None:  # the holder's only (the forms are written out in the template)
        parts |= {
            "holder_names": ", ".join(people.get(u, u) for u in options.holders),
            "approver_modes": [m for m in APPROVER_MODES if m.value in options.add_approver],
        }
    return parts
