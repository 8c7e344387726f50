"""Calendar feeds (issue 18): addresses made on the settings page, the .ics they serve.

Each feed is parsed back with ``icalendar``; a deadline that moves keeps its
UID and changes its DTSTART (so calendar apps update it in place). On both
databases.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from icalendar import Calendar
from webui_support import AuthActions, Plans, WebClient, text

from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.errors import NotFound

FEED_RE = re.compile(r'id="feed-url">https?://[^/]+(/feeds/pfc_[A-Za-z0-9_-]+\.ics)<')


@pytest.fixture(autouse=True)
def shanghai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANFLOW_TIMEZONE", "Asia/Shanghai")


def events(client: WebClient, path: str) -> dict[str, dict[str, object]]:
    response = client.get(path)
    assert response.status_code == 200, text(response)
    assert response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.get_data())
    assert cal["VERSION"] == "2.0" and cal["PRODID"]
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] in ([], ["Asia/Shanghai"])
    found = {}
    for e in cal.walk("VEVENT"):
        assert e["DTSTAMP"] and e["UID"] not in found
        found[str(e["UID"])] = {
            "start": e.decoded("DTSTART"),
            "summary": str(e["SUMMARY"]),
            "sequence": int(e["SEQUENCE"]),
            "url": str(e.get("URL", "")),
        }
    return found


def make_feed(client: WebClient, unit: str = "") -> str:
    response = client.post_form("/settings/feeds/", {"unit": unit})
    assert response.status_code == 302, text(response)
    found = FEED_RE.search(text(client.get("/settings/tokens/")))
    assert found, "no new feed address on the page"
    return found.group(1)


def test_a_moved_deadline_keeps_its_uid_and_changes_its_start(
    app: Flask, client: WebClient, auth: AuthActions, plans: Plans, clock: FixedClock
) -> None:
    plan_id = plans.submitted()
    auth.login("reviewer")
    path = make_feed(client)
    # The address is shown once.
    assert path not in text(client.get("/settings/tokens/"))
    anon = app.test_client()
    before = events(anon, path)
    uid = f"plan-{plan_id}-task-submitted@planflow"
    task = before[uid]
    assert isinstance(task["start"], datetime) and task["start"].tzinfo is not None
    assert "Work plan 2027" in str(task["summary"]) and str(task["url"]).endswith(
        f"/plans/{plan_id}"
    )
    # The April round is a whole day.
    assert before["round-annual_plan-april_inspection_round-2027-04-01@planflow"]["start"] == date(
        2027, 4, 1
    )
    # The submitter recalls it and submits it again three days later: a new deadline.
    plans.fire(plan_id, ("recall", "chair_a"))
    clock.advance(timedelta(days=3))
    plans.fire(plan_id, ("submit", "chair_a"))
    after = events(anon, path)
    assert set(after) == set(before)
    assert after[uid]["start"] > task["start"]  # type: ignore[operator]
    assert after[uid]["sequence"] > task["sequence"]  # type: ignore[operator]


def test_items_and_unit_feeds_follow_visibility(
    app: Flask, client: WebClient, auth: AuthActions, plans: Plans, pf: Planflow
) -> None:
    plan_id = plans.submitted()
    content = pf.content.content(plan_id)
    keys = [i.key for _n, _s, i in content.numbered_items()]
    # The submitter's own feed: the items of their unit's plans, each on its due date.
    own = pf.feeds.create("chair_a")
    found = events(app.test_client(), f"/feeds/{own.secret}.ics")
    assert found[f"plan-{plan_id}-item-{keys[0]}@planflow"]["start"] == date(2027, 2, 28)
    assert found[f"plan-{plan_id}-item-{keys[1]}@planflow"]["start"] == date(2027, 3, 31)
    # A unit's feed for a reviewer above it: the same items and the plan's task.
    auth.login("reviewer")
    path = make_feed(client, "branch_a")
    unit = events(app.test_client(), path)
    assert f"plan-{plan_id}-item-{keys[0]}@planflow" in unit
    assert f"plan-{plan_id}-task-submitted@planflow" in unit
    # Branch B's feed shows nothing of branch A.
    other = pf.feeds.create("reviewer", "branch_b")
    assert not any(
        f"plan-{plan_id}-" in uid for uid in events(app.test_client(), f"/feeds/{other.secret}.ics")
    )
    # Branch B's drafter may not make branch A's feed: as if the unit did not exist.
    auth.logout()
    auth.login("drafter_b")
    page = client.post_form("/settings/feeds/", {"unit": "branch_a"})
    assert page.status_code == 422 and "Choose one of the options." in text(page)
    assert pf.feeds.of_user("drafter_b") == []
    with pytest.raises(NotFound):
        pf.feeds.create("drafter_b", "branch_a")
    # An abandoned plan's items are no longer due.
    plans.fire(plan_id, ("abandon", "chair_a", "Not needed any more"))
    assert not any("-item-" in uid for uid in events(app.test_client(), f"/feeds/{own.secret}.ics"))


def test_unknown_foreign_and_revoked_addresses_are_404(
    app: Flask, client: WebClient, auth: AuthActions, pf: Planflow
) -> None:
    anon = app.test_client()
    api = pf.tokens.create("reviewer", name="API")
    feed = pf.feeds.create("reviewer")
    assert anon.get(f"/feeds/{feed.secret}.ics").status_code == 200
    # A made-up address, an API token in its place, junk: 404.
    for secret in ("pfc_" + "A" * 43, api.secret, "x" * 300, "pfc_"):
        assert anon.get(f"/feeds/{secret}.ics").status_code == 404, secret
    # A feed address is no API token.
    assert (
        anon.get("/api/v1/me/tasks", headers={"Authorization": f"Bearer {feed.secret}"}).status_code
        == 401
    )
    # Someone else cannot revoke it; its owner can, and then it is gone.
    auth.login("officer")
    assert (
        client.post_form("/settings/feeds/revoke", {"token": str(feed.feed.id)}).status_code == 404
    )
    assert anon.get(f"/feeds/{feed.secret}.ics").status_code == 200
    auth.logout()
    auth.login("reviewer")
    assert "active" in text(client.get("/settings/tokens/"))
    assert (
        client.post_form("/settings/feeds/revoke", {"token": str(feed.feed.id)}).status_code == 302
    )
    assert anon.get(f"/feeds/{feed.secret}.ics").status_code == 404
    assert pf.feeds.of_user("reviewer")[0].revoked_at is not None
    # A deactivated user's feeds stop with them.
    officer = pf.feeds.create("officer")
    assert anon.get(f"/feeds/{officer.secret}.ics").status_code == 200
    pf.org.set_active("officer", False)
    assert anon.get(f"/feeds/{officer.secret}.ics").status_code == 404


def test_a_moved_inspection_visit_updates_in_place(app: Flask, plans: Plans, pf: Planflow) -> None:
    plan_id = plans.submitted()
    plans.fire(
        plan_id,
        ("start_review", "reviewer"),
        ("approve", "reviewer"),
        ("schedule_inspection", "officer"),
    )
    feed = pf.feeds.create("inspector")
    path = f"/feeds/{feed.secret}.ics"
    uid = f"plan-{plan_id}-visit-1@planflow"
    anon = app.test_client()
    # Until a visit is planned the inspection sits on its task's due day.
    assert uid in events(anon, path)
    pf.inspections.set_visit_date(plan_id, date(2027, 2, 14), actor="inspector")
    first = events(anon, path)[uid]
    pf.inspections.set_visit_date(plan_id, date(2027, 2, 20), actor="inspector")
    moved = events(anon, path)[uid]
    assert (first["start"], moved["start"]) == (date(2027, 2, 14), date(2027, 2, 20))
    assert moved["sequence"] > first["sequence"]  # type: ignore[operator]
    # The inspector's own task is in it too, at its moment.
    assert isinstance(
        events(anon, path)[f"plan-{plan_id}-task-inspection_scheduled@planflow"]["start"], datetime
    )
