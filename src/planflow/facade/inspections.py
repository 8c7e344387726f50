"""``Planflow.inspections``: scoring sheets, visits, self-assessments and the calendar.

The rules (who inspects, in which states, what finishing decides) are in
``services.inspections``; this turns names into ids and rounds into views.
Changes return the plan's new version (``start``: its new state;
``finish``: what the scores decided).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, tzinfo

from planflow.core.definitions.spec import ScoringSheet
from planflow.core.ids import require_plan_id
from planflow.core.inspection.scoring import CriterionScore, InspectionOutcome
from planflow.core.org import OrgSnapshot
from planflow.facade.names import Names
from planflow.facade.plans import PlanReads
from planflow.services.inspections.calendar import CalendarEntry, InspectionCalendar
from planflow.services.inspections.rounds import InspectionRound
from planflow.services.inspections.self_assessment import SelfAssessment, self_assessment
from planflow.services.inspections.service import InspectionService
from planflow.services.inspections.visits import InspectionStatus
from planflow.storage.plan_reads import visible_clause
from planflow.views import InspectionResult, InspectionRoundView


class InspectionsAPI:
    def __init__(self, service: InspectionService, names: Names, reads: PlanReads) -> None:
        self.service = service
        self.names = names
        self.reads = reads
        self.visits = InspectionCalendar(service)

    # -- scores ---------------------------------------------------------------------

    def record_self_assessment(
        self,
        plan_id: int,
        scores: Iterable[CriterionScore],
        *,
        actor: str,
        expected_version: int | None = None,
    ) -> int:
        """The unit's column of the current round; returns the plan's new version."""
        change = self.service.record_self_assessment(
            plan_id, self.names.user_id(actor), scores, expected_version
        )
        return change.new_version

    def record_scores(
        self,
        plan_id: int,
        scores: Iterable[CriterionScore],
        *,
        actor: str,
        expected_version: int | None = None,
    ) -> int:
        """The inspector's column of the current round; returns the plan's new version."""
        change = self.service.record_scores(
            plan_id, self.names.user_id(actor), scores, expected_version
        )
        return change.new_version

    def finish(
        self,
        plan_id: int,
        *,
        actor: str,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> InspectionResult:
        """Accept, or require rectification, as the inspector's scores decide, in one step."""
        change = self.service.finish(plan_id, self.names.user_id(actor), comment, expected_version)
        d = change.detail
        due = d.get("rectification_due")
        return InspectionResult(
            plan_id=plan_id,
            action=change.action,
            to_state=change.to_state,
            version=change.new_version,
            grade=d.get("grade"),
            total=d.get("total"),
            rectification_due=date.fromisoformat(due) if due else None,
        )

    # -- reading ----------------------------------------------------------------------

    def sheet(self, plan_id: int) -> ScoringSheet:
        return self.service.sheet(plan_id)

    def outcome(self, plan_id: int, today: date) -> InspectionOutcome:
        """The current round's outcome: as decided once finished, else as it stands now."""
        return self.service.outcome(plan_id, today)

    def rounds(self, plan_id: int) -> list[InspectionRoundView]:
        require_plan_id(plan_id)
        found = self.service.rounds(plan_id)
        org = self.names.knowing(r.inspector_id for r in found)
        return [_view(r, org.usernames) for r in found]

    def current(self, plan_id: int) -> InspectionRoundView | None:
        found = self.service.current(plan_id)
        if found is None:
            return None
        return _view(found, self.names.knowing([found.inspector_id]).usernames)

    def self_assessment(self, plan_id: int, username: str) -> SelfAssessment:
        """The current round's self-assessment, and whether ``username`` may record it now."""
        return self_assessment(self.service, plan_id, self.names.user_id(username))

    # -- the visit --------------------------------------------------------------------

    def today(self, tz: tzinfo = UTC) -> date:
        return self.visits.today(tz)

    def status(self, plan_id: int, username: str) -> InspectionStatus:
        """What ``username`` may do on the plan's inspection now (each step checks again)."""
        return self.visits.status(plan_id, self.names.user_id(username))

    def set_visit_date(
        self,
        plan_id: int,
        day: date | None,
        *,
        actor: str,
        expected_version: int | None = None,
        tz: tzinfo = UTC,
    ) -> int:
        """Plan (None: unplan) the current round's visit; returns the plan's new version."""
        change = self.visits.set_visit_date(
            plan_id, self.names.user_id(actor), day, expected_version, tz=tz
        )
        return change.new_version

    def start(self, plan_id: int, *, actor: str, expected_version: int | None = None) -> str:
        """Begin the inspection (the unit's self-assessment closes); returns the new state."""
        return self.visits.start(plan_id, self.names.user_id(actor), expected_version).to_state

    def calendar(
        self,
        as_user: str,
        first: date | None,
        last: date,
        *,
        tz: tzinfo = UTC,
        limit: int = 1000,
        org: OrgSnapshot | None = None,
    ) -> list[CalendarEntry]:
        """The inspections of the plans ``as_user`` may see, placed from ``first`` (None:
        any time before) to ``last`` in ``tz``; ``may_plan_visit`` is theirs. ``org``
        as for ``Planflow.plans``."""
        viewer = self.reads.viewer(as_user, org)
        return self.visits.entries(
            [visible_clause(viewer)], first, last, tz=tz, actor_id=viewer.user_id, limit=limit
        )


def _view(r: InspectionRound, usernames: Mapping[int, str]) -> InspectionRoundView:
    return InspectionRoundView(
        plan_id=r.plan_id,
        round=r.round,
        scores=r.scores,
        self_measured=r.self_measured,
        outcome=r.outcome,
        grade=r.grade,
        inspector=usernames.get(r.inspector_id, "?") if r.inspector_id is not None else None,
        rectification_due=r.rectification_due,
        updated_at=r.updated_at,
    )
