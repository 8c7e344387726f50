"""One signed POST to a webhook's URL, and what its answer means.

``http.client`` from the standard library, not ``requests`` or ``httpx``:
neither is a dependency of the library, and one POST with a timeout needs
neither. No proxies, no redirects (a 3xx is a failure: a receiver that moved
is re-registered by an admin, not followed blindly).

SSRF: the address is checked where the connection is made
(``_checked_connection``), after resolving the host name, and the socket
connects to exactly the address that was checked. A check at registration
only would be undone by DNS answering differently later (rebinding).

What an answer means: 2xx delivered; 408, 429, 5xx, a timeout or a broken
connection: try again later; any other status (4xx, 3xx): failed, no retry.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from planflow.core.webhooks import PrivateAddress, WebhookRefused, check_addresses, check_url

USER_AGENT = "planflow-webhooks/1"
#: Bytes of a response read (and dropped) before the connection is closed.
MAX_READ = 64 * 1024
RETRY_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class Answer:
    """How one attempt went: an HTTP status, or an error before there was one."""

    status: int | None
    error: str | None
    #: Worth trying again later (5xx, 408, 429, timeouts, broken connections).
    retry: bool
    elapsed_ms: int
    #: The start of a 2xx answer's body (a group robot's vendor puts its verdict there).
    body: bytes = b""
    #: A 2xx whose body says the message was not taken (a robot vendor's code).
    refused: bool = False

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and not self.refused


class Transport(Protocol):
    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, allow_private: bool
    ) -> Answer: ...


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, in the resolver's order (an IP gives itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookRefused(
            f"the webhook host {host!r} cannot be resolved ({exc})",
            code="webhook_url_unresolvable",
            params={"host": host},
        ) from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _checked_connection(
    host: str, allow_private: bool, resolver: Callable[[str, int], list[str]]
) -> Callable[..., socket.socket]:
    """A stand-in for ``socket.create_connection`` that connects only to checked addresses."""

    def connect(
        address: tuple[str, int], timeout: Any = None, source_address: Any = None
    ) -> socket.socket:
        port = address[1]
        addresses = resolver(host, port)
        if not allow_private:
            check_addresses(host, addresses)
        last: OSError | None = None
        for ip in addresses:
            try:
                return socket.create_connection((ip, port), timeout, source_address)
            except OSError as exc:
                last = exc
        raise last or OSError(f"no address to connect to for {host}")

    return connect


class HttpTransport:
    """POSTs with ``http.client``; one connection per attempt."""

    def __init__(
        self, timeout: float = 10.0, resolver: Callable[[str, int], list[str]] = resolve
    ) -> None:
        self.timeout = timeout
        self.resolver = resolver

    def post(
        self, url: str, body: bytes, headers: Mapping[str, str], *, allow_private: bool
    ) -> Answer:
        started = time.monotonic()

        def answer(status: int | None, error: str | None, retry: bool, body: bytes = b"") -> Answer:
            elapsed = int((time.monotonic() - started) * 1000)
            return Answer(status, error[:400] if error else None, retry, elapsed, body)

        try:
            scheme, host, port = check_url(url)
        except WebhookRefused as exc:
            return answer(None, f"{exc.code}: {exc}", False)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(
                host, port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
        # http.client opens its socket through this attribute (since Python 3.0);
        # replacing it is how the checked address becomes the connected one.
        conn._create_connection = _checked_connection(  # type: ignore[attr-defined]
            host, allow_private, self.resolver
        )
        all_headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        all_headers.update(headers)
        try:
            conn.request("POST", target, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read(MAX_READ)
            status = response.status
        except PrivateAddress as exc:
            return answer(None, f"{exc.code}: {exc}", False)
        except WebhookRefused as exc:  # unresolvable now: DNS may come back
            return answer(None, f"{exc.code}: {exc}", True)
        except TimeoutError:
            return answer(None, f"timeout after {self.timeout:g}s", True)
        except (OSError, http.client.HTTPException) as exc:
            return answer(None, f"{type(exc).__name__}: {exc}", True)
        finally:
            conn.close()
        if 200 <= status < 300:
            return answer(status, None, False, data)
        retry = status >= 500 or status in RETRY_STATUSES
        return answer(status, f"HTTP {status}", retry)
