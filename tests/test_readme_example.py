"""The README's "Using planflow from Python" example, run exactly as written.

The ```python block is taken from README.md and executed in a fresh folder
(its SQLite file is created there); what it prints must be the ```text block
that follows it. A change to the library that breaks the example fails here.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## Using planflow from Python"


def blocks(kind: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    assert SECTION in text, "the README lost its Python section"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{kind}\n(.*?)```", section, flags=re.S)


def test_the_readme_has_one_example_and_its_output() -> None:
    assert len(blocks("python")) == 1
    assert len(blocks("text")) == 1


def test_the_readme_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [code] = blocks("python")
    [expected] = blocks("text")
    monkeypatch.chdir(tmp_path)
    # Keep the example's evidence folder (unused, but configured) inside the temporary one.
    monkeypatch.setenv("PLANFLOW_INSTANCE", str(tmp_path / "instance"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})
    assert out.getvalue() == expected
    assert (tmp_path / "tutorial.sqlite3").is_file()
