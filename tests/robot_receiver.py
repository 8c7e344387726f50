"""Local stand-ins for DingTalk, WeCom and Feishu group robots, for robot tests.

Each checks a POST the way its vendor documents it and answers the way the
vendor does (HTTP 200 with a JSON code, 0 when taken), with code written
here from the vendors' own samples, not planflow's:

* DingTalk custom robot: ``timestamp`` (ms) and ``sign`` in the query;
  sign = urlencode(base64(HmacSHA256(key=secret, msg=timestamp + "\\n" + secret)));
  the timestamp within an hour of now; ``msgtype`` markdown or text.
  A wrong sign answers ``errcode`` 310000.
* WeCom group robot: the URL's ``key`` must be the robot's; ``msgtype``
  markdown with ``markdown.content``. A wrong key answers 93000.
* Feishu custom bot: ``timestamp`` (s) and ``sign`` in the JSON body;
  sign = base64(HmacSHA256(key=timestamp + "\\n" + secret, msg="")), within an
  hour of now. A wrong sign answers ``code`` 19021.

``serving(kind)`` runs one on 127.0.0.1 for the length of a ``with`` block.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK_TOKEN = "c0ffee"


@dataclass(frozen=True)
class Got:
    query: dict[str, list[str]]
    body: dict[str, Any]
    signature_valid: bool
    #: The message's text (markdown or plain), whatever the vendor's envelope.
    text: str


@dataclass
class RobotReceiver:
    kind: str
    port: int = 0
    secret: str = "SEC0123456789abcdef"
    #: The receiver's "now" (the test clock's), for the one-hour window.
    now: datetime | None = None
    got: list[Got] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: While set, every POST is kept (as a receiver that got it) and answered
    #: only once ``release`` is set, or after ``slow`` seconds: a slow receiver.
    slow: float = 0.0
    release: threading.Event = field(default_factory=threading.Event)
    #: Set when a POST arrives.
    arrived: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        base = f"http://127.0.0.1:{self.port}"
        if self.kind == "dingtalk":
            return f"{base}/robot/send?access_token={DINGTALK_TOKEN}"
        if self.kind == "wecom":
            return f"{base}/cgi-bin/webhook/send?key={WECOM_KEY}"
        return f"{base}/open-apis/bot/v2/hook/6f1c0b2e"

    def fresh(self, timestamp_s: float) -> bool:
        now = self.now.timestamp() if self.now else timestamp_s
        return abs(now - timestamp_s) <= 3600


def dingtalk_valid(rx: RobotReceiver, query: dict[str, list[str]]) -> bool:
    """DingTalk's check (its Python sample), with the sign as it arrives URL-decoded."""
    timestamp = query.get("timestamp", [""])[0]
    sign = query.get("sign", [""])[0]
    if not timestamp.isdigit() or not rx.fresh(int(timestamp) / 1000):
        return False
    string_to_sign = f"{timestamp}\n{rx.secret}"
    hmac_code = hmac.new(
        rx.secret.encode("utf-8"), string_to_sign.encode("utf-8"), digestmod=hashlib.sha256
    ).digest()
    return hmac.compare_digest(base64.b64encode(hmac_code).decode("utf-8"), sign)


def feishu_valid(rx: RobotReceiver, body: dict[str, Any]) -> bool:
    """Feishu's check (its Python sample): the key is timestamp + newline + secret."""
    timestamp = str(body.get("timestamp", ""))
    if not timestamp.isdigit() or not rx.fresh(int(timestamp)):
        return False
    key = f"{timestamp}\n{rx.secret}".encode()
    hmac_code = hmac.new(key, b"", digestmod=hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(hmac_code).decode("utf-8"), body.get("sign", ""))


def _check(rx: RobotReceiver, query: dict[str, list[str]], body: dict[str, Any]) -> Got:
    if rx.kind == "dingtalk":
        valid = query.get("access_token") == [DINGTALK_TOKEN] and dingtalk_valid(rx, query)
        kind = body.get("msgtype")
        text = body["markdown"]["text"] if kind == "markdown" else body["text"]["content"]
        assert kind == "markdown" or kind == "text"
    elif rx.kind == "wecom":
        valid = query.get("key") == [WECOM_KEY]
        assert body["msgtype"] == "markdown"
        text = body["markdown"]["content"]
        assert len(text.encode("utf-8")) <= 4096
    else:
        valid = feishu_valid(rx, body)
        assert body["msg_type"] == "text"
        text = body["content"]["text"]
    return Got(query, body, valid, text)


def _answer(kind: str, valid: bool) -> dict[str, Any]:
    if kind == "dingtalk":
        return {"errcode": 0, "errmsg": "ok"} if valid else {"errcode": 310000, "errmsg": "sign"}
    if kind == "wecom":
        return {"errcode": 0, "errmsg": "ok"} if valid else {"errcode": 93000, "errmsg": "key"}
    if valid:
        return {"code": 0, "msg": "success", "data": {}}
    return {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}


def _handler(rx: RobotReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            assert self.headers["Content-Type"].startswith("application/json")
            got = _check(rx, parse_qs(urlsplit(self.path).query), json.loads(raw))
            with rx.lock:
                rx.got.append(got)
            rx.arrived.set()
            if rx.slow:
                rx.release.wait(rx.slow)
            out = json.dumps(_answer(rx.kind, got.signature_valid)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


@contextmanager
def serving(kind: str) -> Iterator[RobotReceiver]:
    """A ``kind`` robot listening on 127.0.0.1 until the block ends."""
    found = RobotReceiver(kind)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    found.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        found.release.set()
        server.shutdown()
        server.server_close()
        thread.join(10)
