"""``planflow plans import`` on SQLite and PostgreSQL, and reading plan files.

The command creates a draft through the facade as the drafter; ``--dry-run
--json`` creates nothing and prints what ``plans content`` accepts. Files
that cannot be a plan are refused in one line with a code, never a traceback.
"""

from __future__ import annotations

import codecs
import io
import json
from pathlib import Path

import docx
import pytest
from conftest import CliRun, Org

from planflow.app import Planflow
from planflow.core.content.importer import import_text
from planflow.errors import PermissionDenied, ValidationError
from planflow.integrations.documents import reading
from planflow.integrations.documents.encodings import decode
from planflow.integrations.documents.reading import DocumentRefused, read_plan_bytes

DATA = Path(__file__).resolve().parent / "data"
ZH = DATA / "imports" / "zh_mixed.txt"
KO = DATA / "imports" / "ko_mixed.txt"
SEVERAL = DATA / "seeds" / "004_e802f80596a033f6.txt"


def _import(cli: CliRun, url: str, path: Path, *more: str) -> tuple[int, str, str]:
    argv = ["plans", "import", str(path), "--unit", "branch_a", "--year", "2024"]
    return cli("--database-url", url, *argv, "--as", "drafter_a", *more)


def test_import_creates_a_draft_with_the_dry_runs_content(
    cli: CliRun, database_url: str, pf: Planflow, org: Org
) -> None:
    code, out, err = _import(cli, database_url, ZH, "--dry-run", "--json")
    assert code == 0 and "warning" not in err
    shown = json.loads(out)
    # Item 3.2 names two targets ("不少于4次，参与率90%以上"): both are kept, in order.
    assert [t["value"] for t in shown["sections"][2]["items"][1]["targets"]] == [4, 90]
    assert not pf.plans().items  # a dry run creates nothing
    # The review is listed line by line, with what was written under its headings.
    assert [r["text"] for r in shown["skipped"] if r["reason"] == "review"] == [
        "一、2023年工作回顾",
        "全年共发展会员1200人，完成了既定目标。",
        "二、存在的问题",
        "基层工会活动经费不足。",
    ]
    code, out, _ = _import(cli, database_url, ZH)
    assert code == 0 and out.startswith("plan ")
    (plan,) = pf.plans().items
    assert (plan.title, plan.state, plan.unit.code) == (
        "某某区总工会2024年工作计划",
        "draft",
        "branch_a",
    )
    saved = pf.content.content(plan.id).to_dict()["sections"]
    for section in saved:
        for item in section["items"]:
            del item["key"]
        del section["key"]
    assert saved == shown["sections"]


def test_plans_content_takes_the_dry_run_json(
    cli: CliRun, database_url: str, pf: Planflow, org: Org, tmp_path: Path
) -> None:
    _, out, _ = _import(cli, database_url, KO, "--dry-run", "--json")
    edited = json.loads(out)
    edited["sections"][0]["title"] = "조직 강화 (수정)"
    (tmp_path / "plan.json").write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")
    plan_id = pf.create_plan(unit_code="branch_a", year=2024, title="계획", actor="drafter_a")
    code, _, err = cli(
        "--database-url", database_url, "plans", "content", str(plan_id),
        str(tmp_path / "plan.json"), "--as", "drafter_a",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert pf.content.content(plan_id).sections[0].title == "조직 강화 (수정)"


def test_a_file_with_no_plan_in_it_never_empties_a_plan(
    cli: CliRun, database_url: str, pf: Planflow, org: Org, tmp_path: Path
) -> None:
    """A mistyped path (a YAML file, a note in prose) used to replace the plan's content
    with nothing, exit 0: found by a new user's walk. Refused now, as the editor does."""
    plan_id = pf.create_plan(unit_code="branch_a", year=2024, title="계획", actor="drafter_a")
    code, _, _ = cli(
        "--database-url", database_url, "plans", "content", str(plan_id), str(KO),
        "--as", "drafter_a",
    )  # fmt: skip
    before = pf.content.content(plan_id).to_dict()
    assert code == 0 and before["sections"]
    for name, text in (("settings.yaml", "workflow: annual_plan\nversion: 2\n"),
                       ("note.txt", "hello world\n")):  # fmt: skip
        (tmp_path / name).write_text(text, encoding="utf-8")
        code, out, err = cli(
            "--database-url", database_url, "plans", "content", str(plan_id),
            str(tmp_path / name), "--as", "drafter_a",
        )  # fmt: skip
        assert code == 1 and out == "" and "no sections or items" in err, (name, err)
        assert len(err.splitlines()) == 1
        assert pf.content.content(plan_id).to_dict() == before
    code, _, err = _import(cli, database_url, tmp_path / "note.txt")
    assert code == 1 and "no sections or items" in err
    assert [p.id for p in pf.plans().items] == [plan_id]  # no empty draft was created


def test_a_file_of_several_plans_is_created_only_with_a_part(
    cli: CliRun, database_url: str, pf: Planflow, org: Org
) -> None:
    code, _, err = _import(cli, database_url, SEVERAL)
    assert code == 1 and "--part" in err and len(err.splitlines()) == 1
    assert not pf.plans().items
    code, _, err = _import(cli, database_url, SEVERAL, "--part", "2")
    assert code == 0 and "2 plans" in err  # the warning names the choice
    (plan,) = pf.plans().items
    assert pf.content.content(plan.id).sections[0].title == "指导思想"


def test_a_word_file_named_txt_is_read_as_word(
    cli: CliRun, database_url: str, org: Org, tmp_path: Path
) -> None:
    document = docx.Document()
    for line in ZH.read_text(encoding="utf-8").splitlines():
        document.add_paragraph(line)
    document.save(tmp_path / "plan.txt")
    code, out, _ = _import(cli, database_url, tmp_path / "plan.txt", "--dry-run", "--json")
    assert code == 0
    assert json.loads(out)["sections"][0]["title"] == "组织建设"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "document_empty"),
        (b"  \r\n\t\n", "document_empty"),
        (b"\x00\x01\x02binary\x00" * 50, "document_binary"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "document_kind"),
        (b"%PDF-1.7\n", "document_kind"),
        (b"PK\x03\x04 not really a zip", "document_damaged"),
    ],
)
def test_files_that_are_no_plan_are_refused_with_a_code(data: bytes, code: str) -> None:
    with pytest.raises(DocumentRefused) as refused:
        read_plan_bytes(data)
    assert refused.value.code == code


