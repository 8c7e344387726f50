"""Planning an inspection's visit, and what a user may do on an inspection now.

An inspection waits on a plan in the states around ``inspect``: the states it
is fired from (``inspection_scheduled``: the visit is ahead), the state it
leads to (``inspected``: the inspector decides) and the state
``require_rectification`` leads to (``rectification_required``: the unit
fixes what was found, by a due date); ``inspection_states`` names them for a
definition. This module

- plans the visit: the plan's inspector (whoever may fire ``inspect``) sets
  the day of the current round's visit, ``inspection.visit_date``, through
  ``PlanService.mutate``, so it is version checked and on the audit trail
  (action ``plan_visit``), and the branch is told (``visit_planned``: the
  plan's submitter and the unit's own roles, ``branch_people``); and starts
  the inspection (fires ``inspect``);
- says what a user may do on one plan's inspection now (``status``), with the
  checks the recording methods make, so a page offers only what will work.

``planflow.services.inspections.calendar`` places the inspections on a calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from planflow.core.definitions.spec import TransitionSpec, Where, WorkflowSpec
from planflow.core.intents import Addendum, Notice
from planflow.core.org import OrgSnapshot
from planflow.errors import NotFound, PlanflowError, ValidationError
from planflow.services.changes import Change, StepContext
from planflow.services.execution import INSPECT
from planflow.services.inspections.rounds import (
    ACCEPT,
    REQUIRE_RECTIFICATION,
    inspect_transition,
    round_number,
)
from planflow.services.inspections.service import InspectionService
from planflow.storage import plan_store as ps
from planflow.storage.tx import Sql, Tx, read_tx

PLAN_VISIT = "plan_visit"
#: The notification the branch gets when its visit is planned, moved or unplanned.
VISIT_PLANNED = "visit_planned"


def branch_people(
    spec: WorkflowSpec, org: OrgSnapshot, row: ps.PlanRow, actor_id: int
) -> tuple[int, ...]:
    """The branch whose plan it is: its submitter and the holders of the roles the
    definition looks up at the plan's own unit (drafter, submitter: who acts there
    or has a task there), not the actor."""
    refs = [t.actor for t in spec.transitions if t.actor is not None]
    refs += [s.task.assignee for s in spec.states if s.task is not None]
    roles = {ref.role for ref in refs if ref.at is Where.SAME}
    people = {p for role in roles for p in org.holders(role, row.unit_id)}
    if row.submitted_by is not None:
        people.add(row.submitted_by)
    people.discard(actor_id)
    return tuple(sorted(p for p in people if p in org.active_users))


#: How far ahead a visit may be planned: the next year's round at the latest.
MAX_DAYS_AHEAD = 366
#: Where an inspection stands: the visit is ahead, the verdict is, or the rectification.
SCHEDULED, INSPECTED, RECTIFICATION = "scheduled", "inspected", "rectification"

SELECT_VISIT_DATE = Sql(
    "select_visit_date",
    "SELECT visit_date FROM inspection WHERE plan_id = :plan_id AND round = :round",
)
# A round's row may not exist yet: the visit is planned before anything is scored.
UPSERT_VISIT_DATE = Sql(
    "upsert_visit_date",
    "INSERT INTO inspection (plan_id, round, scores, outcome, grade, inspector_id,"
    " rectification_due, visit_date, updated_at) VALUES (:plan_id, :round, '[]', '{}', NULL,"
    " NULL, NULL, :visit_date, :updated_at) ON CONFLICT (plan_id, round) DO UPDATE SET"
    " visit_date = excluded.visit_date, updated_at = excluded.updated_at",
)


class VisitDateRefused(ValidationError):
    """A visit date in the past, or too far ahead; ``earliest``..``latest`` is allowed."""

    code = "visit_date_out_of_range"

    def __init__(self, day: date, earliest: date, latest: date) -> None:
        super().__init__(
            f"the visit date {day.isoformat()} must lie between {earliest.isoformat()} "
            f"and {latest.isoformat()}",
            params={
                "day": day.isoformat(),
                "earliest": earliest.isoformat(),
                "latest": latest.isoformat(),
            },
        )
        self.day, self.earliest, self.latest = day, earliest, latest


@dataclass(frozen=True)
class InspectionStates:
    """The states of one definition in which an inspection waits, by kind."""

    scheduled: frozenset[str]
    inspected: str
    rectification: frozenset[str]

    def kind(self, state: str) -> str | None:
        if state in self.scheduled:
            return SCHEDULED
        if state == self.inspected:
            return INSPECTED
        return RECTIFICATION if state in self.rectification else None

    def all(self) -> frozenset[str]:
        return self.scheduled | self.rectification | {self.inspected}


def inspection_states(spec: WorkflowSpec) -> InspectionStates | None:
    """None for a definition without an ``inspect`` transition."""
    t = next((t for t in spec.transitions if t.trigger == INSPECT), None)
    if t is None:
        return None
    rect = frozenset(x.dest for x in spec.transitions if x.trigger == REQUIRE_RECTIFICATION)
    return InspectionStates(frozenset(t.sources), t.dest, rect)


@dataclass(frozen=True)
class InspectionStatus:
    """One plan's inspection as a user may act on it now."""

    kind: str | None  # None: no inspection waits on the plan
    round: int
    visit_date: date | None
    may_plan_visit: bool
    may_score: bool
    may_start: bool
    may_finish: bool
    #: Why the user may not act as this plan's inspector (None: they may).
    refusal: PlanflowError | None


