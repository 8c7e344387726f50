"""Custom guards: a library user registers a guard (and a fact it needs) on the facade.

The definition in tests/data/custom_guard_workflows names two guards the
library does not have. Unregistered, the definition is refused with a clear
problem; registered, the guards refuse with codes of their own and allow
once their condition holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.core.content.model import PlanContent
from planflow.core.definitions.loader import load_definition
from planflow.core.definitions.spec import GuardRef
from planflow.core.guard_registry import BUILTIN_REGISTRY, GuardRegistry
from planflow.core.guards import Gate
from planflow.errors import DefinitionError, GuardFailed, Refusal

WORKFLOWS = Path(__file__).parent / "data" / "custom_guard_workflows"
SMALL_PLAN = WORKFLOWS / "small_plan.yaml"


def at_most_items(gate: Gate, ref: GuardRef) -> Refusal | None:
    limit = int(dict(ref.params)["limit"])
    if gate.facts.item_count > limit:
        return Refusal(
            "too_many_items",
            {"count": gate.facts.item_count, "limit": limit},
            "the plan has {count} items; a small plan has at most {limit}",
        )
    return None


def budget_approved(gate: Gate, _ref: GuardRef) -> Refusal | None:
    if gate.facts.fact("budget") != "approved":
        return Refusal("budget_missing", {}, "the budget office has not approved the budget")
    return None


@pytest.fixture
def custom(database_url: str, clock: FixedClock) -> Iterator[Planflow]:
    instance = Planflow(database_url, clock=clock, workflows_dir=WORKFLOWS)
    yield instance
    instance.close()


def test_an_unregistered_guard_is_a_problem_of_the_definition() -> None:
    with pytest.raises(DefinitionError) as info:
        load_definition(SMALL_PLAN)
    messages = [p.message for p in info.value.problems]
    assert any(m.startswith("unknown guard 'at_most_items'") for m in messages)
    assert any(m.startswith("unknown guard 'budget_approved'") for m in messages)


def test_a_registered_guard_validates() -> None:
    guards = GuardRegistry()
    guards.provide("budget", lambda tx, row, spec: "approved")
    guards.register("at_most_items", at_most_items)
    guards.register("budget_approved", budget_approved, needs=("budget",))
    spec = load_definition(SMALL_PLAN, guards=guards)
    assert [g.name for g in spec.transitions[0].guards] == ["has_items", "at_most_items"]


def test_registration_is_checked() -> None:
    guards = GuardRegistry()
    with pytest.raises(ValueError, match="already registered"):
        guards.register("not_self", at_most_items)
    with pytest.raises(ValueError, match="nothing provides"):
        guards.register("budget_approved", budget_approved, needs=("budget",))
    with pytest.raises(ValueError, match="guard name"):
        guards.register("Bad Name", at_most_items)
    with pytest.raises(ValueError, match="read-only"):
        BUILTIN_REGISTRY.register("mine", at_most_items)
    guards.provide("budget", lambda tx, row, spec: None)
    with pytest.raises(ValueError, match="already has a provider"):
        guards.provide("budget", lambda tx, row, spec: None)


def _plan(pf: Planflow, items: int) -> int:
    plan_id = pf.create_plan(
        unit_code="branch_a", year=2027, title="Small", actor="drafter_a", workflow="small_plan"
    )
    content = PlanContent(2027).add_section("Work", key="s1")
    for n in range(items):
        content = content.add_item("s1", f"Item {n + 1}", due=3)
    pf.content.set_content(plan_id, content, actor="drafter_a")
    return plan_id


def test_a_custom_guard_refuses_and_allows_with_its_own_code(custom: Planflow, org: Any) -> None:
    budgets: dict[int, str] = {}
    custom.provide_fact("budget", lambda tx, row, spec: budgets.get(row.id, "pending"))
    custom.register_guard("at_most_items", at_most_items)
    custom.register_guard("budget_approved", budget_approved, needs=("budget",))

    big = _plan(custom, items=3)
    with pytest.raises(GuardFailed) as info:
        custom.fire(big, "submit", "chair_a")
    assert info.value.refusals == (Refusal("too_many_items", {"count": 3, "limit": 2}),)
    assert "the plan has 3 items; a small plan has at most 2" in str(info.value)
    options = {o.trigger: o.blocked_by for o in custom.available_actions(big, "chair_a")}
    assert [r.code for r in options["submit"]] == ["too_many_items"]

    small = _plan(custom, items=2)
    assert custom.fire(small, "submit", "chair_a").to_state == "submitted"
    # The fact is computed by the registered provider, in the decision's transaction.
    with pytest.raises(GuardFailed) as info:
        custom.fire(small, "approve", "reviewer")
    assert info.value.codes == ("budget_missing",)
    budgets[small] = "approved"
    assert custom.fire(small, "approve", "reviewer").to_state == "approved"
