"""The webhooks admin page in a real browser: add a webhook, read its delivery log, send again.

A real receiver (``tests/webhook_receiver.py``) checks every signature with
the secret the page showed once. Deliveries are sent by the scheduler's
sender in the test (the page only shows and requeues them), on the test
clock the live server shares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page
from test_web_admin_support import Admins
from webhook_receiver import Receiver, serving

from planflow.clock import FixedClock
from planflow.integrations.webhooks import WebhookSender


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving() as found:
        yield found


def log_row(page: Page, delivery_id: int) -> str:
    page.reload()
    return page.locator(f"#delivery-{delivery_id}").inner_text()


def test_add_a_webhook_see_its_deliveries_and_send_one_again(
    signed_in_page: Callable[[str], Page],
    admins: Admins,
    receiver: Receiver,
    artifacts: Path,
) -> None:
    pf = admins.pf
    assert isinstance(pf.clock, FixedClock)
    page = signed_in_page("union_admin")
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Webhooks and robots"
    ).click()
    page.get_by_text("No webhook or robot yet.").wait_for()

    page.get_by_label("For the plans of").select_option("union")
    page.get_by_label("Kind").select_option("webhook")
    page.get_by_label("Address (URL)").fill(receiver.url)
    page.get_by_label("plan.comment").check()
    # A loopback receiver is refused until the admin allows private addresses.
    page.get_by_role("button", name="Add", exact=True).click()
    page.locator("#url-error").wait_for()
    assert "127.0.0.1" in page.locator("#url-error").inner_text()
    assert page.get_by_label("Address (URL)").input_value() == receiver.url  # nothing lost
    page.get_by_label("Allow private addresses").check()
    page.get_by_role("button", name="Add", exact=True).click()
    receiver.secret = page.locator("#webhook-secret").inner_text()
    assert receiver.secret.startswith("whsec_")
    page.screenshot(path=str(artifacts / "webhook-secret-once.png"))
    page.get_by_role("link", name="Back to webhooks and robots").click()
    [hook] = pf.webhooks.list()
    assert receiver.secret not in page.content()
    assert page.locator(f"#webhook-{hook.id}").inner_text().count("plan.comment") == 1

    # An event, a first attempt that the receiver answers 500, then the retry.
    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="P", actor="drafter_a")
    pf.content.add_comment(plan_id, "hello", actor="drafter_a")
    [delivery] = pf.webhooks.deliveries()
    receiver.answers = [500]
    sender = WebhookSender(pf.db, pf.clock, "browser-test")
    assert sender.run_once().retried == 1
    row = log_row(page, delivery.id)
    assert "waiting to be sent" in row and "HTTP 500" in row
    assert page.locator(f"#delivery-{delivery.id}").get_by_role("button").count() == 0
    pf.clock.advance(timedelta(seconds=30))
    assert sender.run_once().delivered == 1
    row = log_row(page, delivery.id)
    assert "delivered" in row and "HTTP 200" in row and "plan.comment" in row
    page.screenshot(path=str(artifacts / "webhook-delivered.png"), full_page=True)

    # Send again: queued at once, then the same event (same id) goes out again, signed.
    page.locator(f"#delivery-{delivery.id}").get_by_role("button", name="Send again").click()
    page.get_by_text("It will be sent again at the next delivery pass.").wait_for()
    assert "waiting to be sent" in page.locator(f"#delivery-{delivery.id}").inner_text()
    assert sender.run_once().delivered == 1
    assert "delivered" in log_row(page, delivery.id)
    assert [r.status for r in receiver.got] == [500, 200, 200]
    assert len(set(receiver.event_ids())) == 1
    assert all(r.signature_valid for r in receiver.got)
    assert receiver.got[0].body["comment"] == "hello"
