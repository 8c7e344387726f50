"""The webhooks and robots admin page: list, add, remove, the delivery log, redeliver."""

from __future__ import annotations

import re

from flask import Flask
from test_web_admin_support import Admins
from webui_support import signed_in, text

ROBOT_URL = "http://127.0.0.1:9/robot/send?access_token=t"


def test_add_a_webhook_and_a_robot_see_the_log_redeliver_and_remove(
    app: Flask, admins: Admins
) -> None:
    pf = admins.pf
    union = signed_in(app, "union_admin")
    page = text(union.get("/admin/webhooks/"))
    assert "No webhook or robot yet." in page and 'value="branch_a"' in page
    assert 'value="branch_c"' not in page  # another union's unit is not offered
    # A loopback address is refused unless allowed, next to the form (422), nothing written.
    form = {"unit": "union", "kind": "webhook", "url": "http://127.0.0.1:9/h",
            "events": ["plan.comment"], "language": "en"}  # fmt: skip
    refused = union.post_form("/admin/webhooks/add", form)
    assert refused.status_code == 422 and "127.0.0.1" in text(refused)
    assert pf.webhooks.list() == []
    made = union.post_form("/admin/webhooks/add", form | {"allow_private": "y"})
    assert made.status_code == 201
    secret = re.search(r'id="webhook-secret">(whsec_[^<]+)<', text(made))
    assert secret is not None
    # A robot without its secret is refused; with it, added (no secret shown).
    robot = form | {"kind": "dingtalk", "url": ROBOT_URL, "language": "zh", "allow_private": "y"}
    refused = union.post_form("/admin/webhooks/add", robot)
    assert refused.status_code == 422 and "signing secret" in text(refused)
    added = union.post_form("/admin/webhooks/add", robot | {"secret": "SECabc"})
    assert added.status_code == 302
    page = text(union.get("/admin/webhooks/"))
    assert "DingTalk group robot" in page and "中文" in page and "SECabc" not in page
    assert secret.group(1) not in page
    # The other union's admin sees neither.
    assert "No webhook or robot yet." in text(
        signed_in(app, "union2_admin").get("/admin/webhooks/")
    )

    plan_id = pf.create_plan(unit_code="branch_a", year=2027, title="P", actor="drafter_a")
    pf.content.add_comment(plan_id, "hello", actor="drafter_a")
    [hook, bot] = pf.webhooks.list()
    pf.webhooks.remove(bot.id)  # (its delivery shows as removed, with no button)
    [*_, first] = pf.webhooks.deliveries(webhook_id=hook.id)
    page = text(union.get("/admin/webhooks/"))
    assert f'id="delivery-{first.id}"' in page and f"/plans/{plan_id}" in page
    # Only a finished delivery is offered again; a pending one is sent anyway.
    assert f"/admin/webhooks/deliveries/{first.id}/redeliver" not in page
    assert union.post_form(f"/admin/webhooks/deliveries/{first.id}/redeliver").status_code == 302
    other = signed_in(app, "union2_admin")
    assert other.post_form(f"/admin/webhooks/{hook.id}/remove").status_code == 404
    assert other.post_form(f"/admin/webhooks/deliveries/{first.id}/redeliver").status_code == 404
    assert union.post_form(f"/admin/webhooks/{hook.id}/remove").status_code == 302
    assert [w.active for w in pf.webhooks.list(with_removed=True)] == [False, False]


def test_people_add_their_own_channel_once_the_admin_allows_it(app: Flask, admins: Admins) -> None:
    pf = admins.pf
    reviewer = signed_in(app, "reviewer")
    assert "/notifications/channel/" not in text(reviewer.get("/notifications/"))
    page = text(reviewer.get("/notifications/channel/"))
    assert "has not allowed" in page and "/notifications/channel/add" not in page
    form = {"kind": "webhook", "url": "https://93.184.216.34/hook", "events": ["task.created"],
            "language": "en"}  # fmt: skip
    assert reviewer.post_form("/notifications/channel/add", form).status_code == 422
    # Only an admin of the whole tree may allow it.
    union = signed_in(app, "union_admin")
    assert "/admin/webhooks/user-channels" not in text(union.get("/admin/webhooks/"))
    assert union.post_form("/admin/webhooks/user-channels", {"on": "1"}).status_code == 403
    fed = signed_in(app, "fed_admin")
    assert fed.post_form("/admin/webhooks/user-channels", {"on": "1"}).status_code == 302
    assert pf.webhooks.user_channels()
    # The switch is on the organisation's trail, by that admin, and on its page in Chinese.
    [switched] = [r for r in pf.org.audit() if r.action == "user_channels_switched"]
    assert switched.actor == "fed_admin" and switched.detail == {"on": True}
    fed.post_form("/auth/language", {"language": "zh"})
    assert "个人通道开关已更改" in text(fed.get("/admin/audit/org"))
    assert "/notifications/channel/" in text(reviewer.get("/notifications/"))
    private = reviewer.post_form("/notifications/channel/add", form | {"url": "http://10.0.0.1/"})
    assert private.status_code == 422 and "10.0.0.1" in text(private)
    made = reviewer.post_form("/notifications/channel/add", form)
    assert made.status_code == 201 and "whsec_" in text(made)
    [mine] = pf.webhooks.own("reviewer")
    assert f'id="channel-{mine.id}"' in text(reviewer.get("/notifications/channel/"))
    other = signed_in(app, "officer")
    assert other.post_form(f"/notifications/channel/{mine.id}/remove").status_code == 404
    assert reviewer.post_form(f"/notifications/channel/{mine.id}/remove").status_code == 302
    assert pf.webhooks.own("reviewer") == []
