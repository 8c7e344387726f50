"""Requests per token and minute: 429 with Retry-After, held in the database.

Two applications on one database stand for two worker processes (or hosts):
each has its own limiter, and together they grant no more than the limit.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from flask import Flask
from webui_support import make_app

from planflow.app import Planflow
from planflow.clock import FixedClock


def headers(pf: Planflow, username: str = "officer") -> dict[str, str]:
    return {"Authorization": f"Bearer {pf.tokens.create(username).secret}"}


def test_over_the_limit_is_429_until_the_next_minute(
    pf: Planflow, org: Any, clock: FixedClock
) -> None:
    app = make_app(pf, API_REQUESTS_PER_MINUTE=20)
    api, mine, other = app.test_client(), headers(pf), headers(pf, "reviewer")
    clock.advance(timedelta(seconds=15))  # 45 s before the next minute
    answers = [api.get("/api/v1/plans", headers=mine).status_code for _ in range(21)]
    assert answers == [200] * 20 + [429]
    refused = api.get("/api/v1/me/tasks", headers=mine)
    body = refused.get_json()
    assert (refused.status_code, body["code"], body["params"]["limit"]) == (429, "rate_limited", 20)
    assert refused.mimetype == "application/problem+json"
    assert refused.headers["Retry-After"] == "45"
    # Another token has its own minute.
    assert api.get("/api/v1/plans", headers=other).status_code == 200
    clock.advance(timedelta(seconds=45))
    assert api.get("/api/v1/plans", headers=mine).status_code == 200


def test_without_a_token_nobody_s_limit_is_spent(pf: Planflow, org: Any) -> None:
    app = make_app(pf, API_REQUESTS_PER_MINUTE=3)
    api, mine = app.test_client(), headers(pf)
    for _ in range(10):
        assert api.get("/api/v1/plans").status_code == 401
        assert (
            api.get("/api/v1/plans", headers={"Authorization": "Bearer pft_x"}).status_code == 401
        )
    assert [api.get("/api/v1/plans", headers=mine).status_code for _ in range(4)] == [200] * 3 + [
        429
    ]


def test_two_workers_share_one_limit(pf: Planflow, org: Any) -> None:
    limit = 60  # batches of 3
    one, two = (make_app(pf, API_REQUESTS_PER_MINUTE=limit) for _ in range(2))
    mine = headers(pf)
    granted = 0
    for i in range(2 * limit):
        app: Flask = one if i % 2 else two
        granted += app.test_client().get("/api/v1/plans", headers=mine).status_code == 200
    # Never more than the limit; fewer by at most one unused batch per worker.
    assert limit - 2 * 3 <= granted <= limit


def test_concurrent_requests_of_one_token_never_pass_the_limit(pf: Planflow, org: Any) -> None:
    limit = 40
    apps = [make_app(pf, API_REQUESTS_PER_MINUTE=limit) for _ in range(2)]
    mine = headers(pf)
    codes: list[int] = []
    lock = threading.Lock()

    def hammer(app: Flask) -> None:
        client = app.test_client()
        for _ in range(30):
            code = client.get("/api/v1/me/tasks", headers=mine).status_code
            with lock:
                codes.append(code)

    threads = [threading.Thread(target=hammer, args=(apps[i % 2],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(codes) <= {200, 429}
    assert limit - 2 * 2 <= codes.count(200) <= limit
