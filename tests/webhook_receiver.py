"""A real HTTP receiver for webhook tests: ``http.server`` on 127.0.0.1 in a thread.

It checks each POST's signature with the README's own ``verify`` (the
```python block of its "Webhooks" section, run as written: stdlib ``hmac``,
not planflow's code),
keeps what it got, and answers with the statuses it is told to (then 200).
``serving()`` runs one for the length of a ``with`` block.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_verify() -> Any:
    """The ``verify`` function of the README's Webhooks section, as written there."""
    section = README.read_text(encoding="utf-8").split("\n## Webhooks\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    [code] = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    return namespace["verify"]


VERIFY = readme_verify()


@dataclass(frozen=True)
class Received:
    event_id: str
    event_type: str
    timestamp: str
    signature_valid: bool
    body: dict[str, Any]
    status: int


@dataclass
class Receiver:
    port: int = 0
    secret: str = ""
    #: Statuses to answer, in order; 200 once they are used up.
    answers: list[int] = field(default_factory=list)
    got: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: While set, every POST is kept (as a receiver that got it) and answered
    #: only once ``release`` is set, or after ``slow`` seconds: a slow receiver.
    slow: float = 0.0
    release: threading.Event = field(default_factory=threading.Event)
    #: Set when a POST arrives.
    arrived: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/planflow?source=test"

    def event_ids(self) -> list[str]:
        with self.lock:
            return [r.event_id for r in self.got]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            assert self.path == "/hooks/planflow?source=test"
            assert self.headers["Content-Type"] == "application/json; charset=utf-8"
            timestamp = self.headers["X-Planflow-Timestamp"]
            with receiver.lock:
                status = receiver.answers.pop(0) if receiver.answers else 200
                receiver.got.append(
                    Received(
                        self.headers["X-Planflow-Event-Id"],
                        self.headers["X-Planflow-Event"],
                        timestamp,
                        bool(VERIFY(receiver.secret, self.headers, body)),
                        json.loads(body),
                        status,
                    )
                )
            receiver.arrived.set()
            if receiver.slow:
                receiver.release.wait(receiver.slow)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


@contextmanager
def serving() -> Iterator[Receiver]:
    """A receiver listening on 127.0.0.1 until the block ends."""
    found = Receiver()
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
