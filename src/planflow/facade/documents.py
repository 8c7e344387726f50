"""``Planflow.documents``: a plan and its inspection result as Word files to download.

Whoever may see a plan may have it as a document: each call loads the plan
as ``as_user`` (``NotFound`` for a plan they may not see, as everywhere).
The facade gathers what the document shows in the reader's language (state
and action labels from the plan's own definition version, people by display
name, grades and criteria from the sheet, rectification reasons from
``core.notes``) and hands it to the writers in
``planflow.integrations.documents``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from planflow.core import notes
from planflow.core.content.attainment import item_progress, tally
from planflow.core.definitions.spec import ScoringSheet, WorkflowSpec
from planflow.core.inspection.scoring import CriterionScore, InspectionOutcome, grade_label
from planflow.errors import ValidationError
from planflow.integrations.documents.inspection_writing import (
    CategoryScores,
    InspectionDocument,
    ScoreRow,
    inspection_docx,
)
from planflow.integrations.documents.plan_writing import PlanDocument, RecordLine, plan_docx
from planflow.integrations.documents.texts import target, words
from planflow.views import InspectionRoundView, PlanView

if TYPE_CHECKING:
    from planflow.app import Planflow

__all__ = ["DocumentsAPI"]


def _state(spec: WorkflowSpec, state: str, lang: str) -> str:
    try:
        return spec.state(state).label.get(lang)
    except KeyError:
        return state


def _n(value: float | None) -> str:
    return "" if value is None else notes.number(value)


class DocumentsAPI:
    def __init__(self, pf: Planflow) -> None:
        self.pf = pf

    def plan_docx(self, plan_id: int, *, as_user: str, language: str = "en") -> bytes:
        """The plan as a .docx: its outline and its approval record, in ``language``."""
        pf = self.pf
        plan = pf.plan(plan_id, as_user=as_user)
        spec = pf.definition(plan.workflow, plan.workflow_version)
        content = pf.content.content(plan_id)
        trail = pf.audit_trail(plan_id, as_user=as_user)
        # The record is the plan's decisions: the entries a transition of its workflow made.
        decisions = [e for e in trail if spec.transition_named(e.action) is not None]
        names = pf.display_names([e.actor for e in decisions])
        system = words(language)["system"]
        record = []
        for entry in decisions:
            transition = spec.transition_named(entry.action)
            assert transition is not None
            record.append(
                RecordLine(
                    when=entry.at.strftime("%Y-%m-%d %H:%M UTC"),
                    who=names.get(entry.actor, entry.actor) if entry.actor else system,
                    action=transition.label.get(language),
                    state=_state(spec, entry.to_state, language),
                    comment=entry.comment or "",
                )
            )
        org = pf.org_snapshot()
        owners = {}
        for _number, _section, item in content.numbered_items():
            code = item.owner_unit
            if code and code in org.unit_ids:
                owners[code] = f"{org.unit(org.unit_ids[code]).name} ({code})"
        return plan_docx(
            PlanDocument(
                title=plan.title,
                unit=plan.unit.name,
                year=plan.year,
                state=_state(spec, plan.state, language),
                content=content,
                record=record,
                language=language,
                written_on=pf.clock.now().date(),
                owners=owners,
            )
        )

    def inspection_docx(self, plan_id: int, *, as_user: str, language: str = "en") -> bytes:
        """The plan's latest inspection round as a .docx: the sheet, outcome, rectification."""
        pf = self.pf
        plan = pf.plan(plan_id, as_user=as_user)
        spec = pf.definition(plan.workflow, plan.workflow_version)
        sheet = spec.inspection
        rounds = pf.inspections.rounds(plan_id) if sheet is not None else []
        found = rounds[-1] if rounds else None
        outcome = found.outcome if found is not None else None
        finished = outcome is not None
        if sheet is not None and found is not None and outcome is None:
            outcome = pf.inspections.outcome(plan_id, pf.clock.now().date())
        return inspection_docx(self._inspection(plan, sheet, found, outcome, finished, language))

    def _inspection(
        self,
        plan: PlanView,
        sheet: ScoringSheet | None,
        found: InspectionRoundView | None,
        outcome: InspectionOutcome | None,
        finished: bool,
        lang: str,
    ) -> InspectionDocument:
        w = words(lang)
        saved = {s.code: s for s in found.scores} if found is not None else {}
        totals = {t.code: t for t in outcome.categories} if outcome is not None else {}
        categories = []
        for cat in sheet.categories if sheet is not None else ():
            rows = []
            for cr in cat.criteria:
                own = saved.get(cr.code, CriterionScore(cr.code))
                self_score = own.self_score
                rows.append(
                    ScoreRow(
                        cr.text.get(lang),
                        _n(cr.points),
                        _n(self_score),
                        _n(own.inspector_score),
                        own.inspector_note,
                    )
                )
            t = totals.get(cat.code)
            total = ScoreRow(
                w["sheet.total"],
                _n(cat.max_score),
                _n(t.self_total if t else None),
                _n(t.inspector_total if t else None),
                "",
            )
            categories.append(CategoryScores(cat.title.get(lang), rows, total))
        inspector = ""
        if found is not None and found.inspector:
            inspector = pf_name(self.pf, found.inspector)
        grade = ""
        if outcome is not None and sheet is not None:
            try:
                grade = grade_label(sheet, outcome.grade, lang)
            except ValidationError:  # a grade this sheet version does not have
                grade = outcome.grade
        due = outcome.rectification_due if outcome is not None else None
        return InspectionDocument(
            title=plan.title,
            unit=plan.unit.name,
            year=plan.year,
            round=found.round if found is not None else None,
            inspector=inspector,
            categories=categories,
            total=ScoreRow(
                w["sheet.total"],
                _n(outcome.max_total if outcome else None),
                _n(outcome.self_total if outcome else None),
                _n(outcome.inspector_total if outcome else None),
                "",
            ),
            grade=grade,
            passed=outcome.passed if outcome is not None else None,
            finished=finished,
            rectification=self._points(sheet, outcome, saved, lang),
            rectification_due=notes.format_day(due.isoformat(), lang) if due else "",
            language=lang,
            written_on=self.pf.clock.now().date(),
            **self._targets(plan.id, lang),
        )

    def _targets(self, plan_id: int, lang: str) -> dict[str, Any]:
        """The plan's targets and how far each is met (``core.content.attainment``)."""
        w = words(lang)
        measured = {p.item_key: p.measured_values for p in self.pf.execution.progress(plan_id)}
        rows, found = [], []
        for number, _section, item in self.pf.content.content(plan_id).numbered_items():
            values = measured.get(item.key, (None,))
            for t in item_progress(item, values[0], values[1:]):
                found.append(t)
                shown, state = "", w["targets.none"]
                if t.measured is not None:
                    shown = f"{t.measured:g}"
                    if t.percent is not None:
                        shown += f" ({w['targets.share'].format(percent=t.percent)})"
                    state = w["targets.met" if t.met else "targets.missed"]
                rows.append((number, target(lang, t.target.wording()), shown, state))
        counted = tally(found)
        line = w["targets.tally"].format(met=counted.met, total=counted.total)
        return {"targets": rows, "targets_tally": line}

    @staticmethod
    def _points(
        sheet: ScoringSheet | None,
        outcome: InspectionOutcome | None,
        saved: dict[str, CriterionScore],
        lang: str,
    ) -> list[tuple[str, str]]:
        if outcome is None or sheet is None:
            return []
        criteria = {cr.code: cr for cr in sheet.criteria()}
        labels = notes.NoteLabels(metric=lambda m: sheet.metric_label(m, lang))
        found = []
        for point in outcome.rectification:
            cr = criteria.get(point.code)
            reasons = [
                notes.reason(str(r.get("code")), r.get("params") or {}, lang, labels)
                for r in point.reasons
            ] or [point.reason]
            note = saved.get(point.code, CriterionScore(point.code)).inspector_note
            if note:
                reasons.append(note)
            found.append((cr.text.get(lang) if cr else point.code, "; ".join(reasons)))
        return found


def pf_name(pf: Planflow, username: str) -> str:
    return pf.display_names([username]).get(username, username)
