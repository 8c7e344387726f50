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
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bench.common import CONTENT
from bench.w2_population import BRANCHES_PER_UNION, UNIONS, create_org
from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.content.model import PlanContent
from planflow.storage import audit_repo, schema
from planflow.storage.tables import AppliedEffect, AuditRecord, Comment, Notification, Plan

YEAR = 2027
#: A review is due this many working days after it started (the shipped annual plan).
REVIEW_WORKING_DAYS = 10
comment_t = Comment.__table__  # type: ignore[attr-defined]
audit_t = AuditRecord.__table__  # type: ignore[attr-defined]
plan_t = Plan.__table__  # type: ignore[attr-defined]
effect_t = AppliedEffect.__table__  # type: ignore[attr-defined]
notice_t = Notification.__table__  # type: ignore[attr-defined]


@dataclass
class World:
    """What the clients and the final check need to know."""

    tokens: dict[str, str]  # username -> API token secret (scope write)
    reviews: dict[int, str]  # plan id -> the username of its union's reviewer
    due: dict[int, datetime]  # plan id -> when its review falls due (then escalates)
    drafters: dict[str, str]  # username -> the code of the branch they draft for
    branch_of: dict[int, str]  # plan id -> its branch's code


def seed(url: str, plans: int, spread: timedelta) -> World:
    """A new database at ``url``: the organisation and ``plans`` reviews falling due
    between one hour ago and ``spread`` from now."""
    now = datetime.now(UTC)
    clock = FixedClock(now)
    pf = Planflow(url, clock=clock)
    try:
        schema.upgrade(pf.db)
        create_org(pf)
        reviews: dict[int, str] = {}
        due: dict[int, datetime] = {}
        branch_of: dict[int, str] = {}
        content = PlanContent.from_dict(json.loads(CONTENT), year=YEAR)
        for n in range(plans):
            union, branch = n % UNIONS, (n // UNIONS) % BRANCHES_PER_UNION
            code = f"u{union}.b{branch}"
            wanted = now - timedelta(minutes=30) + spread * (n / max(plans - 1, 1))
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
