"""The soak's world: the organisation, the plans whose timers fall due during the run,
the clients' API tokens, and the invariants checked from the database at the end.

The organisation is W2's (a federation, ten unions of ten branches). Plans are made
through planflow's own path (create, content, submit, start the review) with a clock
set in the past, so that each plan's task falls due at a moment spread over the run:
the schedulers then remind and escalate them while the clients comment, approve and
create plans. Shared by ``bench.soak`` (one host) and the multi-host test.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import select as orm_select

from bench.common import CONTENT
from bench.w2_population import BRANCHES_PER_UNION, UNIONS, create_org
from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.content.model import PlanContent
from planflow.storage import audit_repo, schema
from planflow.storage.tables import (
    AppliedEffect,
    AuditRecord,
    Comment,
    Notification,
    Plan,
    User,
)

YEAR = 2027
#: A review is due this many working days after it started (the shipped annual plan).
REVIEW_WORKING_DAYS = 10
comment_t = Comment.__table__  # type: ignore[attr-defined]
audit_t = AuditRecord.__table__  # type: ignore[attr-defined]
plan_t = Plan.__table__  # type: ignore[attr-defined]
effect_t = AppliedEffect.__table__  # type: ignore[attr-defined]
notice_t = Notification.__table__  # type: ignore[attr-defined]
user_t = User.__table__  # type: ignore[attr-defined]
#: The Message-ID the outbox gives a notification's e-mail (``integrations.mail.outbox``).
MESSAGE_ID = re.compile(r"<planflow\.notification\.(\d+)@[^>]+>")


def address_of(username: str) -> str:
    return f"{username}@soak.example.org"


@dataclass
class World:
    """What the clients and the final check need to know."""

    tokens: dict[str, str]  # username -> API token secret (scope write)
    reviews: dict[int, str]  # plan id -> the username of its union's reviewer
    due: dict[int, datetime]  # plan id -> when its review falls due (then escalates)
    drafters: dict[str, str]  # username -> the code of the branch they draft for
    branch_of: dict[int, str]  # plan id -> its branch's code


def seed(url: str, plans: int, spread: timedelta, lead: timedelta = timedelta(0)) -> World:
    """A new database at ``url``: the organisation and ``plans`` reviews, every other
    one due half an hour ago (reminded late and escalated as soon as a scheduler
    runs), the rest falling due one after another between ``lead`` and ``lead +
    spread`` from now (reminded at once, escalated while the load runs)."""
    now = datetime.now(UTC)
    clock = FixedClock(now)
    pf = Planflow(url, clock=clock)
    try:
        schema.upgrade(pf.db)
        create_org(pf)
        with pf.session() as s:  # everyone has an address: the e-mail check counts them all
            for user in s.exec(orm_select(User)).all():
                email = address_of(user.username)
                pf.org_repo.set_profile(s, user, display_name=user.display_name, email=email,
                                        language=user.language)  # fmt: skip
        reviews: dict[int, str] = {}
        due: dict[int, datetime] = {}
        branch_of: dict[int, str] = {}
        content = PlanContent.from_dict(json.loads(CONTENT), year=YEAR)
        for n in range(plans):
            union, branch = n % UNIONS, (n // UNIONS) % BRANCHES_PER_UNION
            code = f"u{union}.b{branch}"
            if n % 2 == 0:
                wanted = now - timedelta(minutes=30)
            else:
                wanted = now + lead + spread * (n // 2 / max((plans - 1) // 2, 1))
            # The review is due REVIEW_WORKING_DAYS after it starts, same time of day.
            started = pf.calendar.add_working_days(wanted, -REVIEW_WORKING_DAYS)
            clock.set(started)
            plan = pf.create_plan(
                unit_code=code, year=YEAR, title=f"soak {n}", actor=f"{code}.drafter"
            )
            pf.content.set_content(plan, content, actor=f"{code}.drafter", expected_version=None)
            pf.fire(plan, "submit", f"{code}.submitter")
            pf.fire(plan, "start_review", f"u{union}.reviewer")
            reviews[plan] = f"u{union}.reviewer"
            branch_of[plan] = code
            due[plan] = pf.calendar.add_working_days(started, REVIEW_WORKING_DAYS)
        clock.set(now)
        drafters = {f"u{u}.b0.drafter": f"u{u}.b0" for u in range(UNIONS)}
        users = sorted({*reviews.values(), *drafters})
        tokens = {u: pf.tokens.create(u, scope="write", name="soak").secret for u in users}
        return World(tokens, reviews, due, drafters, branch_of)
    finally:
        pf.close()


@dataclass
class Outcome:
    """What the clients were told, to hold the database to."""

    comments_acked: set[str] = field(default_factory=set)
    comments_unknown: set[str] = field(default_factory=set)  # no answer: may or may not be in
    approvals_acked: Counter[int] = field(default_factory=Counter)
    approvals_unknown: Counter[int] = field(default_factory=Counter)  # no answer or 5xx
    created_acked: set[str] = field(default_factory=set)
    created_unknown: set[str] = field(default_factory=set)


def check(url: str, world: World, told: Outcome, at: datetime) -> dict[str, object]:
    """The invariants, from the database alone, once every timer due by ``at`` was
    given time to run; ``problems`` lists every one broken."""
    pf = Planflow(url)
    problems: list[str] = []
    try:
        with pf.db.read() as conn:
            bodies = Counter(str(b) for b in conn.execute(select(comment_t.c.body)).scalars())
            actions: dict[int, Counter[str]] = {}
            for plan_id, action in conn.execute(select(audit_t.c.plan_id, audit_t.c.action)):
                actions.setdefault(int(plan_id), Counter())[str(action)] += 1
            titles = Counter(str(t) for t in conn.execute(select(plan_t.c.title)).scalars())
            states = {
                int(i): str(st) for i, st in conn.execute(select(plan_t.c.id, plan_t.c.state))
            }
            effects = int(conn.execute(select(func.count()).select_from(effect_t)).scalar_one())
            applied_at = sorted(
                t.timestamp() if t.tzinfo else t.replace(tzinfo=UTC).timestamp()
                for t in conn.execute(select(effect_t.c.at)).scalars()
            )
            escalation_notices = conn.execute(
                select(notice_t.c.user_id, notice_t.c.plan_id).where(notice_t.c.kind == "escalate")
            ).all()
            notices = Counter((int(u), int(p)) for u, p in escalation_notices)
        report = audit_repo.verify(pf.db)
    finally:
        pf.close()
    _lost_or_doubled(problems, "comment", bodies, told.comments_acked, told.comments_unknown)
    created = Counter({t: n for t, n in titles.items() if t.startswith("client ")})
    _lost_or_doubled(problems, "created plan", created, told.created_acked, told.created_unknown)
    reminded = escalated = 0
    for plan_id in world.reviews:
        done = actions.get(plan_id, Counter())
        acked, unknown = told.approvals_acked[plan_id], told.approvals_unknown[plan_id]
        if not acked <= done["approve"] <= acked + unknown:
            problems.append(f"plan {plan_id}: {done['approve']} approvals stored, {acked} "
                            f"acknowledged, {unknown} unanswered")  # fmt: skip
        if done["remind"] > 1 or done["escalate"] > 1:
            problems.append(f"plan {plan_id}: effects doubled {dict(done)}")
        expected = (1, 1 if world.due[plan_id] <= at else 0)
        if states[plan_id] == "under_review" and (done["remind"], done["escalate"]) != expected:
            problems.append(f"plan {plan_id}: under review, due {world.due[plan_id]:%H:%M:%S}, "
                            f"effects {dict(done)}")  # fmt: skip
        reminded += done["remind"]
        escalated += done["escalate"]
    doubled_notices = [k for k, n in notices.items() if n > 1]
    if doubled_notices:
        problems.append(f"{len(doubled_notices)} escalation notices doubled")
    if not report.ok:
        problems.append(f"audit: {report.problems[:3]}")
    return {
        "comments_stored": sum(bodies.values()),
        "comments_acked": len(told.comments_acked),
        "comments_unanswered": len(told.comments_unknown),
        "approvals": sum(told.approvals_acked.values()),
        "plans_created": sum(created.values()),
        "reminders": reminded,
        "escalations": escalated,
        "effects_applied": effects,
        "effects_applied_at": applied_at,  # time.time() of each
        "audit_records": report.records,
        "audit_ok": report.ok,
        "problems": problems,
    }


def _lost_or_doubled(
    problems: list[str], what: str, stored: Counter[str], acked: set[str], unknown: set[str]
) -> None:
    lost = acked - set(stored)
    doubled = [k for k, n in stored.items() if n > 1]
    ghosts = set(stored) - acked - unknown
    if lost:
        problems.append(f"{len(lost)} acknowledged {what}s lost, e.g. {sorted(lost)[0]}")
    if doubled:
        problems.append(f"{len(doubled)} {what}s stored twice, e.g. {doubled[0]}")
    if ghosts:
        problems.append(f"{len(ghosts)} {what}s stored that no client sent")


@dataclass(frozen=True)
class Received:
    """One message the SMTP receiver accepted."""

    message_id: str
    recipients: tuple[str, ...]
    peer: str  # the sending host's address
    at: float  # time.time()


def check_mail(url: str, world: World, received: list[Received]) -> dict[str, object]:
    """Notifications and e-mails, from the database and what the SMTP server accepted.

    Notifications: none doubled (one per event, ``plan_id, event_seq``, and person),
    none without its event, and every reminder, escalation and approval told the
    people it must tell (the union's reviewer; the federation's reviewer and the union's
    reviewer it was taken from; the branch's submitter), a reminder that ran late
    nobody. E-mails: every notification's e-mail was sent (no row left pending,
    failed or skipped: everyone has an address), arrived, at its user's address, and
    nothing arrived that no notification explains. ``copies`` counts the arrivals of
    each notification's e-mail; more than one is the outbox's documented at-least-once
    window, for the caller to hold to its faults.
    """
    pf = Planflow(url)
    problems: list[str] = []
    try:
        with pf.db.read() as conn:
            rows = conn.execute(
                select(notice_t.c.id, notice_t.c.user_id, notice_t.c.plan_id,
                       notice_t.c.event_seq, notice_t.c.kind, notice_t.c.email_status)
            ).all()  # fmt: skip
            events: dict[tuple[int, int], str] = {}
            late: set[tuple[int, int]] = set()
            for p, q, a, detail in conn.execute(
                select(audit_t.c.plan_id, audit_t.c.seq, audit_t.c.action, audit_t.c.detail)
            ):
                events[int(p), int(q)] = str(a)
                if a == "remind" and json.loads(detail or "{}").get("skipped"):
                    late.add((int(p), int(q)))
            users = {int(i): (str(n), str(e)) for i, n, e in conn.execute(
                select(user_t.c.id, user_t.c.username, user_t.c.email))}  # fmt: skip
    finally:
        pf.close()
    by_id = {int(r.id): r for r in rows}
    per_person = Counter((r.plan_id, r.event_seq, r.user_id) for r in rows)
    doubled = [k for k, n in per_person.items() if n > 1]
    if doubled:
        problems.append(f"{len(doubled)} notifications doubled, e.g. {doubled[0]}")
    told: dict[tuple[int, int], set[str]] = {}
    for r in rows:
        if r.plan_id is None or r.event_seq is None:
            problems.append(f"notification {r.id} names no event")
            continue
        key = (int(r.plan_id), int(r.event_seq))
        if key not in events:
            problems.append(f"notification {r.id}: no audit record {key}")
        told.setdefault(key, set()).add(users[int(r.user_id)][0])
    kinds: Counter[str] = Counter()
    for (plan_id, seq), action in events.items():
        if action not in ("remind", "escalate", "approve") or plan_id not in world.reviews:
            continue
        if (plan_id, seq) in late:  # due already when it ran: on the record, nobody told
            kinds["remind (late)"] += 1
            if told.get((plan_id, seq)):
                problems.append(f"plan {plan_id} #{seq}: a late reminder told {told[plan_id, seq]}")
            continue
        kinds[action] += 1
        for who in _must_be_told(world, plan_id, action):
            if who not in told.get((plan_id, seq), set()):
                problems.append(f"plan {plan_id} #{seq} ({action}): {who} was not told")
    statuses = Counter(str(r.email_status) for r in rows)
    for status, n in statuses.items():
        if status != "sent":
            problems.append(f"{n} notifications' e-mails {status}, not sent")
    copies: Counter[int] = Counter()
    for message in received:
        found = MESSAGE_ID.fullmatch(message.message_id)
        row = by_id.get(int(found.group(1))) if found else None
        if row is None:
            problems.append(f"an e-mail no notification explains: {message.message_id!r}")
            continue
        copies[int(row.id)] += 1
        address = users[int(row.user_id)][1]
        if message.recipients != (address,):
            problems.append(f"notification {row.id}'s e-mail went to {message.recipients}, "
                            f"not {address}")  # fmt: skip
    lost = [i for i, r in by_id.items() if r.email_status == "sent" and copies[i] == 0]
    if lost:
        problems.append(f"{len(lost)} e-mails marked sent never arrived, e.g. {lost[0]}")
    return {
        "notifications": len(rows),
        "notified_events": dict(kinds),
        "email_statuses": dict(statuses),
        "emails_received": len(received),
        "emails_distinct": len(copies),
        "copies": copies,
        "problems": problems,
    }


def _must_be_told(world: World, plan_id: int, action: str) -> tuple[str, ...]:
    """Who a seeded review's reminder, escalation or approval must tell."""
    if action == "remind":
        return (world.reviews[plan_id],)  # the union's reviewer, whose task it is
    if action == "escalate":  # the reviewer of the unit above; the one it was taken from
        return ("fed.reviewer", world.reviews[plan_id])
    return (f"{world.branch_of[plan_id]}.submitter",)  # approve: notify_submitter


def pending_mail(url: str) -> int:
    """How many notifications' e-mails are still to be sent."""
    pf = Planflow(url)
    try:
        with pf.db.read() as conn:
            return int(conn.execute(
                select(func.count()).select_from(notice_t).where(
                    notice_t.c.email_status == "pending")).scalar_one())  # fmt: skip
    finally:
        pf.close()
