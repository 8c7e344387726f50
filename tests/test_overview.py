"""The officers' overview of a year (``planflow.services.overview``).

Covered: the state classes derived from each definition's graph (also for a
definition whose states have other names, and one without an inspection);
the units and counts of a small tree with plans in every stage (a unit with
no plan, one with two plans, an overdue and escalated review, an overdue
inspection, committee_plan, an abandoned plan, a plan of another year); the
grouping under the top unit, at a chosen depth and under several roots;
and a number of queries that does not grow with the number of units. Every
database test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from inspection_support import fire
from seeds import seed, seeded
from stored import CountStatements, stored_plan

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.content.model import PlanContent
from planflow.core.definitions import load_definition
from planflow.core.definitions.loader import parse_definition
from planflow.core.state_phases import Phase, state_classes
from planflow.scheduling.deadline_processor import DeadlineProcessor
from planflow.services.overview import (
    NO_PLAN,
    NOT_DRAFTING,
    group_units,
    tree_order,
    unit_statuses,
)
from planflow.storage import overview_sql
from planflow.storage.overview_sql import StateCount, count_states, unit_plans

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
ROLES = ("drafter", "submitter", "reviewer", "inspector", "officer", "admin", "committee")
#: Where the clock stands when the world is looked at: b's review (due 11 January)
#: and f's inspection (due 2 February) are overdue.
LOOK_AT = datetime(2027, 2, 3, 12, 0, tzinfo=UTC)

# -- the world --------------------------------------------------------------------------
#
# fed                       (no plan)                      fed_officer
# ├── union                 (no plan)                      officer, reviewer, committee x3
# │   ├── branch_a          annual accepted + committee_plan approved
# │   ├── branch_b          annual submitted: overdue review, escalated (+ a 2026 plan)
# │   ├── branch_e          committee_plan approved
# │   └── branch_f          annual inspection_scheduled: overdue inspection
# └── union2                (no plan)                      officer2
#     ├── branch_c          annual draft, never submitted
#     └── branch_d          annual abandoned


def add_people(
    pf: Planflow, units: list[tuple[str, str, str]], people: list[tuple[str, str, str]]
) -> None:
    with pf.session() as s:
        for code, name, parent in units:
            pf.org_repo.add_unit(s, code, name, parent)
        for username, role, unit in people:
            pf.org_repo.add_user(
                s, username, username.replace("_", " ").title(), email=f"{username}@example.org"
            )
            pf.org_repo.assign_role(s, username, role, unit, known_roles=ROLES)


def new_plan(
    pf: Planflow,
    unit: str,
    drafter: str,
    *,
    workflow: str = "annual_plan",
    year: int = 2027,
    title: str | None = None,
) -> int:
    plan_id = pf.create_plan(
        unit_code=unit,
        year=year,
        title=title or f"Plan of {unit}",
        actor=drafter,
        workflow=workflow,
    )
    content = PlanContent(year).add_section("Members", key="s1")
    content = content.add_item("s1", "Hold the workers' congress", due=4, key="i1")
    pf.content.set_content(plan_id, content, actor=drafter, expected_version=None)
    return plan_id


def drive(pf: Planflow, plan_id: int, *steps: tuple[str, str]) -> None:
    for action, actor in steps:
        fire(pf, plan_id, action, actor, "Reason given." if action == "abandon" else None)


@seed("world")
def build_world(pf: Planflow, clock: FixedClock) -> dict[str, int]:
    """The tree above (on top of the ``org`` fixture); returns plan ids by name."""
    add_people(
        pf,
        [
            ("branch_e", "Branch E", "union"),
            ("branch_f", "Branch F", "union"),
            ("union2", "Union Two", "fed"),
            ("branch_c", "Branch C", "union2"),
            ("branch_d", "Branch D", "union2"),
        ],
        [
            ("drafter_e", "drafter", "branch_e"),
            ("chair_e", "submitter", "branch_e"),
            ("drafter_f", "drafter", "branch_f"),
            ("chair_f", "submitter", "branch_f"),
            ("drafter_c", "drafter", "branch_c"),
            ("drafter_d", "drafter", "branch_d"),
            ("chair_d", "submitter", "branch_d"),
            ("fed_officer", "officer", "fed"),
            ("officer2", "officer", "union2"),
        ],
    )
    review = [("start_review", "reviewer"), ("approve", "reviewer")]
    ids = {
        "a": new_plan(pf, "branch_a", "drafter_a"),
        "a_committee": new_plan(pf, "branch_a", "drafter_a", workflow="committee_plan"),
        "b": new_plan(pf, "branch_b", "drafter_b"),
        "b_2026": new_plan(pf, "branch_b", "drafter_b", year=2026),
        "e": new_plan(pf, "branch_e", "drafter_e", workflow="committee_plan"),
        "f": new_plan(pf, "branch_f", "drafter_f"),
        "c": new_plan(pf, "branch_c", "drafter_c"),
        "d": new_plan(pf, "branch_d", "drafter_d"),
    }
    drive(pf, ids["a"], ("submit", "chair_a"), *review, ("schedule_inspection", "officer"))
    drive(pf, ids["a"], ("inspect", "inspector"), ("accept", "inspector"))
    committee = [("approve", "member1"), ("approve", "member2")]
    drive(pf, ids["a_committee"], ("submit", "chair_a"), *committee)
    drive(pf, ids["e"], ("submit", "chair_e"), *committee)
    drive(pf, ids["f"], ("submit", "chair_f"), *review, ("schedule_inspection", "officer"))
    drive(pf, ids["b"], ("submit", "chair_b"))
    drive(pf, ids["d"], ("abandon", "chair_d"))
    # 13 January: b's review is overdue and goes up to the federation's reviewer.
    clock.set(datetime(2027, 1, 13, 12, 0, tzinfo=UTC))
    DeadlineProcessor(pf.service, "test").run()
    clock.set(LOOK_AT)
    return ids


@pytest.fixture
def world(
    request: pytest.FixtureRequest, pf: Planflow, org: Any, clock: FixedClock
) -> dict[str, int]:
    """``build_world``'s plans, copied in with the database (a seed, tests/seeds.py)."""
    ids: dict[str, int] = seeded(request, "world", pf, clock)
    return ids


