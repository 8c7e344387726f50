"""The events of a calendar feed (services.calendar_feeds), without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from icalendar import Calendar

from planflow.core.content.model import PlanContent
from planflow.core.definitions.loader import load_definition
from planflow.integrations.ics import to_ics
from planflow.services import calendar_feeds as cf

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
NOW = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)


def content() -> PlanContent:
    c = PlanContent(2027).add_section("Education", key="s1")
    c = c.add_item("s1", "Congress", due=2, key="k1").add_item("s1", "No date", key="k2")
    return c.add_item("s1", "On a day", due=date(2027, 5, 9), key="k3")


def test_items_are_whole_days_keyed_by_plan_and_item_key() -> None:
    found = list(
        cf.item_events(
            plan_id=7, title="Plan", version=4, updated_at=NOW, content=content(), language="zh"
        )
    )
    assert [(e.uid, e.start) for e in found] == [
        ("plan-7-item-k1@planflow", date(2027, 2, 28)),
        ("plan-7-item-k3@planflow", date(2027, 5, 9)),
    ]
    # The number (which moves when items are reordered) is in the summary, never in the UID.
    assert found[1].summary == "1.3 On a day – Plan" and found[1].sequence == 4


def test_rounds_fall_on_their_local_date_and_texts_fall_back_to_english() -> None:
    spec = load_definition(WORKFLOWS / "annual_plan.yaml")
    tz = ZoneInfo("Asia/Seoul")
    found = list(cf.round_events([spec], tz, date(2027, 1, 1), date(2028, 12, 31), "fr"))
    assert [e.start for e in found] == [date(2027, 4, 1), date(2028, 4, 1)]
    assert found[0].summary == "Round: April inspection and acceptance round"
    assert found[0].uid == "round-annual_plan-april_inspection_round-2027-04-01@planflow"
    assert cf.text("round", "ko", label="x") == "회차: x"


def test_the_ics_escapes_texts_and_folds_long_lines() -> None:
    event = cf.task_event(
        plan_id=1,
        title="A; b, c\nd " + "x" * 200,
        state="submitted",
        state_label="Submitted",
        due_at=NOW,
        version=2,
        updated_at=NOW,
        language="en",
    )
    body = to_ics(cf.Feed("F", "en", ZoneInfo("Asia/Shanghai"), (event,)), NOW)
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    (parsed,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(parsed["SUMMARY"]) == event.summary
    assert parsed.decoded("DTSTART") == NOW and parsed["DTSTART"].params["TZID"] == "Asia/Shanghai"
