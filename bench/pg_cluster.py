"""A PostgreSQL cluster of one's own, to restart for real (the soak's and the
multi-host test's database restart).

The server the test suite shares (127.0.0.1:5432) is never restarted: other
tests, and other people's, run on it. Instead ``own_cluster`` makes a
throw-away cluster with ``initdb`` in a temporary folder, started with
``pg_ctl`` on a free port of 127.0.0.1 (trust authentication, no fsync: it is
thrown away), and ``restart`` stops it (``-m fast``: every backend is ended,
as in a real restart or failover), keeps it down a moment, and starts it
again. PostgreSQL refuses to run as root, so as root the cluster belongs to
the ``postgres`` user (``runuser``).

``terminate_backends`` is the lighter fault, usable on any server: it ends
the backends whose ``application_name`` is the one the processes under test
were given (``with_application_name``), and only those.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from planflow.storage.db import normalise_url


def _bindir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are: on PATH, or Debian's versioned folder."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(folders[0]).parent if folders else None


def why_not() -> str | None:
    """Why an own cluster cannot be made here, or None if it can."""
    if _bindir() is None:
        return "initdb is not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A running cluster: ``url`` reaches its ``postgres`` database."""

    folder: Path
    port: int
    url: str
    restarts: int = 0

    def _pg_ctl(self, *args: str) -> None:
        bindir = _bindir()
        assert bindir is not None
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        command = [str(bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-w", "-t", "60",
                   "-l", str(self.folder / "server.log"), "-o", options, *args]  # fmt: skip
        subprocess.run(_as_owner(command), check=True, capture_output=True, text=True)

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    def restart(self, down_seconds: float = 2.0) -> None:
        """Stop (every backend ended), stay down ``down_seconds``, start again."""
        self.stop()
        time.sleep(down_seconds)
        self.start()
        self.restarts += 1


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def own_cluster() -> Iterator[Cluster]:
    """A new cluster, running until the block ends; then stopped and removed."""
    reason = why_not()
    if reason is not None:
        raise RuntimeError(f"cannot make a PostgreSQL cluster of our own: {reason}")
    bindir = _bindir()
    assert bindir is not None
    folder = Path(tempfile.mkdtemp(prefix="planflow-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
        subprocess.run(
            _as_owner([str(bindir / "initdb"), "-D", str(folder / "data"), "-A", "trust",
                       "-U", "postgres", "-E", "UTF8", "--no-sync"]),
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        port = _free_port()
        cluster = Cluster(folder, port, f"postgresql://postgres@127.0.0.1:{port}/postgres")
        cluster.start()
        try:
            yield cluster
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):
                cluster.stop()  # fails only if already down (a restart that failed)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def with_application_name(url: str, name: str) -> str:
    """``url`` whose connections show ``name`` in ``pg_stat_activity`` (PostgreSQL)."""
    parsed = make_url(url)
    if not parsed.get_backend_name().startswith("postgresql"):
        return url
    return parsed.update_query_dict({"application_name": name}).render_as_string(
        hide_password=False
    )


def terminate_backends(url: str, name: str) -> int:
    """End every backend whose application is ``name``; how many were ended."""
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            ended = conn.execute(
                text(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                    "FROM pg_stat_activity WHERE application_name = :name "
                    "AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            ).scalar_one()
    finally:
        admin.dispose()
    return int(ended)