# -- state classes ------------------------------------------------------------------------


def test_the_state_classes_of_the_two_definitions() -> None:
    annual = state_classes(load_definition(WORKFLOWS / "annual_plan.yaml"))
    committee = state_classes(load_definition(WORKFLOWS / "committee_plan.yaml"))
    assert annual.states(Phase.DRAFTING) == {"draft", "returned"}
    assert annual.states(Phase.REVIEW) == {"submitted", "under_review"}
    assert annual.states(Phase.WORK) == {"approved", "rectification_required"}
    assert annual.states(Phase.INSPECTION) == {"inspection_scheduled", "inspected"}
    assert annual.states(Phase.ACCEPTED) == {"accepted", "archived"}
    assert annual.states(Phase.DROPPED) == {"abandoned"}
    assert committee.states(Phase.REVIEW) == {"committee_review"}
    assert committee.states(Phase.ACCEPTED) == {"accepted", "archived"}
    assert committee.states(Phase.WORK, Phase.INSPECTION, Phase.ACCEPTED) == {
        "approved",
        "inspection_scheduled",
        "inspected",
        "rectification_required",
        "accepted",
        "archived",
    }


OTHER_NAMES = """
name: jahresplan
version: 1
initial: entwurf
states:
  entwurf: {label: {en: Entwurf}}
  eingereicht:
    label: {en: Eingereicht}
    task: {role: reviewer, at: parent}
  freigegeben: {label: {en: Freigegeben}}
  geprueft:
    label: {en: Geprüft}
    task: {role: inspector, at: nearest_above}
  abgenommen: {label: {en: Abgenommen}}
  abgelegt: {label: {en: Abgelegt}, final: true}
  zurueckgezogen: {label: {en: Zurückgezogen}, final: true}
transitions:
  - {trigger: einreichen, source: entwurf, dest: eingereicht, submission: true,
     role: {role: submitter}}
  - {trigger: zurueck, source: eingereicht, dest: entwurf, role: {role: reviewer, at: parent}}
  - {trigger: freigeben, source: eingereicht, dest: freigegeben,
     role: {role: reviewer, at: parent}}
  - {trigger: inspect, source: freigegeben, dest: geprueft,
     role: {role: inspector, at: nearest_above}}
  - {trigger: abnehmen, source: geprueft, dest: abgenommen,
     role: {role: inspector, at: nearest_above}}
  - {trigger: nachbessern, source: geprueft, dest: freigegeben,
     role: {role: inspector, at: nearest_above}}
  - {trigger: ablegen, source: abgenommen, dest: abgelegt, role: {role: officer}}
  - {trigger: zurueckziehen, source: [entwurf, eingereicht], dest: zurueckgezogen,
     role: {role: submitter}}
"""