def test_the_size_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(reading, "MAX_BYTES", 10)
    (tmp_path / "big.txt").write_text("一、学习\n1、学理论\n", encoding="utf-8")
    with pytest.raises(DocumentRefused) as refused:
        reading.read_plan_file(tmp_path / "big.txt")
    assert refused.value.code == "document_too_big"
    assert refused.value.params["max"] == 10


def test_refusals_on_the_command_line_are_one_line(
    cli: CliRun, database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "junk.txt").write_bytes(b"\x00\xff" * 100)
    code, _, err = _import(cli, database_url, tmp_path / "junk.txt", "--dry-run")
    assert code == 1 and err.startswith("planflow: error: ") and len(err.splitlines()) == 1
    code, _, err = _import(cli, database_url, tmp_path / "missing.txt", "--dry-run")
    assert code == 1 and "cannot read" in err


@pytest.mark.parametrize(
    ("path", "encodings"),
    [(ZH, ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"]), (KO, ["cp949", "euc-kr"])],
)
def test_encodings_are_detected(path: Path, encodings: list[str]) -> None:
    text = path.read_text(encoding="utf-8")
    for encoding in encodings:
        data = text.encode(encoding)
        if encoding == "utf-16":
            assert data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        decoded = decode(data)
        assert decoded is not None and decoded[0].lstrip("\ufeff") == text, encoding
        # Short lines alone too: a title is all some files have in common with their text.
        first = text.splitlines()[1].encode(encoding if encoding != "utf-16" else "utf-8")
        assert decode(first) is not None and decode(first)[0] == text.splitlines()[1]
    assert read_plan_bytes(io.BytesIO(text.encode(encodings[-1])).getvalue())[0].text


def test_a_plan_as_docx_from_the_command_line(
    cli: CliRun, database_url: str, pf: Planflow, org: Org, tmp_path: Path
) -> None:
    code, out, _ = _import(cli, database_url, KO)
    (plan,) = pf.plans().items
    target = tmp_path / "plan.docx"
    argv = ["plans", "docx", str(plan.id), "--as", "drafter_a", "--language", "ko"]
    code, out, _ = cli("--database-url", database_url, *argv, "-o", str(target))
    assert code == 0, out
    paragraphs = [p.text for p in docx.Document(str(target)).paragraphs]
    assert "승인 기록" in paragraphs and paragraphs[0] == plan.title
    argv = ["plans", "docx", str(plan.id), "--as", "drafter_b"]
    code, _, err = cli("--database-url", database_url, *argv, "-o", str(target))
    assert code != 0 and "Traceback" not in err  # drafter_b may not see branch_a's plan


def test_a_draft_is_created_with_its_content_or_not_at_all(pf: Planflow, org: Org) -> None:
    content = import_text("一、组织建设\n1. 发展会员，4月完成。", year=2027).content
    with pytest.raises(ValidationError) as info:
        pf.create_plan(
            unit_code="branch_a", year=2028, title="T", actor="drafter_a", content=content
        )
    assert info.value.code == "content_year_mismatch"
    with pytest.raises(PermissionDenied):
        pf.create_plan(
            unit_code="branch_b", year=2027, title="T", actor="drafter_a", content=content
        )
    assert not pf.plans().items  # a refusal leaves no empty draft behind
    plan_id = pf.create_plan(
        unit_code="branch_a", year=2027, title="T", actor="drafter_a", content=content
    )
    assert pf.content.content(plan_id) == content
    plan = pf.plan(plan_id)
    assert (plan.item_count, plan.version) == (1, 1)  # one change: the creation
    assert [e.action for e in pf.audit_trail(plan_id)] == ["create"]
