"""What the library's front door returns: frozen views, never database rows.

Each view names people by username and units by code (with the unit's
name beside it), the names callers use to ask; the ids the services work
with stay behind the front door (``planflow.app.Planflow``). A view is a
snapshot of the moment it was read: it does not change when the plan does,
and it holds no database session.

``ActionOption`` (what a user may do on a plan now, and which checks would
refuse the rest) is the engine's own frozen type, re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from planflow.core.audit_chain import ChainProblem
from planflow.core.content.diff import ContentDiff
from planflow.core.content.model import PlanContent
from planflow.core.engine import ActionOption as ActionOption
from planflow.core.inspection.scoring import CriterionScore, InspectionOutcome
from planflow.errors import Refusal

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class UnitRef:
    """A unit of the organisation, by its stable code and its current name."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class OpenTask:
    """What a plan waits for: the holders of ``role`` at ``unit`` must act.

    After an escalation (``level`` > 0) the holders of the role at
    ``escalated_to`` may act as well.
    """

    role: str
    unit: UnitRef | None
    escalated_to: UnitRef | None
    since: datetime | None
    due_at: datetime | None
    level: int

    def overdue(self, now: datetime) -> bool:
        return self.due_at is not None and self.due_at < now


@dataclass(frozen=True, slots=True)
class PlanView:
    """One plan as it is now (without its content: ``pf.content.content``)."""

    id: int
    unit: UnitRef
    year: int
    title: str
    workflow: str
    workflow_version: int
    state: str
    #: The optimistic lock: pass it as ``expected_version`` to act on what you saw.
    version: int
    #: Frozen submissions so far (0: never submitted).
    revision: int
    item_count: int
    task: OpenTask | None
    created_by: str | None
    submitted_by: str | None
    #: Grade of the last finished inspection.
    grade: str | None
    created_at: datetime
    updated_at: datetime
    #: What the scheduler does next about the open task (remind, escalate, auto), and when.
    next_timer: str | None = None
    next_timer_at: datetime | None = None


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


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """A plan in a list: what a row shows, read without the content."""

    id: int
    unit: UnitRef
    year: int
    title: str
    workflow: str
    workflow_version: int
    state: str
    version: int
    revision: int
    task: OpenTask | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a longer list; ``number`` counts from 1."""

    items: tuple[T, ...]
    number: int
    size: int
    #: Whether a page follows this one.
    more: bool
    #: How many there are in all, where the list counts them (None: not counted).
    total: int | None = None


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A plan on a review queue, with the task it waits on."""

    plan: PlanSummary
    task: OpenTask
    #: True when the user sees this task because it was escalated to them.
    escalated_to_you: bool


