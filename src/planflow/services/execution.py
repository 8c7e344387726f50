"""Carrying out an approved plan: progress reports and evidence files, item by item.

Once a plan is approved its unit reports, for each item, how far the work is
(``item_progress``, one row per item, overwritten by each report) and attaches
evidence files (``evidence`` rows; the bytes are kept by
``planflow.storage.evidence_files``). Both are changes to the plan, so they go through
``PlanService.mutate``: the same version check and the same audit chain as a
transition; the audit trail is also the history of the overwritten reports.
A report may carry a file: then the report and the file are kept together or
not at all (one transaction, one audit record).

Who: whoever may edit the plan's content (``planflow.services.content.content_editors``:
the drafter and submitter at the plan's unit). When: in the plan's *work
states*, derived from the definition by ``planflow.core.work_states``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from planflow.core.content.items import MAX_TARGETS
from planflow.core.content.model import PlanContent
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.intents import Addendum
from planflow.core.org import OrgSnapshot
from planflow.core.text import clean_text
from planflow.core.work_states import INSPECT as INSPECT
from planflow.core.work_states import committed_states as committed_states
from planflow.core.work_states import work_states as work_states
from planflow.errors import NotFound, PermissionDenied, ValidationError
from planflow.services.changes import Change, StepContext
from planflow.services.content import content_editors
from planflow.services.plans import PlanService
from planflow.storage import execution_sql as xs
from planflow.storage import plan_store as ps
from planflow.storage.evidence_files import CheckedFile, EvidenceStore
from planflow.storage.tables import Evidence, ItemProgress
from planflow.storage.tx import Tx, read_tx

STATUSES = ("not_started", "in_progress", "done", "blocked")
MAX_REPORT = 4000

progress_t = ItemProgress.__table__  # type: ignore[attr-defined]
evidence_t = Evidence.__table__  # type: ignore[attr-defined]


class WorkClosed(ValidationError):
    """Progress or evidence refused because of the plan's state; ``allowed`` are the work states."""

    code = "work_closed"

    def __init__(self, action: str, state: str, allowed: frozenset[str]) -> None:
        names = ", ".join(sorted(allowed)) or "none"
        super().__init__(
            f"{action.replace('_', ' ')} is not possible while the plan is {state!r};"
            f" only in: {names}",
            params={"action": action, "state": state, "allowed": sorted(allowed)},
        )
        self.state = state
        self.allowed = tuple(sorted(allowed))


@dataclass(frozen=True, slots=True)
class Upload:
    """A file as it arrived: the name and type its sender gave, and its bytes."""

    filename: str
    content_type: str
    data: bytes


def is_unit_editor(org: OrgSnapshot, spec: WorkflowSpec, actor_id: int, unit_id: int) -> bool:
    """Whether the actor is one of the plan's own editors (drafter, submitter)."""
    return any(actor_id in org.assignees(ref, unit_id) for ref in content_editors(spec))


def check_unit_member(
    org: OrgSnapshot, spec: WorkflowSpec, actor_id: int, unit_id: int, action: str
) -> None:
    """Refuse unless the actor is one of the plan's own editors (drafter, submitter)."""
    if is_unit_editor(org, spec, actor_id, unit_id):
        return
    refs = content_editors(spec)
    roles = " or ".join(dict.fromkeys(ref.role for ref in refs))
    raise PermissionDenied(action, roles, refs[0].at.describe())


def approved_content(tx: Tx, row: ps.PlanRow) -> PlanContent:
    """The content as last submitted (the approved one), else the working copy."""
    found = tx.one(xs.SELECT_REVISION_CONTENT, {"plan_id": row.id, "number": row.revision})
    body = str(found[0]) if found else ps.load_content(tx, row.id)
    return PlanContent.from_dict(json.loads(body), year=row.year)


def approved_items(tx: Tx, row: ps.PlanRow) -> set[str]:
    """Item keys of ``approved_content``."""
    return {item.key for _n, _s, item in approved_content(tx, row).numbered_items()}


def _number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


