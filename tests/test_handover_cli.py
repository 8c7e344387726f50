"""``planflow plans transfer|add-approver|cc`` on the demo federation, on both databases."""

from __future__ import annotations

from test_cli import Cli, PlanLine, assert_ok, assert_refused, demo, plan_in, run

__all__ = ["demo", "run"]  # the fixtures, shared with test_cli


def test_transfer_refusals_are_one_line(run: Cli, demo: list[PlanLine]) -> None:
    review = plan_in(demo, "under_review")
    union = f"union{review.unit[6]}"
    holder = f"{union}.reviewer"
    plan = str(review.id)
    assert_refused(run("plans", "transfer", plan, "ghost", "--as", holder), "no user ghost")
    assert_refused(run("plans", "transfer", plan, holder, "--as", holder), "hold the task")
    assert_refused(
        run("plans", "transfer", plan, f"{union}.officer", "--as", holder), "does not hold the role"
    )
    assert_refused(run("plans", "transfer", "999999", holder, "--as", holder), "unknown plan")


def test_add_an_approver_then_cc(run: Cli, demo: list[PlanLine]) -> None:
    review = plan_in(demo, "under_review")
    union = f"union{review.unit[6]}"
    holder, officer = f"{union}.reviewer", f"{union}.officer"
    plan = str(review.id)
    done = run("plans", "add-approver", plan, officer, "--mode", "before", "--as", holder)
    assert assert_ok(done).out == f"plan {plan}: {officer} added before {holder}\n"
    # The officer decides first; the reviewer waits.
    assert_refused(run("plans", "fire", plan, "approve", "--as", holder), "needs the role")
    assert assert_ok(run("plans", "fire", plan, "approve", "--as", officer)).out.startswith(
        f"plan {plan}: approve -> under_review"
    )
    copied = assert_ok(run("plans", "cc", plan, "fed.officer", "--as", holder))
    assert copied.out == f"plan {plan}: copied fed.officer\n"
    receipts = assert_ok(run("plans", "cc-receipts", plan)).out
    assert receipts.startswith(f"fed.officer\t{holder}\tunread")
    bad_mode = run("plans", "add-approver", plan, officer, "--mode", "instead", "--as", holder)
    assert bad_mode.code == 2
