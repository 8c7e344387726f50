"""Carrying out a plan: progress reports and evidence files (``planflow.services.execution``).

Every test that touches a database runs on SQLite and PostgreSQL (``pf``/``org``).
Covered: the work states derived from the definitions; progress allowed and
refused by state, role, item and input (report text through ``clean_text``),
always on the audited path; evidence accepted, stored content-addressed
outside the database, refused for size, kind, declared type, magic bytes and
unsafe names (each refusal naming its rule) with no file and no row left
behind; a report and its file kept together or not at all; a failed
transaction removing the file it wrote (unless a committed row needs it); the
evidence store's settings and served types; the read models of the unit's
pages (``progress_board``, ``self_assessment``); and the CLI.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CliRun
from inspection_support import fire
from stored import stored_plan

from planflow.app import Planflow
from planflow.core.content.model import PlanContent
from planflow.core.definitions import load_definition
from planflow.core.inspection.scoring import CriterionScore
from planflow.core.text import TextError
from planflow.core.work_states import self_assessment_states
from planflow.errors import NotFound, PermissionDenied, StaleVersion, ValidationError
from planflow.services.changes import DEFAULT_WRITERS, Change
from planflow.services.execution import Upload, WorkClosed, committed_states, work_states
from planflow.services.inspections.self_assessment import Refusal as SelfRefusal
from planflow.services.inspections.self_assessment import self_assessment
from planflow.services.progress_board import Refusal, progress_board
from planflow.storage import audit_repo
from planflow.storage.evidence_files import (
    DEFAULT_MAX_BYTES,
    KINDS,
    EvidenceRefused,
    EvidenceStore,
    safe_content_type,
    sanitize_filename,
)
from planflow.storage.tx import Tx

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
CONTENT = {
    "sections": [
        {
            "key": "s1",
            "title": "Members",
            "items": [
                {"key": "i1", "text": "Hold the workers' congress", "due": 4},
                {
                    "key": "i2",
                    "text": "Collect dues",
                    "due": 12,
                    "target": {"metric": "dues", "op": ">=", "value": 100, "unit": "%"},
                },
            ],
        }
    ]
}
TO_STATE: list[tuple[str, str, str | None]] = [
    ("submit", "chair_a", None),
    ("start_review", "reviewer", None),
    ("approve", "reviewer", None),
    ("schedule_inspection", "officer", None),
    ("inspect", "inspector", None),
]
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17


def drive(pf: Planflow, to: str) -> int:
    """A branch_a plan with items i1, i2, moved along the happy path to state ``to``."""
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Plan A", actor="drafter_a")
    pf.content.set_content(
        plan_id,
        PlanContent.from_dict(CONTENT, year=2027),
        actor="drafter_a",
        expected_version=None,
    )
    extra = {
        "rectification_required": [("require_rectification", "inspector", "fix it")],
        "accepted": [("accept", "inspector", None)],
    }
    for action, actor, comment in [*TO_STATE, *extra.get(to, [])]:
        if stored_plan(pf, plan_id).state == to:
            break
        fire(pf, plan_id, action, actor, comment)
    assert stored_plan(pf, plan_id).state == to
    return plan_id


def files_under(root: Path) -> list[Path]:
    """Every file of the store but its lock file."""
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != ".lock")


def footprint(pf: Planflow, plan_id: int) -> tuple[object, ...]:
    plan = stored_plan(pf, plan_id)
    return (
        plan.version,
        plan.audit_seq,
        plan.audit_hash,
        len(pf.execution.progress(plan_id)),
        len(pf.execution.evidence(plan_id)),
    )


def docx_bytes(folder: str = "word/") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr(folder + "document.xml", "<doc/>")
    return buf.getvalue()


def odf_bytes(mimetype: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", "<office:document-content/>")
    return buf.getvalue()


@pytest.fixture(autouse=True)
def evidence_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Evidence of this test's Planflow goes to a fresh folder (set before ``pf`` exists)."""
    folder = tmp_path / "evidence"
    monkeypatch.setenv("PLANFLOW_EVIDENCE_DIR", str(folder))
    monkeypatch.delenv("PLANFLOW_EVIDENCE_MAX_BYTES", raising=False)
    return folder


# -- when work may be reported ----------------------------------------------------------


def test_work_states_are_derived_from_the_definitions() -> None:
    annual = load_definition(WORKFLOWS / "annual_plan.yaml")
    committee = load_definition(WORKFLOWS / "committee_plan.yaml")
    expected = {"approved", "inspection_scheduled", "rectification_required"}
    assert work_states(annual) == expected
    assert work_states(committee) == expected
    assert committed_states(annual) == expected | {"inspected", "accepted"}


def test_self_assessment_states_are_derived_from_the_definitions() -> None:
    # Before the first inspection and while one awaits; not when a plan is rectified.
    for name in ("annual_plan", "committee_plan"):
        spec = load_definition(WORKFLOWS / f"{name}.yaml")
        assert self_assessment_states(spec) == ("approved", "inspection_scheduled")


