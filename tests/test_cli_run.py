"""``planflow run`` where the web UI cannot be served.

``pip install planflow`` without the ``[web]`` extra installs the web
package's entry point but not Flask. ``planflow run`` must say so in one
line, with what to install, not end in a traceback from importing Flask.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from planflow.cli import main, setup_cmds
from planflow.storage import passwords


def test_run_without_the_web_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLANFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'run.sqlite3'}")
    absent = EntryPoint("web", "planflow_web_not_installed:serve", "planflow.servers")
    monkeypatch.setattr(setup_cmds, "entry_points", lambda group: [absent])
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)  # the demo's 38 people, quickly
    code = main(["run", "--no-scheduler"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "planflow is ready" in out  # the database was prepared first
    [line] = err.splitlines()
    assert line.startswith("planflow: error: the web UI is not installed"), line
    assert "pip install 'planflow[web]'" in line and "nothing to run" in line
