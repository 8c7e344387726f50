"""The project's promises about itself: README commands, CI, purity rule."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PURE_MODULES = [
    "audit_chain.py",
    "calendar.py",
    "content.py",
    "content_checks.py",
    "content_diff.py",
    "content_items.py",
    "content_import.py",
    "deadlines.py",
    "diagram.py",
    "diagram_layers.py",
    "diagram_shapes.py",
    "engine.py",
    "errors.py",
    "escalation.py",
    "guards.py",
    "inspection.py",
    "org.py",
    "clock.py",
    "definitions",
]
FORBIDDEN = ("flask", "sqlalchemy", "sqlmodel", "alembic", "planflow.storage", "psycopg")


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block is not None
    assert text.startswith("# planflow\n\n```sh\n"), "the README must open with the commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    run, test = commands
    assert "planflow run" in run and "venv" in run
    assert "pytest" in test and "venv" in test


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_commands()[1] in ci
    assert "PLANFLOW_TEST_POSTGRES_URL" in ci


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    package = "planflow." + ".".join(path.relative_to(ROOT / "src" / "planflow").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rstrip(".").split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                names.add(".".join([*base, node.module or ""]).rstrip("."))
            else:
                names.add(node.module or "")
    return names


def test_pure_modules_import_no_framework_and_no_storage() -> None:
    offenders = []
    for name in PURE_MODULES:
        target = ROOT / "src" / "planflow" / name
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
        for path in files:
            for imported in _imports(path):
                if imported.startswith(FORBIDDEN) or ".storage" in imported:
                    offenders.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert offenders == []


def test_the_library_never_imports_flask_or_the_web_ui() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {imported}"
        for path in sorted((ROOT / "src" / "planflow").rglob("*.py"))
        for imported in _imports(path)
        if imported.startswith(("flask", "webui", "werkzeug", "jinja2"))
    ]
    assert offenders == []