def test_pf_uses_the_configured_evidence_folder(pf: Planflow, evidence_dir: Path) -> None:
    assert pf.execution.store.root == evidence_dir.resolve()
    assert pf.execution.store.max_bytes == DEFAULT_MAX_BYTES == 10 * 1024 * 1024


# -- progress -----------------------------------------------------------------------------


def test_progress_is_reported_overwritten_and_audited(pf: Planflow, org: object) -> None:
    plan_id = drive(pf, "approved")
    before = stored_plan(pf, plan_id)
    change = pf.execution.report_progress(
        plan_id,
        "i1",
        "in_progress",
        "  Venue booked  ",
        actor="drafter_a",
    )
    assert change == before.version + 1  # the plan's new version
    pf.execution.report_progress(
        plan_id,
        "i1",
        "done",
        "Congress held on 12 April",
        actor="chair_a",
        measured=1,
        expected_version=before.version + 1,
    )
    pf.execution.report_progress(plan_id, "i2", "blocked", "", actor="chair_a")

    rows = pf.execution.progress(plan_id)
    assert [(r.item_key, r.status, r.report, r.measured) for r in rows] == [
        ("i1", "done", "Congress held on 12 April", 1.0),
        ("i2", "blocked", "", None),
    ]
    assert rows[0].updated_by == "chair_a"
    trail = pf.audit_trail(plan_id)[-3:]
    assert [r.action for r in trail] == ["report_progress"] * 3
    assert [dict(r.detail) for r in trail] == [
        {"item": "i1", "status": "in_progress"},
        {"item": "i1", "status": "done", "measured": 1.0},
        {"item": "i2", "status": "blocked"},
    ]
    # The row is overwritten; the trail keeps every report.
    assert [r.comment for r in trail] == ["Venue booked", "Congress held on 12 April", None]
    assert all(r.from_state == r.to_state == "approved" for r in trail)
    assert stored_plan(pf, plan_id).state == "approved"
    assert audit_repo.verify(pf.db).ok


@pytest.mark.parametrize("state", ["inspection_scheduled", "rectification_required"])
def test_progress_is_allowed_while_work_goes_on(pf: Planflow, org: object, state: str) -> None:
    plan_id = drive(pf, state)
    pf.execution.report_progress(
        plan_id, "i2", "done", "All dues in", actor="chair_a", measured=100
    )
    assert [(r.item_key, r.measured) for r in pf.execution.progress(plan_id)] == [("i2", 100.0)]


@pytest.mark.parametrize("state", ["draft", "submitted", "under_review", "inspected", "accepted"])
def test_progress_is_refused_outside_the_work_states(pf: Planflow, org: object, state: str) -> None:
    plan_id = drive(pf, state)
    before = footprint(pf, plan_id)
    with pytest.raises(ValidationError, match=f"while the plan is '{state}'") as info:
        pf.execution.report_progress(plan_id, "i1", "done", "x", actor="drafter_a")
    assert "approved, inspection_scheduled, rectification_required" in str(info.value)
    assert footprint(pf, plan_id) == before


@pytest.mark.parametrize("user", ["reviewer", "inspector", "officer"])
def test_progress_is_refused_to_anyone_but_the_units_drafter_and_submitter(
    pf: Planflow, org: object, user: str
) -> None:
    plan_id = drive(pf, "approved")
    before = footprint(pf, plan_id)
    with pytest.raises(PermissionDenied, match="drafter or submitter") as info:
        pf.execution.report_progress(plan_id, "i1", "done", "x", actor=user)
    assert info.value.action == "report_progress"
    assert footprint(pf, plan_id) == before


@pytest.mark.parametrize("user", ["drafter_b", "chair_b"])
def test_progress_by_another_branch_answers_as_for_a_missing_plan(
    pf: Planflow, org: object, user: str
) -> None:
    plan_id = drive(pf, "approved")
    before = footprint(pf, plan_id)
    with pytest.raises(NotFound, match=f"unknown plan: {plan_id}"):
        pf.execution.report_progress(plan_id, "i1", "done", "x", actor=user)
    assert footprint(pf, plan_id) == before


@pytest.mark.parametrize(
    ("item", "status", "report", "measured", "message"),
    [
        ("nope", "done", "x", None, "no item 'nope'"),
        ("i1", "finished", "x", None, "unknown status 'finished'"),
        ("i1", "done", "x" * 4001, None, "at most 4000 characters"),
        ("i1", "done", "x", float("nan"), "finite number"),
        ("i1", "done", "x", float("inf"), "finite number"),
        ("i1", "done", "x", True, "finite number"),
        ("i1", "done", "x", "5", "finite number"),
    ],
)
def test_progress_input_is_validated_and_nothing_is_written(
    pf: Planflow,
    org: object,
    item: str,
    status: str,
    report: str,
    measured: object,
    message: str,
) -> None:
    plan_id = drive(pf, "approved")
    before = footprint(pf, plan_id)
    with pytest.raises(ValidationError, match=message):
        pf.execution.report_progress(
            plan_id,
            item,
            status,
            report,
            actor="drafter_a",
            measured=measured,  # type: ignore[arg-type]
        )
    assert footprint(pf, plan_id) == before


