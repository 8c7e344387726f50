"""Inspections of a plan: recording the scoring sheet, round by round, and finishing it.

Who may record which column, in which state, and how an inspection ends.
Recording either column of the sheet (the unit's self-assessment, the
inspector's scores) is a ``PlanService.mutate`` (audited, version checked).
The rounds and the stored sheet are ``planflow.services.inspections.rounds``; the
arithmetic is ``planflow.core.inspection.scoring`` (pure).

``finish`` is the way to end an inspection when the definition has a scoring
sheet: it evaluates the inspector's scores and fires ``accept`` or
``require_rectification`` itself, storing the outcome, the plan's grade and
the rectification due date in the transition's own transaction. The engine
does not know about scores, so ``accept`` fired directly (``Planflow.fire``)
still works; that is meant for definitions without a sheet.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from planflow.core import notes
from planflow.core.definitions.spec import ScoringSheet, TransitionSpec, WorkflowSpec
from planflow.core.guards import Gate, InspectionFact, why_not_passed
from planflow.core.inspection.scoring import (
    CriterionScore,
    InspectionOutcome,
    running_totals,
    validate_scores,
)
from planflow.core.intents import Addendum
from planflow.core.org import OrgSnapshot
from planflow.core.work_states import self_assessment_states
from planflow.errors import GuardFailed, NotFound, PermissionDenied, StaleVersion, ValidationError
from planflow.services.changes import Change, Step, StepContext
from planflow.services.execution import INSPECT, check_unit_member
from planflow.services.inspections.rounds import (
    ACCEPT,
    REQUIRE_RECTIFICATION,
    InspectionRound,
    Verdict,
    clean_notes,
    current_verdict,
    inspect_transition,
    merge_into_round,
    read_rounds,
    rectification_note,
    round_number,
    scores_of,
    sheet_of,
    write_outcome,
    write_scores,
)
from planflow.services.plan_steps import AUTO_RETRIES
from planflow.services.plans import PlanService
from planflow.storage import plan_store as ps
from planflow.storage.tx import Tx, read_tx


class InspectionService:
    def __init__(self, service: PlanService) -> None:
        self.service = service

    def inspection_fact(self, tx: Tx, row: ps.PlanRow, spec: WorkflowSpec) -> InspectionFact:
        """The fact ``inspection`` (the guards inspection_recorded, _scored and _passed
        read it) for the current round: "unrecorded" (no inspector score yet),
        "unscored" (some missing), "passed" (accept) or "failed" (rectify), the last
        with why (the criteria to rectify, a total below the pass mark).
        ``Planflow`` registers it as the fact's provider."""
        if spec.inspection is None:
            return InspectionFact("unrecorded")
        verdict = current_verdict(tx, row, spec, self.service.clock.now().date())
        if len(verdict.unscored) == len(spec.inspection.criteria()):
            return InspectionFact("unrecorded")
        if verdict.unscored:
            return InspectionFact("unscored")
        if verdict.action() == ACCEPT:
            return InspectionFact("passed")
        outcome = verdict.outcome
        rectify = [p.code for p in outcome.rectification]
        return InspectionFact(
            "failed", why_not_passed(spec.inspection, rectify, outcome.inspector_total)
        )

    # -- recording scores ---------------------------------------------------------------

    def record_self_assessment(
        self,
        plan_id: int,
        actor_id: int,
        scores: Iterable[CriterionScore],
        expected_version: int | None = None,
    ) -> Change:
        """The unit's column (scores, notes, measured values) of the current round."""

        def check(tx: Tx, row: ps.PlanRow, change: StepContext) -> None:
            states = self_assessment_states(change.spec)
            self._check_state(row, states, "a self-assessment")
            check_unit_member(change.org, change.spec, actor_id, row.unit_id, "self_assessment")

        return self._record(plan_id, actor_id, tuple(scores), False, check, expected_version)

    def record_scores(
        self,
        plan_id: int,
        actor_id: int,
        scores: Iterable[CriterionScore],
        expected_version: int | None = None,
    ) -> Change:
        """The inspector's column; whoever may fire ``inspect`` on the plan may record it."""

        def check(tx: Tx, row: ps.PlanRow, change: StepContext) -> None:
            t = inspect_transition(change.spec)
            self._check_state(row, (*t.sources, t.dest), "recording inspection scores")
            self.check_inspector(t, row, change.spec, change.org, actor_id, "record_scores")

        return self._record(plan_id, actor_id, tuple(scores), True, check, expected_version)

    @staticmethod
    def _check_state(row: ps.PlanRow, states: Iterable[str], what: str) -> None:
        if row.state not in states:
            raise ValidationError(
                f"{what} is possible only while the plan is {' or '.join(states)}, "
                f"not {row.state!r}",
                code="wrong_state",
                params={"what": what, "state": row.state, "allowed": list(states)},
            )

    def check_inspector(
        self,
        t: TransitionSpec,
        row: ps.PlanRow,
        spec: WorkflowSpec,
        org: OrgSnapshot,
        actor_id: int,
        action: str,
    ) -> None:
        """The engine's own permission check for ``t``, and its guards (e.g. ``not_self``).

        The scoring sheet's guards (``FACT_GUARDS``) are left out: recording the
        sheet is how they come to pass, ``finish`` decides from the sheet itself,
        and the transition, when fired, checks them all.
        """
        facts = row.facts()
        if not self.service.engine_for(spec).may_act(t, facts, actor_id, org):
            role, where = (t.actor.role, t.actor.at.describe()) if t.actor else ("system", "")
            raise PermissionDenied(action, role, where)
        gate = Gate(facts, actor_id, "-")  # a placeholder comment, as available_actions does
        # The guards that read the sheet's verdict are the transition's own to apply
        # when it is fired; recording scores and finishing come before that verdict.
        guards = self.service.guards
        if not guards.check_all(gate, tuple(g for g in t.guards if not guards.needs(g.name))):
            raise GuardFailed(action, gate.reasons)

    def _record(
        self,
        plan_id: int,
        actor_id: int,
        rows: tuple[CriterionScore, ...],
        inspector: bool,
        check: Step,
        expected_version: int | None,
    ) -> Change:
        if not rows:
            raise ValidationError("no scores given", code="no_scores")
        rows = tuple(clean_notes(s) for s in rows)
        for s in rows:
            if inspector and (s.self_score is not None or s.self_note):
                raise ValidationError(f"{s.code}: inspector scores cannot hold self-assessment")
            if not inspector and (s.inspector_score is not None or s.inspector_note):
                raise ValidationError(f"{s.code}: a self-assessment cannot hold inspector scores")

        def write(tx: Tx, row: ps.PlanRow, change: StepContext) -> Addendum:
            check(tx, row, change)
            sheet = sheet_of(change.spec)
            validate_scores(sheet, rows)
            round_ = round_number(tx, plan_id, change.spec)
            entries = merge_into_round(tx, plan_id, round_, sheet, rows, inspector)
            totals = running_totals(sheet, scores_of(entries))
            write_scores(tx, plan_id, round_, entries, actor_id if inspector else None, change.at)
            total = totals.inspector_total if inspector else totals.self_total
            return Addendum({"round": round_, "criteria": [s.code for s in rows], "total": total})

        action = "inspection_scores" if inspector else "self_assessment"
        return self.service.mutate(
            plan_id, action, actor_id, check=write, expected_version=expected_version
        )

    # -- the verdict ---------------------------------------------------------------------------

    def outcome(self, plan_id: int, today: date) -> InspectionOutcome:
        """The current round's outcome: as decided once finished, else as it stands now."""
        with read_tx(self.service.db) as tx:
            row, spec = self._load(tx, plan_id)
            return current_verdict(tx, row, spec, today).outcome

    def finish(
        self,
        plan_id: int,
        actor_id: int,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> Change:
        """Accept or require rectification, as the inspector's scores decide, in one step.

        The decision is made on a read of the plan at version v and fired with
        ``expected_version=v``, so it cannot rest on scores that changed in
        between; without a pinned version a lost race is decided again.
        "Today" (for the rectification due date) is the clock's UTC date.
        """
        today = self.service.clock.now().date()
        attempts = 1 if expected_version is not None else AUTO_RETRIES
        for attempt in range(attempts):
            with read_tx(self.service.db) as tx:
                row, spec = self._load(tx, plan_id)
                org = self.service.org_cache.get(self.service.db, row.org_generation)
                # Checked before the transition: a stranger must learn no more here.
                with self.service.hiding_from_strangers(row, org, actor_id):
                    verdict = self._check_finish(tx, row, spec, actor_id, today, expected_version)
            action, due = verdict.action(), verdict.due(sheet_of(spec), today)
            text = comment.strip() if comment else ""
            note = None
            if due is not None and not text:
                # Written by the system: kept as a note every reader sees in their
                # language; the comment holds its English (comment_required reads it).
                note = rectification_note(verdict.outcome, due)
                text = notes.render(note)
            store = self._store_verdict(action, actor_id, today, row.version, note)
            try:
                return self.service.fire(
                    plan_id, action, actor_id, text or None, row.version, also=store
                )
            except StaleVersion:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _check_finish(
        self,
        tx: Tx,
        row: ps.PlanRow,
        spec: WorkflowSpec,
        actor_id: int,
        today: date,
        expected_version: int | None,
    ) -> Verdict:
        if expected_version is not None and row.version != expected_version:
            raise StaleVersion(row.id, expected_version, row.version)
        t = inspect_transition(spec)
        if row.state != t.dest:
            raise ValidationError(
                f"an inspection can be finished only when the plan is {t.dest!r} "
                f"(fire {INSPECT!r} first); it is {row.state!r}",
                code="wrong_state",
                params={"what": "finish", "state": row.state, "allowed": [t.dest]},
            )
        verdicts = {x.trigger: x for x in spec.transitions_from(row.state)}
        if ACCEPT not in verdicts or REQUIRE_RECTIFICATION not in verdicts:
            raise ValidationError(
                f"the workflow {spec.key} has no {ACCEPT!r} and {REQUIRE_RECTIFICATION!r} "
                f"from {row.state!r}"
            )
        org = self.service.org_cache.get(self.service.db, row.org_generation)
        self.check_inspector(verdicts[ACCEPT], row, spec, org, actor_id, "finish")
        verdict = current_verdict(tx, row, spec, today)
        if verdict.finished:
            raise ValidationError(
                f"inspection round {verdict.round} is already finished",
                code="round_finished",
                params={"round": verdict.round},
            )
        if verdict.unscored:
            raise ValidationError(
                f"the inspector has not scored {', '.join(verdict.unscored)} in round "
                f"{verdict.round}; score every criterion before finishing",
                code="criteria_unscored",
                params={"round": verdict.round, "criteria": list(verdict.unscored)},
            )
        return verdict

    def _store_verdict(
        self, action: str, actor_id: int, today: date, version: int, note: notes.Note | None
    ) -> Step:
        """The in-transaction part of ``finish``: store what the transition decided."""

        def store(tx: Tx, row: ps.PlanRow, change: StepContext) -> Addendum:
            verdict = current_verdict(tx, row, change.spec, today)
            outcome = verdict.outcome
            # The version is pinned, so this only fails if that promise is broken;
            # a failed mandatory criterion must never reach "accept" in any case.
            if (
                verdict.finished
                or verdict.action() != action
                or (action == ACCEPT and outcome.failed_mandatory)
            ):
                raise StaleVersion(row.id, version, row.version)
            due = verdict.due(sheet_of(change.spec), today)
            write_outcome(tx, row.id, verdict.round, outcome, due, actor_id, change.at)
            detail: dict[str, object] = {
                "round": verdict.round,
                "grade": outcome.grade,
                "total": outcome.inspector_total,
                "rectification_due": due.isoformat() if due else None,
            }
            if note is not None:
                detail["note"] = note
            return Addendum(detail)

        return store

    # -- queries ----------------------------------------------------------------------------

    def _load(self, tx: Tx, plan_id: int) -> tuple[ps.PlanRow, WorkflowSpec]:
        row = ps.load_plan(tx, plan_id)
        if row is None:
            raise NotFound("plan", plan_id)
        db = self.service.db
        return row, self.service.definitions.spec_for(db, row.workflow_name, row.workflow_version)

    def sheet(self, plan_id: int) -> ScoringSheet:
        with read_tx(self.service.db) as tx:
            return sheet_of(self._load(tx, plan_id)[1])

    def current(self, plan_id: int) -> InspectionRound | None:
        """The current round's sheet, or None before anything was recorded in it."""
        with read_tx(self.service.db) as tx:
            round_ = round_number(tx, plan_id, self._load(tx, plan_id)[1])
        return next((r for r in self.rounds(plan_id) if r.round == round_), None)

    def rounds(self, plan_id: int) -> list[InspectionRound]:
        """Every round recorded for the plan, oldest first."""
        return read_rounds(self.service.db, plan_id)