def test_state_classes_follow_the_graph_not_the_names() -> None:
    classes = state_classes(parse_definition(OTHER_NAMES))
    assert classes.phases == {
        "entwurf": Phase.DRAFTING,
        "eingereicht": Phase.REVIEW,
        "freigegeben": Phase.INSPECTION,
        "geprueft": Phase.INSPECTION,
        "abgenommen": Phase.ACCEPTED,
        "abgelegt": Phase.ACCEPTED,
        "zurueckgezogen": Phase.DROPPED,
    }
    # Without an inspection, approval is the last acceptance there is.
    no_inspection = OTHER_NAMES.replace("trigger: inspect,", "trigger: pruefen,")
    classes = state_classes(parse_definition(no_inspection))
    assert classes.states(Phase.ACCEPTED) == {
        "freigegeben",
        "geprueft",
        "abgenommen",
        "abgelegt",
    }
    assert classes.states(Phase.INSPECTION) == set()


# -- aggregation (pure) ---------------------------------------------------------------------


def test_a_unit_with_several_plans_counts_once() -> None:
    annual = state_classes(load_definition(WORKFLOWS / "annual_plan.yaml"))
    rows = [
        StateCount(7, "annual_plan", 1, "accepted", 1, 1, 0, 0, 0),
        StateCount(7, "annual_plan", 1, "submitted", 2, 2, 1, 1, 2),
        StateCount(7, "annual_plan", 1, "inspection_scheduled", 1, 1, 1, 0, 0),
        StateCount(8, "annual_plan", 1, "returned", 1, 1, 1, 0, 0),
    ]
    statuses = unit_statuses(rows, lambda _name, _version: annual)
    seven = statuses[7]
    assert (seven.plans, seven.submitted, seven.approved, seven.accepted) == (4, True, True, True)
    assert seven.phase is Phase.ACCEPTED
    assert (seven.overdue_reviews, seven.overdue_inspections, seven.overdue_other) == (1, 1, 0)
    assert (seven.escalated, seven.max_level) == (1, 2)
    eight = statuses[8]
    assert (eight.submitted, eight.approved, eight.phase) == (True, False, Phase.DRAFTING)
    assert eight.overdue_other == 1 and eight.needs_attention
    assert 9 not in statuses and NO_PLAN.needs_attention and NO_PLAN.phase is Phase.NONE


# -- the year of a tree -----------------------------------------------------------------------


def numbers(rollup: Any) -> tuple[int, ...]:
    return (
        rollup.units,
        rollup.with_plan,
        rollup.submitted,
        rollup.approved,
        rollup.accepted,
        rollup.overdue_reviews,
        rollup.overdue_inspections,
        rollup.escalated,
    )