def test_progress_with_a_stale_version_or_on_an_unknown_plan(pf: Planflow, org: object) -> None:
    plan_id = drive(pf, "approved")
    version = stored_plan(pf, plan_id).version
    before = footprint(pf, plan_id)
    with pytest.raises(StaleVersion):
        pf.execution.report_progress(
            plan_id,
            "i1",
            "done",
            "x",
            actor="drafter_a",
            expected_version=version - 1,
        )
    assert footprint(pf, plan_id) == before
    with pytest.raises(NotFound):
        pf.execution.report_progress(999, "i1", "done", "x", actor="drafter_a")
    with pytest.raises(NotFound):
        pf.execution.progress(999)


# -- evidence ------------------------------------------------------------------------------


def test_evidence_is_stored_by_digest_outside_the_database(
    pf: Planflow, org: object, evidence_dir: Path
) -> None:
    plan_id = drive(pf, "approved")
    row = pf.execution.attach_evidence(
        plan_id,
        "i1",
        "minutes.pdf",
        "application/pdf",
        PDF,
        actor="drafter_a",
    )
    again = pf.execution.attach_evidence(
        plan_id,
        "i2",
        "copy.PDF",
        "Application/PDF; charset=binary",
        PDF,
        actor="chair_a",
    )
    assert row.id is not None and again.id == row.id + 1
    assert row.sha256 == again.sha256 and len(row.sha256) == 64
    path = evidence_dir.resolve() / str(plan_id) / row.sha256
    assert files_under(evidence_dir) == [path]  # the same bytes are kept once
    assert path.read_bytes() == PDF

    listed = pf.execution.evidence(plan_id)
    assert [(e.item_key, e.filename, e.content_type, e.size) for e in listed] == [
        ("i1", "minutes.pdf", "application/pdf", len(PDF)),
        ("i2", "copy.PDF", "application/pdf", len(PDF)),
    ]
    opened, opened_path = pf.execution.open_evidence(plan_id, row.id)
    assert (opened.filename, opened_path) == ("minutes.pdf", path)
    trail = pf.audit_trail(plan_id)[-2:]
    assert [r.action for r in trail] == ["attach_evidence"] * 2
    assert dict(trail[0].detail) == {
        "item": "i1",
        "file": "minutes.pdf",
        "sha256": row.sha256,
        "size": len(PDF),
        "evidence": row.id,
    }
    assert audit_repo.verify(pf.db).ok

    with pytest.raises(NotFound):
        pf.execution.open_evidence(plan_id, row.id + 100)
    other = drive(pf, "approved")
    with pytest.raises(NotFound):
        pf.execution.open_evidence(other, row.id)  # another plan's evidence
    path.unlink()
    with pytest.raises(NotFound, match="evidence file"):
        pf.execution.open_evidence(plan_id, row.id)


