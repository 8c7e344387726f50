"""What waits for one person: their tasks and their in-app notifications.

A task is the open task of a plan (``plan.task_role`` at ``task_unit_id``)
that the user holds the role for, either where the definition looked it up
or where an overdue task was escalated to. Notifications are the rows the
transition path and the deadline processor wrote for the user; reading one
marks it read, nothing else changes it here (the e-mail outbox owns the
e-mail columns).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import BindParameter, ColumnElement, and_, false, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from planflow.clock import Clock
from planflow.core.compact_json import frozen_json
from planflow.core.ids import is_id
from planflow.errors import NotFound
from planflow.storage.db import Database
from planflow.storage.plan_reads import SUMMARY_COLUMNS, InSelect, plan_t
from planflow.storage.tables import ApprovalVote, Notification, Plan, RoleAssignment, Unit
from planflow.storage.tables.handover import TaskPart
from planflow.views import NotificationEntry as NotificationEntry
from planflow.views import TaskEntry as TaskEntry

unit_t = Unit.__table__  # type: ignore[attr-defined]
part_t = TaskPart.__table__  # type: ignore[attr-defined]
later = part_t.alias("later_part")
vote_t = ApprovalVote.__table__  # type: ignore[attr-defined]


def task_clause(held: Iterable[tuple[str, int]]) -> ColumnElement[bool]:
    """Plans whose open task is for one of the (role, unit) ``held``: where it waits
    or where it was escalated to. The one definition of "a task of mine" in SQL.

    Written so that it is never NULL for a plan with an open task (a NULL
    escalation unit compares as false, not unknown), so ``NOT`` of it is
    "someone else's task".
    """
    escalated = col(Plan.task_escalated_unit_id)
    task_role = col(Plan.task_role)
    terms = [
        and_(
            task_role == role,
            or_(
                # Each branch names its index's condition: SQLite uses a
                # partial index inside a nested OR only when the branch says so.
                and_(task_role.is_not(None), col(Plan.task_unit_id) == unit),
                and_(escalated.is_not(None), escalated == unit),
            ),
        )
        for role, unit in sorted(set(held))
    ]
    return or_(*terms) if terms else false()


def escalated_clause(held: Iterable[tuple[str, int]]) -> ColumnElement[bool]:
    """Plans whose open task was escalated to a unit where one of ``held`` is (never NULL)."""
    escalated = col(Plan.task_escalated_unit_id)
    terms = [
        and_(col(Plan.task_role) == role, escalated.is_not(None), escalated == unit)
        for role, unit in sorted(set(held))
    ]
    return or_(*terms) if terms else false()


def held_task_clause(
    held: Iterable[tuple[str, int]], user: int | BindParameter[int]
) -> ColumnElement[bool]:
    """``task_clause`` where tasks can be held personally (``services.handover``):
    a task handed on or shared is no longer its role's but its people's, and
    of those, the ones whose turn it is (the lowest open position), until it is
    escalated: then also the role's where it was escalated to. A committee
    member who has voted in the plan's current round (n-of-m) no longer has it."""
    first = (
        sa_select(func.min(later.c.position))
        .where(later.c.plan_id == part_t.c.plan_id, later.c.done == false())
        .scalar_subquery()
    )
    turn = sa_select(part_t.c.plan_id).where(
        part_t.c.user_id == user, part_t.c.done == false(), part_t.c.position == first
    )
    held = sorted(set(held))
    by_role = or_(
        and_(task_clause(held), col(Plan.id).not_in(sa_select(part_t.c.plan_id))),
        # Overdue and escalated, a task held personally is also the role's where it
        # was escalated to: they may decide it (``WorkflowEngine.may_act``).
        escalated_clause(held),
    )
    voted = voted_this_round(user)
    # InSelect: each branch of the OR an index condition on PostgreSQL too.
    return and_(or_(by_role, InSelect(plan_t.c.id, turn)), ~voted)


def voted_this_round(user: int | BindParameter[int]) -> ColumnElement[bool]:
    """The user's vote is counted in the plan's current review round (n-of-m)."""
    return (
        sa_select(vote_t.c.id)
        .where(
            vote_t.c.plan_id == plan_t.c.id,
            vote_t.c.round == plan_t.c.revision,
            vote_t.c.user_id == user,
        )
        .exists()
    )


def followed_clause(
    held: Iterable[tuple[str, int]], user: int | BindParameter[int]
) -> ColumnElement[bool]:
    """Plans whose open task the user has done their part of and that wait for others:
    they voted in its current round (n-of-m) on a task of a role they hold, or they
    are one of the people it is held by personally (``services.handover``: they
    approved their part, or it is someone else's turn first). Never a plan of
    ``held_task_clause`` (that is still theirs to do): the two split the tasks
    the user is part of."""
    held = sorted(set(held))
    voted = voted_this_round(user)
    parts = sa_select(part_t.c.plan_id).where(part_t.c.user_id == user)
    return and_(
        col(Plan.task_role).is_not(None),
        or_(and_(task_clause(held), voted), InSelect(plan_t.c.id, parts)),
        ~held_task_clause(held, user),
    )


class Inbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def tasks(
        self, user_id: int, limit: int = 500, held: Iterable[tuple[str, int]] | None = None
    ) -> list[TaskEntry]:
        """The user's open tasks, overdue and escalated first, then by due date;
        ``held``: the (role, unit) they hold, when the caller knows (one read less)."""
        return self._entries(user_id, limit, held, held_task_clause)

    def followed(
        self, user_id: int, limit: int = 100, held: Iterable[tuple[str, int]] | None = None
    ) -> list[TaskEntry]:
        """The open plans the user has done their part of that now wait for others
        (``followed_clause``), in the tasks' order: to follow, not to act on."""
        return self._entries(user_id, limit, held, followed_clause)

    def _entries(
        self,
        user_id: int,
        limit: int,
        held: Iterable[tuple[str, int]] | None,
        clause: Callable[[Iterable[tuple[str, int]], int], ColumnElement[bool]],
    ) -> list[TaskEntry]:
        with self.db.read_session() as s:
            if held is None:
                held = s.exec(
                    select(RoleAssignment.role, RoleAssignment.unit_id).where(
                        RoleAssignment.user_id == user_id
                    )
                )
            held = list(held)
            # The list's columns only: a plan's content can be megabytes.
            rows = s.connection().execute(
                sa_select(*SUMMARY_COLUMNS, unit_t.c.code, unit_t.c.name.label("unit_name"))
                .join(unit_t, unit_t.c.id == plan_t.c.unit_id)
                .where(clause(((role, unit) for role, unit in held), user_id))
                .order_by(
                    plan_t.c.task_level.desc(),
                    plan_t.c.task_due_at.is_(None),
                    plan_t.c.task_due_at,
                    plan_t.c.id,
                )
                .limit(limit)
            )
            mine = set(held)
            return [
                TaskEntry(
                    plan_id=p.id,
                    plan_version=p.version,
                    title=p.title,
                    unit_code=p.code,
                    unit_name=p.unit_name,
                    year=p.year,
                    state=p.state,
                    workflow=p.workflow_name,
                    workflow_version=p.workflow_version,
                    role=p.task_role or "",
                    since=p.task_since,
                    due_at=p.task_due_at,
                    level=p.task_level,
                    escalated_to_me=(p.task_role, p.task_unit_id) not in mine,
                    updated_at=p.updated_at,
                )
                for p in rows
            ]

    def notifications(
        self,
        user_id: int,
        *,
        unread_only: bool = False,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[NotificationEntry]:
        """Newest first; ``before_id`` pages backwards."""
        with self.db.read_session() as s:
            query = select(Notification).where(Notification.user_id == user_id)
            if unread_only:
                query = query.where(col(Notification.read_at).is_(None))
            if before_id is not None:
                query = query.where(col(Notification.id) < before_id)
            rows = s.exec(query.order_by(col(Notification.id).desc()).limit(limit)).all()
            return [
                NotificationEntry(
                    id=n.id or 0,
                    plan_id=n.plan_id,
                    kind=n.kind,
                    payload=frozen_json(n.payload),
                    created_at=n.created_at,
                    read_at=n.read_at,
                )
                for n in rows
            ]

    def unread_count(self, user_id: int) -> int:
        with self.db.read_session() as s:
            return s.exec(
                select(func.count())
                .select_from(Notification)
                .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
            ).one()

    def mark_read(self, user_id: int, notification_ids: list[int] | None = None) -> int:
        """Mark the user's notifications read (all when ``ids`` is None).

        Ids that are not the user's are refused as not found, so a guessed id
        tells nothing about other people's notifications.
        """
        now = self.clock.now()
        if notification_ids is not None:
            # A number no row can have names nothing (and would overflow the driver).
            for wrong in (i for i in notification_ids if not is_id(i)):
                raise NotFound("notification", wrong)
        with self.db.session() as s:
            stmt = update(Notification).where(
                col(Notification.user_id) == user_id, col(Notification.read_at).is_(None)
            )
            if notification_ids is not None:
                owned = set(
                    s.exec(
                        select(Notification.id).where(
                            Notification.user_id == user_id,
                            col(Notification.id).in_(notification_ids),
                        )
                    )
                )
                missing = sorted(set(notification_ids) - owned)
                if missing:
                    raise NotFound("notification", missing[0])
                stmt = stmt.where(col(Notification.id).in_(notification_ids))
            result = s.connection().execute(stmt.values(read_at=now))
            return int(result.rowcount or 0)
