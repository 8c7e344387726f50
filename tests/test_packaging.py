"""planflow as a library: the wheel carries what an installation needs, and nothing else.

The wheel is built from this checkout and unpacked (which is what installing
a pure-Python wheel does); a fresh interpreter then runs from it, in an empty
folder, with the checkout nowhere on its path: ``from planflow import
Planflow`` works and ``planflow run --prepare-only`` finds the shipped
definitions as package data, migrates a new database and loads the demo.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

#: Not part of a source tree: what a checkout accumulates.
LEFT_OUT = (".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", "node_modules")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools writes build/ and *.egg-info into the source
    # folder, and two test processes building in the checkout at once collide.
    source = tmp_path_factory.mktemp("source") / "planflow"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*LEFT_OUT))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(out), str(source)],
        check=True, capture_output=True, cwd=out,
    )  # fmt: skip
    (built,) = out.glob("planflow-*.whl")
    return built


def test_the_wheel_holds_the_library_its_data_and_the_web_ui(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "planflow/__init__.py",
        "planflow/py.typed",
        "planflow/workflows/annual_plan.yaml",
        "planflow/workflows/committee_plan.yaml",
        "planflow/storage/migrations/env.py",
        "planflow/storage/migrations/script.py.mako",
        "planflow_web/__init__.py",
        "planflow_web/templates/base.html",
        "planflow_web/translations/zh/LC_MESSAGES/messages.mo",
        "planflow_web/translations/ko/LC_MESSAGES/messages.mo",
    ):
        assert needed in names, needed
    assert any(n.startswith("planflow/storage/migrations/versions/0001") for n in names)
    tops = {n.split("/")[0] for n in names}
    # No generic top-level names, and no benchmark harness in the installed package.
    assert tops <= {"planflow", "planflow_web"} | {n for n in tops if n.endswith(".dist-info")}
    assert not any(n.startswith(("planflow/bench", "bench/", "webui/")) for n in names)
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    requires = [ln for ln in text.splitlines() if ln.startswith("Requires-Dist:")]
    core = [ln for ln in requires if "extra ==" not in ln]
    # The web UI and its servers are the [web] extra: the library alone pulls none of them.
    for web_only in ("flask", "gunicorn", "waitress", "wtforms"):
        assert not any(web_only in ln.lower() for ln in core), web_only
    assert any("flask" in ln.lower() and 'extra == "web"' in ln for ln in requires)


def test_an_unpacked_wheel_runs_in_an_empty_folder(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANFLOW_")}
    env["PYTHONPATH"] = str(site)
    script = (
        "import sys\n"
        # The test's own interpreter has planflow installed in editable mode, whose
        # finder would quietly supply any subpackage the wheel left out.
        "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f)]\n"
        "import importlib, pkgutil, planflow, planflow_web\n"
        f"assert planflow.__file__.startswith({str(site)!r}), planflow.__file__\n"
        "for pkg in (planflow, planflow_web):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if m.ispkg:\n"
        "            where = importlib.import_module(m.name).__file__\n"
        f"            assert where.startswith({str(site)!r}), m.name\n"
        "from planflow import Planflow\n"
        "from planflow.cli import main\n"
        "sys.exit(main(['run', '--prepare-only']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=empty, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "planflow is ready" in done.stdout
    assert (empty / "instance" / "planflow.sqlite3").is_file()
    assert "Traceback" not in done.stderr


def test_every_package_of_the_tree_is_in_the_wheel_list() -> None:
    """pyproject.toml names the packages one by one (three folders map to two
    top-level names); a new sub-package left off that list installs nowhere."""

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(project["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(("planflow", *p.parent.relative_to(ROOT / "src" / "planflow").parts))
        for p in (ROOT / "src" / "planflow").rglob("__init__.py")
    } | {
        ".".join(("planflow_web", *p.parent.relative_to(ROOT / "webui").parts))
        for p in (ROOT / "webui").rglob("__init__.py")
    }
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages"