@pytest.mark.parametrize(
    ("filename", "content_type", "data"),
    [
        ("photo.png", "image/png", PNG),
        ("photo.jpeg", "image/jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 20),
        ("anim.gif", "image/gif", b"GIF89a" + b"\x00" * 20),
        ("pic.webp", "image/webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8),
        ("notes.txt", "text/plain; charset=utf-8", "会议纪要\n第一项\tok\r\n".encode()),
        ("dues.csv", "text/csv", "月份,会费\n1,100%\n".encode("gb18030")),
        (
            "report.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            docx_bytes("word/"),
        ),
        (
            "sheet.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            docx_bytes("xl/"),
        ),
        (
            "deck.pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            docx_bytes("ppt/"),
        ),
        (
            "text.odt",
            "application/vnd.oasis.opendocument.text",
            odf_bytes("application/vnd.oasis.opendocument.text"),
        ),
        (
            "calc.ods",
            "application/vnd.oasis.opendocument.spreadsheet",
            odf_bytes("application/vnd.oasis.opendocument.spreadsheet"),
        ),
    ],
)
def test_every_allowed_kind_is_accepted(
    pf: Planflow, org: object, filename: str, content_type: str, data: bytes
) -> None:
    plan_id = drive(pf, "inspection_scheduled")
    row = pf.execution.attach_evidence(
        plan_id,
        "i1",
        filename,
        content_type,
        data,
        actor="chair_a",
    )
    _row, path = pf.execution.open_evidence(plan_id, row.id or 0)
    assert path.read_bytes() == data


@pytest.mark.parametrize(
    ("filename", "content_type", "data", "message"),
    [
        (
            "big.pdf",
            "application/pdf",
            PDF + b"x" * 2000,
            "evidence files may be at most 1000 bytes",
        ),
        ("empty.pdf", "application/pdf", b"", "is empty"),
        ("setup.exe", "application/octet-stream", b"MZ\x90\x00", "not an allowed kind"),
        ("noext", "application/pdf", PDF, "not an allowed kind"),
        ("photo.pdf", "application/pdf", PNG, "named as a pdf file, but its content is a png"),
        ("minutes.pdf", "image/png", PDF, "declared as 'image/png'"),
        ("minutes.pdf", "", PDF, "declared as 'no type'"),
        ("notes.txt", "text/plain", b"text\x00\x01\x02binary", "its content is not one"),
        (
            "fake.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            docx_bytes("xl/"),
            "named as a docx file, but its content is a xlsx",
        ),
        (
            "fake.odt",
            "application/vnd.oasis.opendocument.text",
            odf_bytes("application/vnd.oasis.opendocument.spreadsheet"),
            "content is a ods",
        ),
        (
            "broken.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            b"PK\x03\x04 not really a zip",
            "its content is not one",
        ),
        ("../../etc/passwd.pdf", "application/pdf", PDF, "contains path parts"),
        ("..\\..\\boot.pdf", "application/pdf", PDF, "contains path parts"),
        ("/tmp/x.pdf", "application/pdf", PDF, "contains path parts"),
        ("C:evil.pdf", "application/pdf", PDF, "contains path parts"),
        ("..", "application/pdf", PDF, "needs a name"),
        ("bad\nname.pdf", "application/pdf", PDF, "control characters"),
        ("report\u202efdp.exe", "application/pdf", PDF, "control characters"),
    ],
)
def test_bad_evidence_is_refused_leaving_no_file_and_no_row(
    pf: Planflow,
    org: object,
    evidence_dir: Path,
    filename: str,
    content_type: str,
    data: bytes,
    message: str,
) -> None:
    plan_id = drive(pf, "approved")
    pf.execution.store.max_bytes = 1000
    before = footprint(pf, plan_id)
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        pf.execution.attach_evidence(
            plan_id,
            "i1",
            filename,
            content_type,
            data,
            actor="drafter_a",
        )
    assert files_under(evidence_dir) == []
    assert footprint(pf, plan_id) == before


@pytest.mark.parametrize(
    ("state", "user", "item", "error"),
    [
        ("under_review", "drafter_a", "i1", ValidationError),
        ("inspected", "drafter_a", "i1", ValidationError),
        ("approved", "inspector", "i1", PermissionDenied),
        ("approved", "drafter_b", "i1", NotFound),
        ("approved", "drafter_a", "i9", ValidationError),
    ],
)
def test_refused_uploads_write_no_file(
    pf: Planflow,
    org: object,
    evidence_dir: Path,
    state: str,
    user: str,
    item: str,
    error: type[Exception],
) -> None:
    plan_id = drive(pf, state)
    before = footprint(pf, plan_id)
    with pytest.raises(error):
        pf.execution.attach_evidence(
            plan_id,
            item,
            "minutes.pdf",
            "application/pdf",
            PDF,
            actor=user,
        )
    assert files_under(evidence_dir) == []
    assert footprint(pf, plan_id) == before


def failing_writer(after: Callable[[], None] | None = None) -> Callable[[Tx, Change], None]:
    def boom(_tx: Tx, change: Change) -> None:
        if change.action == "attach_evidence":
            if after is not None:
                after()
            raise RuntimeError("disk full in the audit writer")

    return boom


def test_a_failed_transaction_removes_the_file_it_wrote(
    pf: Planflow, org: object, evidence_dir: Path
) -> None:
    plan_id = drive(pf, "approved")
    before = footprint(pf, plan_id)
    seen: list[list[Path]] = []
    # The writer runs after the file was written, inside the transaction.
    pf.service.writers = (
        *DEFAULT_WRITERS,
        failing_writer(lambda: seen.append(files_under(evidence_dir))),
    )
    with pytest.raises(RuntimeError, match="disk full"):
        pf.execution.attach_evidence(
            plan_id,
            "i1",
            "minutes.pdf",
            "application/pdf",
            PDF,
            actor="drafter_a",
        )
    assert len(seen) == 1 and len(seen[0]) == 1  # it was there during the transaction
    assert files_under(evidence_dir) == []
    assert footprint(pf, plan_id) == before


def test_a_failed_transaction_keeps_a_file_that_a_committed_row_needs(
    pf: Planflow, org: object, evidence_dir: Path
) -> None:
    plan_id = drive(pf, "approved")
    kept = pf.execution.attach_evidence(
        plan_id,
        "i1",
        "minutes.pdf",
        "application/pdf",
        PDF,
        actor="drafter_a",
    )
    before = footprint(pf, plan_id)
    pf.service.writers = (*DEFAULT_WRITERS, failing_writer())
    with pytest.raises(RuntimeError):
        pf.execution.attach_evidence(
            plan_id,
            "i2",
            "again.pdf",
            "application/pdf",
            PDF,
            actor="chair_a",
        )
    assert footprint(pf, plan_id) == before
    _row, path = pf.execution.open_evidence(plan_id, kept.id or 0)
    assert files_under(evidence_dir) == [path] and path.read_bytes() == PDF


def test_a_stale_upload_writes_nothing(pf: Planflow, org: object, evidence_dir: Path) -> None:
    plan_id = drive(pf, "approved")
    version = stored_plan(pf, plan_id).version
    with pytest.raises(StaleVersion):
        pf.execution.attach_evidence(
            plan_id,
            "i1",
            "m.pdf",
            "application/pdf",
            PDF,
            actor="drafter_a",
            expected_version=version + 5,
        )
    assert files_under(evidence_dir) == []


# -- the store's settings and names -----------------------------------------------------------


def test_store_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PLANFLOW_EVIDENCE_DIR")
    monkeypatch.setenv("PLANFLOW_INSTANCE", str(tmp_path / "inst"))
    monkeypatch.setenv("PLANFLOW_EVIDENCE_MAX_BYTES", "2048")
    store = EvidenceStore.from_env()
    assert (store.root, store.max_bytes) == ((tmp_path / "inst").resolve() / "evidence", 2048)
    for bad in ("0", "-5", "ten", "1.5"):
        monkeypatch.setenv("PLANFLOW_EVIDENCE_MAX_BYTES", bad)
        with pytest.raises(ValidationError, match="PLANFLOW_EVIDENCE_MAX_BYTES"):
            EvidenceStore.from_env()


def test_file_names_are_normalised_and_shortened_keeping_the_extension() -> None:
    assert sanitize_filename("  Cafe\u0301 minutes.pdf ") == "Café minutes.pdf"
    long = sanitize_filename("x" * 300 + ".docx")
    assert len(long) == 255 and long.endswith("x.docx")


def test_file_names_with_odd_characters_are_refused_and_long_extensions_cut() -> None:
    for name in ["a\u200eb.pdf", "a\u2028b.pdf", "a\ud800b.pdf", "\ufeff\u202e.pdf", "a\x7fb.pdf"]:
        with pytest.raises(EvidenceRefused, match="control characters") as info:
            sanitize_filename(name)
        assert info.value.reason == "control"
    cut = sanitize_filename("a." + "b" * 300)  # not an extension: cut like any name
    assert cut == "a." + "b" * 253
    long = sanitize_filename("报告" * 200 + ".pdf")
    assert len(long) == 255 and long.startswith("报告报告") and long.endswith("报.pdf")
    with pytest.raises(EvidenceRefused) as info:
        sanitize_filename(None)  # type: ignore[arg-type]
    assert info.value.reason == "no_name"
    # Joiners and other format characters are parts of real names.
    assert sanitize_filename("👩\u200d👩 photo.png") == "👩\u200d👩 photo.png"


@pytest.mark.parametrize(
    ("filename", "content_type", "data", "reason", "params"),
    [
        (
            "big.pdf",
            "application/pdf",
            PDF + b"x" * 2000,
            "too_big",
            {"size": len(PDF) + 2000, "limit": 1000},
        ),
        ("empty.pdf", "application/pdf", b"", "empty", {}),
        ("setup.exe", "", b"MZ", "kind", {"allowed": ", ".join(k.name for k in KINDS)}),
        (
            "m.pdf",
            "image/png",
            PDF,
            "declared",
            {"declared": "image/png", "expected": "application/pdf"},
        ),
        ("m.pdf", None, PDF, "declared", {"declared": "", "expected": "application/pdf"}),
        ("p.pdf", "application/pdf", PNG, "content", {"kind": "pdf", "looks": "png"}),
        ("t.txt", "text/plain", b"\x00\x01", "content", {"kind": "txt", "looks": None}),
        ("../p.pdf", "application/pdf", PDF, "path", {}),
        (" ", "application/pdf", PDF, "no_name", {}),
    ],
)
def test_each_refusal_names_its_rule(
    tmp_path: Path,
    filename: str,
    content_type: str,
    data: bytes,
    reason: str,
    params: dict[str, object],
) -> None:
    store = EvidenceStore(tmp_path, max_bytes=1000)
    with pytest.raises(EvidenceRefused) as info:
        store.check(filename, content_type, data)
    assert (info.value.reason, info.value.params) == (reason, params)
    assert isinstance(info.value, ValidationError)


def test_only_allowed_types_are_served_as_themselves() -> None:
    for kind in KINDS:
        for content_type in kind.content_types:
            assert safe_content_type(content_type) == content_type
    for other in ["text/html", "image/svg+xml", "application/javascript", "", "TEXT/PLAIN"]:
        assert safe_content_type(other) == "application/octet-stream"


# -- report text and a report with its file ----------------------------------------------------


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ("minutes\x00", r"control character U\+0000"),
        ("a\x1bb", r"control character U\+001B"),
        ("a\ud800", "unpaired surrogate"),
        (None, "must be text"),
    ],
)
def test_report_text_goes_through_clean_text(
    pf: Planflow, org: object, report: object, message: str
) -> None:
    plan_id = drive(pf, "approved")
    before = footprint(pf, plan_id)
    with pytest.raises(TextError, match=message) as info:
        pf.execution.report_progress(
            plan_id,
            "i1",
            "done",
            report,  # type: ignore[arg-type]
            actor="drafter_a",
        )
    assert info.value.field == "the progress report"
    assert footprint(pf, plan_id) == before


