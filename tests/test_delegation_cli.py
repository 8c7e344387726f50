"""``planflow delegations add|list|end`` on the demo federation, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from test_cli import Cli, PlanLine, assert_ok, assert_refused, demo, plan_in, run

__all__ = ["demo", "run"]  # the fixtures, shared with test_cli


def test_a_deputy_approves_for_the_reviewer_then_the_delegation_ends(
    run: Cli, demo: list[PlanLine]
) -> None:
    review = plan_in(demo, "under_review")
    union = f"union{review.unit[6]}"
    holder, deputy = f"{union}.reviewer", f"{union}.officer"
    today = datetime.now(UTC).date()
    week = str(today + timedelta(days=6))
    added = assert_ok(
        run(
            "delegations",
            "add",
            deputy,
            "--as",
            holder,
            "--from",
            str(today),
            "--to",
            week,
            "--reason",
            "Annual leave",
        )
    ).out
    assert added.endswith(f"{deputy} acts for {holder} from {today} to {week}\n")
    delegation_id = added.split(":")[0].split()[-1]
    listed = assert_ok(run("delegations", "list", "--as", deputy)).out
    assert f"{holder} -> {deputy}" in listed and "in_force" in listed and "Annual leave" in listed
    # The deputy's own list of tasks has the reviewer's, marked for them (issue 17).
    mine = assert_ok(run("tasks", deputy)).out
    assert [line for line in mine.splitlines() if line.split()[0] == str(review.id)]
    assert f"for {holder}" in mine
    assert_ok(run("plans", "fire", str(review.id), "approve", "--as", deputy))
    trail = assert_ok(run("plans", "show", str(review.id))).out
    assert f"{deputy} on behalf of {holder}" in trail.splitlines()[-1]
    ended = assert_ok(run("delegations", "end", delegation_id, "--as", holder)).out
    assert ended == f"delegation {delegation_id}: ended\n"
    again = assert_ok(run("delegations", "end", delegation_id, "--as", holder)).out
    assert again == f"delegation {delegation_id}: had ended already\n"


def test_bad_delegations_are_one_line(run: Cli, demo: list[PlanLine]) -> None:
    review = plan_in(demo, "under_review")
    holder = f"union{review.unit[6]}.reviewer"
    today = str(datetime.now(UTC).date())
    args = ("--as", holder, "--from", today, "--to", today)
    assert_refused(run("delegations", "add", holder, *args), "your own deputy")
    assert_refused(run("delegations", "add", "ghost", *args), "no user")
    bad = ("delegations", "add", "fed.officer", "--as", holder, "--from", "someday", "--to", today)
    assert_refused(run(*bad), "not a date")
    assert_refused(run("delegations", "end", "999999", "--as", holder), "unknown delegation")
