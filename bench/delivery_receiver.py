"""A webhook receiver for the delivery bench, in a process of its own.

``python -m bench.delivery_receiver [LATENCY_MS]``: a process of its own so
that answering does not compete with the sender for one interpreter's lock.
It answers every POST with 200 after ``LATENCY_MS`` (default 0: at once; a
receiver across a network answers tens of milliseconds later) and counts the
event ids it got; ``GET /stats`` gives ``{"total": n, "unique": m}`` and
``POST /reset`` forgets them. It prints its port on the first line of
standard output and serves until killed.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SEEN: Counter[str] = Counter()
LOCK = threading.Lock()
LATENCY = float(sys.argv[1]) / 1000 if len(sys.argv) > 1 else 0.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with LOCK:
            if self.path == "/reset":
                SEEN.clear()
            else:
                SEEN[self.headers.get("X-Planflow-Event-Id", "")] += 1
        if LATENCY and self.path != "/reset":
            time.sleep(LATENCY)
        self._answer(b"ok")

    def do_GET(self) -> None:
        with LOCK:
            stats = {"total": sum(SEEN.values()), "unique": len(SEEN)}
        self._answer(json.dumps(stats).encode())

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops the 6th concurrent connection,
    # which the client then retries a second later: a real server (nginx: 511)
    # does not measure like that.
    request_queue_size = 128
    daemon_threads = True


def main() -> None:
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
