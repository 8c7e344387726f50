"""The soak's clients: threads driving a mixed load at one or more hosts' HTTP API.

Each client is a token holder (a union's reviewer, or a branch's drafter) and, in a
loop until told to stop, picks one of: read the plan list, read a plan, comment on a
plan (a body no one else sends), approve a plan under review with the version it
just read (``expected_version``: a race answers 409), or, for a drafter, create a
plan (a title no one else sends). Hosts are taken in turn, so every host serves
every kind of request; a host that does not answer is counted and the next one
tried on the following request.

What each client was told is kept (``soak_world.Outcome``) so the final check can
say whether an acknowledged change was lost, a change stored twice, or a change
stored that no one acknowledged beyond the requests left without an answer.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

from bench.soak_world import YEAR, Outcome, World

#: Seconds a request may take before it counts as unanswered.
TIMEOUT = 15
#: Pause between one client's requests: a moderate load on a shared machine.
THINK = 0.02


@dataclass
class Tally:
    """Counts shared by the clients (under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: Counter[str] = field(default_factory=Counter)  # kind -> sent
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # 5xx and no answer, by host
    error_times: list[float] = field(default_factory=list)  # when each failed request was sent
    #: Each error: (time.time(), host, what): "no answer", "500", "503 saved=no", ...
    error_log: list[tuple[float, str, str]] = field(default_factory=list)
    #: The request each error answered: (time.time(), kind), in the order of ``error_log``.
    error_requests: list[tuple[float, str]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    told: Outcome = field(default_factory=Outcome)

    def errors_by_kind(self) -> dict[str, int]:
        return dict(Counter(what for _, _, what in self.error_log))

    def percentiles(self) -> dict[str, float]:
        ordered = sorted(self.latencies)
        if not ordered:
            return {}

        def pick(q: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

        return {"p50_ms": pick(0.5), "p95_ms": pick(0.95), "p99_ms": pick(0.99)}


class Client(threading.Thread):
    def __init__(
        self, number: int, user: str, world: World, hosts: list[str], tally: Tally
    ) -> None:
        super().__init__(name=f"soak-client-{number}", daemon=True)
        self.number, self.user, self.world, self.hosts, self.tally = (
            number, user, world, hosts, tally,
        )  # fmt: skip
        self.stop = threading.Event()
        self.random = random.Random(number)
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {world.tokens[user]}"
        self.branch = world.drafters.get(user)
        self.mine = [
            p
            for p, who in world.reviews.items()
            if who == user or world.branch_of[p] == self.branch
        ]
        self.sent = 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.sent += 1
            with contextlib.suppress(requests.RequestException):  # counted in ``call``
                self.one()
            time.sleep(THINK)

    def one(self) -> None:
        roll = self.random.random()
        if self.branch is not None and roll < 0.15:
            title = f"client {self.number}-{self.sent}"
            body = {"unit": self.branch, "year": YEAR + 1, "title": title}
            told = self.tally.told
            self.write("create", "POST", "/api/v1/plans", body, title, told.created_acked,
                       told.created_unknown)  # fmt: skip
            return
        plan = self.random.choice(self.mine or list(self.world.reviews))
        if roll < 0.35:
            self.call("list", "GET", "/api/v1/plans?state=under_review")
        elif roll < 0.55:
            self.call("read", "GET", f"/api/v1/plans/{plan}")
        elif roll < 0.85 or self.branch is not None:
            text = f"soak {self.number}-{self.sent}"
            told = self.tally.told
            self.write("comment", "POST", f"/api/v1/plans/{plan}/comments", {"body": text}, text,
                       told.comments_acked, told.comments_unknown)  # fmt: skip
        else:
            self.approve(plan)

    def approve(self, plan: int) -> None:
        seen = self.call("read", "GET", f"/api/v1/plans/{plan}")
        if seen is None or seen.status_code != 200 or seen.json().get("state") != "under_review":
            return
        version = seen.json()["version"]
        answer = self.call("approve", "POST", f"/api/v1/plans/{plan}/actions/approve",
                           {"expected_version": version})  # fmt: skip
        with self.tally.lock:
            if answer is not None and answer.status_code == 200:
                self.tally.told.approvals_acked[plan] += 1
            elif answer is None or answer.status_code >= 500:
                self.tally.told.approvals_unknown[plan] += 1  # may or may not be in

    def write(
        self, kind: str, method: str, path: str, body: Any, key: str, acked: set[str],
        unknown: set[str],
    ) -> None:  # fmt: skip
        answer = self.call(kind, method, path, body)
        with self.tally.lock:
            if answer is None or answer.status_code >= 500:
                unknown.add(key)  # may or may not have been saved
            elif answer.status_code in (200, 201):
                acked.add(key)

    def call(self, kind: str, method: str, path: str, body: Any = None) -> requests.Response | None:
        host = self.hosts[self.sent % len(self.hosts)]
        sent_at, started = time.time(), time.monotonic()
        try:
            answer = self.http.request(method, host + path, json=body, timeout=TIMEOUT)
        except requests.RequestException:
            answer = None
        took = time.monotonic() - started
        with self.tally.lock:
            self.tally.requests[kind] += 1
            if answer is None or answer.status_code >= 500:
                self.tally.errors[host] += 1
                self.tally.error_times.append(sent_at)
                self.tally.error_log.append((time.time(), host, _what(answer)))
                self.tally.error_requests.append((self.tally.error_log[-1][0], kind))
            if answer is not None:
                self.tally.statuses[answer.status_code] += 1
                self.tally.latencies.append(took)
        return answer


def _what(answer: requests.Response | None) -> str:
    """An error as counted by kind: no answer, or the status (a 503 with what it
    said was saved: "no", or "unknown" when the connection died at the COMMIT)."""
    if answer is None:
        return "no answer"
    if answer.status_code != 503:
        return str(answer.status_code)
    try:
        saved = answer.json().get("params", {}).get("saved", "?")
    except ValueError:
        saved = "?"  # not planflow's answer (a proxy's, say)
    return f"503 saved={saved}"


def start(world: World, hosts: list[str], clients: int, tally: Tally) -> list[Client]:
    """``clients`` threads, reviewers and drafters alternately."""
    reviewers = sorted(set(world.reviews.values()))
    drafters = sorted(world.drafters)
    users = [(reviewers, drafters)[n % 2][(n // 2) % len((reviewers, drafters)[n % 2])]
             for n in range(clients)]  # fmt: skip
    started = [Client(n, user, world, hosts, tally) for n, user in enumerate(users)]
    for client in started:
        client.start()
    return started


def stop(clients: list[Client]) -> None:
    for client in clients:
        client.stop.set()
    for client in clients:
        client.join(TIMEOUT + 5)
