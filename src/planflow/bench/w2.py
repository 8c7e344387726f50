"""W2, the escalation scan: the deadline processor against hand-written SQL.

M plans wait in ``under_review`` of ``annual_plan``, their review deadlines
spread evenly over 60 days. With the clock set so that about 1% of the
deadlines have passed (``expected_overdue(m)`` of them), one run of
``planflow.timers.DeadlineProcessor`` is timed: it must escalate each overdue
review exactly once (level + 1, the task reaching the federation's reviewer,
an audit record, notifications). The floor does the same scan in
hand-written SQL: one query for the due plans, then for each an UPDATE of
its level and an audit INSERT in its own transaction. ``ratio_to_floor`` is
planflow's seconds over the floor's (1.0 would be the floor; the target is 5
or less).

Population is not timed, and runs in a process of its own so that the peak
RSS reported is the measuring process's. It writes, in bulk, exactly the
rows planflow's own path would have written for each plan (``create`` with
its content, ``submit`` by the branch's chair, ``start_review`` by the
union's reviewer: the hash-chained audit records, the frozen revision, the
submission's notification, the task and its timer), which
``tests/test_bench_w2.py`` checks against plans made through the real API.
One departure keeps the run "escalation only", as W2 is written: each plan's
timer already points at the escalation (the reminder, two working days
before the deadline, is treated as sent), so the processor has no reminders
to send.

Deadlines fall on working days of the default calendar (Monday to Friday),
as planflow puts them: they are spread evenly over the working time of the
60 days from ``WINDOW_START``.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..api import Planflow
from ..audit_chain import GENESIS, AuditEntry, canonical_json, sha256_hex
from ..calendar import BusinessCalendar
from ..clock import FixedClock
from ..deadlines import Effect, next_effect
from ..definitions.spec import Duration, TimerSpec, WorkflowSpec
from ..storage import audit_repo
from ..storage import plan_store as ps
from ..storage.tx import Sql, Tx, read_tx, sqlite_datetime, write_tx
from ..timers import DeadlineProcessor, DeadlineReport
from .common import Scratch, peak_rss_mib, run_child, scratch_database

WORKFLOW = "annual_plan"
STATE = "under_review"
YEAR = 2027
UNIONS = 10
BRANCHES_PER_UNION = 10
#: When the organisation is set up (before every plan's history).
ORG_AT = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
#: The deadlines are spread over the working time of the 60 days from here.
WINDOW_START = datetime(2027, 3, 1, tzinfo=UTC)  # a Monday
WINDOW_DAYS = 60
#: Before the review started: created, then submitted (as one plan's history).
CREATED_BEFORE = timedelta(hours=2)
SUBMITTED_BEFORE = timedelta(hours=1)
CHUNK = 5000
PLANFLOW_WORKER = "w2-bench"
SECOND_WORKER = "w2-bench-second"
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
CONTENT_HASH = sha256_hex(CONTENT)
ITEMS = 3
#: The notification payload as ``planflow.changes`` encodes it (key order kept).
_payload_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

INSERT_PLAN = Sql(
    "w2_insert_plan",
    "INSERT INTO plan (id, unit_id, year, title, workflow_name, workflow_version, state, version,"
    " created_by, submitted_by, created_at, updated_at, content, item_count, items_without_due,"
    " revision, audit_seq, audit_hash, grade, task_role, task_unit_id, task_since, task_due_at,"
    " task_level, task_escalated_unit_id, timer_at, timer_kind, timer_claimed_by,"
    " timer_claimed_until) VALUES (:id, :unit_id, :year, :title, :workflow_name,"
    " :workflow_version, :state, :version, :created_by, :submitted_by, :created_at,"
    " :updated_at, :content, :item_count, :items_without_due, :revision, :audit_seq,"
    " :audit_hash, NULL, :task_role, :task_unit_id, :task_since, :task_due_at, 0, NULL,"
    " :timer_at, :timer_kind, NULL, NULL)",
)
#: After explicit ids, the sequence must move past them (PostgreSQL only).
RESET_PLAN_SEQUENCE = (
    "SELECT setval(pg_get_serial_sequence('plan', 'id'), (SELECT MAX(id) FROM plan))"
)
PLANFLOW_TABLES = ("plan", "audit_record", "plan_revision", "notification", "applied_effect")


def expected_overdue(m: int) -> int:
    """How many of the M deadlines have passed at the benchmark's clock: 1%, at least one."""
    return max(1, m // 100)


# -- the population: what planflow would have written ------------------------------------


@dataclass(frozen=True)
class Org:
    """The organisation tree: fed > UNIONS unions > BRANCHES_PER_UNION branches each."""

    fed: int
    fed_reviewer: int
    unions: list[int]
    union_codes: dict[int, str]
    union_reviewer: dict[int, int]
    branches: list[int]
    union_of: dict[int, int]
    drafter: dict[int, int]
    chair: dict[int, int]

    def branch_of(self, plan_id: int) -> int:
        """Plans go round the branches: plan 1 to the first, plan 2 to the second, ..."""
        return self.branches[(plan_id - 1) % len(self.branches)]


def create_org(pf: Planflow) -> None:
    """Units, users and roles, through planflow's own organisation API."""
    with pf.session() as s:
        pf.org.add_unit(s, "fed", "Federation", None)
        for name, role in [("fed.reviewer", "reviewer"), ("officer", "officer")]:
            pf.org.add_user(s, name, name)
            pf.org.assign_role(s, name, role, "fed")
        for u in range(UNIONS):
            union = f"u{u}"
            pf.org.add_unit(s, union, f"Union {u}", "fed")
            pf.org.add_user(s, f"{union}.reviewer", f"Reviewer {u}")
            pf.org.assign_role(s, f"{union}.reviewer", "reviewer", union)
            pf.org.add_user(s, f"{union}.inspector", f"Inspector {u}")
            pf.org.assign_role(s, f"{union}.inspector", "inspector", union)
            for b in range(BRANCHES_PER_UNION):
                branch = f"{union}.b{b}"
                pf.org.add_unit(s, branch, f"Branch {u}.{b}", union)
                for role in ("drafter", "submitter"):
                    pf.org.add_user(s, f"{branch}.{role}", f"{role} {u}.{b}")
                    pf.org.assign_role(s, f"{branch}.{role}", role, branch)


def read_org(pf: Planflow) -> Org:
    """The ids of what ``create_org`` made."""
    snapshot = pf.org_snapshot()
    by_code = {info.code: uid for uid, info in snapshot.units.items()}
    users = {name: uid for uid, name in pf.user_names().items()}
    unions = [by_code[f"u{u}"] for u in range(UNIONS)]
    branches: list[int] = []
    union_of: dict[int, int] = {}
    drafter: dict[int, int] = {}
    chair: dict[int, int] = {}
    for u in range(UNIONS):
        for b in range(BRANCHES_PER_UNION):
            code = f"u{u}.b{b}"
            unit = by_code[code]
            branches.append(unit)
            union_of[unit] = unions[u]
            drafter[unit] = users[f"{code}.drafter"]
            chair[unit] = users[f"{code}.submitter"]
    return Org(
        fed=by_code["fed"],
        fed_reviewer=users["fed.reviewer"],
        unions=unions,
        union_codes={unions[u]: f"u{u}" for u in range(UNIONS)},
        union_reviewer={unions[u]: users[f"u{u}.reviewer"] for u in range(UNIONS)},
        branches=branches,
        union_of=union_of,
        drafter=drafter,
        chair=chair,
    )


def working_days(calendar: BusinessCalendar) -> list[date]:
    """The working days of the 60-day window."""
    days = (WINDOW_START.date() + timedelta(days=k) for k in range(WINDOW_DAYS))
    return [d for d in days if calendar.is_working_day(d)]


def deadline(i: int, m: int, days: list[date]) -> datetime:
    """The review deadline of plan ``i`` (0-based) of M, on ``days`` (``working_days``).

    The M deadlines are evenly spread over the working time of the window:
    strictly increasing, in whole microseconds, each on a working day.
    """
    day_us = 86_400 * 1_000_000
    offset = (2 * i + 1) * (len(days) * day_us) // (2 * m)
    day = days[offset // day_us]
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return midnight + timedelta(microseconds=offset % day_us)


def deadlines(m: int, calendar: BusinessCalendar) -> Iterator[datetime]:
    days = working_days(calendar)
    return (deadline(i, m, days) for i in range(m))


@dataclass(frozen=True, slots=True)
class PlanHistory:
    """One plan's moments: created, submitted, review started, due, first escalation."""

    created: datetime
    submitted: datetime
    since: datetime
    due: datetime
    escalation: Effect


def history(
    due: datetime, review_due: Duration, timer: TimerSpec, calendar: BusinessCalendar
) -> PlanHistory:
    """The history of a plan whose review is due at ``due``.

    The review started ``review_due`` (10 working days) before, so that
    planflow's ``calendar.add(since, review_due)`` gives ``due`` back; the
    row's timer is the one planflow stores once the reminder has been sent.
    """
    since = calendar.subtract(due, review_due)
    if calendar.add(since, review_due) != due:
        raise ValueError(f"no review start gives the deadline {due}")
    after = None
    if timer.remind_before is not None:
        after = Effect(calendar.subtract(due, timer.remind_before), "remind")
    escalation = next_effect(timer, due, calendar, after=after)
    if escalation is None or escalation.kind != "escalate":
        raise ValueError(f"the timer after the reminder is not an escalation: {escalation}")
    return PlanHistory(
        created=since - CREATED_BEFORE,
        submitted=since - SUBMITTED_BEFORE,
        since=since,
        due=due,
        escalation=escalation,
    )


@dataclass(frozen=True)
class Timeline:
    """Everything that gives plan ``i`` of M its history (nothing per plan is kept)."""

    m: int
    review_due: Duration
    timer: TimerSpec
    calendar: BusinessCalendar
    days: list[date]

    @classmethod
    def of(cls, spec: WorkflowSpec, calendar: BusinessCalendar, m: int) -> Timeline:
        task = spec.state(STATE).task
        timer = spec.timer_for(STATE)
        if task is None or task.due is None or timer is None:
            raise ValueError(f"{spec.key}: {STATE} needs a task with a due time and a timer")
        return cls(m, task.due, timer, calendar, working_days(calendar))

    def plan(self, i: int) -> PlanHistory:
        """The history of plan ``i`` (0-based; its id is ``i + 1``)."""
        return history(deadline(i, self.m, self.days), self.review_due, self.timer, self.calendar)


def run_clock(timeline: Timeline) -> datetime:
    """The benchmark's now: after the first ``expected_overdue`` escalations, before the next."""
    overdue = expected_overdue(timeline.m)
    last = timeline.plan(overdue - 1).escalation.at
    if overdue == timeline.m:
        return last + timedelta(seconds=1)
    following = timeline.plan(overdue).escalation.at
    return last + (following - last) // 2


@dataclass
class Rows:
    plans: list[dict[str, Any]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    revisions: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)


def plan_rows(
    tx: Tx, spec: WorkflowSpec, org: Org, plan_id: int, h: PlanHistory, rows: Rows
) -> None:
    """Append the rows of plan ``plan_id`` as planflow's own path writes them."""
    branch = org.branch_of(plan_id)
    union = org.union_of[branch]
    drafter, chair, reviewer = org.drafter[branch], org.chair[branch], org.union_reviewer[union]
    title = f"Plan {plan_id - 1}"
    steps: list[tuple[int, datetime, str, str | None, str, int, dict[str, Any]]] = [
        # actor, at, action, from, to, revision, detail
        (drafter, h.created, "create", None, "draft", 0, {"title": title, "year": YEAR}),
        (chair, h.submitted, "submit", "draft", "submitted", 1, {}),
        (reviewer, h.since, "start_review", "submitted", STATE, 1, {}),
    ]
    prev = GENESIS
    for seq, (actor, at, action, from_state, to_state, revision, detail) in enumerate(steps, 1):
        if action == "create":
            detail = {**detail, "workflow": spec.key}
        entry = AuditEntry(
            plan_id=plan_id,
            seq=seq,
            actor_id=actor,
            on_behalf_of_id=None,
            at=at,
            action=action,
            from_state=from_state,
            to_state=to_state,
            comment=None,
            revision=revision,
            detail=canonical_json(detail) if detail else "{}",
            prev_hash=prev,
        )
        digest = entry.compute_hash()
        rows.audits.append(
            {
                "plan_id": plan_id,
                "seq": seq,
                "actor_id": actor,
                "on_behalf_of_id": None,
                "at": tx.ts(at),
                "action": action,
                "from_state": from_state,
                "to_state": to_state,
                "comment": None,
                "revision": revision,
                "detail": entry.detail,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    submitted = tx.ts(h.submitted)
    rows.plans.append(
        {
            "id": plan_id,
            "unit_id": branch,
            "year": YEAR,
            "title": title,
            "workflow_name": spec.name,
            "workflow_version": spec.version,
            "state": STATE,
            "version": len(steps),
            "created_by": drafter,
            "submitted_by": chair,
            "created_at": tx.ts(h.created),
            "updated_at": tx.ts(h.since),
            "content": CONTENT,
            "item_count": ITEMS,
            "items_without_due": 0,
            "revision": 1,
            "audit_seq": len(steps),
            "audit_hash": prev,
            "task_role": "reviewer",
            "task_unit_id": union,
            "task_since": tx.ts(h.since),
            "task_due_at": tx.ts(h.due),
            "timer_at": tx.ts(h.escalation.at),
            "timer_kind": h.escalation.kind,
        }
    )
    rows.revisions.append(
        {
            "plan_id": plan_id,
            "number": 1,
            "content": CONTENT,
            "content_hash": CONTENT_HASH,
            "created_by": chair,
            "created_at": submitted,
        }
    )
    # The submission tells the union's reviewer; starting the review tells
    # nobody (the union's only reviewer is the one who starts it).
    rows.notifications.append(
        {
            "user_id": reviewer,
            "plan_id": plan_id,
            "kind": "transition",
            "payload": _payload_json(
                {
                    "title": title,
                    "action": "submit",
                    "from": "draft",
                    "to": "submitted",
                    "actor": chair,
                    "comment": "",
                    "workflow": spec.name,
                }
            ),
            "created_at": submitted,
        }
    )


def _chunks(n: int, size: int) -> Iterator[range]:
    for start in range(0, n, size):
        yield range(start, min(n, start + size))


def populate(pf: Planflow, m: int) -> Org:
    """The organisation, the stored definition and M plans under review, in bulk.

    ``pf`` must be on a migrated, empty database; its clock is the moment the
    organisation and the definition are recorded (``ORG_AT``).
    """
    create_org(pf)
    org = read_org(pf)
    spec = pf.registry.get(WORKFLOW)
    pf.service.definitions.ensure_stored(pf.db, spec, pf.clock.now())
    timeline = Timeline.of(spec, pf.service.calendar, m)
    for chunk in _chunks(m, CHUNK):
        with write_tx(pf.db) as tx:
            rows = Rows()
            for i in chunk:
                plan_rows(tx, spec, org, i + 1, timeline.plan(i), rows)
            tx.run_many(INSERT_PLAN, rows.plans)
            tx.run_many(ps.INSERT_AUDIT, rows.audits)
            tx.run_many(ps.INSERT_REVISION, rows.revisions)
            tx.run_many(ps.INSERT_NOTIFICATION, rows.notifications)
    raw = pf.db.pinned_connection()
    if pf.db.is_sqlite:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        with write_tx(pf.db) as tx:
            tx.cursor.execute(RESET_PLAN_SEQUENCE)
        _vacuum_analyze(raw, PLANFLOW_TABLES)
    return org


def _vacuum_analyze(raw: Any, tables: Iterable[str]) -> None:
    """PostgreSQL: what autovacuum would have done to a database that had lived."""
    raw.autocommit = True
    try:
        for table in tables:
            raw.execute(f"VACUUM ANALYZE {table}")
    finally:
        raw.autocommit = False


# -- the floor: hand-written SQL --------------------------------------------------------

FLOOR_SCHEMA = [
    "CREATE TABLE floor_plan (id INTEGER PRIMARY KEY, state TEXT NOT NULL,"
    " task_level INTEGER NOT NULL, timer_at TIMESTAMP)",
    "CREATE INDEX ix_floor_plan_timer ON floor_plan (timer_at)",
    "CREATE TABLE floor_audit (id {pk}, plan_id INTEGER NOT NULL REFERENCES floor_plan(id),"
    " actor INTEGER, from_state TEXT, to_state TEXT NOT NULL, event TEXT NOT NULL,"
    " comment TEXT, at TIMESTAMP NOT NULL)",
]
#: The floor's next timer: the next escalation, five working days on (near enough).
FLOOR_REPEAT = timedelta(days=7)


class FloorDb:
    """The floor's own connection: sqlite3 or psycopg, nothing in between."""

    def __init__(self, scratch: Scratch, page_size: int | None = None) -> None:
        self.sqlite = scratch.kind == "sqlite"
        self.conn: Any
        if self.sqlite:
            self.conn = sqlite3.connect(scratch.raw + ".floor", isolation_level=None)
            if page_size is not None:  # only takes effect on a new file
                self.conn.execute(f"PRAGMA page_size={int(page_size)}")
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        else:
            import psycopg

            self.conn = psycopg.connect(scratch.raw, options=f"-csearch_path={scratch.schema}")

    def sql(self, text: str) -> str:
        return text if self.sqlite else text.replace("?", "%s")

    def ts(self, value: datetime) -> Any:
        return sqlite_datetime(value) if self.sqlite else value

    def begin(self) -> None:
        if self.sqlite:
            self.conn.execute("BEGIN IMMEDIATE")
        # psycopg opens the transaction on the first statement

    def commit(self) -> None:
        if self.sqlite:
            self.conn.execute("COMMIT")
        else:
            self.conn.commit()

    def close(self) -> None:
        self.conn.close()


def populate_floor(scratch: Scratch, m: int, page_size: int | None = None) -> None:
    """The floor's plans: the same M deadlines (escalation is due at the deadline).

    ``page_size``: SQLite's, the same as planflow's database file has.
    """
    db = FloorDb(scratch, page_size)
    pk = "INTEGER PRIMARY KEY" if db.sqlite else "SERIAL PRIMARY KEY"
    for ddl in FLOOR_SCHEMA:
        ddl = ddl.format(pk=pk)
        db.conn.execute(ddl if db.sqlite else ddl.replace("TIMESTAMP", "TIMESTAMPTZ"))
    if not db.sqlite:
        db.conn.commit()
    days = working_days(BusinessCalendar())
    insert = db.sql("INSERT INTO floor_plan (id, state, task_level, timer_at) VALUES (?, ?, 0, ?)")
    for chunk in _chunks(m, CHUNK):
        db.begin()
        db.conn.cursor().executemany(
            insert, [(i + 1, STATE, db.ts(deadline(i, m, days))) for i in chunk]
        )
        db.commit()
    if db.sqlite:
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        _vacuum_analyze(db.conn, ("floor_plan", "floor_audit"))
    db.close()


def run_floor(scratch: Scratch, m: int, now: datetime) -> dict[str, Any]:
    """The floor's scan: one query for the due plans, then UPDATE + INSERT, one transaction each."""
    db = FloorDb(scratch)
    execute, begin, commit, ts = db.conn.execute, db.begin, db.commit, db.ts
    due_query = db.sql(
        "SELECT id, state, task_level, timer_at FROM floor_plan WHERE timer_at <= ?"
        " ORDER BY timer_at, id"
    )
    update = db.sql("UPDATE floor_plan SET task_level = ?, timer_at = ? WHERE id = ?")
    insert = db.sql(
        "INSERT INTO floor_audit (plan_id, actor, from_state, to_state, event, comment, at)"
        " VALUES (?, NULL, ?, ?, 'escalate', NULL, ?)"
    )
    at = ts(now)
    # Untimed, like planflow's: the population holds what it should, and the
    # connection has read the schema.
    before = execute(db.sql("SELECT COUNT(*) FROM floor_plan WHERE timer_at <= ?"), (at,))
    due_before = before.fetchone()[0]
    if not db.sqlite:
        commit()
    started = time.perf_counter()
    due = execute(due_query, (at,)).fetchall()
    if not db.sqlite:
        commit()  # the query's own transaction
    for plan_id, state, level, timer_at in due:
        begin()
        following = datetime.fromisoformat(timer_at) if db.sqlite else timer_at
        execute(update, (level + 1, ts(following + FLOOR_REPEAT), plan_id))
        execute(insert, (plan_id, state, state, at))
        commit()
    seconds = time.perf_counter() - started
    again = execute(due_query, (at,)).fetchall()
    audits = execute("SELECT COUNT(*) FROM floor_audit").fetchone()[0]
    raised = execute("SELECT COUNT(*) FROM floor_plan WHERE task_level = 1").fetchone()[0]
    db.close()
    overdue = expected_overdue(m)
    problems = []
    if due_before != overdue:
        problems.append(f"floor population: {due_before} timers due, {overdue} meant")
    if not (len(due) == audits == raised == overdue) or again:
        problems.append(
            f"floor: {len(due)} due, {audits} audit rows, {raised} levels raised for"
            f" {overdue} overdue; {len(again)} due again"
        )
    return {"escalated": len(due), "seconds": seconds, "problems": problems}


# -- the population, in a process of its own ------------------------------------------------


def populate_both(scratch: Scratch, m: int) -> dict[str, Any]:
    """planflow's M plans and the floor's, untimed; run by ``populate_in_child``."""
    started = time.perf_counter()
    pf = Planflow(scratch.url, clock=FixedClock(ORG_AT), calendar=BusinessCalendar())
    try:
        pf.init()
        populate(pf, m)
        page_size = None
        if pf.db.is_sqlite:
            page_size = int(pf.db.pinned_connection().execute("PRAGMA page_size").fetchone()[0])
    finally:
        pf.close()
    populate_floor(scratch, m, page_size)
    return {
        "population_seconds": time.perf_counter() - started,
        "population_peak_rss_mib": peak_rss_mib(),
        "sqlite_page_size": page_size,
    }


def populate_in_child(scratch: Scratch, m: int) -> dict[str, Any]:
    """Populate in another process, so that the measuring one's peak RSS is the run's."""
    return run_child("planflow.bench.w2", {"populate": asdict(scratch), "m": m})


# -- planflow ----------------------------------------------------------------------------


COUNT_DUE = Sql("w2_count_due", "SELECT COUNT(*) FROM plan WHERE timer_at <= :now")
#: Every plan a run changed, by its row ...
CHANGED_PLANS = Sql(
    "w2_changed_plans",
    "SELECT id, version, audit_seq, task_level, task_escalated_unit_id, timer_at, timer_kind,"
    " timer_claimed_by FROM plan WHERE version <> 3 OR audit_seq <> 3 OR task_level <> 0"
    " OR task_escalated_unit_id IS NOT NULL OR timer_claimed_by IS NOT NULL ORDER BY id",
)
#: ... by its audit trail (the population wrote three records per plan) ...
NEW_RECORDS = Sql(
    "w2_new_records",
    "SELECT plan_id, seq, action, actor_id, from_state, to_state, detail, at FROM audit_record"
    " WHERE seq > 3 ORDER BY plan_id, seq",
)
#: ... and by what it told people (the population's are all 'transition').
NEW_NOTICES = Sql(
    "w2_new_notices",
    "SELECT plan_id, user_id, kind FROM notification WHERE kind <> 'transition'"
    " ORDER BY plan_id, user_id",
)
COUNT_EFFECTS = Sql("w2_count_effects", "SELECT COUNT(*) FROM applied_effect")


def process(pf: Planflow, worker: str) -> DeadlineReport:
    """One run of the deadline processor: what W2 times."""
    return DeadlineProcessor(pf.service, worker).run()


def run_planflow(
    pf: Planflow, clock: FixedClock, timeline: Timeline, now: datetime
) -> dict[str, Any]:
    org = read_org(pf)
    spec = pf.registry.get(WORKFLOW)
    clock.set(now)
    overdue = expected_overdue(timeline.m)
    problems: list[str] = []
    with read_tx(pf.db) as tx:
        due = tx.scalars(COUNT_DUE, {"now": tx.ts(now)})
    if due != [overdue]:
        problems.append(f"population: {due} timers due at {now.isoformat()}, {overdue} meant")
    # What a scheduler process that has been running holds: the organisation
    # snapshot, the definition, its database connection.
    pf.org_snapshot()
    pf.service.definitions.spec_for(pf.db, spec.name, spec.version)
    with write_tx(pf.db):
        pass

    started = time.perf_counter()
    report = process(pf, PLANFLOW_WORKER)
    seconds = time.perf_counter() - started
    rss = peak_rss_mib()

    second = process(pf, SECOND_WORKER)
    problems += verify(pf, org, timeline, now, report, second)
    return {
        "report": report,
        "second": second,
        "seconds": seconds,
        "peak_rss_mib": rss,
        "problems": problems,
    }


def verify(
    pf: Planflow,
    org: Org,
    timeline: Timeline,
    now: datetime,
    report: DeadlineReport,
    second: DeadlineReport,
) -> list[str]:
    """Exactly the overdue plans were escalated, each once, as planflow escalates."""
    histories = {}
    for i in range(timeline.m):
        h = timeline.plan(i)
        if h.escalation.at <= now:
            histories[i + 1] = h
    expected = set(histories)
    problems: list[str] = []
    if len(expected) != expected_overdue(timeline.m):
        problems.append(f"{len(expected)} deadlines passed, {expected_overdue(timeline.m)} meant")
    if report.escalated != len(expected) or report.applied != report.escalated:
        problems.append(
            f"the run escalated {report.escalated} (applied {report.applied}),"
            f" {len(expected)} were overdue"
        )
    if report.skipped or report.failed:
        problems.append(f"the run skipped {report.skipped}, failed: {report.failed[:3]}")
    if second.applied or second.skipped or second.failed:
        problems.append(
            f"the second run applied {second.applied} (escalated {second.escalated}),"
            f" skipped {second.skipped}, failed {len(second.failed)}"
        )
    with read_tx(pf.db) as tx:
        changed = tx.all(CHANGED_PLANS, {})
        records = tx.all(NEW_RECORDS, {})
        notices = tx.all(NEW_NOTICES, {})
        effects = tx.scalars(COUNT_EFFECTS, {})
        dt = tx.dt

    changed_ids = {r[0] for r in changed}
    if changed_ids != expected:
        problems.append(_set_problem("plans changed", changed_ids, expected))
    for plan_id, version, seq, level, unit, timer_at, kind, claimed in changed:
        if plan_id not in histories:
            continue
        h = histories[plan_id]
        following = next_effect(timeline.timer, h.due, timeline.calendar, after=h.escalation)
        got = (version, seq, level, unit, dt(timer_at), kind, claimed)
        want = (4, 4, 1, org.fed, following.at if following else None, "escalate", None)
        if got != want:
            problems.append(f"plan {plan_id}: (version, seq, level, unit, timer) {got} != {want}")
            break

    by_plan: dict[int, list[tuple[Any, ...]]] = {}
    for r in records:
        by_plan.setdefault(r[0], []).append(r)
    if set(by_plan) != expected:
        problems.append(_set_problem("plans with new audit records", set(by_plan), expected))
    more = sorted(p for p, rs in by_plan.items() if len(rs) > 1)
    if more:
        problems.append(f"plans with more than one new audit record: {more[:10]}")
    escalations = sum(1 for r in records if r[2] == "escalate")
    if escalations != len(expected):
        problems.append(f"{escalations} escalation records for {len(expected)} overdue plans")
    for plan_id, rs in by_plan.items():
        if plan_id not in histories:
            continue
        _, seq, action, actor, from_state, to_state, detail, at = rs[0]
        union = org.union_of[org.branch_of(plan_id)]
        want_detail = {
            "due_at": histories[plan_id].due.isoformat(),
            "level": 1,
            "from_unit": org.union_codes[union],
            "to_unit": "fed",
        }
        got_record = (seq, action, actor, from_state, to_state, json.loads(detail), dt(at))
        want_record = (4, "escalate", None, STATE, STATE, want_detail, now)
        if got_record != want_record:
            problems.append(f"plan {plan_id}: escalation record {got_record} != {want_record}")
            break

    # The reviewer at the next unit up, and the union's own kept informed: once each.
    told = sorted((p, u, k) for p, u, k in notices)
    meant = sorted(
        (p, u, "escalate")
        for p in expected
        for u in {org.fed_reviewer, org.union_reviewer[org.union_of[org.branch_of(p)]]}
    )
    if told != meant:
        fed = {p for p, u, k in told if u == org.fed_reviewer and k == "escalate"}
        problems.append(
            f"{len(told)} notices for {len(meant)} meant; "
            + _set_problem("plans whose federation reviewer was told", fed, expected)
        )
    if effects != [len(expected)]:
        problems.append(f"{effects} effects recorded for {len(expected)} overdue plans")
    chain = audit_repo.verify(pf.db)
    if not chain.ok:
        problems.append(f"audit chain: {chain.first_problem}")
    elif chain.records != 3 * timeline.m + len(expected):
        problems.append(
            f"audit chain: {chain.records} records, {3 * timeline.m + len(expected)} meant"
        )
    return problems


def _set_problem(what: str, got: set[int], want: set[int]) -> str:
    extra, missing = sorted(got - want), sorted(want - got)
    return (
        f"{what}: {len(got)} for {len(want)} overdue; not overdue: {extra[:10]},"
        f" missed: {missing[:10]}"
    )


# -- one measurement ---------------------------------------------------------------------


def measure(m: int, database_url: str | None) -> dict[str, Any]:
    """One W2 measurement: planflow and the floor, timed in this process, in one run."""
    with scratch_database(database_url, "w2") as scratch:
        population = populate_in_child(scratch, m)
        clock = FixedClock(ORG_AT)
        pf = Planflow(scratch.url, clock=clock, calendar=BusinessCalendar())
        try:
            timeline = Timeline.of(pf.registry.get(WORKFLOW), pf.service.calendar, m)
            now = run_clock(timeline)
            floor = run_floor(scratch, m, now)
            ours = run_planflow(pf, clock, timeline, now)
        finally:
            pf.close()
    problems = floor["problems"] + ours["problems"]
    report: DeadlineReport = ours["report"]
    second: DeadlineReport = ours["second"]
    return {
        "workload": "w2",
        "database": scratch.kind,
        "m": m,
        "overdue": expected_overdue(m),
        "escalated": report.escalated,
        "seconds": round(ours["seconds"], 3),
        "floor_seconds": round(floor["seconds"], 3),
        # planflow's time over the floor's: 1.0 would be the floor; the target is <= 5.
        "ratio_to_floor": round(ours["seconds"] / floor["seconds"], 3),
        "floor_escalated": floor["escalated"],
        "second_run_escalated": second.escalated,
        "run": {
            "reminded": report.reminded,
            "late_reminders": report.late_reminders,
            "escalated": report.escalated,
            "at_top": report.at_top,
            "auto_actions": report.auto_actions,
            "skipped": report.skipped,
            "failed": len(report.failed),
        },
        "second_run_applied": second.applied,
        "clock": now.isoformat(),
        "peak_rss_mib": round(ours["peak_rss_mib"], 1),
        "population_seconds": round(population["population_seconds"], 3),
        "population_peak_rss_mib": round(population["population_peak_rss_mib"], 1),
        "sqlite_page_size": population["sqlite_page_size"],
        "audit_chain_checked": "all plans",
        "verified": not problems,
        "problems": problems,
    }


def measure_in_child(m: int, database_url: str | None) -> dict[str, Any]:
    return run_child("planflow.bench.w2", {"m": m, "database_url": database_url})


if __name__ == "__main__":
    args = json.loads(sys.argv[1])
    if "populate" in args:
        result = populate_both(Scratch(**args["populate"]), int(args["m"]))
    else:
        result = measure(int(args["m"]), args.get("database_url"))
    print(json.dumps(result))
