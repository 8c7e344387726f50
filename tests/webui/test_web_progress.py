"""The progress page of an approved plan: reports, evidence uploads and downloads.

Every test runs on SQLite and PostgreSQL (``app``/``pf``), with CSRF on and the
evidence of each test in its own folder. Covered: reports saved, shown and
audited; a report and its file kept together (one audit record) and a file
alone as ``attach_evidence``; the upload/download round trip with its
headers and a Chinese name; refused files (too big, wrong kind, empty, odd
names, a file several times the limit) with nothing stored and the typed
report kept; a body over the cap a 413 with the reason, never a 500; 404
for foreign and missing plans, items and evidence on every route; the parent
unit's reviewer reading but not writing; states that take no reports; stale
pages; CSRF; garbage input.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import update
from stored import stored_plan
from webui_support import AuthActions, Plans, WebClient, signed_in, text
from werkzeug.datastructures import FileStorage, Headers
from werkzeug.test import TestResponse, encode_multipart

from planflow.app import Planflow
from planflow.core.content.model import PlanContent
from planflow.storage.evidence_files import EvidenceRefused, EvidenceStore
from planflow.storage.tables import Evidence
from planflow_web.evidence_upload import chosen_file

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
NASTY = ["", " ", "\x00", "a\x00b", "9" * 40, "-1", "1e309", "NaN", "x" * 5000, "ü漢字한국어"]
STEPS: dict[str, list[tuple[str, str]]] = {
    "approved": [("submit", "chair_a"), ("start_review", "reviewer"), ("approve", "reviewer")],
    "inspection_scheduled": [("schedule_inspection", "officer")],
    "inspected": [("inspect", "inspector")],
}


@pytest.fixture(autouse=True)
def evidence_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Evidence of this test goes to a fresh folder (set before ``pf`` exists)."""
    folder = tmp_path / "evidence"
    monkeypatch.setenv("PLANFLOW_EVIDENCE_DIR", str(folder))
    monkeypatch.delenv("PLANFLOW_EVIDENCE_MAX_BYTES", raising=False)
    return folder


def plan_in(plans: Plans, pf: Planflow, state: str = "approved", unit: str = "branch_a") -> int:
    """A plan with items i1 (no target) and i2 (a target), moved along to ``state``."""
    plan_id = plans.create(unit, items=0)
    drafter = "drafter_a" if unit == "branch_a" else "drafter_b"
    content = (
        PlanContent(2027)
        .add_section("Education 教育", key="s1")
        .add_item("s1", "Hold the workers' congress", due=4, key="i1")
        .add_section("Finances", key="s2")
        .add_item(
            "s2",
            "Collect dues",
            due=12,
            key="i2",
            target={"metric": "dues", "op": ">=", "value": 100, "unit": "%"},
        )
    )
    pf.content.set_content(plan_id, content, actor=drafter, expected_version=None)
    chair = "chair_a" if unit == "branch_a" else "chair_b"
    for name, steps in STEPS.items():
        plans.fire(plan_id, *[(a, chair if u == "chair_a" else u) for a, u in steps])
        if name == state:
            break
    assert plans.state(plan_id) == state
    return plan_id


def files_under(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != ".lock")


def footprint(pf: Planflow, plan_id: int) -> tuple[object, ...]:
    plan = stored_plan(pf, plan_id)
    return (
        plan.version,
        plan.audit_seq,
        [(p.item_key, p.status, p.report) for p in pf.execution.progress(plan_id)],
        len(pf.execution.evidence(plan_id)),
    )


