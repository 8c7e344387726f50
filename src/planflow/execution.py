"""Carrying out an approved plan: progress reports and evidence files, item by item.

Once a plan is approved its unit reports, for each item, how far the work is
(``item_progress``, one row per item, overwritten by each report) and attaches
evidence files (``evidence`` rows; the bytes are kept by
``planflow.evidence_store``). Both are changes to the plan, so they go through
``PlanService.mutate``: the same version check and the same audit chain as a
transition; the audit trail is also the history of the overwritten reports.

Who: whoever may edit the plan's content (``planflow.plans.content_editors``:
the drafter and submitter at the plan's unit). When: in the plan's *work
states*, derived from the definition by ``work_states``.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select

from .changes import Change
from .content import PlanContent
from .definitions.spec import WorkflowSpec
from .errors import NotFound, PermissionDenied, ValidationError
from .evidence_store import CheckedFile, EvidenceStore
from .org import OrgSnapshot
from .plans import content_editors, editable_states
from .service import PlanService
from .storage import execution_sql as xs
from .storage import plan_store as ps
from .storage.tables import Evidence, ItemProgress
from .storage.tx import Tx, read_tx

STATUSES = ("not_started", "in_progress", "done", "blocked")
MAX_REPORT = 4000
#: The transition that records an inspection; work is done until it is judged.
INSPECT = "inspect"

progress_t = ItemProgress.__table__  # type: ignore[attr-defined]
evidence_t = Evidence.__table__  # type: ignore[attr-defined]


def _reachable(spec: WorkflowSpec, starts: Iterable[str], avoid: Iterable[str] = ()) -> set[str]:
    """States reachable from ``starts`` (included), never walking through ``avoid``."""
    blocked = set(avoid)
    graph: dict[str, set[str]] = {}
    for t in spec.transitions:
        for source in t.sources:
            graph.setdefault(source, set()).add(t.dest)
    seen = set(starts)
    queue = deque(seen)
    while queue:
        for nxt in graph.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                if nxt not in blocked:
                    queue.append(nxt)
    return seen


def committed_states(spec: WorkflowSpec) -> frozenset[str]:
    """Non-final states after a submission from which the plan can never be edited again.

    That is the point of no return of a review: for annual_plan, ``approved``
    and every state after it (``submitted`` and ``under_review`` can still
    lead back to ``returned``).
    """
    editable = editable_states(spec)
    after = _reachable(spec, {t.dest for t in spec.transitions if t.submission})
    finals = set(spec.final_states)
    return frozenset(s for s in after if s not in finals and not (_reachable(spec, {s}) & editable))


_WORK_STATES: dict[tuple[str, int, str], frozenset[str]] = {}


def work_states(spec: WorkflowSpec) -> frozenset[str]:
    """The committed states in which the inspection (``inspect``) is still ahead.

    The state ``inspect`` leads to is left out: while the inspector decides,
    what they judge must hold still. So are the states after acceptance, from
    which no inspection follows. For annual_plan: approved,
    inspection_scheduled, rectification_required. A definition without an
    ``inspect`` transition takes reports in all its committed states.
    """
    key = (spec.name, spec.version, spec.digest)
    cached = _WORK_STATES.get(key)
    if cached is not None:
        return cached
    committed = committed_states(spec)
    inspect = [t for t in spec.transitions if t.trigger == INSPECT]
    states = committed
    if inspect:
        sources = {s for t in inspect for s in t.sources}
        judged = {t.dest for t in inspect}
        states = frozenset(
            s
            for s in committed
            if s not in judged and _reachable(spec, {s}, avoid=judged) & sources
        )
    _WORK_STATES[key] = states
    return states


def check_unit_member(
    org: OrgSnapshot, spec: WorkflowSpec, actor_id: int, unit_id: int, action: str
) -> None:
    """Refuse unless the actor is one of the plan's own editors (drafter, submitter)."""
    refs = content_editors(spec)
    if any(actor_id in org.assignees(ref, unit_id) for ref in refs):
        return
    roles = " or ".join(dict.fromkeys(ref.role for ref in refs))
    raise PermissionDenied(action, roles, refs[0].at.describe())


