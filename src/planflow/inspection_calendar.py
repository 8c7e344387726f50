"""The inspection calendar: which inspections fall on which days of a date range.

Each inspection waiting on a plan (``inspection_visits.inspection_states``)
is placed on its planned visit date, else on its task's due date; a plan
being rectified on its rectification due date. ``entries`` finds them for a
date range and a filter (the plans a user may see) in one query however many
there are: the current round (as ``inspection_rounds.round_number`` counts it) is a
correlated subquery, the unit and the organisation generation come with it.
``InspectionCalendar`` is also the inspector's planning
(``InspectionVisits``): one object for the pages of the inspectors' area.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import ColumnElement, RowMapping, and_, case, func, or_, select

from .inspection_rounds import inspect_transition
from .inspection_visits import (
    RECTIFICATION,
    SCHEDULED,
    InspectionStates,
    InspectionVisits,
    inspection_states,
)
from .org import OrgSnapshot
from .storage import plan_store as ps
from .storage.tables import AuditRecord, Inspection, OrgGeneration, Plan, Unit

plan_t = Plan.__table__  # type: ignore[attr-defined]
inspection_t = Inspection.__table__  # type: ignore[attr-defined]
audit_t = AuditRecord.__table__  # type: ignore[attr-defined]
unit_t = Unit.__table__  # type: ignore[attr-defined]
generation_t = OrgGeneration.__table__  # type: ignore[attr-defined]
#: The plan columns a ``PlanRow`` holds (all but the organisation generation).
_ROW_COLUMNS = tuple(
    name for name in ps.PlanRow.__dataclass_fields__ if name not in ("org_generation", "has_timer")
)


@dataclass(frozen=True)
class CalendarEntry:
    plan_id: int
    title: str
    unit_code: str
    unit_name: str
    year: int
    workflow_name: str
    workflow_version: int
    state: str
    kind: str  # SCHEDULED | INSPECTED | RECTIFICATION
    version: int
    round: int
    #: Where the calendar shows it (in the caller's time zone).
    day: date
    visit_date: date | None
    task_due_at: datetime | None
    rectification_due: date | None
    overdue: bool
    #: Whether the ``actor_id`` asked about may plan (or move) the visit now.
    may_plan_visit: bool


def _midnight(day: date, tz: tzinfo) -> datetime:
    localize = getattr(tz, "localize", None)  # pytz zones need it for the right offset
    naive = datetime.combine(day, time())
    return localize(naive) if localize else naive.replace(tzinfo=tz)


class InspectionCalendar(InspectionVisits):
    # -- the calendar ---------------------------------------------------------------------

    def _states_by_workflow(self) -> dict[str, InspectionStates]:
        found: dict[str, InspectionStates] = {}
        for spec in self.service.registry.all():  # by version, so the newest wins
            states = inspection_states(spec)
            if states is not None:
                found[spec.name] = states
        return found

    def entries(
        self,
        where: Sequence[ColumnElement[bool]],
        first: date | None,
        last: date,
        *,
        tz: tzinfo = UTC,
        actor_id: int | None = None,
        limit: int = 1000,
    ) -> list[CalendarEntry]:
        """Inspections placed from ``first`` (None: any time before) to ``last``, in ``tz``.

        ``where`` narrows the plans (e.g. to those a user may see); ``actor_id``
        sets ``may_plan_visit``. Ordered by day, unit and title; at most ``limit``.
        """
        by_workflow = self._states_by_workflow()
        if not by_workflow:
            return []
        states = frozenset().union(*(s.all() for s in by_workflow.values()))
        sources = frozenset().union(*(s.scheduled for s in by_workflow.values()))
        rect = frozenset().union(*(s.rectification for s in by_workflow.values()))
        p, i, a = plan_t.c, inspection_t.c, audit_t.c
        entered = (
            select(func.count())
            .select_from(audit_t)
            .where(
                a.plan_id == p.id,
                a.to_state.in_(sorted(sources)),
                or_(a.from_state.is_(None), a.from_state != a.to_state),
            )
            .correlate(plan_t)
            .scalar_subquery()
        )
        current_round = func.coalesce(func.nullif(entered, 0), 1)
        planned = case((p.state.in_(sorted(rect)), i.rectification_due), else_=i.visit_date)
        end = _midnight(last + timedelta(days=1), tz)
        dated = [planned.is_not(None), planned <= last]
        undated = [planned.is_(None), p.task_due_at < end]
        if first is not None:
            dated.append(planned >= first)
            undated.append(p.task_due_at >= _midnight(first, tz))
        query = (
            select(
                *(getattr(p, name) for name in _ROW_COLUMNS),
                p.task_due_at,
                p.timer_at,
                unit_t.c.code.label("unit_code"),
                unit_t.c.name.label("unit_name"),
                i.visit_date,
                i.rectification_due,
                current_round.label("round"),
                # In the same query, so the organisation comes from the cache.
                select(generation_t.c.generation).scalar_subquery().label("org_generation"),
            )
            .select_from(
                plan_t.join(unit_t, unit_t.c.id == p.unit_id).outerjoin(
                    inspection_t, and_(i.plan_id == p.id, i.round == current_round)
                )
            )
            .where(
                *where,
                p.workflow_name.in_(sorted(by_workflow)),
                p.state.in_(sorted(states)),
                or_(and_(*dated), and_(*undated)),
            )
            .order_by(p.id)
            .limit(limit)
        )
        with self.service.db.read() as conn:
            rows = conn.execute(query).all()
        org = None
        if actor_id is not None and rows:
            generation = max(int(r.org_generation or 0) for r in rows)
            org = self.service.org_cache.get(self.service.db, generation)
        now = self.service.clock.now()
        found = [
            e for r in rows if (e := self._entry(r._mapping, org, actor_id, now, tz)) is not None
        ]
        return sorted(found, key=lambda e: (e.day, e.unit_code, e.title, e.plan_id))

    def _entry(
        self,
        m: RowMapping,
        org: OrgSnapshot | None,
        actor_id: int | None,
        now: datetime,
        tz: tzinfo,
    ) -> CalendarEntry | None:
        spec = self.service.definitions.spec_for(
            self.service.db, m["workflow_name"], m["workflow_version"]
        )
        states = inspection_states(spec)
        kind = states.kind(m["state"]) if states else None
        due_at: datetime | None = m["task_due_at"]
        due_day = due_at.astimezone(tz).date() if due_at else None
        if kind is None:
            return None
        if kind == RECTIFICATION:
            day = m["rectification_due"] or due_day
            today = now.astimezone(tz).date()
            overdue = day is not None and day < today
        else:
            day = m["visit_date"] or due_day
            overdue = due_at is not None and due_at < now
        if day is None:
            return None
        may_plan = False
        if kind == SCHEDULED and org is not None and actor_id is not None:
            row = ps.PlanRow(
                **{k: m[k] for k in _ROW_COLUMNS},
                has_timer=m["timer_at"] is not None,
                org_generation=org.generation,
            )
            may_plan = self.refusal(inspect_transition(spec), row, spec, org, actor_id) is None
        return CalendarEntry(
            plan_id=m["id"],
            title=m["title"],
            unit_code=m["unit_code"],
            unit_name=m["unit_name"],
            year=m["year"],
            workflow_name=m["workflow_name"],
            workflow_version=m["workflow_version"],
            state=m["state"],
            kind=kind,
            version=m["version"],
            round=int(m["round"]),
            day=day,
            visit_date=m["visit_date"],
            task_due_at=due_at,
            rectification_due=m["rectification_due"],
            overdue=overdue,
            may_plan_visit=may_plan,
        )
