"""What one change to a plan is, and the writers that persist its effects.

``Change`` describes a committed-to-be change: who did what to which plan,
the state it goes to, and the audit entry that records it. The service
builds it; the writers below subscribe to it and run inside the same
database transaction, in order:

1. ``write_audit``          the hash-chained audit record
2. ``write_revision``       the frozen content, on a submission
3. ``write_vote``           an n-of-m approval vote
4. ``write_notifications``  in-app notifications (and e-mail outbox rows)
5. ``write_effect``         a timer's or round's idempotency key, and the
                            reminder or escalation notices of a timer
6. ``WebhookEvents``        the webhook outbox rows of the change's events
                            (``services.webhook_events``; one per service,
                            since it caches the database's webhooks)

A writer may add rows, never change the plan row itself: the service does
that once, with the version check, before any writer runs. The plan's new
task and first timer are columns of that row (``planflow.core.task_planning``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from planflow.core.audit_chain import AuditEntry, sha256_hex
from planflow.core.calendar import BusinessCalendar
from planflow.core.compact_json import compact_json_object
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.engine import Decision
from planflow.core.intents import Addendum, Notice
from planflow.core.org import OrgSnapshot
from planflow.core.task_planning import TaskState
from planflow.storage import plan_store as ps
from planflow.storage import timer_store as ts
from planflow.storage.tx import Tx


@dataclass(slots=True)
class Change:
    plan_id: int
    unit_id: int
    title: str
    action: str
    actor_id: int | None
    on_behalf_of_id: int | None
    at: datetime
    from_state: str | None
    to_state: str
    comment: str | None
    revision: int
    new_version: int
    spec: WorkflowSpec
    org: OrgSnapshot
    calendar: BusinessCalendar
    decision: Decision | None = None
    previous_submitter: int | None = None
    #: Content to freeze as a revision (submissions only).
    frozen_content: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    audit: AuditEntry | None = None
    audit_hash: str = ""
    #: ``at`` as the database binds it (converted once per change).
    at_db: Any = None
    #: The task the plan gets (state changes only).
    task: TaskState | None = None
    #: A due time for that task other than the definition's (scheduled rounds).
    task_due_override: datetime | None = None
    #: The idempotency key of the timer effect or round this change applies.
    effect_key: str | None = None
    #: A reminder's, escalation's or re-routing's notices.
    notice: Notice | None = None
    #: Notices of other kinds to other people (an escalation's "away from you").
    also_notices: tuple[Notice, ...] = ()
    #: Whoever held the task the plan leaves, when the transition tells them.
    left_task_holders: frozenset[int] = frozenset()
    #: Whether the task the plan leaves was held personally (``core.handover``):
    #: None when not looked up (then its parts are removed to be sure).
    had_task_parts: bool | None = None
    #: Whose vote a counted n-of-m approval is: the actor's, or the delegator's
    #: when a deputy decides for them (None: the actor's).
    vote_by: int | None = None
    #: Filled by the writers, read by event subscribers after commit.
    notified: list[int] = field(default_factory=list)

    @property
    def changes_state(self) -> bool:
        return self.from_state != self.to_state

    def add(self, addendum: Addendum | None) -> None:
        """Take what a ``Step`` contributes: audit detail and a notice."""
        if addendum is None:
            return
        self.detail.update(addendum.detail)
        if addendum.notice is not None:
            self.notice = addendum.notice
        if addendum.effect_key is not None:
            self.effect_key = addendum.effect_key


class StepContext(NamedTuple):
    """What a ``Step`` may know about the change it joins (read-only)."""

    spec: WorkflowSpec
    org: OrgSnapshot
    at: datetime


#: A feature's part of a change, inside its transaction after the version check:
#: it may refuse (raise a PlanflowError: nothing is written), write rows of its
#: own, and return what it adds to the audit record.
Step = Callable[[Tx, ps.PlanRow, StepContext], Addendum | None]

Writer = Callable[[Tx, Change], None]


def write_audit(tx: Tx, change: Change) -> None:
    e = change.audit
    assert e is not None, "the service seals the audit entry before writers run"
    plain = e.comment is None and e.on_behalf_of_id is None
    tx.run_bound(
        ps.INSERT_AUDIT_PLAIN if plain else ps.INSERT_AUDIT,
        {
            "plan_id": e.plan_id,
            "seq": e.seq,
            "actor_id": e.actor_id,
            "on_behalf_of_id": e.on_behalf_of_id,
            "at": change.at_db,
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "comment": e.comment,
            "revision": e.revision,
            "detail": e.detail,
            "prev_hash": e.prev_hash,
            "hash": change.audit_hash,
        },
    )


def write_revision(tx: Tx, change: Change) -> None:
    if change.frozen_content is None:
        return
    tx.run_bound(
        ps.INSERT_REVISION,
        {
            "plan_id": change.plan_id,
            "number": change.revision,
            "content": change.frozen_content,
            "content_hash": sha256_hex(change.frozen_content),
            "created_by": change.actor_id,
            "created_at": change.at_db,
        },
    )


def write_vote(tx: Tx, change: Change) -> None:
    d = change.decision
    if d is None or d.quorum is None or change.actor_id is None:
        return
    tx.run(
        ps.INSERT_VOTE,
        {
            "plan_id": change.plan_id,
            "round": change.revision,
            "user_id": change.vote_by if change.vote_by is not None else change.actor_id,
            "at": change.at_db,
        },
    )


def recipients(change: Change) -> list[int]:
    """Only the people who must act, and those the definition names."""
    org = change.org
    people: set[int] = set()
    task = change.task
    if change.changes_state and task is not None and task.role and task.unit_id is not None:
        people |= org.holders(task.role, task.unit_id)
    t = change.decision.transition if change.decision else None
    # A counted n-of-m vote moves nothing: only a real move tells the others.
    if t is not None and change.changes_state:
        for ref in t.notify:
            people |= org.assignees(ref, change.unit_id)
        if t.notify_submitter and change.previous_submitter is not None:
            people.add(change.previous_submitter)
        people |= change.left_task_holders
    if change.actor_id is not None:
        people.discard(change.actor_id)
    # Whoever the change's own notice tells (returned to you, your turn …) gets that
    # one, which says more than "plan changed": one notification per event and person.
    if change.notice is not None:
        people.difference_update(change.notice.recipients)
    return sorted(p for p in people if p in org.active_users)


def write_notifications(tx: Tx, change: Change) -> None:
    if change.decision is None:
        return
    people = recipients(change)
    if not people:
        return
    fields = {
        "title": change.title,
        "action": change.action,
        "from": change.from_state,
        "to": change.to_state,
        "actor": change.actor_id,
        "comment": (change.comment or "")[:500],
        "workflow": change.spec.name,
    }
    note = change.detail.get("note") if change.detail else None
    if note is not None:
        # A text the system wrote: readers say it in their language (``core.notes``).
        fields["note"] = note
    payload = _payload_json(fields)
    tx.run_many(
        ps.INSERT_EVENT_NOTIFICATION,
        [
            {
                "user_id": user_id,
                "plan_id": change.plan_id,
                "event_seq": _event_seq(change),
                "kind": "transition",
                "payload": payload,
                "created_at": change.at_db,
            }
            for user_id in people
        ],
        bound=True,
    )
    change.notified = people


class EffectAlreadyApplied(Exception):
    """The effect's key is taken: it was applied before (the change rolls back)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"effect {key} has already been applied")
        self.key = key