def test_report_text_is_normalised(pf: Planflow, org: object) -> None:
    plan_id = drive(pf, "approved")
    pf.execution.report_progress(
        plan_id,
        "i1",
        "done",
        "  line one\r\nline two\rthree\t! ",
        actor="drafter_a",
    )
    [row] = pf.execution.progress(plan_id)
    assert row.report == "line one\nline two\nthree\t!"
    assert pf.audit_trail(plan_id)[-1].comment == row.report


def test_a_report_with_a_file_is_one_audited_change(
    pf: Planflow, org: object, evidence_dir: Path
) -> None:
    plan_id = drive(pf, "approved")
    version = stored_plan(pf, plan_id).version
    change = pf.execution.report_progress(
        plan_id,
        "i2",
        "done",
        "All dues in",
        actor="chair_a",
        measured=100,
        expected_version=version,
        evidence=Upload("dues.csv", "text/csv", "月份,会费\n1,100%\n".encode("gb18030")),
    )
    assert change == version + 1  # the plan's new version
    [row] = pf.execution.progress(plan_id)
    [evidence] = pf.execution.evidence(plan_id)
    assert (row.item_key, row.status, row.measured) == ("i2", "done", 100.0)
    assert (evidence.item_key, evidence.filename, evidence.content_type) == (
        "i2",
        "dues.csv",
        "text/csv",
    )
    assert evidence.uploaded_by == row.updated_by == "chair_a"
    [record] = [r for r in pf.audit_trail(plan_id) if r.seq > pf.audit_trail(plan_id)[-2].seq]
    assert record.action == "report_progress" and record.comment == "All dues in"
    assert dict(record.detail) == {
        "item": "i2",
        "status": "done",
        "measured": 100.0,
        "file": "dues.csv",
        "sha256": evidence.sha256,
        "size": evidence.size,
        "evidence": evidence.id,
    }
    assert files_under(evidence_dir) == [evidence_dir.resolve() / str(plan_id) / evidence.sha256]
    assert audit_repo.verify(pf.db).ok


