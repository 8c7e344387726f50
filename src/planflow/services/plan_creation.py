"""Where a user may start a plan: the units whose plans of a definition they may create.

A definition names the creator's role and where it is looked up relative to
the plan's unit (``WorkflowSpec.creator``). ``PlanService.create_plan``
checks it when a plan is created; this answers the question before, so a
client offers exactly the units it will be allowed (plain Python, over an
organisation snapshot and the user's ``Viewer``).
"""

from __future__ import annotations

from collections.abc import Iterable

from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.org import OrgSnapshot
from planflow.services.visibility import Viewer


def creatable_units(org: OrgSnapshot, viewer: Viewer, spec: WorkflowSpec) -> list[int]:
    """Units where the user may create a plan of ``spec``, by code."""
    ref = spec.creator
    tops = [unit for unit, role in viewer.roles if role == ref.role]
    # A role is looked up at the plan's unit or above it, so candidates lie below `tops`.
    candidates = {u for top in tops for u in org.subtree(top)}
    return sorted(
        (u for u in candidates if viewer.user_id in org.assignees(ref, u)),
        key=lambda u: org.unit(u).code,
    )


def units_for_new_plans(
    org: OrgSnapshot, viewer: Viewer, specs: Iterable[WorkflowSpec]
) -> list[int]:
    """Units where the user may create a plan of any of ``specs``, by code."""
    found = {u for spec in specs for u in creatable_units(org, viewer, spec)}
    return sorted(found, key=lambda u: org.unit(u).code)
