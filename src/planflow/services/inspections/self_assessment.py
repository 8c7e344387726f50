"""The unit's self-assessment of an inspection round, as its people see it.

A read model over ``planflow.services.inspections.service``: the definition's scoring sheet,
the unit's own column of the current round (scores, notes, measured values),
its running totals (``planflow.core.inspection.scoring.running_totals``), the plan's
version to pin a save to, and whether a given person may record it now and,
if not, why. Recording is ``InspectionService.record_self_assessment``,
which checks the same rules again. It is open from the plan's approval
until the inspector starts (``work_states.self_assessment_states``). The
inspector's column is left out: the unit sees its own scores here, the
inspector's form shows both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from planflow.core.definitions.spec import ScoringSheet
from planflow.core.inspection.scoring import CriterionScore, Totals, running_totals
from planflow.core.work_states import self_assessment_states
from planflow.errors import NotFound
from planflow.services.execution import is_unit_editor
from planflow.services.inspections.rounds import round_number
from planflow.services.inspections.service import InspectionService
from planflow.storage import plan_store as ps
from planflow.storage.tx import read_tx


class Refusal(StrEnum):
    """Why someone may not record the self-assessment now."""

    NO_SHEET = "no_sheet"  # the plan's workflow has no scoring sheet
    STATE = "state"  # not approved and awaiting its inspection
    ROLE = "role"  # they are not the plan's own drafter or submitter


@dataclass(frozen=True)
class SelfAssessment:
    plan_id: int
    state: str
    #: The plan's version, read before the scores: a save pinned to it is
    #: refused if anything changed since.
    version: int
    sheet: ScoringSheet | None
    round: int
    #: The unit's column by criterion code: ``measured`` is the unit's own value.
    scores: Mapping[str, CriterionScore]
    totals: Totals | None
    #: The states in which the self-assessment may be recorded.
    open_states: tuple[str, ...]
    refusal: Refusal | None

    @property
    def may_record(self) -> bool:
        return self.refusal is None


def self_assessment(inspections: InspectionService, plan_id: int, actor_id: int) -> SelfAssessment:
    """The current round's self-assessment of ``plan_id`` as ``actor_id`` sees it."""
    service = inspections.service
    with read_tx(service.db) as tx:
        row = ps.load_plan(tx, plan_id)
        if row is None:
            raise NotFound("plan", plan_id)
        spec = service.definitions.spec_for(service.db, row.workflow_name, row.workflow_version)
        open_states = self_assessment_states(spec)
        round_ = round_number(tx, plan_id, spec) if open_states else 1  # no inspections
    org = service.org_cache.get(service.db, row.org_generation)
    sheet = spec.inspection
    refusal = None
    if sheet is None or not open_states:
        refusal = Refusal.NO_SHEET
    elif row.state not in open_states:
        refusal = Refusal.STATE
    elif not is_unit_editor(org, spec, actor_id, row.unit_id):
        refusal = Refusal.ROLE
    scores: dict[str, CriterionScore] = {}
    totals = None
    if sheet is not None:
        found = next((r for r in inspections.rounds(plan_id) if r.round == round_), None)
        if found is not None:
            scores = {
                s.code: CriterionScore(
                    s.code,
                    self_score=s.self_score,
                    self_note=s.self_note,
                    measured=found.self_measured.get(s.code),
                )
                for s in found.scores
            }
        totals = running_totals(sheet, scores.values())
    return SelfAssessment(
        plan_id=plan_id,
        state=row.state,
        version=row.version,
        sheet=sheet,
        round=round_,
        scores=scores,
        totals=totals,
        open_states=tuple(open_states),
        refusal=refusal,
    )
