"""What acting on a plan returns, and what a plan's page offers its reader.

The results of an action, a gesture (urge, return, bulk) or a handover
(transfer, added approver, CC), the options a person has on a plan now, and
``PlanPage``: everything a plan's page shows one person, read at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from planflow.core.content.diff import ContentDiff
from planflow.core.content.model import PlanContent
from planflow.core.engine import ActionOption
from planflow.errors import Refusal
from planflow.views.audit import AuditEntry
from planflow.views.content import CommentView
from planflow.views.plans import PlanView


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an action did (``Planflow.fire``)."""

    plan_id: int
    action: str
    from_state: str | None
    to_state: str
    #: The plan's version after the action: pass it to act again on top of it.
    version: int
    #: For an n-of-m approval: (approvals so far, this one included; approvals required).
    quorum: tuple[int, int] | None = None

    @property
    def moved(self) -> bool:
        """Whether the plan changed state (an approval short of its quorum does not)."""
        return self.from_state != self.to_state


@dataclass(frozen=True, slots=True)
class UrgeResult:
    """What an urge did (``Planflow.urge``): who was reminded, by username."""

    plan_id: int
    version: int
    at: datetime
    notified: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    """One plan of a bulk action (``Planflow.bulk``): done (new state, version)
    or refused (code, params)."""

    plan_id: int
    done: bool
    to_state: str | None = None
    version: int | None = None
    code: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True, slots=True)
class ReturnOption:
    """An earlier state a reviewer may return a plan to (``Planflow.return_options``)."""

    state: str
    label: str


@dataclass(frozen=True, slots=True)
class UrgeOption:
    """Whether a user may urge a plan now (``Planflow.urge_option``): ``refusal`` is
    None, or why not yet (``urge_too_soon`` with the time of the next)."""

    recipients: int
    refusal: Refusal | None = None

    @property
    def ready(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True, slots=True)
class HandoverResult:
    """What a transfer, an added approver or a CC did (``Planflow.transfer`` …)."""

    plan_id: int
    action: str
    version: int
    at: datetime
    notified: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HandoverOptions:
    """What the holder of a plan's task may do with it (``Planflow.handover_options``):
    whom they may transfer it to, the modes of adding an approver, whether they
    may copy people; ``holders`` are the people holding parts of it personally."""

    transfer_to: tuple[str, ...]
    add_approver: tuple[str, ...]
    cc: bool
    holders: tuple[str, ...] = ()
    #: People one would likely add or copy, nearest first: the active people of the
    #: task's unit, the plan's unit and the units above it (anyone may still be named).
    suggested: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CcReceipt:
    """A person copied on a plan: by whom (None: the definition), and when they read it."""

    user: str
    added_by: str | None
    at: datetime
    read_at: datetime | None
    active: bool


@dataclass(frozen=True, slots=True)
class PlanPage:
    """Everything a plan's page shows one person, read at once (``Planflow.plan_page``):
    each part is what the separate read named beside it answers."""

    #: ``Planflow.plan(plan_id, as_user=...)``
    plan: PlanView
    #: ``content.content``
    content: PlanContent
    #: ``audit_trail``, oldest first
    trail: tuple[AuditEntry, ...]
    #: ``content.comments``: written ones and the decisions' comments, in the trail's order
    comments: tuple[CommentView, ...]
    #: ``actions_and_behalf``: what the person may do now, and whom they would act
    #: for as a deputy (None: for themselves)
    actions: tuple[ActionOption, ...]
    on_behalf_of: str | None
    #: ``approvals(plan_id, plan.revision)`` where a transition out of the plan's state
    #: needs n of m approvals (who approved this round, in order); None elsewhere
    approvals: tuple[str, ...] | None
    #: ``content.diff_revisions`` of the two latest submissions (None before the second)
    diff: ContentDiff | None
    #: ``content.is_editable`` and ``content.may_edit``
    can_edit: bool
    #: ``urge_option``
    urge: UrgeOption | None
    #: ``return_options``
    return_options: tuple[ReturnOption, ...]
    #: ``handover_options``
    handover: HandoverOptions | None
    #: ``cc_receipts``
    receipts: tuple[CcReceipt, ...]
    #: ``display_names`` of everyone the parts above name, by username
    names: Mapping[str, str]
