"""The front door as a user of the library meets it: ``from planflow import ...``.

People are named by username, units by code; what comes back are frozen
views; a plan the user may not see answers exactly like one that does not
exist; the review queue and the lists are the library's. Every test runs on
SQLite and PostgreSQL (the ``pf`` and ``org`` fixtures).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from stored import CountStatements

import planflow
from planflow import (
    ActionResult,
    AuditEntry,
    CriterionScore,
    NotFound,
    Page,
    PermissionDenied,
    PlanContent,
    Planflow,
    PlanflowError,
    PlanSummary,
    PlanView,
    QueueEntry,
    ReviewQueue,
    StaleVersion,
    TaskEntry,
    ValidationError,
)
from planflow import views as views_module
from planflow.clock import FixedClock

YEAR = 2027
ITEMS = [
    {"key": "i1", "text": "Hold the workers' congress", "due": 4},
    {
        "key": "i2",
        "text": "Collect dues",
        "due": 12,
        "target": {"metric": "dues", "op": ">=", "value": 100, "unit": "%"},
    },
]


def content() -> PlanContent:
    return PlanContent.from_dict(
        {"sections": [{"key": "s1", "title": "Members", "items": ITEMS}]}, year=YEAR
    )


def plan_of(pf: Planflow, unit: str = "branch_a", title: str = "Work plan") -> int:
    """A plan of ``unit`` with two items, still a draft."""
    who = "drafter_a" if unit == "branch_a" else "drafter_b"
    plan_id = pf.create_plan(unit_code=unit, year=YEAR, title=title, actor=who)
    pf.content.set_content(plan_id, content(), actor=who)
    return plan_id


def submitted(pf: Planflow, unit: str = "branch_a", title: str = "Work plan") -> int:
    plan_id = plan_of(pf, unit, title)
    pf.fire(plan_id, "submit", "chair_a" if unit == "branch_a" else "chair_b")
    return plan_id


# -- the names ---------------------------------------------------------------------------------


def test_every_public_name_is_importable_and_listed() -> None:
    assert planflow.__all__ == sorted(planflow.__all__)
    for name in planflow.__all__:
        assert getattr(planflow, name) is not None, name
        if name != "__version__":
            assert name in (planflow.__doc__ or ""), f"{name} is not in the module docstring"
    assert planflow.Planflow is planflow.app.Planflow


def test_every_view_is_a_frozen_dataclass() -> None:
    found = [
        v
        for v in vars(views_module).values()
        # The views live in one module per area under ``planflow.views`` (issue 15).
        if isinstance(v, type)
        and (v.__module__.startswith("planflow.views.") or v.__module__ == "planflow.core.engine")
    ]
    assert len(found) >= 20
    for view in found:
        assert dataclasses.is_dataclass(view), view
        assert view.__dataclass_params__.frozen, view  # type: ignore[attr-defined]


def test_views_returned_by_operations_cannot_be_changed(pf: Planflow, org: Any) -> None:
    plan_id = submitted(pf)
    plan = pf.plan(plan_id)
    assert isinstance(plan, PlanView)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.state = "approved"  # type: ignore[misc]
    [first, *_] = pf.audit_trail(plan_id)
    assert isinstance(first, AuditEntry)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.actor = "someone"  # type: ignore[misc]
    with pytest.raises(TypeError):
        first.detail["title"] = "changed"  # type: ignore[index]
    page = pf.plans()
    assert isinstance(page, Page) and isinstance(page.items, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.items[0].title = "x"  # type: ignore[misc]


# -- a plan as a view --------------------------------------------------------------------------


def test_a_plan_view_names_units_and_people(pf: Planflow, org: Any) -> None:
    plan_id = submitted(pf)
    plan = pf.plan(plan_id)
    assert (plan.id, plan.year, plan.title, plan.state) == (plan_id, YEAR, "Work plan", "submitted")
    assert (plan.unit.code, plan.unit.name) == ("branch_a", "Branch A 분회")
    assert (plan.workflow, plan.workflow_version) == ("annual_plan", 5)
    assert (plan.created_by, plan.submitted_by, plan.revision, plan.item_count) == (
        "drafter_a",
        "chair_a",
        1,
        2,
    )
    task = plan.task
    assert task is not None
    assert (task.role, task.unit, task.escalated_to, task.level) == (
        "reviewer",
        planflow.UnitRef("union", "Union 工会"),
        None,
        0,
    )
    assert task.due_at is not None and not task.overdue(task.due_at - timedelta(seconds=1))
    assert plan.version == 3 and plan.created_at <= plan.updated_at


def test_fire_returns_what_the_action_did(pf: Planflow, org: Any) -> None:
    plan_id = plan_of(pf, "branch_a")
    done = pf.fire(plan_id, "submit", "chair_a")
    assert isinstance(done, ActionResult)
    assert (done.from_state, done.to_state, done.version, done.moved) == (
        "draft",
        "submitted",
        3,
        True,
    )
    trail = pf.audit_trail(plan_id)
    assert [(e.seq, e.actor, e.action) for e in trail] == [
        (1, "drafter_a", "create"),
        (2, "drafter_a", "edit_content"),
        (3, "chair_a", "submit"),
    ]
    assert trail[0].detail["title"] == "Work plan"
    assert trail[1].prev_hash == trail[0].hash
    assert pf.verify_audit().ok


def test_on_behalf_of_and_the_system_are_named_on_the_trail(pf: Planflow, org: Any) -> None:
    plan_id = submitted(pf)
    pf.fire(plan_id, "start_review", "reviewer2", on_behalf_of="reviewer")
    pf.fire(plan_id, "auto_return", None)
    *_, behalf, system = pf.audit_trail(plan_id)
    assert (behalf.actor, behalf.on_behalf_of) == ("reviewer2", "reviewer")
    assert (system.actor, system.on_behalf_of, system.to_state) == (None, None, "returned")


# -- usernames everywhere ----------------------------------------------------------------------


def test_every_area_takes_usernames(pf: Planflow, org: Any, clock: FixedClock) -> None:
    plan_id = plan_of(pf)
    version = pf.content.add_comment(plan_id, "Looks right", actor="chair_a", item_key="i1")
    assert version == pf.plan(plan_id).version
    [note] = pf.content.comments(plan_id)
    assert (note.author, note.body, note.item_key) == ("chair_a", "Looks right", "i1")
    for action, actor in [
        ("submit", "chair_a"),
        ("start_review", "reviewer"),
        ("approve", "reviewer"),
    ]:
        pf.fire(plan_id, action, actor)
    [revision] = pf.content.revisions(plan_id)
    assert (revision.number, revision.created_by) == (1, "chair_a")

    pf.execution.report_progress(
        plan_id, "i2", "done", "All dues in", actor="chair_a", measured=100
    )
    kept = pf.execution.attach_evidence(
        plan_id, "i1", "minutes.txt", "text/plain", b"minutes", actor="drafter_a"
    )
    [report] = pf.execution.progress(plan_id)
    assert (report.item_key, report.updated_by, report.measured) == ("i2", "chair_a", 100.0)
    assert pf.execution.evidence(plan_id) == [kept]
    assert kept.uploaded_by == "drafter_a"
    board = pf.execution.board(plan_id, "chair_a")
    assert board.may_report and board.item("i2").progress == report  # type: ignore[union-attr]

    pf.fire(plan_id, "schedule_inspection", "officer")
    assert pf.inspections.status(plan_id, "inspector").may_plan_visit
    pf.inspections.set_visit_date(plan_id, date(2027, 1, 5), actor="inspector")
    sheet = pf.inspections.sheet(plan_id)
    own = [CriterionScore(c.code, self_score=c.points) for c in sheet.criteria()]
    pf.inspections.record_self_assessment(plan_id, own, actor="chair_a")
    assert pf.inspections.self_assessment(plan_id, "chair_a").round == 1
    scores = [CriterionScore(c.code, inspector_score=c.points) for c in sheet.criteria()]
    pf.inspections.record_scores(plan_id, scores, actor="inspector")
    assert pf.inspections.start(plan_id, actor="inspector") == "inspected"
    result = pf.inspections.finish(plan_id, actor="inspector")
    assert result.to_state == pf.plan(plan_id).state
    [inspection] = pf.inspections.rounds(plan_id)
    assert inspection.inspector == "inspector" and inspection.grade == result.grade

    assert [n.kind for n in pf.inbox.notifications("reviewer")]  # told of the submission
    unread = pf.inbox.unread_count("reviewer")
    assert unread > 0 and pf.inbox.mark_read("reviewer") == unread
    assert pf.inbox.unread_count("reviewer") == 0


def test_an_id_where_a_name_belongs_is_refused_plainly(pf: Planflow, org: Any) -> None:
    plan_id = plan_of(pf)
    with pytest.raises(TypeError, match="named by its username"):
        pf.fire(plan_id, "submit", pf.user_id("chair_a"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="named by its code"):
        pf.create_plan(unit_code=org.branch_a, year=YEAR, title="x", actor="drafter_a")


@pytest.mark.parametrize(
    "call",
    [
        lambda pf, p: pf.fire(p, "submit", "nobody"),
        lambda pf, p: pf.fire(p, "submit", "chair_a", on_behalf_of="nobody"),
        lambda pf, p: pf.content.set_content(p, content(), actor="nobody"),
        lambda pf, p: pf.content.add_comment(p, "hi", actor="nobody"),
        lambda pf, p: pf.available_actions(p, "nobody"),
        lambda pf, p: pf.plan(p, as_user="nobody"),
        lambda pf, p: pf.plans(as_user="nobody"),
        lambda pf, p: pf.tasks("nobody"),
        lambda pf, p: pf.review_queue("nobody"),
        lambda pf, p: pf.inbox.notifications("nobody"),
        lambda pf, p: pf.execution.report_progress(p, "i1", "done", "x", actor="nobody"),
        lambda pf, p: pf.inspections.status(p, "nobody"),
        lambda pf, p: pf.org.assign_role("nobody", "drafter", "branch_a"),
    ],
)
def test_an_unknown_username_is_not_found(pf: Planflow, org: Any, call: Any) -> None:
    plan_id = plan_of(pf)
    before = pf.plan(plan_id).version
    with pytest.raises(NotFound) as info:
        call(pf, plan_id)
    assert (info.value.kind, info.value.ident) == ("user", "nobody")
    assert pf.plan(plan_id).version == before


def test_unknown_unit_codes_and_plan_ids_are_not_found(pf: Planflow, org: Any) -> None:
    with pytest.raises(NotFound, match="unknown unit: 'nowhere'"):
        pf.create_plan(unit_code="nowhere", year=YEAR, title="x", actor="drafter_a")
    with pytest.raises(NotFound, match="unknown unit: 'nowhere'"):
        pf.plans(unit_code="nowhere")
    for read in (
        pf.plan,
        pf.audit_trail,
        pf.content.content,
        pf.content.revisions,
        pf.execution.progress,
        pf.approvals,
    ):
        with pytest.raises(NotFound, match="unknown plan: 999"):
            read(999)
    with pytest.raises(NotFound, match="unknown plan: 999"):
        pf.fire(999, "submit", "chair_a")


def test_a_user_added_by_another_process_is_found(
    pf: Planflow, org: Any, database_url: str, clock: FixedClock
) -> None:
    pf.user_id("drafter_a")  # this process has the organisation cached now
    other = Planflow(database_url, clock=clock)
    try:
        other.org.add_user("newcomer", "New Comer")
        other.org.assign_role("newcomer", "drafter", "branch_a")
    finally:
        other.close()
    plan_id = pf.create_plan(unit_code="branch_a", year=YEAR, title="New", actor="newcomer")
    assert pf.plan(plan_id).created_by == "newcomer"


@pytest.fixture
def statements(pf: Planflow, count_statements: CountStatements) -> Iterator[list[str]]:
    """Every statement SQLAlchemy sends (the name look-ups go through it)."""
    with count_statements(pf) as seen:
        yield seen


def test_names_resolve_from_the_cached_snapshot_without_a_query(
    pf: Planflow, org: Any, statements: list[str]
) -> None:
    pf.user_id("drafter_a")  # warm the cache
    statements.clear()
    assert pf.names.user_id("chair_a") > 0 and pf.names.unit_id("branch_b") == org.branch_b
    assert statements == []
    with pytest.raises(NotFound):
        pf.names.user_id("nobody")
    # Only the generation is read (has the organisation moved on?); nothing is reloaded.
    assert len([s for s in statements if "org_generation" in s]) == 1
    assert not [s for s in statements if "FROM unit" in s or "FROM app_user" in s]


# -- who sees what -----------------------------------------------------------------------------


def refusal(call: Any) -> tuple[type, str, object]:
    with pytest.raises(NotFound) as info:
        call()
    return type(info.value), str(info.value), info.value.kind


def test_a_foreign_plan_answers_exactly_like_a_missing_one(pf: Planflow, org: Any) -> None:
    draft_b = plan_of(pf, "branch_b")  # never submitted: branch_b's people only
    missing = draft_b + 1000
    for ask in (
        lambda p: pf.plan(p, as_user="drafter_a"),
        lambda p: pf.audit_trail(p, as_user="drafter_a"),
        lambda p: pf.available_actions(p, "drafter_a"),
        lambda p: pf.plan(p, as_user="reviewer"),  # oversight starts at the first submission
    ):
        foreign = refusal(lambda ask=ask: ask(draft_b))
        absent = refusal(lambda ask=ask: ask(missing))
        assert foreign == (NotFound, f"unknown plan: {draft_b}", "plan")
        assert absent == (NotFound, f"unknown plan: {missing}", "plan")
    assert pf.plan(draft_b, as_user="chair_b").id == draft_b
    assert pf.plan(draft_b).id == draft_b  # None: no rule (the command line, scripts)


def test_acting_on_a_foreign_plan_answers_exactly_like_a_missing_one(
    pf: Planflow, org: Any
) -> None:
    # Guessing ids on the write path tells a stranger nothing either: not that
    # the plan exists, nor its state, version or who may act on it.
    draft_b = plan_of(pf, "branch_b")
    missing = draft_b + 1000
    version = pf.plan(draft_b).version
    body = PlanContent.from_dict({"sections": []}, year=2027)
    for act in (
        lambda p: pf.fire(p, "submit", "drafter_a"),  # the wrong person
        lambda p: pf.fire(p, "approve", "reviewer"),  # not an action of the state
        lambda p: pf.fire(p, "submit", "drafter_a", expected_version=version + 5),  # stale
        lambda p: pf.content.set_content(p, body, actor="drafter_a"),
        lambda p: pf.content.add_comment(p, "hello", actor="drafter_a"),
        lambda p: pf.content.add_comment(p, "hello", actor="reviewer"),
    ):
        foreign = refusal(lambda act=act: act(draft_b))
        absent = refusal(lambda act=act: act(missing))
        assert foreign == (NotFound, f"unknown plan: {draft_b}", "plan")
        assert absent == (NotFound, f"unknown plan: {missing}", "plan")
    assert pf.plan(draft_b).version == version  # and nothing was written
    assert [c.body for c in pf.content.comments(draft_b)] == []
    # Those who may see it get the real refusal.
    with pytest.raises(StaleVersion):
        pf.fire(draft_b, "submit", "chair_b", expected_version=version + 5)


def test_lists_hold_exactly_the_plans_a_user_may_see(pf: Planflow, org: Any) -> None:
    draft_a = plan_of(pf, "branch_a", "A draft")
    sent_a = submitted(pf, "branch_a", "A sent")
    draft_b = plan_of(pf, "branch_b", "B draft")
    sent_b = submitted(pf, "branch_b", "B sent")

    def ids(user: str | None) -> set[int]:
        return {p.id for p in pf.plans(as_user=user, page_size=100).items}

    assert ids(None) == {draft_a, sent_a, draft_b, sent_b}
    assert ids("drafter_a") == {draft_a, sent_a}  # their unit's, whatever the state
    assert ids("chair_b") == {draft_b, sent_b}
    assert ids("reviewer") == {sent_a, sent_b}  # oversight: submitted plans below
    assert ids("fed_reviewer") == {sent_a, sent_b}
    for user in ("drafter_a", "chair_b", "reviewer", "fed_reviewer", "inspector"):
        for plan_id in ids(None):
            try:
                pf.plan(plan_id, as_user=user)
                seen = True
            except NotFound:
                seen = False
            assert seen == (plan_id in ids(user)), (user, plan_id)


def test_plans_are_filtered_searched_and_paged(pf: Planflow, org: Any, clock: FixedClock) -> None:
    made = [submitted(pf, "branch_a", f"Plan {n} for members") for n in range(5)]
    budget = plan_of(pf, "branch_b", "Budget for 2027")
    first = pf.plans(as_user="reviewer", order="id", page_size=2)
    assert [p.id for p in first.items] == made[:2] and first.more and first.number == 1
    last = pf.plans(as_user="reviewer", order="id", page=3, page_size=2)
    assert [p.id for p in last.items] == made[4:] and not last.more
    assert all(isinstance(p, PlanSummary) for p in first.items)
    assert {p.id for p in pf.plans(search="BUDGET").items} == {budget}
    assert pf.plans(search="100%").items == ()  # no wildcards in a search
    assert pf.plans(search="budget", as_user="reviewer").items == ()  # a draft of branch_b
    assert {p.id for p in pf.plans(state="submitted", unit_code="branch_a").items} == set(made)
    assert pf.plans(year=YEAR + 1).items == ()
    clock.advance(timedelta(minutes=1))
    pf.fire(made[0], "start_review", "reviewer")
    recent = pf.plans(as_user="reviewer", order="recent", page_size=1)
    assert [p.id for p in recent.items] == [made[0]]
    with pytest.raises(planflow.ValidationError):
        pf.plans(page_size=0)


# -- tasks and the review queue ----------------------------------------------------------------


def test_tasks_of_a_person(pf: Planflow, org: Any) -> None:
    plan_id = submitted(pf)
    [task] = pf.tasks("reviewer")
    assert isinstance(task, TaskEntry)
    assert (task.plan_id, task.role, task.unit_code, task.unit_name, task.state) == (
        plan_id,
        "reviewer",
        "branch_a",
        "Branch A 분회",
        "submitted",
    )
    assert not task.escalated_to_me and task.plan_version == pf.plan(plan_id).version
    assert pf.tasks("chair_a") == [] and pf.tasks("fed_reviewer") == []
    pf.fire(plan_id, "start_review", "reviewer")
    pf.fire(plan_id, "return_for_revision", "reviewer", "Add targets")
    assert [(t.plan_id, t.role) for t in pf.tasks("drafter_a")] == [(plan_id, "drafter")]
    assert pf.tasks("reviewer") == []


def test_the_review_queue(pf: Planflow, org: Any, clock: FixedClock) -> None:
    older = submitted(pf, "branch_a", "Older")
    clock.advance(timedelta(hours=1))
    newer = submitted(pf, "branch_b", "Newer")
    draft = plan_of(pf, "branch_a", "Draft")

    queue = pf.review_queue("reviewer")
    assert isinstance(queue, ReviewQueue) and queue.oversees
    assert [e.plan.id for e in queue.mine.items] == [older, newer]  # the longest waiting first
    assert queue.mine.total == 2 and queue.others.items == ()
    entry = queue.mine.items[0]
    assert isinstance(entry, QueueEntry) and not entry.escalated_to_you
    assert (entry.task.role, entry.task.unit.code) == ("reviewer", "union")  # type: ignore[union-attr]

    # The federation's reviewer oversees the union: the plans wait for someone else.
    above = pf.review_queue("fed_reviewer")
    assert above.mine.items == ()
    assert [e.plan.id for e in above.others.items] == [older, newer]
    assert draft not in {e.plan.id for e in above.others.items}

    # Overdue comes before the longest waiting; paging keeps the total.
    clock.advance(timedelta(days=30))
    pf.fire(newer, "start_review", "reviewer")
    ordered = pf.review_queue("reviewer", page_size=1)
    assert ordered.mine.total == 2 and ordered.mine.more
    second = pf.review_queue("reviewer", mine_page=2, page_size=1)
    assert [e.plan.id for e in ordered.mine.items + second.mine.items] == [older, newer]
    past = pf.review_queue("reviewer", mine_page=9, page_size=1)
    assert past.mine.number == 2  # past the end: the last page

    # A drafter has their own tasks, not a queue.
    assert pf.review_queue("drafter_a") == ReviewQueue(
        Page((), 1, 50, False, 0), Page((), 1, 50, False, 0), False
    )


def test_an_escalated_task_is_on_the_queue_above(pf: Planflow, org: Any, clock: FixedClock) -> None:
    from planflow.scheduling.deadline_processor import DeadlineProcessor

    plan_id = submitted(pf)
    clock.advance(timedelta(days=60))
    DeadlineProcessor(pf.service, "test").run()
    plan = pf.plan(plan_id)
    assert plan.task is not None and plan.task.level >= 1
    assert plan.task.escalated_to == planflow.UnitRef("fed", "Federation 总工会")
    [entry] = pf.review_queue("fed_reviewer").mine.items
    assert entry.plan.id == plan_id and entry.escalated_to_you
    [original] = pf.review_queue("reviewer").mine.items
    assert not original.escalated_to_you


# -- what a user may do now --------------------------------------------------------------------


def test_available_actions_say_why_not(pf: Planflow, org: Any) -> None:
    plan_id = pf.create_plan(unit_code="branch_a", year=YEAR, title="Empty", actor="drafter_a")
    options = {o.trigger: o for o in pf.available_actions(plan_id, "chair_a")}
    assert set(options) == {"submit", "abandon"}
    assert options["submit"].blocked_by and not options["submit"].ready
    assert options["abandon"].ready
    with pytest.raises(PermissionDenied):
        pf.fire(plan_id, "submit", "drafter_a")
    pf.content.set_content(plan_id, content(), actor="drafter_a")
    assert all(o.ready for o in pf.available_actions(plan_id, "chair_a"))
    version = pf.plan(plan_id).version
    with pytest.raises(StaleVersion):
        pf.fire(plan_id, "submit", "chair_a", expected_version=version - 1)
    assert pf.fire(plan_id, "submit", "chair_a", expected_version=version).version == version + 1


def test_units_for_new_plans(pf: Planflow, org: Any) -> None:
    assert [u.code for u in pf.units_for_new_plans("drafter_a")] == ["branch_a"]
    assert pf.units_for_new_plans("reviewer") == []


# -- the organisation --------------------------------------------------------------------------


def test_the_organisation_through_the_front_door(pf: Planflow) -> None:
    pf.org.add_unit("fed", "Federation")
    pf.org.add_unit("u1", "Union One", parent="fed")
    pf.org.add_unit("u2", "Union Two", parent="fed")
    pf.org.move_unit("u2", "u1")
    pf.org.add_user("ann", "Ann", email="ann@example.org")
    pf.org.assign_role("ann", "reviewer", "u1")
    assert [(u.code, u.parent) for u in pf.org.units()] == [
        ("fed", None),
        ("u1", "fed"),
        ("u2", "u1"),
    ]
    assert [(u.username, u.active) for u in pf.org.users()] == [("ann", True)]
    assert [(r.username, r.role, r.unit) for r in pf.org.roles()] == [("ann", "reviewer", "u1")]
    pf.org.set_active("ann", False)
    assert pf.org.users()[0].active is False
    pf.org.revoke_role("ann", "reviewer", "u1")
    assert pf.org.roles(unit="u1") == []
    assert pf.display_names(["ann", "nobody", None]) == {"ann": "Ann"}
    with pytest.raises(planflow.ValidationError):
        pf.org.assign_role("ann", "pope", "u1")


#: More than SQLite's 64 bits and PostgreSQL's 32: no plan can have it.
IMPOSSIBLE_ID = 99_999_999_999_999_999_999


def _plan_id_first(owner: object) -> list[tuple[str, Any]]:
    """The public methods of ``owner`` whose first parameter is ``plan_id``."""
    found = []
    for name, method in inspect.getmembers(owner, callable):
        if name.startswith("_"):
            continue
        try:
            params = list(inspect.signature(method).parameters.values())
        except (TypeError, ValueError):
            continue
        if params and params[0].name == "plan_id":
            found.append((name, method))
    return found


def test_a_plan_id_no_plan_can_have_is_not_found_everywhere(pf: Planflow) -> None:
    """``pf.plan(99999999999999999999)`` raised the driver's OverflowError, and so did
    seven other reads (a new user's walk found two); every method that takes a plan
    id first refuses it as ``NotFound``, a ``PlanflowError`` like the rest."""
    checked = []
    for prefix, owner in (("pf", pf), ("content", pf.content), ("inspections", pf.inspections)):
        for name, method in _plan_id_first(owner):
            params = list(inspect.signature(method).parameters.values())[1:]
            required = [p for p in params if p.default is inspect.Parameter.empty
                        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]  # fmt: skip
            args = [p.name for p in required if p.kind is not p.KEYWORD_ONLY]
            kwargs = {p.name: p.name for p in required if p.kind is p.KEYWORD_ONLY}
            try:
                answer = method(IMPOSSIBLE_ID, *args, **kwargs)
                if hasattr(answer, "__next__"):  # an iterator reads when it is read
                    list(answer)
            except PlanflowError as refused:
                assert isinstance(refused, NotFound) or refused.code, f"{prefix}.{name}"
            except Exception as other:  # the point: no other kind escapes
                pytest.fail(f"{prefix}.{name}: {type(other).__name__}: {other}")
            else:
                pytest.fail(f"{prefix}.{name} answered for a plan that cannot exist")
            checked.append(f"{prefix}.{name}")
    assert {"pf.plan", "pf.audit_trail", "content.comments", "inspections.rounds"} <= set(
        checked
    ), checked


def test_a_state_no_workflow_has_is_refused_not_read_as_no_plans(pf: Planflow, org: Any) -> None:
    """``pf.plans(state="bogus")`` answered an empty page: a typo read as "no such
    plans" (a new user's walk). Refused with the states there are."""
    with pytest.raises(ValidationError) as refused:
        pf.plans(state="under_reveiw")
    assert refused.value.code == "unknown_state"
    assert refused.value.params["state"] == "under_reveiw"
    assert "under_review" in refused.value.params["known"]
    assert pf.plans(state="under_review").items == ()