@dataclass(frozen=True, slots=True)
class ReviewQueue:
    """The review queue of someone who oversees part of the tree.

    ``mine``: the plans whose open task the user may act on in an oversight
    role (reviewer, committee member, inspector, officer, ...), where the task
    waits or where it was escalated to. ``others``: submitted plans of the
    units the user oversees that wait for someone else in such a role. Both
    are ordered escalated first (highest level first), then overdue, then the
    longest waiting.
    """

    mine: Page[QueueEntry]
    others: Page[QueueEntry]
    #: Whether the user oversees any unit (else ``others`` is always empty).
    oversees: bool
    #: The open tasks, in an oversight role, of people the user stands in for now
    #: (each with ``on_behalf_of``), none of them also in ``mine``.
    for_others: tuple[TaskEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskEntry:
    """An open task of one person (``Planflow.tasks``)."""

    plan_id: int
    plan_version: int
    title: str
    unit_code: str
    unit_name: str
    year: int
    state: str
    workflow: str
    workflow_version: int
    role: str
    since: datetime | None
    due_at: datetime | None
    level: int
    #: True when the user sees this task because it was escalated to them.
    escalated_to_me: bool
    #: The plan's last change (a calendar feed's LAST-MODIFIED).
    updated_at: datetime | None = None
    #: The person away whose task this is, when the user acts on it as their
    #: deputy (``Planflow.delegations.open_tasks``); None: the user's own task.
    on_behalf_of: str | None = None

    def overdue(self, now: datetime) -> bool:
        return self.due_at is not None and self.due_at < now


@dataclass(frozen=True, slots=True)
class NotificationEntry:
    """An in-app notification: ``kind`` (an action, ``remind``, ``escalate``, ...) and
    what it is about in ``payload``."""

    id: int
    plan_id: int | None
    kind: str
    payload: Mapping[str, Any]
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One record of a plan's hash-chained audit trail.

    ``actor`` is None for the system (timers, scheduled rounds);
    ``on_behalf_of`` names the colleague the actor stood in for.
    """

    plan_id: int
    seq: int
    at: datetime
    actor: str | None
    on_behalf_of: str | None
    action: str
    from_state: str | None
    to_state: str
    comment: str | None
    revision: int
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The result of verifying every audit chain and checkpoint."""

    ok: bool
    plans: int
    records: int
    checkpoints: int
    #: The first problems found (``str()`` of one names its plan and record).
    problems: tuple[ChainProblem, ...]
    #: Records of the organisation's chain of admin actions.
    org_records: int = 0


@dataclass(frozen=True, slots=True)
class OrgAuditView:
    """One admin action on the organisation's hash-chained trail.

    ``actor`` is None for the system (the command line, a set-up script);
    ``detail`` the action's parameters (``planflow.core.org_audit.ACTIONS``).
    """

    seq: int
    at: datetime
    actor: str | None
    action: str
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class CommentView:
    id: int
    author: str
    body: str
    #: The item the comment is about (None: the whole plan).
    item_key: str | None
    #: The revision the plan had when the comment was written.
    revision: int
    created_at: datetime
    #: ``comment`` (written as a comment) or ``decision`` (given with a workflow action,
    #: e.g. a return's reason; ``id`` is then the audit record's ``seq``).
    kind: str = "comment"
    #: For a decision: the action taken and the state it left the plan in.
    action: str | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class RevisionView:
    """The content as it was submitted, frozen."""

    number: int
    content: PlanContent
    content_hash: str
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ProgressReport:
    """The unit's latest report on one plan item."""

    item_key: str
    status: str
    report: str
    measured: float | None
    updated_by: str
    updated_at: datetime
    #: The values for the item's second and later targets (None: not given).
    measured_more: tuple[float | None, ...] = ()

    @property
    def measured_values(self) -> tuple[float | None, ...]:
        """A value for each of the item's targets, in order, as far as given."""
        return (self.measured, *self.measured_more)


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """A file kept as evidence for a plan item; ``pf.execution.open_evidence`` finds its bytes."""

    id: int
    plan_id: int
    item_key: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class InspectionRoundView:
    """One inspection round's sheet: both columns, and the outcome once finished.

    ``scores[i].measured`` is the inspector's measured value; ``self_measured``
    holds the values the unit gave in its self-assessment.
    """

    plan_id: int
    round: int
    scores: tuple[CriterionScore, ...]
    self_measured: Mapping[str, float]
    outcome: InspectionOutcome | None
    grade: str | None
    inspector: str | None
    rectification_due: date | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InspectionResult:
    """What finishing an inspection decided (``pf.inspections.finish``)."""

    plan_id: int
    #: ``accept`` or ``require_rectification``, as the scores decided.
    action: str
    to_state: str
    version: int
    grade: str | None
    #: The inspector's total.
    total: float | None
    rectification_due: date | None


@dataclass(frozen=True, slots=True)
class UnitView:
    """A unit of the organisation tree."""

    code: str
    name: str
    parent: str | None


@dataclass(frozen=True, slots=True)
class UnitMoved:
    """A unit moved (``Planflow.org.move_unit``), and the open tasks that followed it."""

    unit: UnitRef
    #: The unit above it now (None: it is a root).
    parent: UnitRef | None
    #: Plans whose open task was routed again by the new tree, by id.
    rerouted: tuple[int, ...]
    #: Open tasks of the moved plans that were where the new tree sends them already.
    unchanged: int


@dataclass(frozen=True, slots=True)
class UserView:
    username: str
    display_name: str
    email: str
    language: str
    active: bool


@dataclass(frozen=True, slots=True)
class RoleView:
    """``username`` holds ``role`` at the unit ``unit``."""

    username: str
    role: str
    unit: str


@dataclass(frozen=True, slots=True)
class ApiTokenView:
    """A personal access token of the HTTP API, without its secret.

    ``scope``: ``read``, ``write`` or ``admin``, each including the ones
    before it. ``prefix`` is the secret's first characters, to tell tokens
    apart; the secret itself is shown only once (``NewApiToken``).
    """

    id: int
    username: str
    name: str
    prefix: str
    scope: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True, slots=True)
class NewApiToken:
    """A token just made: its view and its secret, which is never shown again."""

    token: ApiTokenView
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class WebhookView:
    """An outgoing webhook, without its secret: the events of ``unit``'s subtree to ``url``.

    ``active`` False: removed (its deliveries stay as a log).
    ``allow_private``: an admin let it reach a private or loopback address.
    ``kind``: ``webhook``, or the group robot's vendor (dingtalk, wecom,
    feishu) posting short messages in ``language``.
    """

    id: int
    unit: UnitRef
    url: str
    events: tuple[str, ...]
    active: bool
    allow_private: bool
    created_by: str | None
    created_at: datetime
    kind: str = "webhook"
    language: str = "en"
    #: A person's own channel: whose (told of what notifies them, not of ``unit``'s subtree).
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class NewWebhook:
    """A webhook just registered: its view and its signing secret, never shown again.

    A robot's secret is its vendor's, so ``secret`` is empty for robots.
    """

    webhook: WebhookView
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One POST of a delivery: when, the HTTP status (None: no answer) and the error."""

    at: str
    status: int | None
    error: str | None
    ms: int | None


@dataclass(frozen=True, slots=True)
class WebhookDeliveryView:
    """One event for one webhook: ``pending``, ``delivered``, ``failed`` or ``cancelled``.

    ``event_id`` is the same on every attempt (``X-Planflow-Event-Id``);
    ``log`` lists the last attempts, oldest first.
    """

    id: int
    webhook_id: int
    event_id: str
    event_type: str
    plan_id: int | None
    created_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    log: tuple[DeliveryAttempt, ...]


@dataclass(frozen=True, slots=True)
class DelegationView:
    """A delegation (委托): ``deputy`` acts for ``delegator`` from ``starts_on`` to
    ``ends_on`` (the organisation's days, both inclusive) on the tasks of
    ``workflow`` / ``role`` (None: any). ``status`` is ``scheduled``, ``in_force``
    or ``ended`` (past its last day, or ``ended_at``, ended early by ``ended_by``)."""

    id: int
    delegator: str
    deputy: str
    starts_on: date
    ends_on: date
    workflow: str | None
    role: str | None
    reason: str | None
    created_by: str
    created_at: datetime
    status: str
    ended_at: datetime | None
    ended_by: str | None


@dataclass(frozen=True, slots=True)
class DelegatedTask:
    """An open task a deputy may act on now, and for whom (``Planflow.delegations.tasks``)."""

    task: TaskEntry
    on_behalf_of: str