@pytest.mark.parametrize(
    ("state", "user", "upload", "error"),
    [
        ("approved", "drafter_a", Upload("m.pdf", "application/pdf", PNG), EvidenceRefused),
        ("approved", "drafter_a", Upload("m.pdf", "application/pdf", b""), EvidenceRefused),
        ("inspected", "drafter_a", Upload("m.pdf", "application/pdf", PDF), WorkClosed),
        ("approved", "reviewer", Upload("m.pdf", "application/pdf", PDF), PermissionDenied),
    ],
)
def test_a_refused_report_with_a_file_keeps_neither(
    pf: Planflow,
    org: object,
    evidence_dir: Path,
    state: str,
    user: str,
    upload: Upload,
    error: type[Exception],
) -> None:
    plan_id = drive(pf, state)
    before = footprint(pf, plan_id)
    with pytest.raises(error):
        pf.execution.report_progress(
            plan_id,
            "i1",
            "done",
            "Held",
            actor=user,
            evidence=upload,
        )
    assert footprint(pf, plan_id) == before
    assert files_under(evidence_dir) == []


def test_a_failed_report_with_a_file_removes_the_file(
    pf: Planflow, org: object, evidence_dir: Path
) -> None:
    plan_id = drive(pf, "approved")
    before = footprint(pf, plan_id)
    seen: list[list[Path]] = []

    def boom(_tx: Tx, change: Change) -> None:
        seen.append(files_under(evidence_dir))
        raise RuntimeError("disk full in the audit writer")

    pf.service.writers = (*DEFAULT_WRITERS, boom)
    with pytest.raises(RuntimeError, match="disk full"):
        pf.execution.report_progress(
            plan_id,
            "i1",
            "done",
            "Held",
            actor="drafter_a",
            evidence=Upload("m.pdf", "application/pdf", PDF),
        )
    assert len(seen) == 1 and len(seen[0]) == 1
    assert files_under(evidence_dir) == []
    assert footprint(pf, plan_id) == before
    pf.service.writers = DEFAULT_WRITERS
    with pytest.raises(StaleVersion):  # refused before anything is written
        pf.execution.report_progress(
            plan_id,
            "i1",
            "done",
            "Held",
            actor="drafter_a",
            expected_version=stored_plan(pf, plan_id).version - 1,
            evidence=Upload("m.pdf", "application/pdf", PDF),
        )
    assert files_under(evidence_dir) == []


