"""``planflow plans return-to|bulk`` on the demo federation, on both databases."""

from __future__ import annotations

from test_cli import Cli, PlanLine, assert_ok, assert_refused, demo, plan_in, run

__all__ = ["demo", "run"]  # the fixtures, shared with test_cli


def test_return_to_a_chosen_step_then_refusals(run: Cli, demo: list[PlanLine]) -> None:
    review = [p for p in demo if p.state == "under_review"]
    first = review[0]
    reviewer = f"union{first.unit[6]}.reviewer"
    done = run("plans", "return-to", str(first.id), "draft", "--as", reviewer, "--comment", "No.")
    assert assert_ok(done).out == f"plan {first.id}: return_to -> draft\n"
    again = run("plans", "return-to", str(first.id), "draft", "--as", reviewer, "--comment", "x")
    assert_refused(again, "return_to", "not allowed in state 'draft'")
    missing = run("plans", "return-to", str(first.id), "draft", "--as", reviewer)
    assert missing.code == 2 and "--comment" in missing.err
    other = plan_in(demo, "under_review") if len(review) < 2 else review[1]
    if other.id != first.id:
        reviewer = f"union{other.unit[6]}.reviewer"
        wrong = run(
            "plans", "return-to", str(other.id), "approved", "--as", reviewer, "--comment", "x"
        )
        assert_refused(wrong, "may be returned only to")


def test_bulk_reports_each_plan_and_fails_if_one_was_refused(
    run: Cli, demo: list[PlanLine]
) -> None:
    review = plan_in(demo, "under_review")
    draft = plan_in(demo, "draft")
    reviewer = f"union{review.unit[6]}.reviewer"
    result = run(
        "plans",
        "bulk",
        "approve",
        f"{review.id}@{review.version}",
        f"{draft.id}@{draft.version}",
        "--as",
        reviewer,
        "--comment",
        "Fine.",
    )
    assert result.code == 1
    assert result.out == f"plan {review.id}: approve -> approved\n"
    assert result.err.startswith(f"planflow: error: plan {draft.id}: ")
    stale = run("plans", "bulk", "approve", f"{review.id}@{review.version}", "--as", reviewer)
    assert stale.code == 1 and "version" in stale.err
    bad = run("plans", "bulk", "approve", "twelve", "--as", reviewer)
    assert bad.code == 2 and "PLAN@VERSION" in bad.err
    twice = run("plans", "bulk", "approve", f"{draft.id}", f"{draft.id}", "--as", reviewer)
    assert_refused(twice, "selected twice")
