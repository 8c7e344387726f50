"""The project's promises about itself: README commands, CI, purity rule."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: What a module of the pure core may import besides the standard library (see
#: ``planflow/core/__init__.py``): one list, the rule's only statement in code.
PURE_PACKAGE = "planflow.core"
PURE_MAY_IMPORT = ("planflow.core", "planflow.errors", "transitions", "yaml")


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
    if path.is_relative_to(ROOT / "webui"):
        package = "planflow_web." + ".".join(path.relative_to(ROOT / "webui").parts[:-1])
    else:
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


def _module_path(name: str) -> Path | None:
    base = ROOT / "src" / Path(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _may_import(name: str) -> bool:
    """``name`` is one of ``PURE_MAY_IMPORT`` or inside one (not merely named alike)."""
    return any(name == ok or name.startswith(f"{ok}.") for ok in PURE_MAY_IMPORT)


def test_the_purity_rule_is_stated_once() -> None:
    """The core's docstring lists what it may import, exactly as this test holds it;
    the README, the package docstring and ARCHITECTURE.md point there instead of
    keeping lists of their own (they had three different ones)."""
    import planflow.core

    statement = planflow.core.__doc__ or ""
    listed = re.search(r"only the standard library and these::\n\n\s+(.+)\n", statement)
    assert listed is not None, "planflow/core/__init__.py no longer states the rule"
    assert tuple(sorted(n.strip() for n in listed.group(1).split(","))) == tuple(
        sorted(PURE_MAY_IMPORT)
    )
    for pointer in ("README.md", "ARCHITECTURE.md", "src/planflow/__init__.py"):
        said = " ".join((ROOT / pointer).read_text(encoding="utf-8").split())
        assert "planflow/core/__init__.py" in said, f"{pointer} does not point to the rule"
        assert "imports only" not in said, f"{pointer} states the rule again"


def test_the_core_imports_only_the_core() -> None:
    """Walks every import reachable from ``planflow.core``, nested imports included."""
    stdlib = sys.stdlib_module_names
    offenders = []
    seen: set[str] = set()
    todo = [
        PURE_PACKAGE
        + "."
        + ".".join(p.relative_to(ROOT / "src" / "planflow" / "core").parts)
        .removesuffix(".py")
        .removesuffix(".__init__")
        for p in sorted((ROOT / "src" / "planflow" / "core").rglob("*.py"))
    ]
    while todo:
        name = todo.pop().rstrip(".")
        if name in seen:
            continue
        seen.add(name)
        path = _module_path(name)
        assert path is not None, name
        for imported in _imports(path):
            top = imported.split(".")[0]
            if top == "__future__" or top in stdlib:
                continue
            if not _may_import(imported):
                offenders.append(f"{path.relative_to(ROOT)} imports {imported}")
            elif imported.startswith("planflow."):
                # ``from planflow.core import x`` names a module or a name in one.
                todo.append(imported if _module_path(imported) else imported.rsplit(".", 1)[0])
    assert offenders == []
    assert len(seen) > 20  # the walk really found the core


def test_the_library_never_imports_flask_or_the_web_ui() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {imported}"
        for path in sorted((ROOT / "src" / "planflow").rglob("*.py"))
        for imported in _imports(path)
        if imported.startswith(("flask", "planflow_web", "webui", "werkzeug", "jinja2"))
    ]
    assert offenders == []


def test_the_web_ui_runs_no_sql_of_its_own() -> None:
    """The web UI reaches the database only through the library (issue 15)."""
    offenders = [
        f"{path.relative_to(ROOT)} imports {imported}"
        for path in sorted((ROOT / "webui").rglob("*.py"))
        for imported in _imports(path)
        if imported.startswith(("sqlalchemy", "sqlmodel", "psycopg", "sqlite3"))
    ]
    assert offenders == []
    # Nor SQL text handed to something that runs it (the library's own would do that).
    statement = re.compile(r"\b(SELECT \S.* FROM|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b")
    written = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "webui").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if statement.search(line)
    ]
    assert written == []


#: Where a path that ARCHITECTURE.md names may live, tried in order.
_TREES = ("", "src/", "src/planflow/")


def _named_file(name: str) -> Path | None:
    for tree in _TREES:
        if (ROOT / tree / name).is_file():
            return ROOT / tree / name
    return None


def test_architecture_names_only_files_and_functions_that_exist() -> None:
    """Modules were moved and split; the walk-throughs must follow them. Every
    `path.py` the page names exists, and a name given after it (`Class.method()`,
    `function`, `CONSTANT`) is defined or assigned in that file."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    missing = []
    for found in re.finditer(r"`((?:planflow/|webui/)?[\w/]+\.py)`(?: `([\w.]+)(?:\(\))?`)?", text):
        path = _named_file(found.group(1))
        if path is None:
            missing.append(found.group(1))
            continue
        for part in (found.group(2) or "").split("."):
            if part and not re.search(
                rf"^\s*(?:def|class) {part}\b|^\s*{part}\b.*=|^\s*{part}:", path.read_text(), re.M
            ):
                missing.append(f"{found.group(1)} {part}")
    assert missing == []
    assert len(re.findall(r"`[\w/]+\.py`", text)) > 20  # the page still names its files


#: The longest a module under ``src/`` or ``webui/`` may be, in lines (issue 15: modules
#: of about 100-300 lines with one job; past this a module holds more than one).
MAX_MODULE_LINES = 400
#: Modules still longer, each with why it could not be split yet. Take a module off
#: the list when it is split (the test fails while it is listed but short enough).
LONG_MODULES: dict[str, str] = {}


def _source_lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_is_longer_than_the_limit() -> None:
    """Issue 15: a module over ``MAX_MODULE_LINES`` is split along its seams, or listed
    in ``LONG_MODULES`` with the reason it cannot be yet. Migrations are exempt: each
    is one step of the schema's history and is never edited after its release."""
    found = {
        path.relative_to(ROOT).as_posix(): _source_lines(path)
        for tree in ("src", "webui")
        for path in sorted((ROOT / tree).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
    }
    assert len(found) > 100  # the walk really found the modules
    too_long = sorted(f"{p} ({n} lines)" for p, n in found.items() if n > MAX_MODULE_LINES)
    assert [t for t in too_long if t.split(" ")[0] not in LONG_MODULES] == []
    # A listed module that is now short enough (or gone) comes off the list.
    stale = [p for p in LONG_MODULES if found.get(p, 0) <= MAX_MODULE_LINES]
    assert stale == []
