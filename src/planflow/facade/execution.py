"""``Planflow.execution``: carrying out an approved plan, item by item.

Progress reports and evidence files go through ``services.execution`` (the
audited path; the rules of who and when are there). Changes return the
plan's new version, or the kept file; reads return views.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from planflow.facade.names import Names
from planflow.services.execution import ExecutionService, Upload
from planflow.services.progress_board import (
    ProgressBoard,
    evidence_file,
    progress_board,
    progress_report,
)
from planflow.storage.evidence_files import EvidenceStore
from planflow.views import EvidenceFile, ProgressReport


class ExecutionAPI:
    def __init__(self, service: ExecutionService, names: Names) -> None:
        self.service = service
        self.names = names

    @property
    def store(self) -> EvidenceStore:
        """Where evidence files are kept, and their limits (``max_bytes``, the kinds)."""
        return self.service.store

    @store.setter
    def store(self, store: EvidenceStore) -> None:
        self.service.store = store

    def report_progress(
        self,
        plan_id: int,
        item_key: str,
        status: str,
        report: str,
        *,
        actor: str,
        measured: float | None = None,
        expected_version: int | None = None,
        evidence: Upload | None = None,
        more: Sequence[float | None] = (),
    ) -> int:
        """Overwrite the item's report (with ``evidence``, keep the file in the same
        step); ``measured`` is the first target's value, ``more`` the later targets'.
        Returns the plan's new version."""
        change = self.service.report_progress(
            plan_id,
            self.names.user_id(actor),
            item_key,
            status,
            report,
            measured,
            expected_version,
            evidence=evidence,
            more=more,
        )
        return change.new_version

    def attach_evidence(
        self,
        plan_id: int,
        item_key: str,
        filename: str,
        content_type: str,
        data: bytes,
        *,
        actor: str,
        expected_version: int | None = None,
    ) -> EvidenceFile:
        row = self.service.attach_evidence(
            plan_id,
            self.names.user_id(actor),
            item_key,
            filename,
            content_type,
            data,
            expected_version,
        )
        return evidence_file(row, self.names.org())

    def progress(self, plan_id: int) -> list[ProgressReport]:
        rows = self.service.progress(plan_id)
        org = self.names.knowing(r.updated_by for r in rows)
        return [progress_report(r, org) for r in rows]

    def evidence(self, plan_id: int) -> list[EvidenceFile]:
        rows = self.service.evidence(plan_id)
        org = self.names.knowing(r.uploaded_by for r in rows)
        return [evidence_file(r, org) for r in rows]

    def open_evidence(self, plan_id: int, evidence_id: int) -> tuple[EvidenceFile, Path]:
        """The evidence file's view and the path of its bytes (NotFound if either is missing)."""
        row, path = self.service.open_evidence(plan_id, evidence_id)
        return evidence_file(row, self.names.knowing([row.uploaded_by])), path

    def board(self, plan_id: int, username: str) -> ProgressBoard:
        """Every approved item with its report and evidence, and whether ``username``
        may report now (and if not, why)."""
        return progress_board(self.service, plan_id, self.names.user_id(username))
