"""W1's two paths through the annual plan, as WORKLOAD.md fixes them."""

from __future__ import annotations

HAPPY = ["submit", "start_review", "approve", "schedule_inspection", "inspect", "accept"]
WITH_RETURN = [
    "submit",
    "start_review",
    "return_for_revision",
    "resubmit",
    "start_review",
    "approve",
    "schedule_inspection",
    "inspect",
    "accept",
]
DEST = {
    "submit": "submitted",
    "start_review": "under_review",
    "approve": "approved",
    "return_for_revision": "returned",
    "resubmit": "submitted",
    "schedule_inspection": "inspection_scheduled",
    "inspect": "inspected",
    "accept": "accepted",
}


def path_for(index: int) -> list[str]:
    return WITH_RETURN if index % 5 == 4 else HAPPY


def expected_steps(n: int) -> int:
    return sum(1 + len(path_for(i)) for i in range(n))
