"""What the benchmarks share: scratch databases, peak memory, child processes."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from planflow.storage.db import normalise_url, with_search_path

#: The content of every benchmark plan: one section, three items with due dates.
CONTENT = json.dumps(
    {
        "sections": [
            {
                "key": "s1",
                "title": "Work",
                "items": [
                    {"key": "i1", "text": "Inspection and acceptance", "due": 4},
                    {"key": "i2", "text": "Competitions", "due": 7},
                    {"key": "i3", "text": "Financial check", "due": "2027-12-31"},
                ],
            }
        ]
    },
    sort_keys=True,
    separators=(",", ":"),
)


def peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True)
class Scratch:
    """A throw-away database: ``url`` for planflow, ``raw`` for the floor's driver."""

    kind: str  # sqlite | postgresql
    url: str
    raw: str  # SQLite: the file's path; PostgreSQL: a libpq URL (use with ``schema``)
    schema: str | None = None


@contextmanager
def scratch_database(base_url: str | None, name: str) -> Iterator[Scratch]:
    """A fresh SQLite file in a temporary folder, or a fresh schema in PostgreSQL."""
    if base_url is None or base_url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix=f"planflow-{name}-") as folder:
            path = os.path.join(folder, f"{name}.sqlite3")
            yield Scratch("sqlite", f"sqlite:///{path}", path)
        return
    schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    # pre-ping: the run may have restarted the server (the soak's faults) since.
    admin = create_engine(normalise_url(base_url), isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = with_search_path(base_url, schema)
    raw = admin.url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        yield Scratch("postgresql", url, raw, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


#: The checkout that holds this package: a child interpreter must find ``bench``
#: there whatever the current directory (the package is not installed).
CHECKOUT = Path(__file__).resolve().parent.parent


def run_child(module: str, args: dict[str, object]) -> dict[str, object]:
    """Run one measurement in a fresh interpreter, so its peak memory is its own."""
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(CHECKOUT), *([path] if path else [])])}
    proc = subprocess.run(
        [sys.executable, "-m", module, json.dumps(args)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{proc.stderr.strip()}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))
