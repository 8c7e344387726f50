"""The browser keeps a device token after signing in, and presents it at the next sign-in.

With it, failures others caused (a spray behind the same proxy, guesses at
the account) do not hold that browser back (``planflow.services.sign_in``).
"""

from __future__ import annotations

from webui_support import PASSWORD, WebClient, new_client

from planflow_web.auth import DEVICE_COOKIE


def sign_in(client: WebClient, username: str, password: str = PASSWORD) -> int:
    response = client.post_form(
        "/auth/login",
        {"username": username, "password": password},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    return response.status_code


def test_the_device_cookie_is_kept_and_beats_a_spray(app: object, client: WebClient) -> None:
    assert sign_in(client, "chair_a") == 302
    cookie = client.get_cookie(DEVICE_COOKIE, path="/auth/login")
    assert cookie is not None and cookie.http_only and len(cookie.value) > 30
    client.post_form("/auth/logout")
    spray = new_client(app)  # another browser behind the same proxy
    for n in range(25):
        sign_in(spray, f"someone{n}", "Summer2027!")
    assert sign_in(spray, "chair_b") == 429  # a new browser there waits its turn
    assert sign_in(client, "chair_a") == 302  # the known browser does not
