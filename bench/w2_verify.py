"""W2's check of a run: exactly the overdue plans were escalated, each once.

Read back from the database after the timed run and a second one: the
changed plan rows, the new audit records, the notices and the applied
effects, compared with what each plan's history (``w2_timeline``) says
planflow should have done, and the whole audit chain verified.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bench.w2_population import Org
from bench.w2_timeline import STATE, Timeline, expected_overdue
from planflow.app import Planflow
from planflow.core.task_planning import next_effect
from planflow.scheduling.deadline_processor import DeadlineReport
from planflow.storage import audit_repo
from planflow.storage.tx import Sql, read_tx

COUNT_DUE = Sql(
    "w2_count_due",
    "SELECT COUNT(*) FROM plan WHERE timer_hint <= :now AND timer_at <= :now",
)
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

    # The reviewer at the next unit up ("escalated to you"), and the union's own
    # told it was escalated away from them (they may still act): once each.
    told = sorted((p, u, k) for p, u, k in notices)
    meant = sorted(
        [(p, org.fed_reviewer, "escalate") for p in expected]
        + [
            (p, org.union_reviewer[org.union_of[org.branch_of(p)]], "escalated_away")
            for p in expected
        ]
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
