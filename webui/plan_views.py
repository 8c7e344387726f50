"""Read-only presentation of one plan: the timeline, votes, the diff, names.

Everything here only reads, for display; it never decides anything. The
labels of states and actions come from the plan's own definition version
in the user's language. Lists of plans are in ``plan_lists``, the review
queue's rows in ``queue_views``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext  # type: ignore[import-untyped]

from planflow.app import Planflow
from planflow.core.content.diff import ContentDiff
from planflow.core.definitions.spec import WorkflowSpec
from planflow.errors import NotFound
from planflow.views import AuditEntry, PlanPage, PlanView

from .codes import record_text
from .i18n import action_label, format_due, state_label


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    at: datetime
    actor: str
    on_behalf_of: str | None
    action: str
    from_state: str
    to_state: str
    moved: bool
    comment: str | None


@dataclass(frozen=True)
class Approvals:
    names: list[str]
    required: int


def spec_of(pf: Planflow, plan: PlanView) -> WorkflowSpec:
    return pf.definition(plan.workflow, plan.workflow_version)


def latest_spec(pf: Planflow, name: str) -> WorkflowSpec | None:
    try:
        return pf.registry.get(name)
    except NotFound:
        return None


def timeline(pf: Planflow, plan: PlanView, spec: WorkflowSpec) -> list[TimelineEntry]:
    records = pf.audit_trail(plan.id)
    return timeline_entries(records, pf.display_names(people_of(records)), spec)


def people_of(records: Sequence[AuditEntry]) -> list[str | None]:
    """The usernames a timeline of ``records`` names (for one ``display_names``)."""
    return [r.actor for r in records] + [r.on_behalf_of for r in records]


def timeline_entries(
    records: Sequence[AuditEntry], names: Mapping[str, str], spec: WorkflowSpec
) -> list[TimelineEntry]:
    """``records`` as the timeline shows them; ``names``: display names of ``people_of`` them."""
    system = str(gettext("planflow (automatic)"))
    return [
        TimelineEntry(
            seq=r.seq,
            at=r.at,
            actor=names.get(r.actor, "?") if r.actor is not None else system,
            on_behalf_of=names.get(r.on_behalf_of) if r.on_behalf_of else None,
            action=action_label(spec, r.action),
            from_state=state_label(spec, r.from_state),
            to_state=state_label(spec, r.to_state),
            moved=r.from_state is not None and r.from_state != r.to_state,
            comment=record_text(r.comment, r.detail, spec),
        )
        for r in records
    ]


def last_decision(entries: list[TimelineEntry]) -> TimelineEntry | None:
    """The latest change of state that came with a comment (e.g. why it was returned)."""
    for entry in reversed(entries):
        if entry.moved:
            return entry if entry.comment else None
    return None


def approvals(page: PlanPage, spec: WorkflowSpec) -> Approvals | None:
    """Who approved so far in this round, for a state that needs n of m approvals."""
    quorum = next(
        (t.quorum for t in spec.transitions_from(page.plan.state) if t.quorum is not None), None
    )
    if quorum is None or page.approvals is None:
        return None
    return Approvals([page.names.get(v, "?") for v in page.approvals], quorum.required)


@dataclass(frozen=True)
class DiffRow:
    kind: str  # added | removed | changed | moved
    number: str
    text: str


def _value(field: str, value: object, year: int) -> str:
    if value is None or value == "":
        return "—"
    if field == "due":
        if isinstance(value, int):
            return format_due(value, year)
        if isinstance(value, str):
            try:
                return format_due(date.fromisoformat(value), year)
            except ValueError:
                return value
    if field == "target" and isinstance(value, dict):  # a change recorded before "targets"
        return _target_text(value)
    if field == "targets" and isinstance(value, list):
        return "; ".join(_target_text(t) for t in value if isinstance(t, dict)) or "—"
    return str(value)


def _target_text(value: dict[str, object]) -> str:
    parts = [value.get("metric"), value.get("op"), value.get("value"), value.get("unit")]
    return " ".join(str(p) for p in parts if p not in (None, ""))


def diff_rows(diff: ContentDiff, year: int) -> list[DiffRow]:
    """The item-by-item differences as lines a person reads."""
    labels = {
        "text": gettext("text"),
        "owner_unit": gettext("owning unit"),
        "due": gettext("due"),
        "target": gettext("target"),
        "targets": gettext("targets"),
    }
    rows = [DiffRow("added", a.number, a.text) for a in diff.added]
    rows += [DiffRow("removed", r.number, r.text) for r in diff.removed]
    for c in diff.changed:
        details = "; ".join(
            gettext(
                "%(field)s: %(old)s → %(new)s",
                field=labels.get(f.field, f.field),
                old=_value(f.field, f.old, year),
                new=_value(f.field, f.new, year),
            )
            for f in c.fields
        )
        rows.append(DiffRow("changed", c.number, details))
    rows += [
        DiffRow("moved", m.new_number, gettext("moved from %(old)s", old=m.old_number))
        for m in diff.moved
    ]
    return sorted(rows, key=lambda r: [int(p) if p.isdigit() else 0 for p in r.number.split(".")])