def test_a_closed_plan_names_its_state_and_the_work_states(pf: Planflow, org: object) -> None:
    plan_id = drive(pf, "accepted")
    with pytest.raises(WorkClosed) as info:
        pf.execution.attach_evidence(
            plan_id,
            "i1",
            "m.pdf",
            "application/pdf",
            PDF,
            actor="drafter_a",
        )
    assert info.value.state == "accepted"
    assert info.value.allowed == ("approved", "inspection_scheduled", "rectification_required")


# -- the read models of the unit's pages ---------------------------------------------------------


def test_the_progress_board_lists_every_item_with_its_report_and_files(
    pf: Planflow, org: object
) -> None:
    plan_id = drive(pf, "approved")
    drafter = pf.user_id("drafter_a")
    pf.services.execution.report_progress(plan_id, drafter, "i2", "in_progress", "Half", 50)
    first = pf.services.execution.attach_evidence(
        plan_id, drafter, "i2", "a.pdf", "application/pdf", PDF
    )
    second = pf.services.execution.attach_evidence(
        plan_id, drafter, "i2", "b.png", "image/png", PNG
    )
    board = progress_board(pf.services.execution, plan_id, drafter)
    assert (board.state, board.year, board.version) == (
        "approved",
        2027,
        stored_plan(pf, plan_id).version,
    )
    assert board.submitted and board.may_report and board.refusal is None
    assert board.work_states == ("approved", "inspection_scheduled", "rectification_required")
    [section] = board.sections
    assert (section.key, section.title) == ("s1", "Members")
    i1, i2 = section.items
    assert (i1.number, i1.item.key, i1.progress, i1.evidence) == ("1.1", "i1", None, ())
    assert i2.number == "1.2" and i2.item.target is not None
    assert i2.progress is not None and (i2.progress.status, i2.progress.measured) == (
        "in_progress",
        50.0,
    )
    assert [e.id for e in i2.evidence] == [first.id, second.id]
    assert board.item("i2") == i2 and board.item("nope") is None
    # How far the item's target is met by the value reported: half of it, not met.
    assert i1.targets == () and [(t.measured, t.met, t.percent) for t in i2.targets] == [
        (50.0, False, 50)
    ]
    assert (board.tally().met, board.tally().missed, board.tally().unmeasured) == (0, 1, 0)
    for user in ["reviewer", "drafter_b", "inspector"]:
        assert (
            progress_board(pf.services.execution, plan_id, pf.user_id(user)).refusal is Refusal.ROLE
        )
    with pytest.raises(NotFound):
        progress_board(pf.services.execution, 999, drafter)


def test_a_report_records_a_value_for_each_target(pf: Planflow, org: object) -> None:
    plan_id = drive(pf, "approved")
    drafter = pf.user_id("drafter_a")
    service = pf.services.execution
    service.report_progress(plan_id, drafter, "i2", "in_progress", "", 50, more=[None, 7, None])
    [report] = pf.execution.progress(plan_id)
    assert report.measured_values == (50.0, None, 7.0)  # trailing "none given" not kept
    board = progress_board(service, plan_id, drafter)
    assert [t.measured for t in board.item("i2").targets] == [50.0]  # i2 has one target
    for bad in ([float("nan")], [True], ["7"], [1.0] * 10):
        with pytest.raises(ValidationError) as info:
            service.report_progress(plan_id, drafter, "i2", "done", "", 50, more=bad)
        assert info.value.code == "measured_not_number"
    assert pf.execution.progress(plan_id)[0].measured_values == (50.0, None, 7.0)
    service.report_progress(plan_id, drafter, "i2", "done", "", None)
    assert pf.execution.progress(plan_id)[0].measured_values == (None,)


@pytest.mark.parametrize(
    ("state", "refusal", "submitted"),
    [
        ("draft", Refusal.STATE, False),
        ("under_review", Refusal.STATE, True),
        ("inspected", Refusal.STATE, True),
    ],
)
def test_the_board_says_when_reports_are_closed(
    pf: Planflow, org: object, state: str, refusal: Refusal, submitted: bool
) -> None:
    plan_id = drive(pf, state)
    board = progress_board(pf.services.execution, plan_id, pf.user_id("drafter_a"))
    assert (board.refusal, board.submitted, board.may_report) == (refusal, submitted, False)
    assert [i.item.key for i in board.items()] == ["i1", "i2"]