def approved_items(tx: Tx, row: ps.PlanRow) -> set[str]:
    """Item keys of the content as last submitted (the approved one), else the working copy."""
    found = tx.one(xs.SELECT_REVISION_CONTENT, {"plan_id": row.id, "number": row.revision})
    body = str(found[0]) if found else ps.load_content(tx, row.id)
    content = PlanContent.from_dict(json.loads(body), year=row.year)
    return {item.key for _n, _s, item in content.numbered_items()}


class ExecutionService:
    def __init__(self, service: PlanService, store: EvidenceStore) -> None:
        self.service = service
        self.store = store

    def _check_work(
        self, row: ps.PlanRow, change: Change, actor_id: int, item_key: str, tx: Tx, action: str
    ) -> None:
        states = work_states(change.spec)
        if row.state not in states:
            allowed = ", ".join(sorted(states)) or "none"
            raise ValidationError(
                f"{action.replace('_', ' ')} is not possible while the plan is {row.state!r};"
                f" only in: {allowed}"
            )
        check_unit_member(change.org, change.spec, actor_id, row.unit_id, action)
        if item_key not in approved_items(tx, row):
            raise ValidationError(f"the plan has no item {item_key!r}")

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
    ) -> Change:
        if status not in STATUSES:
            raise ValidationError(f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
        text = report.strip()
        if len(text) > MAX_REPORT:
            raise ValidationError(f"a progress report can have at most {MAX_REPORT} characters")
        if measured is not None and (
            isinstance(measured, bool)
            or not isinstance(measured, int | float)
            or not math.isfinite(measured)
        ):
            raise ValidationError(f"the measured value must be a finite number, not {measured!r}")

        def write(tx: Tx, row: ps.PlanRow, change: Change) -> None:
            self._check_work(row, change, actor_id, item_key, tx, "report_progress")
            tx.run(
                xs.UPSERT_PROGRESS,
                {
                    "plan_id": plan_id,
                    "item_key": item_key,
                    "status": status,
                    "report": text,
                    "measured": None if measured is None else float(measured),
                    "updated_by": actor_id,
                    "updated_at": tx.ts(change.at),
                },
            )

        detail: dict[str, object] = {"item": item_key, "status": status}
        if measured is not None:
            detail["measured"] = float(measured)
        # The report goes in the audit comment: the row is overwritten, the trail keeps all.
        return self.service.mutate(
            plan_id,
            "report_progress",
            actor_id,
            write,
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
        written = False
        evidence_id = 0

        def write(tx: Tx, row: ps.PlanRow, change: Change) -> None:
            nonlocal written, evidence_id
            self._check_work(row, change, actor_id, item_key, tx, "attach_evidence")
            written = True
            self.store.write(plan_id, checked.sha256, data)
            evidence_id = tx.insert(
                xs.INSERT_EVIDENCE,
                self._evidence_params(plan_id, item_key, checked, actor_id, tx.ts(change.at)),
            )
            change.detail["evidence"] = evidence_id

        with self.store.locked():
            try:
                change = self.service.mutate(
                    plan_id,
                    "attach_evidence",
                    actor_id,
                    write,
                    expected_version=expected_version,
                    detail={
                        "item": item_key,
                        "file": checked.filename,
                        "sha256": checked.sha256,
                        "size": checked.size,
                    },
                )
            except BaseException as exc:
                if written:
                    self._discard_unreferenced(plan_id, checked.sha256, exc)
                raise
        return Evidence(
            id=evidence_id,
            plan_id=plan_id,
            item_key=item_key,
            filename=checked.filename,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            uploaded_by=actor_id,
            uploaded_at=change.at,
        )

    @staticmethod
    def _evidence_params(
        plan_id: int, item_key: str, checked: CheckedFile, actor_id: int, at: object
    ) -> dict[str, object]:
        return {
            "plan_id": plan_id,
            "item_key": item_key,
            "filename": checked.filename,
            "content_type": checked.content_type,
            "size": checked.size,
            "sha256": checked.sha256,
            "uploaded_by": actor_id,
            "uploaded_at": at,
        }

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
