"""Inspections of a plan: the filled-in scoring sheet, round by round, and its verdict.

A plan is inspected in rounds; round N is the N-th time the plan entered the
state in which ``inspect`` is fired (``inspection_scheduled``), counted from
the audit trail, so a plan sent back for rectification is scored afresh. One
``inspection`` row per round keeps both columns of the sheet: the unit's
self-assessment and the inspector's scores, each with notes and measured
values. Recording either is a ``PlanService.mutate`` (audited, version
checked); the arithmetic is ``planflow.inspection`` (pure).

``finish`` is the way to end an inspection when the definition has a scoring
sheet: it evaluates the inspector's scores and fires ``accept`` or
``require_rectification`` itself, storing the outcome, the plan's grade and
the rectification due date in the transition's own transaction. The engine
does not know about scores, so ``accept`` fired directly (``Planflow.fire``)
still works; that is meant for definitions without a sheet.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from .changes import Change
from .definitions.spec import ScoringSheet, TransitionSpec, WorkflowSpec
from .errors import GuardFailed, NotFound, PermissionDenied, StaleVersion, ValidationError
from .execution import INSPECT, check_unit_member
from .guards import Gate, check_all
from .inspection import (
    NOT_PASSED,
    CriterionScore,
    InspectionOutcome,
    evaluate,
    outcome_from_dict,
    outcome_to_dict,
    running_totals,
    validate_scores,
)
from .org import OrgSnapshot
from .service import AUTO_RETRIES, Mutation, PlanService
from .storage import execution_sql as xs
from .storage import plan_store as ps
from .storage.tables import Inspection
from .storage.tx import Tx, read_tx
from .text import clean_text

ACCEPT = "accept"
REQUIRE_RECTIFICATION = "require_rectification"
MAX_NOTE = 2000
#: One stored sheet row: CriterionScore's fields (``measured`` is the
#: inspector's) plus the unit's own measured value.
_SELF = ("self_score", "self_note", "self_measured")
_INSPECTOR = ("inspector_score", "inspector_note", "measured")

inspection_t = Inspection.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class InspectionRound:
    """One round's sheet; ``scores[i].measured`` is the inspector's measured value."""

    plan_id: int
    round: int
    scores: tuple[CriterionScore, ...]
    #: The measured values the unit gave in its self-assessment.
    self_measured: Mapping[str, float]
    outcome: InspectionOutcome | None  # once finished
    grade: str | None
    inspector_id: int | None
    rectification_due: date | None
    updated_at: datetime


def sheet_of(spec: WorkflowSpec) -> ScoringSheet:
    if spec.inspection is None:
        raise ValidationError(f"the workflow {spec.key} has no inspection scoring sheet")
    return spec.inspection


def inspect_transition(spec: WorkflowSpec) -> TransitionSpec:
    for t in spec.transitions:
        if t.trigger == INSPECT:
            return t
    raise ValidationError(f"the workflow {spec.key} has no {INSPECT!r} transition")


def round_number(tx: Tx, plan_id: int, spec: WorkflowSpec) -> int:
    """How many times the plan entered a state where it awaits inspection (at least 1)."""
    entries = 0
    for state in inspect_transition(spec).sources:
        found = tx.one(xs.COUNT_ENTRIES_INTO_STATE, {"plan_id": plan_id, "state": state})
        entries += int(found[0]) if found else 0
    return max(1, entries)


_BLANK = {**dict.fromkeys(_SELF + _INSPECTOR), "self_note": "", "inspector_note": ""}


def _entries(text: str | None) -> dict[str, dict[str, Any]]:
    return {e["code"]: {**_BLANK, **e} for e in json.loads(text or "[]")}


def _num(value: float | None) -> float | None:
    return None if value is None else float(value)


def _scores(entries: Mapping[str, Mapping[str, Any]]) -> tuple[CriterionScore, ...]:
    return tuple(
        CriterionScore(e["code"], *(e[k] for k in ("self_score", "self_note", *_INSPECTOR)))
        for e in entries.values()
    )


def _clean_notes(s: CriterionScore) -> CriterionScore:
    """Notes are typed text: trimmed, bounded, no control characters (``clean_text``)."""
    notes = {n: getattr(s, n) for n in ("self_note", "inspector_note")}
    for n, note in notes.items():
        field = f"the {n.replace('_', ' ')} of {s.code}"
        notes[n] = clean_text(note, field=field, max_length=MAX_NOTE, multiline=True)
    return dataclasses.replace(s, **notes)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def decide(outcome: InspectionOutcome) -> str:
    """Accept only a passed check with nothing to rectify; anything else is rectified first."""
    return ACCEPT if outcome.passed and not outcome.rectification else REQUIRE_RECTIFICATION


def rectification_comment(outcome: InspectionOutcome, due: date) -> str:
    points = [f"{p.code}: {p.reason}" for p in outcome.rectification]
    if not points:
        points = [f"total {outcome.inspector_total:g} of {outcome.max_total:g} is not enough"]
    return f"Rectify by {due.isoformat()}: " + "; ".join(points)


@dataclass(frozen=True)
class _Verdict:
    round: int
    outcome: InspectionOutcome
    finished: bool
    unscored: tuple[str, ...]  # criteria without an inspector score

    def action(self) -> str:
        return decide(self.outcome)

    def due(self, sheet: ScoringSheet, today: date) -> date | None:
        if self.action() != REQUIRE_RECTIFICATION:
            return None
        # A total below every grade has no point of its own, but still a deadline.
        return self.outcome.rectification_due or today + timedelta(sheet.rectification_days)


class InspectionService:
    def __init__(self, service: PlanService) -> None:
        self.service = service
        # The guards inspection_scored / inspection_passed read this verdict.
        service.fact_providers["inspection"] = self._inspection_fact

    def _inspection_fact(self, tx: Tx, row: ps.PlanRow, spec: WorkflowSpec) -> str:
        """ "unscored", "passed" (accept) or "failed" (rectify) for the current round."""
        if spec.inspection is None:
            return "unscored"
        verdict = self._verdict(tx, row, spec, self.service.clock.now().date())
        if verdict.unscored:
            return "unscored"
        return "passed" if verdict.action() == ACCEPT else "failed"

    # -- recording scores ---------------------------------------------------------------

    def record_self_assessment(
        self,
        plan_id: int,
        actor_id: int,
        scores: Iterable[CriterionScore],
        expected_version: int | None = None,
    ) -> Change:
        """The unit's column (scores, notes, measured values) of the current round."""

        def check(tx: Tx, row: ps.PlanRow, change: Change) -> None:
            self._check_state(row, inspect_transition(change.spec).sources, "a self-assessment")
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

        def check(tx: Tx, row: ps.PlanRow, change: Change) -> None:
            t = inspect_transition(change.spec)
            self._check_state(row, (*t.sources, t.dest), "recording inspection scores")
            self.check_inspector(t, row, change.spec, change.org, actor_id, "record_scores")

        return self._record(plan_id, actor_id, tuple(scores), True, check, expected_version)

    @staticmethod
    def _check_state(row: ps.PlanRow, states: Iterable[str], what: str) -> None:
        if row.state not in states:
            raise ValidationError(
                f"{what} is possible only while the plan is {' or '.join(states)}, "
                f"not {row.state!r}"
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
        """The engine's own permission check for ``t``, and its guards (e.g. ``not_self``)."""
        facts = row.facts()
        if not self.service.engine_for(spec).may_act(t, facts, actor_id, org):
            role, where = (t.actor.role, t.actor.at.describe()) if t.actor else ("system", "")
            raise PermissionDenied(action, role, where)
        gate = Gate(facts, actor_id, "-")  # a placeholder comment, as available_actions does
        if not check_all(gate, t.guards):
            raise GuardFailed(action, gate.reasons)

    def _record(
        self,
        plan_id: int,
        actor_id: int,
        rows: tuple[CriterionScore, ...],
        inspector: bool,
        check: Mutation,
        expected_version: int | None,
    ) -> Change:
        if not rows:
            raise ValidationError("no scores given")
        rows = tuple(_clean_notes(s) for s in rows)
        for s in rows:
            if inspector and (s.self_score is not None or s.self_note):
                raise ValidationError(f"{s.code}: inspector scores cannot hold self-assessment")
            if not inspector and (s.inspector_score is not None or s.inspector_note):
                raise ValidationError(f"{s.code}: a self-assessment cannot hold inspector scores")
        columns = _INSPECTOR if inspector else _SELF

        def write(tx: Tx, row: ps.PlanRow, change: Change) -> None:
            check(tx, row, change)
            sheet = sheet_of(change.spec)
            validate_scores(sheet, rows)
            round_ = round_number(tx, plan_id, change.spec)
            found = tx.one(xs.SELECT_INSPECTION, {"plan_id": plan_id, "round": round_})
            if found is not None and found[2] is not None:
                raise ValidationError(f"inspection round {round_} is already finished")
            entries = _entries(found[0] if found else None)
            for s in rows:
                score = s.inspector_score if inspector else s.self_score
                note = s.inspector_note if inspector else s.self_note
                entry = entries.setdefault(s.code, {"code": s.code, **_BLANK})
                entry.update(zip(columns, (_num(score), note, _num(s.measured)), strict=True))
            ordered = {c.code: entries[c.code] for c in sheet.criteria() if c.code in entries}
            totals = running_totals(sheet, _scores(ordered))
            tx.run(
                xs.UPSERT_INSPECTION_SCORES,
                {
                    "plan_id": plan_id,
                    "round": round_,
                    "scores": _json(list(ordered.values())),
                    "inspector_id": actor_id if inspector else None,
                    "updated_at": tx.ts(change.at),
                },
            )
            total = totals.inspector_total if inspector else totals.self_total
            change.detail.update(
                {"round": round_, "criteria": [s.code for s in rows], "total": total}
            )

        action = "inspection_scores" if inspector else "self_assessment"
        return self.service.mutate(
            plan_id, action, actor_id, write, expected_version=expected_version
        )

    # -- the verdict ---------------------------------------------------------------------------

    def _verdict(self, tx: Tx, row: ps.PlanRow, spec: WorkflowSpec, today: date) -> _Verdict:
        """The current round as the database has it now: decided, or as it would be."""
        sheet = sheet_of(spec)
        round_ = round_number(tx, row.id, spec)
        found = tx.one(xs.SELECT_INSPECTION, {"plan_id": row.id, "round": round_})
        entries = _entries(found[0] if found else None)
        unscored = tuple(
            c.code
            for c in sheet.criteria()
            if entries.get(c.code, {}).get("inspector_score") is None
        )
        if found is not None and found[2] is not None:
            return _Verdict(round_, outcome_from_dict(json.loads(found[1])), True, unscored)
        grade = tx.one(xs.SELECT_PLAN_GRADE, {"plan_id": row.id})
        params = {"unit_id": row.unit_id, "year": row.year, "plan_id": row.id, "round": round_}
        failed = tx.one(xs.COUNT_FAILED_THIS_YEAR, {**params, "not_passed": NOT_PASSED})
        outcome = evaluate(
            sheet,
            _scores(entries),
            previous_grade=grade[0] if grade else None,
            failed_this_year=bool(failed and int(failed[0])),
            today=today,
        )
        return _Verdict(round_, outcome, False, unscored)

    def outcome(self, plan_id: int, today: date) -> InspectionOutcome:
        """The current round's outcome: as decided once finished, else as it stands now."""
        with read_tx(self.service.db) as tx:
            row, spec = self._load(tx, plan_id)
            return self._verdict(tx, row, spec, today).outcome

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
                verdict = self._check_finish(tx, row, spec, actor_id, today, expected_version)
            action, due = verdict.action(), verdict.due(sheet_of(spec), today)
            text = comment.strip() if comment else ""
            if due is not None and not text:
                text = rectification_comment(verdict.outcome, due)
            attach = self._store_verdict(action, today, row.version)
            try:
                return self.service.fire(
                    plan_id, action, actor_id, text or None, row.version, attach=attach
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
    ) -> _Verdict:
        if expected_version is not None and row.version != expected_version:
            raise StaleVersion(row.id, expected_version, row.version)
        t = inspect_transition(spec)
        if row.state != t.dest:
            raise ValidationError(
                f"an inspection can be finished only when the plan is {t.dest!r} "
                f"(fire {INSPECT!r} first); it is {row.state!r}"
            )
        verdicts = {x.trigger: x for x in spec.transitions_from(row.state)}
        if ACCEPT not in verdicts or REQUIRE_RECTIFICATION not in verdicts:
            raise ValidationError(
                f"the workflow {spec.key} has no {ACCEPT!r} and {REQUIRE_RECTIFICATION!r} "
                f"from {row.state!r}"
            )
        org = self.service.org_cache.get(self.service.db, row.org_generation)
        self.check_inspector(verdicts[ACCEPT], row, spec, org, actor_id, "finish")
        verdict = self._verdict(tx, row, spec, today)
        if verdict.finished:
            raise ValidationError(f"inspection round {verdict.round} is already finished")
        if verdict.unscored:
            raise ValidationError(
                f"the inspector has not scored {', '.join(verdict.unscored)} in round "
                f"{verdict.round}; score every criterion before finishing"
            )
        return verdict

    def _store_verdict(self, action: str, today: date, version: int) -> Mutation:
        """The in-transaction part of ``finish``: store what the transition decided."""

        def attach(tx: Tx, row: ps.PlanRow, change: Change) -> None:
            verdict = self._verdict(tx, row, change.spec, today)
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
            tx.run(
                xs.UPDATE_INSPECTION_OUTCOME,
                {
                    "plan_id": row.id,
                    "round": verdict.round,
                    "outcome": _json(outcome_to_dict(outcome)),
                    "grade": outcome.grade,
                    "inspector_id": change.actor_id,
                    # SQLite keeps a DATE as ISO text, as SQLAlchemy writes it.
                    "rectification_due": due.isoformat() if due and tx.dialect == "sqlite" else due,
                    "updated_at": tx.ts(change.at),
                },
            )
            tx.run(xs.UPDATE_PLAN_GRADE, {"plan_id": row.id, "grade": outcome.grade})
            change.detail.update(
                {
                    "round": verdict.round,
                    "grade": outcome.grade,
                    "total": outcome.inspector_total,
                    "rectification_due": due.isoformat() if due else None,
                }
            )

        return attach

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
        with self.service.db.read() as conn:
            rows = conn.execute(
                select(inspection_t)
                .where(inspection_t.c.plan_id == plan_id)
                .order_by(inspection_t.c.round)
            ).all()
        out: list[InspectionRound] = []
        for r in rows:
            entries = _entries(r.scores)
            outcome = json.loads(r.outcome or "{}")
            own = {
                c: e["self_measured"] for c, e in entries.items() if e["self_measured"] is not None
            }
            out.append(
                InspectionRound(
                    plan_id,
                    r.round,
                    _scores(entries),
                    own,
                    outcome_from_dict(outcome) if outcome else None,
                    r.grade,
                    r.inspector_id,
                    r.rectification_due,
                    r.updated_at,
                )
            )
        return out