def test_the_federation_sees_each_union_rolled_up(pf: Planflow, world: dict[str, int]) -> None:
    assert stored_plan(pf, world["b"]).task_level == 1
    assert stored_plan(pf, world["f"]).state == "inspection_scheduled"
    fed = pf.unit_id("fed")
    ov = pf.year_overview(2027, [fed])
    codes = [pf.org_snapshot().unit(g.head).code for g in ov.groups]
    assert codes == ["fed", "union", "union2"]
    assert [g.own for g in ov.groups] == [True, False, False]
    fed_own, union, union2, total = ov.rollups
    # Only the branches draft plans: fed, union and union2 review and are not counted.
    assert numbers(fed_own) == (0, 0, 0, 0, 0, 0, 0, 0)
    assert numbers(union) == (4, 4, 4, 3, 1, 1, 1, 1)
    assert numbers(union2) == (2, 2, 0, 0, 0, 0, 0, 0)
    assert numbers(total) == (6, 6, 4, 3, 1, 1, 1, 1)
    assert union.rate(union.approved) == pytest.approx(0.75)
    assert fed_own.rate(fed_own.with_plan) == 0.0
    assert union.phases[Phase.ACCEPTED] == 1  # branch_a: its furthest plan
    assert union.phases[Phase.REVIEW] == 1
    assert union.phases[Phase.WORK] == 1
    assert union.phases[Phase.INSPECTION] == 1
    assert union.phases[Phase.NONE] == 0
    assert union2.phases[Phase.DRAFTING] == 1 and union2.phases[Phase.DROPPED] == 1
    assert sum(total.phases.values()) == total.units
    a = ov.status(pf.unit_id("branch_a"))
    assert a.plans == 2 and a.accepted and a.phase is Phase.ACCEPTED
    b = ov.status(pf.unit_id("branch_b"))
    assert (b.plans, b.overdue_reviews, b.escalated, b.max_level) == (1, 1, 1, 1)
    assert ov.status(pf.unit_id("union")) is NOT_DRAFTING
    assert not NOT_DRAFTING.needs_attention


def test_another_year_counts_its_own_plans(pf: Planflow, world: dict[str, int]) -> None:
    ov = pf.year_overview(2026, [pf.unit_id("fed")])
    assert numbers(ov.rollups[-1]) == (6, 1, 0, 0, 0, 0, 0, 0)
    assert ov.status(pf.unit_id("branch_b")).phase is Phase.DRAFTING
    assert numbers(pf.year_overview(2031, [pf.unit_id("fed")]).rollups[-1])[1:] == (0,) * 7


def test_a_union_sees_its_own_subtree_only(pf: Planflow, world: dict[str, int]) -> None:
    ov = pf.year_overview(2027, [pf.unit_id("union")])
    org = pf.org_snapshot()
    assert [org.unit(g.head).code for g in ov.groups] == [
        "union",
        "branch_a",
        "branch_b",
        "branch_e",
        "branch_f",
    ]
    assert {org.unit(u).code for u, _depth in ov.units} == {
        "union",
        "branch_a",
        "branch_b",
        "branch_e",
        "branch_f",
    }
    assert numbers(ov.rollups[-1]) == (4, 4, 4, 3, 1, 1, 1, 1)
    assert all(org.unit(u).code not in ("branch_c", "union2") for u in ov.statuses)


def test_grouping_by_depth_and_by_several_roots(pf: Planflow, world: dict[str, int]) -> None:
    org = pf.org_snapshot()
    fed, union, union2 = (pf.unit_id(c) for c in ("fed", "union", "union2"))

    def heads(groups: Any) -> list[tuple[str, bool, int]]:
        return [(org.unit(g.head).code, g.own, len(g.units)) for g in groups]

    assert heads(group_units(org, [fed], 2)) == [
        ("fed", True, 1),
        ("union", True, 1),
        ("branch_a", False, 1),
        ("branch_b", False, 1),
        ("branch_e", False, 1),
        ("branch_f", False, 1),
        ("union2", True, 1),
        ("branch_c", False, 1),
        ("branch_d", False, 1),
    ]
    # Someone overseeing two unions: one group per union, under no visible root.
    assert heads(group_units(org, [union2, union], 1)) == [
        ("union", False, 5),
        ("union2", False, 3),
    ]
    assert [(org.unit(u).code, d) for u, d in tree_order(org, [union2])] == [
        ("union2", 0),
        ("branch_c", 1),
        ("branch_d", 1),
    ]
    ov = pf.year_overview(2027, [union, union2])
    assert numbers(ov.rollups[-1]) == (6, 6, 4, 3, 1, 1, 1, 1)