def send(
    client: WebClient,
    plan_id: int,
    item: str,
    version: int,
    *,
    file: tuple[bytes, str, str] | None = None,
    csrf: bool = True,
    **fields: Any,
) -> TestResponse:
    """Post an item's form like a browser: multipart, with the item's prefix."""
    data: dict[str, Any] = {
        f"item-{item}-status": "not_started",
        f"item-{item}-report": "",
        f"item-{item}-expected_version": str(version),
    }
    data.update({f"item-{item}-{name}": value for name, value in fields.items()})
    if file is not None:
        body, name, content_type = file
        data[f"item-{item}-evidence"] = FileStorage(
            io.BytesIO(body), name, content_type=content_type
        )
    if csrf:
        data["csrf_token"] = client.csrf_token()
    # Encoded here, in memory: the test client would spool a big body to a
    # temporary file that nobody closes.
    boundary, payload = encode_multipart(data)
    return client.post(
        f"/plans/{plan_id}/progress/{item}",
        data=payload,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


@dataclass(frozen=True)
class Download:
    status: int
    headers: Headers
    data: bytes


def fetch(client: WebClient, path: str) -> Download:
    """GET a download and close it (the body is a file the response holds open)."""
    with client.get(path) as response:
        return Download(response.status_code, response.headers, response.get_data())


def article(html: str, key: str) -> str:
    start = html.index(f'id="item-{key}"')
    return html[start : html.index("</article>", start)]


# -- reading ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client: WebClient, plans: Plans, pf: Planflow) -> None:
    plan_id = plan_in(plans, pf)
    for path in [f"/plans/{plan_id}/progress", f"/plans/{plan_id}/evidence/1"]:
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_board_shows_sections_items_and_limits(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans, pf)
    auth.login("drafter_a")
    page = text(client.get(f"/plans/{plan_id}/progress"))
    assert "1. Education 教育" in page and "2. Finances" in page
    first, second = article(page, "i1"), article(page, "i2")
    assert "1.1" in first and "Hold the workers&#39; congress" in first
    assert "April 2027" in first and "Not started" in first and "No files yet." in first
    assert "December 2027" in second and "dues at least 100%" in second
    # A measured value only where there is a target to measure against.
    assert 'name="item-i1-measured"' not in first and 'name="item-i2-measured"' in second
    assert "at most 10 MB" in page and "PDF, PNG, JPEG" in page
    assert 'enctype="multipart/form-data"' in first and 'accept=".pdf,' in first
    assert f'name="item-i1-expected_version" value="{plans.version(plan_id)}"' in first


# -- reporting -------------------------------------------------------------------------


def test_a_report_is_saved_shown_and_audited(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans, pf)
    auth.login("chair_a")
    version = plans.version(plan_id)
    response = send(
        client,
        plan_id,
        "i2",
        version,
        status="in_progress",
        report="Half in\r\nby May",
        measured="55.5",
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/plans/{plan_id}/progress#item-i2")
    [row] = pf.execution.progress(plan_id)
    assert (row.item_key, row.status, row.report, row.measured) == (
        "i2",
        "in_progress",
        "Half in\nby May",
        55.5,
    )
    assert row.updated_by == "chair_a"
    record = pf.audit_trail(plan_id)[-1]
    assert (record.action, record.comment) == ("report_progress", "Half in\nby May")
    page = text(client.get(f"/plans/{plan_id}/progress"))
    assert "Saved: item 2.1." in page
    shown = article(page, "i2")
    assert "In progress" in shown and "Half in\nby May" in shown and "55.5" in shown
    assert "Updated by Chair A" in shown
    # The form starts from what is saved, pinned to the new version.
    assert '<option selected value="in_progress">' in shown
    assert f'value="{version + 1}"' in shown


def test_a_report_with_a_file_is_one_step(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow, evidence_dir: Path
) -> None:
    plan_id = plan_in(plans, pf, "inspection_scheduled")
    auth.login("drafter_a")
    response = send(
        client,
        plan_id,
        "i1",
        plans.version(plan_id),
        status="done",
        report="Held on 12 April",
        file=(PDF, "minutes.pdf", "application/pdf"),
    )
    assert response.status_code == 302
    [row] = pf.execution.progress(plan_id)
    [evidence] = pf.execution.evidence(plan_id)
    assert (row.status, evidence.item_key, evidence.filename) == ("done", "i1", "minutes.pdf")
    record = pf.audit_trail(plan_id)[-1]
    assert record.action == "report_progress"  # one record for both
    assert pf.audit_trail(plan_id)[-2].action == "schedule_inspection"
    assert len(files_under(evidence_dir)) == 1
    page = text(client.get(f"/plans/{plan_id}/progress"))
    assert "Saved: item 1.1, with the file minutes.pdf." in page


def test_a_file_alone_is_attached_without_a_new_report(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans, pf)
    pf.execution.report_progress(plan_id, "i1", "done", "Held", actor="drafter_a")
    auth.login("drafter_a")
    response = send(
        client,
        plan_id,
        "i1",
        plans.version(plan_id),
        status="done",
        report="Held",
        file=(PNG, "photo.png", "image/png"),
    )
    assert response.status_code == 302
    assert pf.audit_trail(plan_id)[-1].action == "attach_evidence"
    assert [r.report for r in pf.execution.progress(plan_id)] == ["Held"]


def test_upload_and_download_round_trip_with_a_chinese_name(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans, pf)
    auth.login("drafter_a")
    name = "会议纪要 第1号.pdf"
    response = send(
        client, plan_id, "i1", plans.version(plan_id), file=(PDF, name, "application/pdf")
    )
    assert response.status_code == 302
    [evidence] = pf.execution.evidence(plan_id)
    page = text(client.get(f"/plans/{plan_id}/progress"))
    link = f"/plans/{plan_id}/evidence/{evidence.id}"
    assert f'href="{link}"' in page and name in page and "PDF" in article(page, "i1")
    assert f"{len(PDF)} bytes" in article(page, "i1") and "Drafter A" in article(page, "i1")

    download = fetch(client, link)
    assert download.status == 200
    assert download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    assert "Cache-Control" in download.headers and "no-store" in download.headers["Cache-Control"]
    assert "sandbox" in download.headers["Content-Security-Policy"]


def test_download_is_never_typed_as_something_unsafe(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans, pf)
    row = pf.execution.attach_evidence(
        plan_id,
        "i1",
        "notes.txt",
        "text/plain",
        b"<html>hi</html>",
        actor="drafter_a",
    )
    auth.login("reviewer")
    plain = fetch(client, f"/plans/{plan_id}/evidence/{row.id}")
    assert plain.headers["Content-Type"] == "text/plain"  # no charset: it may be GB18030
    # A row whose type is not one of the allowed kinds (an old row, a hand edit).
    with pf.session() as s:
        s.exec(update(Evidence).where(Evidence.id == row.id).values(content_type="text/html"))  # type: ignore[call-overload]
    served = fetch(client, f"/plans/{plan_id}/evidence/{row.id}")
    assert served.headers["Content-Type"] == "application/octet-stream"
    assert served.headers["Content-Disposition"] == "attachment; filename=notes.txt"


def test_a_missing_file_on_disk_is_404(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow, evidence_dir: Path
) -> None:
    plan_id = plan_in(plans, pf)
    row = pf.execution.attach_evidence(
        plan_id,
        "i1",
        "m.pdf",
        "application/pdf",
        PDF,
        actor="drafter_a",
    )
    for path in files_under(evidence_dir):
        path.unlink()
    auth.login("drafter_a")
    assert fetch(client, f"/plans/{plan_id}/evidence/{row.id}").status == 404


# -- refused files -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "name", "content_type", "message"),
    [
        (
            PDF + b"x" * 2000,
            "big.pdf",
            "application/pdf",
            "This file is 2 kB; evidence files may be at most 1,000 bytes.",
        ),
        (b"", "empty.pdf", "application/pdf", "This file is empty."),
        (
            b"MZ\x90\x00",
            "setup.exe",
            "application/octet-stream",
            "Files of this kind cannot be attached.",
        ),
        (PNG, "photo.pdf", "application/pdf", "its content is a PNG file"),
        (PDF, "minutes.pdf", "image/png", "Your browser sent this file as image/png"),
        (PDF, "../../etc/passwd.pdf", "application/pdf", "The file name contains folder names."),
        (
            PDF,
            "C:\\Users\\me\\minutes.pdf",
            "application/pdf",
            "The file name contains folder names.",
        ),
        (PDF, "report\u202efdp.pdf", "application/pdf", "contains control characters"),
        (PDF, "line\u2028break.pdf", "application/pdf", "contains control characters"),
    ],
)
def test_a_refused_file_stores_nothing_and_keeps_the_report(
    client: WebClient,
    auth: AuthActions,
    plans: Plans,
    pf: Planflow,
    evidence_dir: Path,
    body: bytes,
    name: str,
    content_type: str,
    message: str,
) -> None:
    plan_id = plan_in(plans, pf)
    pf.execution.store.max_bytes = 1000
    auth.login("drafter_a")
    before = footprint(pf, plan_id)
    response = send(
        client,
        plan_id,
        "i1",
        plans.version(plan_id),
        status="done",
        report="Congress held, minutes attached 会议",
        file=(body, name, content_type),
    )
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert "Nothing was saved. What you typed is kept below. Choose the file again." in page
    form = article(page, "i1")
    assert "Congress held, minutes attached 会议</textarea>" in form
    assert '<option selected value="done">' in form
    assert '<details class="pf-update" open>' in form
    assert footprint(pf, plan_id) == before
    assert files_under(evidence_dir) == []


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(
    app: Flask,
    client: WebClient,
    auth: AuthActions,
    plans: Plans,
    pf: Planflow,
    evidence_dir: Path,
) -> None:
    plan_id = plan_in(plans, pf)
    pf.execution.store.max_bytes = 1000
    auth.login("drafter_a")
    before = footprint(pf, plan_id)
    huge = PDF + b"x" * (300 * 1024)  # beyond the limit and the room for the other fields
    response = send(
        client, plan_id, "i1", plans.version(plan_id), file=(huge, "big.pdf", "application/pdf")
    )
    assert response.status_code == 413
    assert "The file is too large: evidence files may be at most 1,000 bytes." in text(response)
    assert 'id="item-i1"' in text(response)  # the page itself, not a bare error page
    assert footprint(pf, plan_id) == before
    assert files_under(evidence_dir) == []
    # Someone else's plan stays a 404, however big the body.
    other = signed_in(app, "drafter_b")
    response = send(other, plan_id, "i1", 1, file=(huge, "big.pdf", "application/pdf"))
    assert response.status_code == 404
    assert footprint(pf, plan_id) == before


def test_a_file_well_over_the_limit_comes_back_on_the_form_with_the_report(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow, evidence_dir: Path
) -> None:
    """More than the room for the other fields over the limit, still within the body cap.

    Such a body used to be refused before the form was read: an error page,
    and the report typed with it lost.
    """
    plan_id = plan_in(plans, pf)
    pf.execution.store.max_bytes = 100 * 1024
    auth.login("drafter_a")
    before = footprint(pf, plan_id)
    body = PDF + b"x" * (400 * 1024 - len(PDF))  # the limit plus 300 KiB
    response = send(
        client,
        plan_id,
        "i1",
        plans.version(plan_id),
        status="in_progress",
        report="Venue booked 会场已订",
        file=(body, "scan.pdf", "application/pdf"),
    )
    assert response.status_code == 422
    page = text(response)
    assert "Nothing was saved. What you typed is kept below. Choose the file again." in page
    form = article(page, "i1")
    assert '<details class="pf-update" open>' in form
    assert "Venue booked 会场已订</textarea>" in form
    assert '<option selected value="in_progress">' in form
    error = re.search(r'<p class="error" id="item-i1-evidence-error">([^<]*)</p>', form)
    assert error is not None
    assert error.group(1) == "This file is 400 kB; evidence files may be at most 100 kB."
    assert footprint(pf, plan_id) == before
    assert files_under(evidence_dir) == []


def test_a_body_over_the_cap_is_a_clear_413_never_a_500(
    app: Flask, client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans, pf)
    pf.execution.store.max_bytes = 1000
    before = footprint(pf, plan_id)
    huge = PDF + b"x" * (400 * 1024)  # over four times the limit and the room for the fields
    file = (huge, "big.pdf", "application/pdf")
    # Not signed in: the plain error page, with the reason and the limit.
    response = send(client, plan_id, "i1", 1, file=file, csrf=False)
    assert response.status_code == 413
    assert "The file is too large: evidence files may be at most 1,000 bytes." in text(response)
    auth.login("drafter_a")
    response = send(client, plan_id, "i1", plans.version(plan_id), file=file, report="lost")
    assert response.status_code == 413
    page = text(response)
    assert "could not be read with it: please write it again and choose a smaller file." in page
    # The item's form is open, as saved, with the reason next to its file field.
    form = article(page, "i1")
    assert '<details class="pf-update" open>' in form
    assert (
        '<p class="error" id="item-i1-evidence-error">The file is too large: evidence files'
        " may be at most 1,000 bytes.</p>"
    ) in form
    assert f'value="{plans.version(plan_id)}"' in form
    # An item that does not exist: the page, no form opened.
    response = send(client, plan_id, "nope", plans.version(plan_id), file=file)
    assert response.status_code == 413 and '<details class="pf-update" open>' not in text(response)
    assert footprint(pf, plan_id) == before


# Werkzeug leaves the part it had spooled before the cut-off for the garbage collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_chunked_body_over_the_cap_is_cut_off_with_a_413(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    """A body of no declared length is refused when the cap is reached while reading it."""
    plan_id = plan_in(plans, pf)
    pf.execution.store.max_bytes = 1000
    before = footprint(pf, plan_id)
    huge = PDF + b"x" * (400 * 1024)
    auth.login("drafter_a")
    token = client.csrf_token()
    boundary, payload = encode_multipart(
        {
            "csrf_token": token,
            "item-i1-expected_version": str(plans.version(plan_id)),
            "item-i1-evidence": FileStorage(io.BytesIO(huge), "big.pdf", "application/pdf"),
        }
    )
    response = client.post(
        f"/plans/{plan_id}/progress/i1",
        input_stream=io.BytesIO(payload),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert "The file is too large" in text(response)
    assert footprint(pf, plan_id) == before


def test_an_oversized_file_is_measured_not_read(tmp_path: Path) -> None:
    """``chosen_file`` refuses on the size of the spooled part; its bytes stay where they are."""

    class Unread(io.BytesIO):
        def read(self, *args: Any) -> bytes:
            raise AssertionError("the file was read")

    store = EvidenceStore(tmp_path, max_bytes=1000)
    storage = FileStorage(Unread(PDF + b"x" * 5000), "big.pdf", content_type="application/pdf")
    with pytest.raises(EvidenceRefused) as refused:
        chosen_file(storage, store)
    assert (refused.value.reason, refused.value.params["size"]) == ("too_big", len(PDF) + 5000)
    assert chosen_file(None, store) is None
    assert chosen_file(FileStorage(io.BytesIO(b""), ""), store) is None


def test_a_file_of_exactly_the_limit_is_taken(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans, pf)
    pf.execution.store.max_bytes = 1000
    auth.login("drafter_a")
    body = PDF + b"%" * (1000 - len(PDF))
    response = send(
        client, plan_id, "i1", plans.version(plan_id), file=(body, "exact.pdf", "application/pdf")
    )
    assert response.status_code == 302
    [row] = pf.execution.evidence(plan_id)
    assert row.size == 1000


def test_the_file_field_carries_the_limit_for_the_script(
    app: Flask, client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans, pf)
    pf.execution.store.max_bytes = 100 * 1024
    auth.login("drafter_a")
    page = text(client.get(f"/plans/{plan_id}/progress"))
    assert '<script src="/static/progress.js" defer></script>' in page
    field = re.search(r'<input[^>]*name="item-i1-evidence"[^>]*>', page)
    assert field is not None
    assert 'data-max-bytes="102400"' in field.group(0)
    assert (
        'data-too-large="This file is {size}; evidence files may be at most 100 kB.'
        ' Choose a smaller file."'
    ) in field.group(0)
    # Someone who may only read gets no form, and no script.
    reader = text(signed_in(app, "reviewer").get(f"/plans/{plan_id}/progress"))
    assert "progress.js" not in reader


def test_a_file_over_the_apps_form_limit_but_within_the_evidence_limit_is_taken(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    """The app takes 1 MiB forms; the progress form takes a whole evidence file."""
    plan_id = plan_in(plans, pf)
    auth.login("drafter_a")
    body = PDF + b"%" * (3 * 1024 * 1024)
    response = send(
        client, plan_id, "i1", plans.version(plan_id), file=(body, "scan.pdf", "application/pdf")
    )
    assert response.status_code == 302
    [row] = pf.execution.evidence(plan_id)
    assert fetch(client, f"/plans/{plan_id}/evidence/{row.id}").data == body


def test_no_file_chosen_is_just_a_report(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans, pf)
    auth.login("drafter_a")
    # What a browser sends for an empty file field: a part with an empty name.
    response = send(
        client,
        plan_id,
        "i1",
        plans.version(plan_id),
        status="blocked",
        file=(b"", "", "application/octet-stream"),
    )
    assert response.status_code == 302
    assert [(p.status, p.report) for p in pf.execution.progress(plan_id)] == [("blocked", "")]
    assert pf.execution.evidence(plan_id) == []


# -- who, when, and which version -------------------------------------------------------------


def test_the_parent_units_reviewer_reads_and_downloads_but_cannot_write(
    app: Flask, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans, pf)
    row = pf.execution.attach_evidence(
        plan_id,
        "i1",
        "m.pdf",
        "application/pdf",
        PDF,
        actor="drafter_a",
    )
    pf.execution.report_progress(plan_id, "i1", "done", "Held", actor="drafter_a")
    reviewer = signed_in(app, "reviewer")
    page = text(reviewer.get(f"/plans/{plan_id}/progress"))
    assert "Held" in page and "m.pdf" in page
    assert "Only the drafter or submitter of the plan&#39;s own unit can report progress." in page
    assert '<form method="post" action="/plans/' not in page.split("</header>", 1)[1]
    assert fetch(reviewer, f"/plans/{plan_id}/evidence/{row.id}").data == PDF
    before = footprint(pf, plan_id)
    response = send(
        reviewer, plan_id, "i1", plans.version(plan_id), status="blocked", report="Reviewer text"
    )
    assert response.status_code == 403
    page = text(response)
    assert "can report progress. Nothing was saved." in page
    assert "Reviewer text</textarea>" in page  # what they typed stays readable
    assert footprint(pf, plan_id) == before


@pytest.mark.parametrize("state", ["inspected"])
def test_reports_are_refused_in_a_state_without_work(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow, state: str
) -> None:
    plan_id = plan_in(plans, pf, state)
    auth.login("drafter_a")
    page = text(client.get(f"/plans/{plan_id}/progress"))
    assert (
        "Progress can be reported only while the plan is Approved, Inspection scheduled,"
        " Rectification required; it is now Inspected." in page
    )
    assert "pf-update" not in page
    before = footprint(pf, plan_id)
    response = send(
        client, plan_id, "i1", plans.version(plan_id), status="done", report="Late words"
    )
    assert response.status_code == 422
    assert "it is now Inspected. Nothing was saved." in text(response)
    assert "Late words</textarea>" in text(response)
    assert footprint(pf, plan_id) == before


def test_a_draft_shows_its_items_but_takes_no_reports(
    client: WebClient, auth: AuthActions, plans: Plans
) -> None:
    plan_id = plans.create()
    auth.login("drafter_a")
    page = text(client.get(f"/plans/{plan_id}/progress"))
    assert "This plan has not been submitted yet." in page and "Item number 1" in page
    assert "pf-update" not in page


def test_a_stale_page_is_refused_and_keeps_what_was_typed(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans, pf)
    seen = plans.version(plan_id)
    pf.execution.report_progress(
        plan_id,
        "i1",
        "in_progress",
        "Chair's words",
        actor="chair_a",
    )
    auth.login("drafter_a")
    before = footprint(pf, plan_id)
    response = send(
        client,
        plan_id,
        "i1",
        seen,
        status="done",
        report="My words",
        file=(PDF, "m.pdf", "application/pdf"),
    )
    assert response.status_code == 409
    page = text(response)
    assert "Someone else changed this plan while you were looking at it" in page
    assert "Choose the file again." in page
    form = article(page, "i1")
    assert "Chair&#39;s words" in form  # what is saved now, above the form
    assert "My words</textarea>" in form and '<option selected value="done">' in form
    # The form is pinned to the version now shown, so sending it again works.
    assert f'name="item-i1-expected_version" value="{seen + 1}"' in form
    assert footprint(pf, plan_id) == before
    assert (
        send(client, plan_id, "i1", seen + 1, status="done", report="My words").status_code == 302
    )


def test_post_without_csrf_token_is_refused(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans, pf)
    auth.login("drafter_a")
    before = footprint(pf, plan_id)
    response = send(client, plan_id, "i1", plans.version(plan_id), status="done", csrf=False)
    assert response.status_code == 400
    assert "This form has expired" in text(response)
    assert footprint(pf, plan_id) == before


# -- ids that are not yours ---------------------------------------------------------------


def test_foreign_and_missing_ids_are_404_on_every_route(
    app: Flask, plans: Plans, pf: Planflow
) -> None:
    mine = plan_in(plans, pf)
    other = plan_in(plans, pf, unit="branch_b")
    draft = plans.create()  # never submitted: only its own unit sees it
    theirs = pf.execution.attach_evidence(
        other,
        "i1",
        "b.pdf",
        "application/pdf",
        PDF,
        actor="drafter_b",
    )
    own = pf.execution.attach_evidence(
        mine,
        "i1",
        "a.pdf",
        "application/pdf",
        PDF,
        actor="drafter_a",
    )
    drafter_b = signed_in(app, "drafter_b")
    drafter_a = signed_in(app, "drafter_a")
    reviewer = signed_in(app, "reviewer")
    cases: list[tuple[WebClient, int, int]] = [
        (drafter_b, mine, own.id or 0),  # another unit's plan
        (drafter_a, 999_999, own.id or 0),  # no such plan
        (reviewer, draft, own.id or 0),  # a draft the reviewer may not see
    ]
    for user, plan_id, evidence_id in cases:
        before = footprint(pf, mine)
        assert user.get(f"/plans/{plan_id}/progress").status_code == 404
        assert user.get(f"/plans/{plan_id}/evidence/{evidence_id}").status_code == 404
        assert send(user, plan_id, "i1", 1, status="done").status_code == 404
        assert user.get(f"/plans/{plan_id}/self-assessment").status_code == 404
        assert user.post_form(f"/plans/{plan_id}/self-assessment", {}).status_code == 404
        assert footprint(pf, mine) == before
    # Evidence of another plan through a plan the user may see; an unknown item.
    assert drafter_a.get(f"/plans/{mine}/evidence/{theirs.id}").status_code == 404
    assert drafter_a.get(f"/plans/{mine}/evidence/{2**31 - 1}").status_code == 404
    assert drafter_a.get(f"/plans/{mine}/evidence/{2**31}").status_code == 404
    assert send(drafter_a, mine, "i9", plans.version(mine), status="done").status_code == 404
    assert send(drafter_a, mine, "s1", plans.version(mine), status="done").status_code == 404


# -- garbage --------------------------------------------------------------------------------


def test_no_input_breaks_the_progress_form(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    # Every value in one app and database; each meets a plan of its own.
    auth.login("drafter_a")
    failures: list[tuple[str, str, str, int | str]] = []
    for value in NASTY:
        plan_id = plan_in(plans, pf)
        version = plans.version(plan_id)
        for item in ["i1", "i2"]:
            fields = {
                "status": value,
                "report": value,
                "measured": value,
                "expected_version": value,
            }
            for name in fields:
                response = send(client, plan_id, item, version, **{name: value})
                if response.status_code not in (302, 404, 409, 422):
                    failures.append((value, item, name, response.status_code))
                if "<script>" in text(response):
                    failures.append((value, item, name, "unescaped script"))
                version = plans.version(plan_id)
            response = send(client, plan_id, item, version, file=(PDF, value, value))
            if response.status_code not in (302, 422):
                failures.append((value, item, "evidence", response.status_code))
            version = plans.version(plan_id)
        # Item keys in the address are looked up, never trusted.
        key = quote(value, safe="") or "%20"
        status = client.post_form(f"/plans/{plan_id}/progress/{key}", {}).status_code
        if status != 404:
            failures.append((value, key, "address", status))
    assert not failures


def test_messages_are_refused_with_clear_words(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans, pf)
    auth.login("drafter_a")
    before = footprint(pf, plan_id)
    version = plans.version(plan_id)
    cases = [
        ({"status": "finished"}, "Choose one of the options."),
        ({"report": "a\x00b"}, "This text contains a control character; remove it."),
        ({"report": "x" * 4001}, "At most 4000 characters, please."),
        ({"measured": "NaN"}, "Give a number, e.g. 95 or 87.5."),
        ({"measured": "9" * 41}, "This number is too long."),
    ]
    for fields, message in cases:
        response = send(client, plan_id, "i2", version, **({"status": "done"} | fields))
        assert response.status_code == 422, fields
        assert message in text(response), fields
    response = send(client, plan_id, "i2", version, status="done", measured="1e309")
    assert response.status_code == 422
    assert footprint(pf, plan_id) == before


def test_the_board_in_chinese(app: Flask, plans: Plans, pf: Planflow) -> None:
    plan_id = plan_in(plans, pf)
    drafter = signed_in(app, "drafter_a")
    drafter.post_form("/auth/language", {"language": "zh"})
    page = text(drafter.get(f"/plans/{plan_id}/progress"))
    assert "进展" in page and "佐证材料" in page and "未开始" in page


def test_evidence_links_use_the_evidence_route(
    client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plan_in(plans, pf)
    rows = [
        pf.execution.attach_evidence(
            plan_id,
            key,
            f"{key}.pdf",
            "application/pdf",
            PDF + key.encode(),
            actor="drafter_a",
        )
        for key in ["i1", "i2"]
    ]
    auth.login("drafter_a")
    page = text(client.get(f"/plans/{plan_id}/progress"))
    links = re.findall(rf'href="/plans/{plan_id}/evidence/(\d+)"', page)
    assert links == [str(r.id) for r in rows]