def write_effect(tx: Tx, change: Change) -> None:
    if change.effect_key is not None and not ts.insert_effect(
        tx, change.effect_key, change.plan_id, change.at_db
    ):
        raise EffectAlreadyApplied(change.effect_key)
    if change.notice is not None:
        write_notice(tx, change, change.notice)
    for notice in change.also_notices:
        write_notice(tx, change, notice)


def write_notice(tx: Tx, change: Change, notice: Notice) -> None:
    """Notifications of ``notice``'s kind to its recipients, about ``change``; a
    person this change has told already is not told again (the first notice wins,
    and the database's ``ux_notification_event`` holds it whatever the writer)."""
    people = tuple(dict.fromkeys(p for p in notice.recipients if p not in change.notified))
    if not people:
        return
    payload = _payload_json(
        {
            "title": change.title,
            "workflow": change.spec.name,
            "state": change.to_state,
            **notice.payload,
        }
    )
    tx.run_many(
        ps.INSERT_EVENT_NOTIFICATION,
        [
            {
                "user_id": user_id,
                "plan_id": change.plan_id,
                "event_seq": _event_seq(change),
                "kind": notice.kind,
                "payload": payload,
                "created_at": change.at_db,
            }
            for user_id in people
        ],
    )
    change.notified = [*change.notified, *(p for p in people if p not in change.notified)]


def _event_seq(change: Change) -> int:
    assert change.audit is not None, "the service seals the audit entry before writers run"
    return change.audit.seq


# Key order is fixed by the literals above, so no sorting is needed.
_payload_json = compact_json_object


DEFAULT_WRITERS: tuple[Writer, ...] = (
    write_audit,
    write_revision,
    write_vote,
    write_notifications,
    write_effect,
)
