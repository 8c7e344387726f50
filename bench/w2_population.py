"""W2's population: the rows planflow's own path would have written, in bulk.

For each plan: ``create`` with its content, ``submit`` by the branch's
chair, ``start_review`` by the union's reviewer, as hash-chained audit
records, the frozen revision, the submission's notification, the task and
its timer (already past the reminder, so the run only escalates);
``tests/test_bench_w2.py`` checks them against plans made through the real
API. The organisation is made through planflow's own API.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench.common import CONTENT
from bench.w2_timeline import STATE, WORKFLOW, PlanHistory, Timeline
from planflow.app import Planflow
from planflow.core.audit_chain import GENESIS, AuditEntry, canonical_json, sha256_hex
from planflow.core.definitions.spec import WorkflowSpec
from planflow.storage import plan_store as ps
from planflow.storage.tx import Sql, Tx, write_tx

YEAR = 2027
UNIONS = 10
BRANCHES_PER_UNION = 10
CHUNK = 5000
CONTENT_HASH = sha256_hex(CONTENT)
ITEMS = 3
#: The notification payload as ``planflow.services.changes`` encodes it (key order kept).
_payload_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
INSERT_PLAN = Sql(
    "w2_insert_plan",
    "INSERT INTO plan (id, unit_id, year, title, workflow_name, workflow_version, state, version,"
    " created_by, submitted_by, created_at, updated_at, content, item_count, items_without_due,"
    " revision, audit_seq, audit_hash, grade, task_role, task_unit_id, task_since, task_due_at,"
    " task_level, task_escalated_unit_id, timer_at, timer_hint, timer_kind, timer_claimed_by,"
    " timer_claimed_until) VALUES (:id, :unit_id, :year, :title, :workflow_name,"
    " :workflow_version, :state, :version, :created_by, :submitted_by, :created_at,"
    " :updated_at, :content, :item_count, :items_without_due, :revision, :audit_seq,"
    " :audit_hash, NULL, :task_role, :task_unit_id, :task_since, :task_due_at, 0, NULL,"
    " :timer_at, :timer_at, :timer_kind, NULL, NULL)",
)
#: After explicit ids, the sequence must move past them (PostgreSQL only).
RESET_PLAN_SEQUENCE = (
    "SELECT setval(pg_get_serial_sequence('plan', 'id'), (SELECT MAX(id) FROM plan))"
)
PLANFLOW_TABLES = ("plan", "audit_record", "plan_revision", "notification", "applied_effect")


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
        pf.org_repo.add_unit(s, "fed", "Federation", None)
        for name, role in [("fed.reviewer", "reviewer"), ("officer", "officer")]:
            pf.org_repo.add_user(s, name, name)
            pf.org_repo.assign_role(s, name, role, "fed")
        for u in range(UNIONS):
            union = f"u{u}"
            pf.org_repo.add_unit(s, union, f"Union {u}", "fed")
            pf.org_repo.add_user(s, f"{union}.reviewer", f"Reviewer {u}")
            pf.org_repo.assign_role(s, f"{union}.reviewer", "reviewer", union)
            pf.org_repo.add_user(s, f"{union}.inspector", f"Inspector {u}")
            pf.org_repo.assign_role(s, f"{union}.inspector", "inspector", union)
            for b in range(BRANCHES_PER_UNION):
                branch = f"{union}.b{b}"
                pf.org_repo.add_unit(s, branch, f"Branch {u}.{b}", union)
                for role in ("drafter", "submitter"):
                    pf.org_repo.add_user(s, f"{branch}.{role}", f"{role} {u}.{b}")
                    pf.org_repo.assign_role(s, f"{branch}.{role}", role, branch)


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


def chunks(n: int, size: int) -> Iterator[range]:
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
    for chunk in chunks(m, CHUNK):
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
        vacuum_analyze(raw, PLANFLOW_TABLES)
    return org


def vacuum_analyze(raw: Any, tables: Iterable[str]) -> None:
    """PostgreSQL: what autovacuum would have done to a database that had lived."""
    raw.autocommit = True
    try:
        for table in tables:
            raw.execute(f"VACUUM ANALYZE {table}")
    finally:
        raw.autocommit = False
