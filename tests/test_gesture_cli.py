"""``planflow plans recall|abandon|urge`` on the demo federation, on both databases."""

from __future__ import annotations

from test_cli import Cli, PlanLine, assert_ok, assert_refused, demo, plan_in, run

__all__ = ["demo", "run"]  # the fixtures, shared with test_cli


def stranger(unit: str) -> str:
    """A drafter of another branch: may not see a plan of ``unit``."""
    return "branch1-2.drafter" if unit == "branch1-1" else "branch1-1.drafter"


def test_recall_then_too_late(run: Cli, demo: list[PlanLine]) -> None:
    submitted = plan_in(demo, "submitted")
    chair = f"{submitted.unit}.chair"
    done = assert_ok(run("plans", "recall", str(submitted.id), "--as", chair))
    assert done.out == f"plan {submitted.id}: recall -> draft\n"
    trail = assert_ok(run("plans", "show", str(submitted.id))).out
    assert f"{chair}" in trail.splitlines()[-1] and "recall" in trail.splitlines()[-1]
    review = plan_in(demo, "under_review")
    late = run("plans", "recall", str(review.id), "--as", f"{review.unit}.chair")
    assert_refused(late, "too late to recall", "start_review")
    # A stranger is told what a missing plan tells.
    hidden = run("plans", "recall", str(review.id), "--as", stranger(review.unit))
    assert_refused(hidden, "unknown plan")
    assert_refused(run("plans", "recall", "999999", "--as", chair), "unknown plan")


def test_urge_once_then_too_soon(run: Cli, demo: list[PlanLine]) -> None:
    review = plan_in(demo, "under_review")
    union = f"union{review.unit[6]}"
    drafter = f"{review.unit}.drafter"
    done = assert_ok(run("plans", "urge", str(review.id), "--as", drafter, "--comment", "April!"))
    assert done.out.startswith(f"plan {review.id}: urged ") and f"{union}.reviewer" in done.out
    assert_refused(run("plans", "urge", str(review.id), "--as", drafter), "already urged")
    assert_refused(run("plans", "urge", str(review.id), "--as", "fed.inspector"), "needs the role")
    hidden = run("plans", "urge", str(review.id), "--as", stranger(review.unit))
    assert_refused(hidden, f"unknown plan: {review.id}")
    notes = assert_ok(run("notifications", f"{union}.reviewer", "--unread")).out
    assert "urge" in notes


def test_abandon_needs_a_comment_and_ends_the_plan(run: Cli, demo: list[PlanLine]) -> None:
    draft = plan_in(demo, "draft")
    chair = f"{draft.unit}.chair"
    missing = run("plans", "abandon", str(draft.id), "--as", chair)
    assert missing.code == 2 and "--comment" in missing.err
    done = assert_ok(run("plans", "abandon", str(draft.id), "--as", chair, "--comment", "Merged."))
    assert done.out == f"plan {draft.id}: abandon -> abandoned\n"
