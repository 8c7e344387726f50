"""Two hosts on one PostgreSQL, one of them cut off mid-load and brought back (issue 19).

Each "host" is a Linux network namespace joined to this machine by a veth pair;
in it run a gunicorn (the web UI and API, as the README deploys it) and a
``planflow scheduler``, against the one PostgreSQL database, reached over the
host's own link (a TCP forwarder on the root end of the pair relays to the
server on 127.0.0.1). ``bench.soak_world`` seeds reviews whose tasks fall due
during the run; ``bench.soak_load`` clients comment, approve and create plans
through both hosts at once. Mid-run the first host's link goes down
(``ip link set ... down``): its clients' requests, its web workers' and its
scheduler's database connections stop where they are; a few seconds later the
link comes back. Then, from the database alone: no acknowledged change lost,
none stored twice, every reminder and escalation applied exactly once, the
audit chain verified; the second host answered throughout.

Needs root and ``ip netns`` (CI runs as root on this kind of machine); skipped
with the reason otherwise, and without PostgreSQL.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from conftest import POSTGRES_URL
from sqlalchemy.engine import make_url

from bench import soak, soak_load, soak_world
from bench.common import scratch_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

FORWARDER = Path(__file__).with_name("_tcp_forward.py")
PORT = 8000
PLANS = 30
CLIENTS = 6
#: gunicorn workers per host (of 4 threads): one keeps the start short on a busy
#: 2-core machine; the soak runs several.
WORKERS = 1
#: The run: load, the cut at CUT_AT for CUT_SECONDS, load until LOAD_SECONDS.
LOAD_SECONDS = 20.0
CUT_AT = 6.0
CUT_SECONDS = 5.0
CATCH_UP = 6.0


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass(frozen=True)
class Host:
    netns: str
    link: str  # the root namespace's end of the veth pair
    gateway: str  # its address: the host reaches the database through it
    address: str  # the host's own address


@pytest.fixture
def hosts() -> Iterator[list[Host]]:
    """Two network namespaces, each with a veth pair to the root namespace."""
    if POSTGRES_URL is None:
        pytest.skip("needs PostgreSQL (PLANFLOW_TEST_POSTGRES_URL)")
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to make network namespaces (ip netns)")
    tag = f"{os.getpid() % 10000:04d}{random.randrange(100):02d}"
    subnet = random.randrange(0, 250, 2)
    made: list[Host] = []
    try:
        for n in (1, 2):
            host = Host(f"pfhost{tag}-{n}", f"pfv{tag}{n}", f"10.231.{subnet + n}.1",
                        f"10.231.{subnet + n}.2")  # fmt: skip
            try:
                _ip("netns", "add", host.netns)
            except subprocess.CalledProcessError as refused:
                pytest.skip(f"ip netns is not permitted here: {refused.stderr.strip()}")
            made.append(host)
            probe = subprocess.run(["ip", "netns", "exec", host.netns, "true"],
                                   capture_output=True, text=True, check=False)  # fmt: skip
            if probe.returncode != 0:
                pytest.skip(f"ip netns exec is not permitted here: {probe.stderr.strip()}")
            _ip("link", "add", host.link, "type", "veth", "peer", "name", "eth0",
                "netns", host.netns)  # fmt: skip
            _ip("addr", "add", f"{host.gateway}/24", "dev", host.link)
            _ip("link", "set", host.link, "up")
            inside = ("netns", "exec", host.netns, "ip")
            _ip(*inside, "addr", "add", f"{host.address}/24", "dev", "eth0")
            _ip(*inside, "link", "set", "eth0", "up")
            _ip(*inside, "link", "set", "lo", "up")
        yield made
    finally:
        for host in made:
            subprocess.run(["ip", "netns", "del", host.netns], check=False)  # the pair goes too


def _forwarder(hosts: list[Host], server: str, port: int) -> subprocess.Popen[str]:
    """Relays each host's gateway:``port`` to the database ``server`` (host:port)."""
    listens = [f"{h.gateway}:{port}" for h in hosts]
    proc = subprocess.Popen(
        [sys.executable, str(FORWARDER), server, *listens], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


def test_two_hosts_one_cut_off_and_back_lose_and_double_nothing(
    hosts: list[Host], tmp_path: Path
) -> None:
    assert POSTGRES_URL is not None
    pg = make_url(POSTGRES_URL)
    port = pg.port or 5432
    forwarder = _forwarder(hosts, f"{pg.host or '127.0.0.1'}:{port}", port)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with scratch_database(POSTGRES_URL, "hosts") as scratch:
            began = time.monotonic()
            world = soak_world.seed(scratch.url, PLANS, timedelta(seconds=LOAD_SECONDS * 0.7))
            bases = []
            for n, host in enumerate(hosts, 1):
                url = make_url(scratch.url).set(host=host.gateway)
                where = url.render_as_string(hide_password=False)
                inside = ["ip", "netns", "exec", host.netns]
                folder = tmp_path / f"host{n}"
                folder.mkdir()
                web = soak.start_web(where, f"{host.address}:{PORT}", WORKERS, 4, folder, inside)
                procs += [web, soak.start_scheduler(where, folder, "scheduler", inside)]
                bases.append(f"http://{host.address}:{PORT}")
            seeded = time.monotonic()
            for base, web in zip(bases, procs[::2], strict=True):
                soak.wait_healthy(base, web, 90)
            serving = time.monotonic()

            tally = soak_load.Tally()
            started = time.monotonic()
            clients = soak_load.start(world, bases, CLIENTS, tally)
            time.sleep(CUT_AT)
            cut_from = time.time()
            _ip("link", "set", hosts[0].link, "down")
            time.sleep(CUT_SECONDS)
            _ip("link", "set", hosts[0].link, "up")
            cut_until = time.time()
            time.sleep(max(0.0, LOAD_SECONDS - (time.monotonic() - started)))
            soak_load.stop(clients)
            # Host 1 is back: it answers, and writes through its own database link again.
            token = next(iter(world.tokens.values()))
            back = requests.get(
                f"{bases[0]}/api/v1/plans/{next(iter(world.reviews))}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            assert back.status_code in (200, 404), back.text
            time.sleep(CATCH_UP)
            checked = soak_world.check(
                scratch.url, world, tally.told, datetime.now(UTC) - timedelta(seconds=CATCH_UP)
            )
            for proc in procs:
                assert proc.poll() is None, "a host's process died"
    finally:
        soak.stop_all(procs)
        forwarder.terminate()
        forwarder.wait(10)
        if forwarder.stdout is not None:
            forwarder.stdout.close()

    assert checked["problems"] == [], checked
    assert checked["audit_ok"] and checked["escalations"] > 0 and checked["comments_acked"] > 0
    errors_h1, errors_h2 = tally.errors[bases[0]], tally.errors[bases[1]]
    late = [t for t in tally.error_times if t > cut_until + soak_load.TIMEOUT + 1]
    print(
        f"\nrequests {sum(tally.requests.values())}, statuses {dict(tally.statuses)}; "
        f"errors host 1 {errors_h1} (cut {cut_until - cut_from:.1f} s), host 2 {errors_h2}; "
        f"comments {checked['comments_acked']} acked, {checked['comments_unanswered']} "
        f"unanswered; effects {checked['effects_applied']}; seconds: seed {seeded - began:.1f}, "
        f"start {serving - seeded:.1f}, load and check {time.monotonic() - serving:.1f}"
    )
    assert errors_h1 > 0, "the cut did not reach the first host's clients"
    assert errors_h2 == 0, "the second host stopped answering"
    assert late == [], "errors went on after the first host came back"