class _PendingFile:
    """An upload being kept inside a transaction; ``written`` once its bytes are on disk."""

    def __init__(self, store: EvidenceStore, plan_id: int, checked: CheckedFile, data: bytes):
        self.store, self.plan_id, self.checked, self.data = store, plan_id, checked, data
        self.written = False
        self.evidence_id = 0

    def keep(self, tx: Tx, item_key: str, actor_id: int, change: StepContext) -> Addendum:
        """Write the file and its row (after every check); the id goes in the audit detail."""
        self.written = True
        self.store.write(self.plan_id, self.checked.sha256, self.data)
        c = self.checked
        evidence_id = tx.insert(
            xs.INSERT_EVIDENCE,
            {
                "plan_id": self.plan_id,
                "item_key": item_key,
                "filename": c.filename,
                "content_type": c.content_type,
                "size": c.size,
                "sha256": c.sha256,
                "uploaded_by": actor_id,
                "uploaded_at": tx.ts(change.at),
            },
        )
        self.evidence_id = evidence_id
        return Addendum(
            {"file": c.filename, "sha256": c.sha256, "size": c.size, "evidence": evidence_id}
        )


class ExecutionService:
    def __init__(self, service: PlanService, store: EvidenceStore) -> None:
        self.service = service
        self.store = store

    def _check_work(
        self,
        row: ps.PlanRow,
        change: StepContext,
        actor_id: int,
        item_key: str,
        tx: Tx,
        action: str,
    ) -> None:
        states = work_states(change.spec)
        if row.state not in states:
            raise WorkClosed(action, row.state, states)
        check_unit_member(change.org, change.spec, actor_id, row.unit_id, action)
        if item_key not in approved_items(tx, row):
            raise ValidationError(
                f"the plan has no item {item_key!r}", code="unknown_item", params={"item": item_key}
            )

    # -- progress ---------------------------------------------------------------------

    def report_progress(
        self,
        plan_id: int,
        actor_id: int,
        item_key: str,
        status: str,
        report: str,
        measured: float | None = None,
        expected_version: int | None = None,
        *,
        evidence: Upload | None = None,
        more: Sequence[float | None] = (),
    ) -> Change:
        """Overwrite the item's report; with ``evidence``, keep the file in the same step.

        ``measured`` is the value for the item's first target, ``more`` those for its
        second and later targets, in order (None where none is given).

        A refused file (``EvidenceStore.check``) refuses the whole report, so
        what was typed is neither half saved nor lost to the caller.
        """
        if status not in STATUSES:
            raise ValidationError(
                f"unknown status {status!r}; use one of: {', '.join(STATUSES)}",
                code="unknown_status",
                params={"status": status, "allowed": list(STATUSES)},
            )
        text = clean_text(
            report, field="the progress report", max_length=MAX_REPORT, multiline=True
        )
        values = [measured, *more]
        if len(values) > MAX_TARGETS or any(v is not None and not _number(v) for v in values):
            bad = next((v for v in values if v is not None and not _number(v)), None)
            raise ValidationError(
                f"the measured value must be a finite number, not {bad!r}",
                code="measured_not_number",
            )
        later = [None if v is None else float(v) for v in more]
        while later and later[-1] is None:
            later.pop()
        pending = None
        if evidence is not None:
            checked = self.store.check(evidence.filename, evidence.content_type, evidence.data)
            pending = _PendingFile(self.store, plan_id, checked, evidence.data)

        def write(tx: Tx, row: ps.PlanRow, change: StepContext) -> Addendum | None:
            self._check_work(row, change, actor_id, item_key, tx, "report_progress")
            tx.run(
                xs.UPSERT_PROGRESS,
                {
                    "plan_id": plan_id,
                    "item_key": item_key,
                    "status": status,
                    "report": text,
                    "measured": None if measured is None else float(measured),
                    "measured_more": json.dumps(later) if later else None,
                    "updated_by": actor_id,
                    "updated_at": tx.ts(change.at),
                },
            )
            return None if pending is None else pending.keep(tx, item_key, actor_id, change)

        detail: dict[str, object] = {"item": item_key, "status": status}
        if measured is not None:
            detail["measured"] = float(measured)
        if later:
            detail["measured_more"] = later
        with self._keeping(pending):
            # The report goes in the audit comment: the row is overwritten, the trail keeps all.
            return self.service.mutate(
                plan_id,
                "report_progress",
                actor_id,
                check=write,
                expected_version=expected_version,
                comment=text or None,
                detail=detail,
            )

    def progress(self, plan_id: int) -> list[ItemProgress]:
        self._require_plan(plan_id)
        with self.service.db.read() as conn:
            rows = conn.execute(
                select(progress_t)
                .where(progress_t.c.plan_id == plan_id)
                .order_by(progress_t.c.item_key)
            )
            return [ItemProgress.model_validate(dict(r._mapping)) for r in rows]

    # -- evidence ---------------------------------------------------------------------

    def attach_evidence(
        self,
        plan_id: int,
        actor_id: int,
        item_key: str,
        filename: str,
        content_type: str,
        data: bytes,
        expected_version: int | None = None,
    ) -> Evidence:
        """Keep ``data`` as evidence for an item; the file and its row exist both or neither.

        The file is written inside the plan's transaction, after every check,
        and under the store's lock, so a refused or failed upload leaves no
        file behind unless a committed row (of the same bytes) still needs it.
        """
        checked = self.store.check(filename, content_type, data)
        pending = _PendingFile(self.store, plan_id, checked, data)

        def write(tx: Tx, row: ps.PlanRow, change: StepContext) -> Addendum:
            self._check_work(row, change, actor_id, item_key, tx, "attach_evidence")
            return pending.keep(tx, item_key, actor_id, change)

        with self._keeping(pending):
            change = self.service.mutate(
                plan_id,
                "attach_evidence",
                actor_id,
                check=write,
                expected_version=expected_version,
                detail={"item": item_key},
            )
        return Evidence(
            id=pending.evidence_id,
            plan_id=plan_id,
            item_key=item_key,
            filename=checked.filename,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=actor_id,
            uploaded_at=change.at,
        )

    @contextmanager
    def _keeping(self, pending: _PendingFile | None) -> Iterator[None]:
        """Run a mutation that may keep ``pending`` under the store's lock; clean up if it fails.

        Without the lock one upload could remove a file that a concurrent
        upload of the same bytes is about to commit a row for.
        """
        if pending is None:
            yield
            return
        with self.store.locked():
            try:
                yield
            except BaseException as exc:
                if pending.written:
                    self._discard_unreferenced(pending.plan_id, pending.checked.sha256, exc)
                raise

    def _discard_unreferenced(self, plan_id: int, sha256: str, exc: BaseException) -> None:
        """After a failed upload: remove its file unless a committed row refers to it."""
        try:
            with read_tx(self.service.db) as tx:
                found = tx.one(xs.COUNT_EVIDENCE_BY_SHA, {"plan_id": plan_id, "sha256": sha256})
            if not found or int(found[0]) == 0:
                self.store.remove(plan_id, sha256)
        except Exception as cleanup:  # never hide why the upload failed
            exc.add_note(f"evidence file {sha256} may be left behind: {cleanup}")

    def evidence(self, plan_id: int) -> list[Evidence]:
        self._require_plan(plan_id)
        with self.service.db.read() as conn:
            rows = conn.execute(
                select(evidence_t).where(evidence_t.c.plan_id == plan_id).order_by(evidence_t.c.id)
            )
            return [Evidence.model_validate(dict(r._mapping)) for r in rows]

    def open_evidence(self, plan_id: int, evidence_id: int) -> tuple[Evidence, Path]:
        """The evidence row and the path of its bytes (NotFound if either is missing)."""
        with self.service.db.read() as conn:
            found = conn.execute(
                select(evidence_t).where(
                    evidence_t.c.id == evidence_id, evidence_t.c.plan_id == plan_id
                )
            ).first()
        if found is None:
            raise NotFound("evidence", f"{plan_id}/{evidence_id}")
        row = Evidence.model_validate(dict(found._mapping))
        path = self.store.path_for(plan_id, row.sha256)
        if not path.is_file():
            raise NotFound("evidence file", str(path))
        return row, path

    def _require_plan(self, plan_id: int) -> None:
        with read_tx(self.service.db) as tx:
            if ps.current_version(tx, plan_id) is None:
                raise NotFound("plan", plan_id)
