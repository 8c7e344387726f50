"""The inspection calendar: which inspections fall on which days of a date range.

Each inspection waiting on a plan (``inspection_visits.inspection_states``)
is placed on its planned visit date, else on its task's due date; a plan
being rectified on its rectification due date. ``entries`` finds them for a
date range and a filter (the plans a user may see) in one query however many
there are: the current round (as ``inspection_rounds.round_number`` counts it) is a
correlated subquery, the unit and the organisation generation come with it.
Which states count is a matter of each plan's own definition (name and
version): a state one definition inspects from may be an ordinary step in
another, so every state condition is written per definition.
``InspectionCalendar`` is also the inspector's planning
(``InspectionVisits``): one object for the pages of the inspectors' area.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Row, RowMapping, and_, case, false, func, not_, or_, select

from planflow.core.org import OrgSnapshot
from planflow.errors import NotFound
from planflow.services.inspections.rounds import inspect_transition
from planflow.services.inspections.visits import (
    RECTIFICATION,
    SCHEDULED,
    InspectionStates,
    InspectionVisits,
    inspection_states,
)
from planflow.storage import plan_store as ps
from planflow.storage.audit_keys import of_plan
from planflow.storage.tables import AuditRecord, Inspection, OrgGeneration, Plan, Unit

plan_t = Plan.__table__  # type: ignore[attr-defined]
inspection_t = Inspection.__table__  # type: ignore[attr-defined]
audit_t = AuditRecord.__table__  # type: ignore[attr-defined]
unit_t = Unit.__table__  # type: ignore[attr-defined]
generation_t = OrgGeneration.__table__  # type: ignore[attr-defined]
#: The plan columns a ``PlanRow`` holds (all but the organisation generation).
_ROW_COLUMNS = tuple(
    name for name in ps.PlanRow._fields if name not in ("org_generation", "has_timer")
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


#: A definition's name and version, as a plan row holds them.
Key = tuple[str, int]


def _per_definition(
    column: ColumnElement[str],
    known: Mapping[Key, InspectionStates],
    pick: Callable[[InspectionStates], frozenset[str]],
) -> ColumnElement[bool]:
    """``column`` is one of the states ``pick`` gives for the plan's own definition.

    Definitions with the same states share one branch (annual_plan and
    committee_plan do), so the condition stays short however many versions
    there are.
    """
    p = plan_t.c
    groups: dict[frozenset[str], dict[str, list[int]]] = {}
    for (name, version), states in known.items():
        if picked := pick(states):
            groups.setdefault(picked, {}).setdefault(name, []).append(version)
    branches = [
        and_(
            or_(
                *(
                    and_(p.workflow_name == name, p.workflow_version.in_(sorted(versions)))
                    for name, versions in sorted(by_name.items())
                )
            ),
            column.in_(sorted(states)),
        )
        for states, by_name in groups.items()
    ]
    return or_(false(), *branches)


class InspectionCalendar(InspectionVisits):
    # -- the calendar ---------------------------------------------------------------------

    def _known(self) -> tuple[dict[Key, InspectionStates], set[Key]]:
        """The inspection states of every definition at hand without a query, and all their keys.

        The files' definitions, then every one the definition store has loaded
        (a version only the database still holds; a stored text wins over a
        file edited without a new version, as ``spec_for`` decides).
        """
        specs = {
            (s.name, s.version): s
            for s in (*self.service.registry.all(), *self.service.definitions.loaded())
        }
        found = {key: states for key, s in specs.items() if (states := inspection_states(s))}
        return found, set(specs)

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
        known, keys = self._known()
        rows = self._rows(where, first, last, tz, limit, known, keys)
        unknown = {(r.workflow_name, r.workflow_version) for r in rows} - keys
        if unknown:
            # Plans under a definition this process has not met yet (a version only the
            # database holds): load it, then ask again with its own states.
            unreadable = set()
            for name, version in sorted(unknown):
                try:
                    self.service.definitions.spec_for(self.service.db, name, version)
                except NotFound:
                    unreadable.add((name, version))  # its plans cannot be shown anywhere
            known, keys = self._known()
            rows = self._rows(where, first, last, tz, limit, known, keys | unreadable)
        org = None
        if actor_id is not None and rows:
            generation = max(int(r.org_generation or 0) for r in rows)
            org = self.service.org_cache.get(self.service.db, generation)
        now = self.service.clock.now()
        found = [
            e for r in rows if (e := self._entry(r._mapping, org, actor_id, now, tz)) is not None
        ]
        return sorted(found, key=lambda e: (e.day, e.unit_code, e.title, e.plan_id))

    def _rows(
        self,
        where: Sequence[ColumnElement[bool]],
        first: date | None,
        last: date,
        tz: tzinfo,
        limit: int,
        known: Mapping[Key, InspectionStates],
        keys: set[Key],
    ) -> Sequence[Row[*tuple[Any, ...]]]:
        """The one query of ``entries``: plans in an inspection state of their own definition.

        Plans under a definition not in ``keys`` come back too, whatever their
        state (only that definition could say which states count), for
        ``entries`` to load it; that happens once a process and definition.
        """
        p, i, a = plan_t.c, inspection_t.c, audit_t.c
        entered = (
            select(func.count())
            .select_from(audit_t)
            .where(
                of_plan(a.id, p.id),
                _per_definition(a.to_state, known, lambda s: s.scheduled),
                or_(a.from_state.is_(None), a.from_state != a.to_state),
            )
            .correlate(plan_t)
            .scalar_subquery()
        )
        current_round = func.coalesce(func.nullif(entered, 0), 1)
        rectifying = _per_definition(p.state, known, lambda s: s.rectification)
        planned = case((rectifying, i.rectification_due), else_=i.visit_date)
        end = _midnight(last + timedelta(days=1), tz)
        dated = [planned.is_not(None), planned <= last]
        undated = [planned.is_(None), p.task_due_at < end]
        if first is not None:
            dated.append(planned >= first)
            undated.append(p.task_due_at >= _midnight(first, tz))
        is_known = or_(
            false(),
            *(and_(p.workflow_name == n, p.workflow_version == v) for n, v in sorted(keys)),
        )
        waiting = or_(
            _per_definition(p.state, known, InspectionStates.all),
            not_(is_known),
        )
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
            .where(*where, waiting, or_(and_(*dated), and_(*undated)))
            .order_by(p.id)
            .limit(limit)
        )
        with self.service.db.read() as conn:
            return conn.execute(query).all()

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
