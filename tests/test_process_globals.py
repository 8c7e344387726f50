"""planflow leaves the process as it found it: no global sqlite3 settings.

``sqlite3.register_adapter`` and ``register_converter`` change how every
connection of the process binds and reads values, including those of the
program that imported planflow. A fresh interpreter imports planflow (the
library, its command line and the web UI), loads the demo federation (plans
driven through every state, inspections scored) and reads it back; the
module's registries must be what they were before.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sqlite3
import sys

adapters, converters = dict(sqlite3.adapters), dict(sqlite3.converters)

import planflow.cli
import planflow_web
from planflow import Planflow
from planflow.demo import load_demo

pf = Planflow("sqlite:///" + sys.argv[1])
pf.init()
load_demo(pf, year=2027)
assert pf.verify_audit().ok
assert len(pf.plans(page_size=100).items) == 13
pf.close()
assert dict(sqlite3.adapters) == adapters, set(sqlite3.adapters) - set(adapters)
assert dict(sqlite3.converters) == converters, set(sqlite3.converters) - set(converters)
print("unchanged")
"""


def test_importing_and_using_planflow_leaves_sqlite3_alone(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "demo.sqlite3")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "unchanged"
