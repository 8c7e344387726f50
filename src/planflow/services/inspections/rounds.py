"""An inspection round as stored: which round it is, its sheet, and its verdict.

A plan is inspected in rounds; round N is the N-th time the plan entered the
state in which ``inspect`` is fired (``inspection_scheduled``), counted from
the audit trail, so a plan sent back for rectification is scored afresh. One
``inspection`` row per round keeps both columns of the sheet as JSON: the
unit's self-assessment and the inspector's scores, each with notes and
measured values. This module reads and writes those rows and works out the
verdict a round stands at. Who may record and finish, and when, is
``planflow.services.inspections.service``; the arithmetic is ``planflow.core.inspection.scoring``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from planflow.core import notes
from planflow.core.definitions.spec import ScoringSheet, TransitionSpec, WorkflowSpec
from planflow.core.inspection.scoring import (
    NOT_PASSED,
    CriterionScore,
    InspectionOutcome,
    evaluate,
    outcome_from_dict,
    outcome_to_dict,
)
from planflow.core.text import clean_text
from planflow.errors import ValidationError
from planflow.services.execution import INSPECT
from planflow.storage import execution_sql as xs
from planflow.storage import plan_store as ps
from planflow.storage.db import Database
from planflow.storage.tables import Inspection
from planflow.storage.tx import Tx

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


def entries_of(text: str | None) -> dict[str, dict[str, Any]]:
    return {e["code"]: {**_BLANK, **e} for e in json.loads(text or "[]")}


def _num(value: float | None) -> float | None:
    return None if value is None else float(value)


def scores_of(entries: Mapping[str, Mapping[str, Any]]) -> tuple[CriterionScore, ...]:
    return tuple(
        CriterionScore(e["code"], *(e[k] for k in ("self_score", "self_note", *_INSPECTOR)))
        for e in entries.values()
    )


def clean_notes(s: CriterionScore) -> CriterionScore:
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


def rectification_note(outcome: InspectionOutcome, due: date) -> notes.Note:
    """What the unit must rectify by when, as a note (``planflow.core.notes``)."""
    points = [{"code": p.code, "reasons": list(p.reasons)} for p in outcome.rectification]
    if not points:
        # A total below every grade has no point of its own.
        total, top = outcome.inspector_total, outcome.max_total
        return notes.note(notes.RECTIFY_TOTAL, due=due.isoformat(), total=total, max=top)
    return notes.note(notes.RECTIFY_BY, due=due.isoformat(), points=points)


@dataclass(frozen=True)
class Verdict:
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


def current_verdict(tx: Tx, row: ps.PlanRow, spec: WorkflowSpec, today: date) -> Verdict:
    """The current round as the database has it now: decided, or as it would be."""
    sheet = sheet_of(spec)
    round_ = round_number(tx, row.id, spec)
    found = tx.one(xs.SELECT_INSPECTION, {"plan_id": row.id, "round": round_})
    entries = entries_of(found[0] if found else None)
    unscored = tuple(
        c.code for c in sheet.criteria() if entries.get(c.code, {}).get("inspector_score") is None
    )
    if found is not None and found[2] is not None:
        return Verdict(round_, outcome_from_dict(json.loads(found[1])), True, unscored)
    grade = tx.one(xs.SELECT_PLAN_GRADE, {"plan_id": row.id})
    params = {"unit_id": row.unit_id, "year": row.year, "plan_id": row.id, "round": round_}
    failed = tx.one(xs.COUNT_FAILED_THIS_YEAR, {**params, "not_passed": NOT_PASSED})
    outcome = evaluate(
        sheet,
        scores_of(entries),
        previous_grade=grade[0] if grade else None,
        failed_this_year=bool(failed and int(failed[0])),
        today=today,
    )
    return Verdict(round_, outcome, False, unscored)


def read_rounds(db: Database, plan_id: int) -> list[InspectionRound]:
    """Every round recorded for the plan, oldest first."""
    with db.read() as conn:
        rows = conn.execute(
            select(inspection_t)
            .where(inspection_t.c.plan_id == plan_id)
            .order_by(inspection_t.c.round)
        ).all()
    out: list[InspectionRound] = []
    for r in rows:
        entries = entries_of(r.scores)
        outcome = json.loads(r.outcome or "{}")
        own = {c: e["self_measured"] for c, e in entries.items() if e["self_measured"] is not None}
        out.append(
            InspectionRound(
                plan_id,
                r.round,
                scores_of(entries),
                own,
                outcome_from_dict(outcome) if outcome else None,
                r.grade,
                r.inspector_id,
                r.rectification_due,
                r.updated_at,
            )
        )
    return out


def merge_into_round(
    tx: Tx,
    plan_id: int,
    round_: int,
    sheet: ScoringSheet,
    rows: Sequence[CriterionScore],
    inspector: bool,
) -> dict[str, dict[str, Any]]:
    """The round's stored entries with one column (the inspector's or the unit's) of
    ``rows`` written over them, in the sheet's order. The other column is kept."""
    found = tx.one(xs.SELECT_INSPECTION, {"plan_id": plan_id, "round": round_})
    if found is not None and found[2] is not None:
        raise ValidationError(
            f"inspection round {round_} is already finished",
            code="round_finished",
            params={"round": round_},
        )
    entries = entries_of(found[0] if found else None)
    columns = _INSPECTOR if inspector else _SELF
    for s in rows:
        score = s.inspector_score if inspector else s.self_score
        note = s.inspector_note if inspector else s.self_note
        entry = entries.setdefault(s.code, {"code": s.code, **_BLANK})
        entry.update(zip(columns, (_num(score), note, _num(s.measured)), strict=True))
    return {c.code: entries[c.code] for c in sheet.criteria() if c.code in entries}


def write_scores(
    tx: Tx,
    plan_id: int,
    round_: int,
    entries: Mapping[str, Mapping[str, Any]],
    inspector_id: int | None,
    at: datetime,
) -> None:
    """Store the round's sheet (created on its first score)."""
    tx.run(
        xs.UPSERT_INSPECTION_SCORES,
        {
            "plan_id": plan_id,
            "round": round_,
            "scores": _json(list(entries.values())),
            "inspector_id": inspector_id,
            "updated_at": tx.ts(at),
        },
    )


def write_outcome(
    tx: Tx,
    plan_id: int,
    round_: int,
    outcome: InspectionOutcome,
    due: date | None,
    inspector_id: int | None,
    at: datetime,
) -> None:
    """Close the round with its outcome, and give the plan its grade."""
    tx.run(
        xs.UPDATE_INSPECTION_OUTCOME,
        {
            "plan_id": plan_id,
            "round": round_,
            "outcome": _json(outcome_to_dict(outcome)),
            "grade": outcome.grade,
            "inspector_id": inspector_id,
            # SQLite keeps a DATE as ISO text, as SQLAlchemy writes it.
            "rectification_due": due.isoformat() if due and tx.dialect == "sqlite" else due,
            "updated_at": tx.ts(at),
        },
    )
    tx.run(xs.UPDATE_PLAN_GRADE, {"plan_id": plan_id, "grade": outcome.grade})