def test_the_self_assessment_shows_the_units_column_only(pf: Planflow, org: object) -> None:
    plan_id = drive(pf, "inspection_scheduled")
    chair = pf.user_id("chair_a")
    pf.services.inspections.record_self_assessment(
        plan_id,
        chair,
        [
            CriterionScore("A1", 8.0, "Twice"),
            CriterionScore("B1", 9.5, measured=92.0),
            CriterionScore("C1", 20.0),
        ],
    )
    pf.inspections.record_scores(
        plan_id,
        [CriterionScore("A1", inspector_score=3.0)],
        actor="inspector",
    )
    found = self_assessment(pf.services.inspections, plan_id, chair)
    assert found.may_record and found.round == 1
    assert found.open_states == ("approved", "inspection_scheduled")
    assert found.version == stored_plan(pf, plan_id).version
    assert found.sheet is not None and len(found.sheet.criteria()) == 9
    assert found.scores["A1"] == CriterionScore("A1", 8.0, "Twice")  # no inspector score
    assert found.scores["B1"] == CriterionScore("B1", 9.5, measured=92.0)
    assert found.totals is not None
    assert (found.totals.self_total, found.totals.self_scored, found.totals.inspector_total) == (
        37.5,
        3,
        0.0,
    )
    assert [c.self_total for c in found.totals.categories] == [8.0, 9.5, 20.0, 0.0, 0.0]
    for user in ["reviewer", "inspector", "drafter_b"]:
        other = self_assessment(pf.services.inspections, plan_id, pf.user_id(user))
        assert other.refusal is SelfRefusal.ROLE and other.scores == found.scores
    with pytest.raises(NotFound):
        self_assessment(pf.services.inspections, 999, chair)


def test_the_self_assessment_is_open_once_the_plan_is_approved(pf: Planflow, org: object) -> None:
    plan_id = drive(pf, "approved")
    found = self_assessment(pf.services.inspections, plan_id, pf.user_id("drafter_a"))
    assert found.refusal is None and found.may_record and found.round == 1
    assert found.open_states == ("approved", "inspection_scheduled")


@pytest.mark.parametrize("state", ["inspected", "rectification_required", "accepted"])
def test_the_self_assessment_is_closed_outside_the_inspection_state(
    pf: Planflow, org: object, state: str
) -> None:
    plan_id = drive(pf, state)
    found = self_assessment(pf.services.inspections, plan_id, pf.user_id("drafter_a"))
    assert found.refusal is SelfRefusal.STATE and not found.may_record
    assert found.totals is not None and found.totals.self_total == 0


# -- the command line --------------------------------------------------------------------------


def test_cli_progress_and_evidence(
    pf: Planflow,
    org: object,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: CliRun,
) -> None:
    plan_id = drive(pf, "approved")
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)

    run = cli
    code, out, _ = run(
        "progress",
        "report",
        str(plan_id),
        "i2",
        "--status",
        "in_progress",
        "--report",
        "Half collected",
        "--measured",
        "50",
        "--as",
        "chair_a",
    )
    assert (code, out) == (0, f"plan {plan_id}: item i2 is in_progress\n")
    code, out, _ = run("progress", "list", str(plan_id))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["1.1", "i1", "-"]
    assert lines[1].split()[:3] == ["1.2", "i2", "in_progress"]
    assert "chair_a" in lines[1] and "measured 50" in lines[1]
    assert lines[2].strip() == "Half collected"
    shown = "target: dues at least 100% - not met (measured 50, 50% of the target)"
    assert lines[3].strip() == shown
    # --measured again gives the item's second and later targets their values.
    more = ["--measured", "100", "--measured", "3", "--as", "chair_a"]
    code, out, _ = run("progress", "report", str(plan_id), "i2", "--status", "done", *more)
    assert code == 0 and pf.execution.progress(plan_id)[0].measured_values == (100.0, 3.0)

    (tmp_path / "minutes.pdf").write_bytes(PDF)
    code, out, _ = run(
        "evidence", "add", str(plan_id), "i1", str(tmp_path / "minutes.pdf"), "--as", "drafter_a"
    )
    assert code == 0 and out.startswith(f"plan {plan_id}: evidence 1 minutes.pdf (")
    code, out, _ = run("evidence", "list", str(plan_id))
    assert code == 0 and out.split()[1] == "i1" and out.rstrip().endswith("minutes.pdf")
    assert [e.filename for e in pf.execution.evidence(plan_id)] == ["minutes.pdf"]

    (tmp_path / "photo.pdf").write_bytes(PNG)
    refusals = [
        (
            ("progress", "report", str(plan_id), "i9", "--status", "done", "--as", "chair_a"),
            "no item 'i9'",
        ),
        (
            ("progress", "report", str(plan_id), "i1", "--status", "done", "--as", "reviewer"),
            "needs the role 'drafter or submitter'",
        ),
        (
            ("progress", "report", str(plan_id), "i1", "--status", "done", "--as", "nobody"),
            "unknown user",
        ),
        (("progress", "list", "999"), "unknown plan"),
        (
            ("evidence", "add", str(plan_id), "i1", str(tmp_path / "photo.pdf"), "--as", "chair_a"),
            "its content is a png",
        ),
    ]
    for argv, fragment in refusals:
        code, out, err = run(*argv)
        assert code == 1, (argv, out, err)
        assert len(err.splitlines()) == 1 and err.startswith("planflow: error: ")
        assert fragment in err, (fragment, err)
    code, _, err = run(
        "progress", "report", str(plan_id), "i1", "--status", "great", "--as", "chair_a"
    )
    assert code == 2 and len(err.splitlines()) == 1
    for group in ("progress", "evidence"):
        code, out, _ = run(group, "--help")
        assert code == 0 and "Usage:" in out
