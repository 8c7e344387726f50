"""Opening the task starts it (``on_open:``): the reviewer who opens a submitted plan
from the queue need not tap "Start review" as well. ``Planflow.open_task`` fires the
definition's ``on_open`` transition through the one transition path, or nothing."""

from __future__ import annotations

import pytest
from conftest import Org
from test_gestures import submitted

from planflow import Planflow
from planflow.errors import NotFound


def test_the_reviewer_opening_a_submitted_plan_starts_the_review(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf)
    version = pf.plan(plan_id).version
    done = pf.open_task(plan_id, "reviewer", version)
    assert done is not None and (done.action, done.to_state) == ("start_review", "under_review")
    record = pf.audit_trail(plan_id)[-1]
    assert (record.action, record.actor) == ("start_review", "reviewer")
    # Opened again: it is started already, nothing happens.
    assert pf.open_task(plan_id, "reviewer") is None
    assert pf.audit_trail(plan_id)[-1].seq == record.seq


def test_others_opening_it_change_nothing(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf)
    before = pf.plan(plan_id).version
    assert pf.open_task(plan_id, "chair_a") is None  # the submitter: not their task
    assert pf.open_task(plan_id, "reviewer", before - 1) is None  # a stale queue row
    assert pf.plan(plan_id).version == before and pf.plan(plan_id).state == "submitted"
    with pytest.raises(NotFound):
        pf.open_task(plan_id, "chair_b")  # may not see it: as if it did not exist
    with pytest.raises(NotFound):
        pf.open_task(plan_id + 1000, "reviewer")


def test_a_definition_without_on_open_is_left_alone(pf: Planflow, org: Org) -> None:
    plan_id = submitted(pf, "committee_plan")
    assert pf.open_task(plan_id, "member1") is None
    assert pf.plan(plan_id).state == "committee_review"