def _as_date(value: object) -> date | None:
    """A DATE read on the raw cursor: ISO text on SQLite, a date on PostgreSQL."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class InspectionVisits:
    def __init__(self, inspections: InspectionService) -> None:
        self.inspections = inspections
        self.service = inspections.service

    def today(self, tz: tzinfo = UTC) -> date:
        return self.service.clock.now().astimezone(tz).date()

    # -- what a user may do ---------------------------------------------------------------

    def refusal(
        self, t: TransitionSpec, row: ps.PlanRow, spec: WorkflowSpec, org: OrgSnapshot, actor: int
    ) -> PlanflowError | None:
        """Why ``actor`` may not fire ``t`` as the plan's inspector (None: they may)."""
        try:
            self.inspections.check_inspector(t, row, spec, org, actor, t.trigger)
        except PlanflowError as error:
            return error
        return None

    def status(self, plan_id: int, actor_id: int) -> InspectionStatus:
        """What ``actor_id`` may do on the plan's inspection now (each step checks again)."""
        with read_tx(self.service.db) as tx:
            row = ps.load_plan(tx, plan_id)
            if row is None:
                raise NotFound("plan", plan_id)
            spec = self.service.definitions.spec_for(
                self.service.db, row.workflow_name, row.workflow_version
            )
            states = inspection_states(spec)
            if states is None:
                return InspectionStatus(None, 0, None, False, False, False, False, None)
            round_ = round_number(tx, plan_id, spec)
            found = tx.one(SELECT_VISIT_DATE, {"plan_id": plan_id, "round": round_})
        org = self.service.org_cache.get(self.service.db, row.org_generation)
        t = inspect_transition(spec)
        refusal = self.refusal(t, row, spec, org, actor_id)
        kind = states.kind(row.state)
        sheet = spec.inspection is not None
        verdicts = {x.trigger: x for x in spec.transitions_from(row.state)}
        finishing = kind == INSPECTED and sheet and REQUIRE_RECTIFICATION in verdicts
        return InspectionStatus(
            kind=kind,
            round=round_,
            visit_date=_as_date(found[0]) if found else None,
            may_plan_visit=kind == SCHEDULED and refusal is None,
            may_score=sheet and kind in (SCHEDULED, INSPECTED) and refusal is None,
            may_start=kind == SCHEDULED and refusal is None,
            may_finish=finishing
            and ACCEPT in verdicts
            and self.refusal(verdicts[ACCEPT], row, spec, org, actor_id) is None,
            refusal=refusal,
        )

    # -- planning the visit ---------------------------------------------------------------

    def set_visit_date(
        self,
        plan_id: int,
        actor_id: int,
        day: date | None,
        expected_version: int | None = None,
        *,
        tz: tzinfo = UTC,
    ) -> Change:
        """Plan (or, with None, unplan) the current round's visit; "today" is in ``tz``."""
        if day is not None:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ValidationError(f"a visit date must be a date, not {day!r}")
            today = self.today(tz)
            latest = today + timedelta(days=MAX_DAYS_AHEAD)
            if not today <= day <= latest:
                raise VisitDateRefused(day, today, latest)
        iso = day.isoformat() if day is not None else None

        def write(tx: Tx, row: ps.PlanRow, change: StepContext) -> Addendum:
            t = inspect_transition(change.spec)
            if row.state not in t.sources:
                raise ValidationError(
                    f"a visit can be planned only while the plan is {' or '.join(t.sources)}, "
                    f"not {row.state!r}",
                    code="wrong_state",
                    params={"what": "plan_visit", "state": row.state, "allowed": list(t.sources)},
                )
            self.inspections.check_inspector(t, row, change.spec, change.org, actor_id, PLAN_VISIT)
            round_ = round_number(tx, plan_id, change.spec)
            found = tx.one(SELECT_VISIT_DATE, {"plan_id": plan_id, "round": round_})
            previous = _as_date(found[0]) if found else None
            tx.run(
                UPSERT_VISIT_DATE,
                {
                    "plan_id": plan_id,
                    "round": round_,
                    # SQLite keeps a DATE as ISO text, as SQLAlchemy writes it.
                    "visit_date": iso if tx.dialect == "sqlite" else day,
                    "updated_at": tx.ts(change.at),
                },
            )
            said = {
                "round": round_,
                "visit_date": iso,
                "previous": previous.isoformat() if previous else None,
            }
            told = branch_people(change.spec, change.org, row, actor_id)
            return Addendum(said, notice=Notice(VISIT_PLANNED, told, said) if told else None)

        return self.service.mutate(
            plan_id,
            PLAN_VISIT,
            actor_id,
            check=write,
            expected_version=expected_version,
            comment=iso,
        )

    def start(self, plan_id: int, actor_id: int, expected_version: int | None = None) -> Change:
        """Begin the inspection (fire ``inspect``): the unit's self-assessment closes."""
        return self.service.fire(plan_id, INSPECT, actor_id, None, expected_version)
