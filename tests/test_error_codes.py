"""Errors carry a stable code and parameters; ``str(error)`` stays an English sentence.

The codes are a protocol (docs/codes.md): the web UI translates by them and
the planned HTTP API sends them. These tests hold a few of them to their
documented parameters.
"""

from __future__ import annotations

import pytest

from planflow.app import Planflow
from planflow.core.text import clean_text
from planflow.errors import (
    ActionNotAllowed,
    NotFound,
    PermissionDenied,
    PlanflowError,
    StaleVersion,
    ValidationError,
)


def test_each_error_names_its_code_and_parameters() -> None:
    cases: list[tuple[PlanflowError, str, dict[str, object]]] = [
        (NotFound("plan", 7), "not_found", {"kind": "plan", "ident": 7}),
        (
            ActionNotAllowed("approve", "draft", ["submit"]),
            "action_not_allowed",
            {"action": "approve", "state": "draft", "available": ["submit"]},
        ),
        (
            PermissionDenied("approve", "reviewer", "at the parent unit"),
            "permission_denied",
            {"action": "approve", "role": "reviewer", "where": "at the parent unit"},
        ),
        (StaleVersion(3, 4, 5), "stale_version", {"plan_id": 3, "expected": 4, "current": 5}),
    ]
    for error, code, params in cases:
        assert (error.code, error.params) == (code, params)
        assert str(error)[0].islower() and " " in str(error)  # an English sentence


def test_text_refusals_have_a_code_per_rule() -> None:
    with pytest.raises(ValidationError) as info:
        clean_text("x" * 11, field="title", max_length=10)
    assert info.value.code == "text_too_long"
    assert info.value.params == {"field": "title", "max": 10, "length": 11}
    with pytest.raises(ValidationError) as info:
        clean_text("a\x00b", field="title", max_length=10)
    assert info.value.code == "text_control_character"
    assert info.value.params["position"] == 2


def test_library_refusals_of_plans_and_comments(pf: Planflow, org: object) -> None:
    with pytest.raises(ValidationError) as info:
        pf.create_plan(unit_code="branch_a", year=1999, title="Plan", actor="drafter_a")
    assert (info.value.code, info.value.params["year"]) == ("year_out_of_range", 1999)
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="Plan", actor="drafter_a")
    with pytest.raises(ValidationError) as info:
        pf.content.add_comment(plan_id, "   ", actor="drafter_a")
    assert info.value.code == "comment_empty"
    assert str(info.value) == "a comment cannot be empty"


def test_organisation_refusals_of_the_library_have_codes(pf: Planflow, org: object) -> None:
    """Running the README's example twice, or naming a role no definition has, is
    refused with a code a client can word (it was the catch-all ``invalid``)."""
    with pytest.raises(ValidationError) as info:
        pf.org.add_unit("Branch_A", "Another branch", parent="fed")
    assert (info.value.code, info.value.params) == ("duplicate_code", {"code": "Branch_A"})
    with pytest.raises(ValidationError) as info:
        pf.org.add_user("Drafter_A", "Another drafter")
    assert (info.value.code, info.value.params) == ("duplicate_username", {"username": "Drafter_A"})
    with pytest.raises(ValidationError) as info:
        pf.org.assign_role("drafter_a", "pope", "branch_a")
    assert info.value.code == "unknown_role"
    assert info.value.params["role"] == "pope" and "drafter" in info.value.params["known"]
    assert "unknown role 'pope'" in str(info.value)
