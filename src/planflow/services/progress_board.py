"""The progress board of one plan: every approved item with its report and evidence.

A read model for the people who look at a plan's execution (the web page,
the command line): the approved content in sections, each item with its
latest progress report and its evidence files, the plan's version to pin a
change to, and whether a given person may report now and, if not, why. The
rules it applies are ``planflow.services.execution``'s (work states, the unit's own
editors); the library checks them again when a report is saved.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from planflow.core.content.attainment import TargetProgress, TargetTally, item_progress, tally
from planflow.core.content.items import MAX_TARGETS, Item
from planflow.core.org import OrgSnapshot
from planflow.errors import NotFound
from planflow.services.execution import (
    ExecutionService,
    approved_content,
    is_unit_editor,
    work_states,
)
from planflow.storage import plan_store as ps
from planflow.storage.tables import Evidence, ItemProgress
from planflow.storage.tx import read_tx
from planflow.views import EvidenceFile, ProgressReport


class Refusal(StrEnum):
    """Why someone may not report progress on a plan now."""

    STATE = "state"  # the plan is not in a work state
    ROLE = "role"  # they are not the plan's own drafter or submitter


@dataclass(frozen=True)
class BoardItem:
    number: str  # "2.3": section 2, item 3
    item: Item
    progress: ProgressReport | None
    evidence: tuple[EvidenceFile, ...]
    #: Each of the item's targets against the value the report records for it.
    targets: tuple[TargetProgress, ...] = ()


@dataclass(frozen=True)
class BoardSection:
    key: str
    title: str
    items: tuple[BoardItem, ...]


@dataclass(frozen=True)
class ProgressBoard:
    plan_id: int
    year: int
    state: str
    #: The plan's version when the board was read: a report pinned to it is
    #: refused if anything changed since (read before the rows it shows).
    version: int
    #: Whether the plan was ever submitted: before that there is no approved content.
    submitted: bool
    sections: tuple[BoardSection, ...]
    #: The states in which the plan's unit reports progress.
    work_states: tuple[str, ...]
    #: None when the person asked about may report now.
    refusal: Refusal | None

    @property
    def may_report(self) -> bool:
        return self.refusal is None

    def items(self) -> Iterator[BoardItem]:
        for section in self.sections:
            yield from section.items

    def item(self, key: str) -> BoardItem | None:
        return next((i for i in self.items() if i.item.key == key), None)

    def tally(self) -> TargetTally:
        """The plan's targets: how many are met, missed, and have no value yet."""
        return tally(t for i in self.items() for t in i.targets)


def progress_board(execution: ExecutionService, plan_id: int, actor_id: int) -> ProgressBoard:
    """The board of ``plan_id`` as ``actor_id`` sees it (NotFound for an unknown plan)."""
    service = execution.service
    with read_tx(service.db) as tx:
        row = ps.load_plan(tx, plan_id)
        if row is None:
            raise NotFound("plan", plan_id)
        content = approved_content(tx, row)
    spec = service.definitions.spec_for(service.db, row.workflow_name, row.workflow_version)
    org = service.org_cache.get(service.db, row.org_generation)
    states = work_states(spec)
    refusal = None
    if row.state not in states:
        refusal = Refusal.STATE
    elif not is_unit_editor(org, spec, actor_id, row.unit_id):
        refusal = Refusal.ROLE
    reports = {p.item_key: progress_report(p, org) for p in execution.progress(plan_id)}
    files: dict[str, list[EvidenceFile]] = {}
    for e in execution.evidence(plan_id):
        files.setdefault(e.item_key, []).append(evidence_file(e, org))
    sections = []
    for si, section in enumerate(content.sections, 1):
        items = []
        for ii, item in enumerate(section.items, 1):
            report = reports.get(item.key)
            evidence = tuple(files.get(item.key, ()))
            values = report.measured_values if report else (None,)
            targets = item_progress(item, values[0], values[1:])
            entry = BoardItem(f"{si}.{ii}", item, report, evidence, targets)
            items.append(entry)
        sections.append(BoardSection(section.key, section.title, tuple(items)))
    return ProgressBoard(
        plan_id=plan_id,
        year=row.year,
        state=row.state,
        version=row.version,
        submitted=row.revision > 0,
        sections=tuple(sections),
        work_states=tuple(sorted(states)),
        refusal=refusal,
    )


def progress_report(row: ItemProgress, org: OrgSnapshot) -> ProgressReport:
    """A stored report as the front door returns it (the reporter by username)."""
    return ProgressReport(
        row.item_key,
        row.status,
        row.report,
        row.measured,
        org.usernames.get(row.updated_by, "?"),
        row.updated_at,
        _more(row.measured_more),
    )


def _more(stored: str | None) -> tuple[float | None, ...]:
    """The stored values of an item's later targets (a JSON list; anything else: none)."""
    try:
        values = json.loads(stored) if stored else []
    except ValueError:
        return ()
    if not isinstance(values, list):
        return ()
    return tuple(
        float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
        for v in values[: MAX_TARGETS - 1]
    )


def evidence_file(row: Evidence, org: OrgSnapshot) -> EvidenceFile:
    """A stored evidence row as the front door returns it (the uploader by username)."""
    return EvidenceFile(
        row.id or 0,
        row.plan_id,
        row.item_key,
        row.filename,
        row.content_type,
        row.size,
        row.sha256,
        org.usernames.get(row.uploaded_by, "?"),
        row.uploaded_at,
    )