@pytest.mark.parametrize("in_query", [900, 1], ids=["units-in-sql", "units-in-python"])
def test_the_queries_of_a_few_units(
    pf: Planflow, world: dict[str, int], monkeypatch: pytest.MonkeyPatch, in_query: int
) -> None:
    # Past MAX_UNITS_IN_QUERY units the queries read the whole year and filter in Python.
    monkeypatch.setattr(overview_sql, "MAX_UNITS_IN_QUERY", in_query)
    a, b = pf.unit_id("branch_a"), pf.unit_id("branch_b")
    counts = count_states(pf.db, 2027, {a, b}, LOOK_AT)
    assert sorted((c.unit_id, c.workflow_name, c.state, c.plans, c.overdue) for c in counts) == [
        (a, "annual_plan", "accepted", 1, 0),
        (a, "committee_plan", "approved", 1, 0),
        (b, "annual_plan", "submitted", 1, 1),
    ]
    plans = unit_plans(pf.db, 2027, [b, a])
    assert [(p.id, p.state, p.task_role, p.task_level) for p in plans] == [
        (world["a"], "accepted", None, 0),
        (world["a_committee"], "approved", None, 0),
        (world["b"], "submitted", "reviewer", 1),
    ]
    assert plans[2].overdue(LOOK_AT) and not plans[0].overdue(LOOK_AT)
    assert unit_plans(pf.db, 2027, set()) == []


def test_the_number_of_queries_does_not_grow_with_the_tree(
    pf: Planflow, world: dict[str, int], count_statements: CountStatements
) -> None:
    fed = pf.unit_id("fed")
    org = pf.org_snapshot()
    pf.year_overview(2027, [fed], org=org)  # definitions are cached after the first time
    with count_statements(pf) as small:
        pf.year_overview(2027, [fed], org=org)
    units = [(f"extra{n}", f"Extra {n}", "union2") for n in range(40)]
    people = [(f"drafter{n}", "drafter", f"extra{n}") for n in range(40)]
    add_people(pf, units, people)
    for n in range(0, 40, 3):
        new_plan(pf, f"extra{n}", f"drafter{n}")
    org = pf.org_snapshot()
    with count_statements(pf) as large:
        ov = pf.year_overview(2027, [fed], org=org)
    assert ov.rollups[-1].units == 46 and ov.rollups[-1].with_plan == 6 + 14
    assert len(large) == len(small) > 0


def test_only_units_that_draft_plans_count(pf: Planflow, world: dict[str, int]) -> None:
    fed = pf.unit_id("fed")
    # A plan counts its unit even when no one there may draft any more ...
    pf.org.revoke_role("drafter_b", "drafter", "branch_b")
    # ... and a unit where someone may draft counts before it has a plan.
    pf.org.add_unit("union3", "Union Three", "fed")
    ov = pf.year_overview(2027, [fed])
    assert ov.status(pf.unit_id("branch_b")).drafts
    assert ov.status(pf.unit_id("union3")) is NOT_DRAFTING
    assert numbers(ov.rollups[-1])[:2] == (6, 6)
    pf.org.add_user("drafter_u3", "Drafter U3")
    pf.org.assign_role("drafter_u3", "drafter", "union3")
    ov = pf.year_overview(2027, [fed])
    assert ov.status(pf.unit_id("union3")) is NO_PLAN and NO_PLAN.needs_attention
    assert numbers(ov.rollups[-1])[:2] == (7, 6)
