"""Sign-in limits: exact under concurrency, and no way to lock others out.

Forty simultaneous wrong passwords for one account get exactly the five
password checks the limit allows (the count and the decision are one step,
in the database). Failures from an attacker, with made-up names from a
shared address or against one account, do not lock people out of the
browsers they have signed in with (device tokens), and leave a first-time
sign-in behind the same address waiting seconds (the slow lane), while
guessing and spraying are still held to the limits. SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, func, select

import planflow.services.accounts as accounts_module
from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.services.accounts import SignIn
from planflow.storage.tables import LoginAttempt

PASSWORD = "correct horse 1"
PROXY = "203.0.113.9"


@pytest.fixture
def people(pf: Planflow, org: Any) -> Planflow:
    for name in ("chair_a", "chair_b", "reviewer"):
        pf.org.set_password(name, PASSWORD)
    return pf


def count_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password check made from now on (real ones and the unknown-name stand-in)."""
    checked: list[str] = []
    real = accounts_module._check

    def counting(password_hash: str | None, password: str) -> bool:
        checked.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(accounts_module, "_check", counting)
    return checked


def test_forty_simultaneous_guesses_get_five_checks(
    people: Planflow, monkeypatch: pytest.MonkeyPatch
) -> None:
    pf = people
    checked = count_checks(monkeypatch)
    start = threading.Barrier(40)
    outcomes: list[SignIn] = []
    lock = threading.Lock()

    def guess(n: int) -> None:
        start.wait()
        result = pf.accounts.sign_in("chair_a", f"guess {n}", f"198.51.100.{n}")
        with lock:
            outcomes.append(result.outcome)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(SignIn.FAILED) == 5
    assert outcomes.count(SignIn.LIMITED) == 35
    assert len(checked) == 5
    with pf.db.read_session() as s:
        recorded = s.exec(
            select(func.count()).select_from(LoginAttempt).where(LoginAttempt.username == "chair_a")
        ).one()
    assert recorded == 5


def test_made_up_names_from_a_shared_address_lock_nobody_out(
    people: Planflow, clock: FixedClock
) -> None:
    pf = people
    # Earlier, chair_a signed in from her own browser behind the proxy: it is trusted now.
    first = pf.accounts.sign_in("chair_a", PASSWORD, PROXY)
    assert first.outcome is SignIn.OK and first.device
    clock.advance(timedelta(minutes=1))
    for n in range(25):  # an attacker behind the same proxy, spraying made-up names
        pf.accounts.sign_in(f"someone{n}", "Summer2027!", PROXY)
    # chair_a's browser signs in at once with the right password...
    again = pf.accounts.sign_in("chair_a", PASSWORD, PROXY, device=first.device)
    assert again.outcome is SignIn.OK and again.device == first.device
    # ...a colleague on a new browser waits seconds, not fifteen minutes...
    waiting = pf.accounts.sign_in("chair_b", PASSWORD, PROXY)
    assert waiting.outcome is SignIn.LIMITED
    assert waiting.retry_at is not None and waiting.retry_at - clock.now() <= timedelta(seconds=10)
    clock.set(waiting.retry_at)
    assert pf.accounts.sign_in("chair_b", PASSWORD, PROXY).outcome is SignIn.OK
    # ...and the spray goes on at one guess per ten seconds at most.
    allowed = 0
    for _ in range(30):
        clock.advance(timedelta(seconds=1))
        if pf.accounts.sign_in("reviewer", "Summer2027!", PROXY).outcome is SignIn.FAILED:
            allowed += 1
    assert allowed == 3


def test_an_attacker_cannot_lock_the_owner_out_of_her_browser(
    people: Planflow, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    pf = people
    device = pf.accounts.sign_in("chair_a", PASSWORD, "192.0.2.10").device
    clock.advance(timedelta(seconds=1))
    for n in range(10):  # from many addresses: the account limit is what stops them
        pf.accounts.sign_in("chair_a", f"guess {n}", f"198.51.100.{n}")
    assert pf.accounts.sign_in("chair_a", PASSWORD, "198.51.100.99").outcome is SignIn.LIMITED
    assert pf.accounts.sign_in("chair_a", PASSWORD, "192.0.2.10", device=device).outcome is (
        SignIn.OK
    )
    # The owner's own typos on her browser are limited too, on their own count.
    clock.advance(timedelta(seconds=1))
    checked = count_checks(monkeypatch)
    outcomes = [
        pf.accounts.sign_in("chair_a", "typo", "192.0.2.10", device=device).outcome
        for _ in range(7)
    ]
    assert outcomes == [SignIn.FAILED] * 5 + [SignIn.LIMITED] * 2
    assert len(checked) == 5
    # A token of another account, or a made-up one, trusts nothing.
    other = pf.accounts.sign_in("chair_b", PASSWORD, "192.0.2.11").device
    for token in (other, "made-up", "x" * 5000):
        result = pf.accounts.sign_in("chair_a", PASSWORD, "198.51.100.1", device=token)
        assert result.outcome is SignIn.LIMITED


def test_a_new_password_forgets_the_trusted_devices(people: Planflow, clock: FixedClock) -> None:
    pf = people
    account = pf.accounts.sign_in("chair_a", PASSWORD, "192.0.2.10")
    assert account.account is not None and account.device
    pf.accounts.change_password(account.account.id, PASSWORD, "a brand new one", address=None)
    clock.advance(timedelta(seconds=1))
    for n in range(5):
        pf.accounts.sign_in("chair_a", f"guess {n}", f"198.51.100.{n}")
    # The old token no longer exempts anyone from the account's limit.
    result = pf.accounts.sign_in("chair_a", "a brand new one", "192.0.2.10", device=account.device)
    assert result.outcome is SignIn.LIMITED
    with pf.db.read_session() as s:
        trusted = s.exec(
            select(func.count()).select_from(LoginAttempt).where(col(LoginAttempt.trusted))
        ).one()
    assert trusted == 0
