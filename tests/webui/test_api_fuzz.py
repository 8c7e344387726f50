"""The API against its own OpenAPI document, fuzzed by schemathesis.

Every operation is called with generated inputs, those the document allows
(positive) and those it forbids (negative), as a reviewer and administrator with an admin token, on
a federation with plans in several states. Every response must conform to
the document (a listed status, a body matching its schema, problem details
for errors) and none may be a 5xx. The budget is fixed and the generation
derandomised, so the test takes the same bounded time on every run.

schemathesis's own pytest integration (``schemathesis.pytest``) does not
work with pytest 9 (it sets a node attribute pytest no longer has), so the
operations are driven with Hypothesis directly, one ``@given`` per
operation and mode.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from webui_support import make_app

from planflow.app import Planflow
from planflow.core.content.model import PlanContent

pytestmark = pytest.mark.slow

#: Examples per operation and mode: enough to meet every parameter's edges.
BUDGET = 20
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
#: What a request that fits the document may get back (see the positive case).
WELL_FORMED_ANSWERS = {200, 201, 403, 404, 409, 422}


def federation_with_plans(pf: Planflow) -> None:
    body = PlanContent.from_dict(
        {"sections": [{"title": "Work", "items": [{"key": "i1", "text": "Recruit", "due": 3}]}]},
        year=2027,
    )
    for unit, drafter, chair in (
        ("branch_a", "drafter_a", "chair_a"),
        ("branch_b", "drafter_b", "chair_b"),
    ):
        plan_id = pf.create_plan(unit_code=unit, year=2027, title=f"Plan {unit}", actor=drafter)
        pf.content.set_content(plan_id, body, actor=drafter)
        pf.fire(plan_id, "submit", chair)
    pf.create_plan(unit_code="branch_a", year=2027, title="Draft", actor="drafter_a")
    # The caller: a reviewer of the union who also administers the federation, so that
    # the admin operations are reached too (and may change the organisation as they go).
    with pf.session() as s:
        pf.org_repo.add_user(s, "fuzzer", "Fuzzer")
        for role, unit in (("reviewer", "union"), ("admin", "fed")):
            pf.org_repo.assign_role(s, "fuzzer", role, unit, known_roles=(role,))


def fuzz(
    operation: Any, mode: GenerationMode, headers: dict[str, str], seen: dict[str, set[int]]
) -> None:
    """Call ``operation`` with ``BUDGET`` generated requests and check every answer."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=BUDGET,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.path, response.text)
        seen.setdefault(operation.label, set()).add(response.status_code)
        if mode is GenerationMode.POSITIVE:
            # A well-formed request may still be refused by the rules: a plan
            # the caller may not see (404), a guard (422), a stale version (409),
            # a unit code that does not exist (422), a write the role lacks (403).
            assert response.status_code in WELL_FORMED_ANSWERS, (case.path, response.text)
        case.validate_response(
            response, headers=headers, excluded_checks=[positive_data_acceptance]
        )

    call()


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_no_operation_answers_5xx_or_outside_its_document(
    pf: Planflow, org: object, mode: GenerationMode
) -> None:
    # The per-token limit is tested on its own (test_api_limits.py); here it would
    # only cut the fuzzing short.
    app = make_app(pf, API_REQUESTS_PER_MINUTE=10**9)
    federation_with_plans(pf)
    headers = {"Authorization": f"Bearer {pf.tokens.create('fuzzer', scope='admin').secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 4
    seen: dict[str, set[int]] = {}

    for operation in operations:
        fuzz(operation, mode, headers, seen)
    # Every operation was reached, and answered.
    assert set(seen) == {op.label for op in operations}, seen
    if mode is GenerationMode.POSITIVE:  # and the reads did succeed, not only refuse
        assert all(200 in seen[op.label] for op in operations if op.method == "get"), seen
