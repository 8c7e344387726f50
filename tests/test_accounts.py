"""Tests of ``planflow.services.accounts.Accounts`` (``pf.accounts``), on SQLite and PostgreSQL.

Covered: signing in (the session data it gives back; an unknown name, an
inactive user, a user without a password and a wrong password all take the
same path), the rate limits per account and per address with the fixed
clock moved to show the window sliding and expiring, limits as constructor
parameters, pruning old attempts (on demand and opportunistically), the
password change (checks the current password, is rate limited, bumps the
session version), ending sessions and the language.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

import planflow.services.accounts as accounts_module
from planflow.app import Planflow
from planflow.clock import FixedClock
from planflow.errors import NotFound, ValidationError
from planflow.services.accounts import (
    MIN_PASSWORD,
    PRUNE_EVERY,
    Account,
    Accounts,
    LoginLimited,
    SignIn,
    WrongPassword,
)
from planflow.storage.tables import LoginAttempt, User

PASSWORD = "correct horse 1"
HOME = "192.0.2.10"
ELSEWHERE = "198.51.100.7"
ATTACKER = "203.0.113.9"


@pytest.fixture
def people(pf: Planflow, org: Any) -> Planflow:
    """The ``org`` people; chair_a, chair_b and reviewer have ``PASSWORD``."""
    with pf.session() as s:
        for name in ("chair_a", "chair_b", "reviewer"):
            pf.org_repo.set_password(s, name, PASSWORD)
    return pf


def attempts(pf: Planflow) -> list[tuple[str, str, bool]]:
    with pf.db.read_session() as s:
        rows = s.exec(select(LoginAttempt).order_by(col(LoginAttempt.id))).all()
        return [(r.username, r.address, r.success) for r in rows]


def version(pf: Planflow, username: str) -> int:
    with pf.db.read_session() as s:
        return s.exec(select(User.session_version).where(User.username == username)).one()


def fail(pf: Planflow, username: str, address: str = HOME, times: int = 1) -> None:
    for _ in range(times):
        assert pf.accounts.sign_in(username, "wrong password", address).outcome is SignIn.FAILED


# -- signing in -----------------------------------------------------------------------------


def test_sign_in_gives_the_session_data(people: Planflow) -> None:
    pf = people
    result = pf.accounts.sign_in("chair_a", PASSWORD, HOME)
    assert result.outcome is SignIn.OK and result.retry_at is None
    assert result.account == Account(pf.user_id("chair_a"), "chair_a", "Chair A", "en", True, 2)
    assert attempts(pf) == [("chair_a", HOME, True)]
    assert pf.accounts.account(pf.user_id("chair_a")) == result.account
    assert pf.accounts.account(9999) is None


def test_session_account_needs_an_active_user_and_the_current_version(people: Planflow) -> None:
    pf = people
    user_id = pf.user_id("chair_a")
    assert pf.accounts.session_account(user_id, 2) is not None
    assert pf.accounts.session_account(user_id, 1) is None
    assert pf.accounts.session_account(9999, 1) is None
    with pf.session() as s:
        pf.org_repo.set_active(s, "chair_a", False)  # bumps the version too
    assert pf.accounts.session_account(user_id, 3) is None
    assert pf.accounts.sign_in("chair_a", PASSWORD, HOME).outcome is SignIn.FAILED


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str | None, str]]:
    """Every password check made: (the hash checked against, the password)."""
    made: list[tuple[str | None, str]] = []
    real: Callable[[str | None, str], bool] = accounts_module.verify_password

    def spy(password_hash: str | None, password: str) -> bool:
        made.append((password_hash, password))
        return real(password_hash, password)

    monkeypatch.setattr(accounts_module, "verify_password", spy)
    return made


def test_unknown_user_and_wrong_password_take_the_same_path(
    people: Planflow, checks: list[tuple[str | None, str]]
) -> None:
    pf = people
    with pf.session() as s:
        pf.org_repo.add_user(s, "no_password", "No Password")
        pf.org_repo.add_user(s, "gone", "Gone", password=PASSWORD)
        pf.org_repo.set_active(s, "gone", False)
    results = [
        pf.accounts.sign_in(name, password, HOME)
        for name, password in [
            ("chair_a", "wrong password"),  # known, wrong password
            ("nobody", "wrong password"),  # unknown
            ("no_password", PASSWORD),  # no password set
            ("gone", PASSWORD),  # inactive, right password
        ]
    ]
    assert {(r.outcome, r.account, r.retry_at) for r in results} == {(SignIn.FAILED, None, None)}
    # Exactly one Argon2 check each, always against a real hash of the same kind.
    assert len(checks) == 4
    assert all(h is not None and h.startswith("$argon2id$") for h, _ in checks)
    assert [p for _, p in checks] == ["wrong password", "wrong password", PASSWORD, PASSWORD]
    assert attempts(pf) == [
        ("chair_a", HOME, False),
        ("nobody", HOME, False),
        ("no_password", HOME, False),
        ("gone", HOME, False),
    ]


@pytest.mark.parametrize(
    ("name", "password", "key"),
    [
        ("chair\x00a", PASSWORD, "chair\ufffda"),
        ("chair_a", "pass\ud800word", "chair_a"),
        ("\ud800", "x", "\ufffd"),
        ("a" * 200, "x", "a" * 80),
    ],
)
def test_input_the_database_cannot_take_fails_cleanly(
    people: Planflow, checks: list[tuple[str | None, str]], name: str, password: str, key: str
) -> None:
    pf = people
    assert pf.accounts.sign_in(name, password, "addr\x00" + "x" * 100).outcome is SignIn.FAILED
    assert len(checks) == 1
    assert attempts(pf) == [(key, "addr\ufffd" + "x" * 59, False)]


# -- rate limits ----------------------------------------------------------------------------


def test_five_failures_limit_the_account_until_the_window_passes(
    people: Planflow, clock: FixedClock, checks: list[tuple[str | None, str]]
) -> None:
    pf = people
    first = clock.now()
    for _ in range(5):
        fail(pf, "chair_a")
        clock.advance(timedelta(minutes=1))
    assert pf.accounts.account_limited_until("chair_a") == first + timedelta(minutes=15)
    assert pf.accounts.account_limited_until("CHAIR_A ") == first + timedelta(minutes=15)
    assert pf.accounts.address_limited_until(HOME) is None
    assert pf.accounts.account_limited_until("chair_b") is None
    made, recorded = len(checks), len(attempts(pf))
    limited = pf.accounts.sign_in("chair_a", PASSWORD, ELSEWHERE)  # even the right password
    assert (limited.outcome, limited.retry_at) == (SignIn.LIMITED, first + timedelta(minutes=15))
    assert pf.accounts.sign_in("Chair_A", "x", HOME).outcome is SignIn.LIMITED
    # A limited attempt checks no password and is not recorded.
    assert (len(checks), len(attempts(pf))) == (made, recorded)
    assert pf.accounts.sign_in("chair_b", PASSWORD, HOME).outcome is SignIn.OK

    clock.set(first + timedelta(minutes=15) - timedelta(seconds=1))
    assert pf.accounts.sign_in("chair_a", PASSWORD, HOME).outcome is SignIn.LIMITED
    # The window slides: once the first failure leaves it, four remain.
    clock.set(first + timedelta(minutes=15))
    assert pf.accounts.account_limited_until("chair_a") is None
    fail(pf, "chair_a")  # the fifth again within the window: limited until the second leaves
    assert pf.accounts.account_limited_until("chair_a") == first + timedelta(minutes=16)
    clock.set(first + timedelta(minutes=16))
    assert pf.accounts.sign_in("chair_a", PASSWORD, HOME).outcome is SignIn.OK


def test_a_successful_sign_in_resets_the_account_counter(
    people: Planflow, clock: FixedClock
) -> None:
    pf = people
    fail(pf, "chair_a", times=4)
    clock.advance(timedelta(seconds=1))
    assert pf.accounts.sign_in("chair_a", PASSWORD, HOME).outcome is SignIn.OK
    clock.advance(timedelta(seconds=1))
    fail(pf, "chair_a", times=4)
    assert pf.accounts.account_limited_until("chair_a") is None
    fail(pf, "chair_a")
    assert pf.accounts.account_limited_until("chair_a") is not None


def test_twenty_failures_put_the_address_in_the_slow_lane(
    people: Planflow, clock: FixedClock
) -> None:
    """Not a lockout: one untrusted attempt per slow-lane interval (10 s) from the address."""
    pf = people
    start = clock.now()
    for n in range(19):
        fail(pf, f"guess{n}", ATTACKER)
    clock.advance(timedelta(minutes=5))
    # A success from the address does not reset its counter (only the account's).
    assert pf.accounts.sign_in("reviewer", PASSWORD, ATTACKER).outcome is SignIn.OK
    assert pf.accounts.address_limited_until(ATTACKER) is None
    fail(pf, "guess19", ATTACKER)
    lane = clock.now() + timedelta(seconds=10)
    assert pf.accounts.address_limited_until(ATTACKER) == lane
    result = pf.accounts.sign_in("chair_a", PASSWORD, ATTACKER)
    assert (result.outcome, result.retry_at) == (SignIn.LIMITED, lane)
    assert pf.accounts.limited_until("chair_a", ATTACKER) == lane
    assert pf.accounts.account_limited_until("chair_a") is None
    assert pf.accounts.sign_in("chair_a", PASSWORD, ELSEWHERE).outcome is SignIn.OK
    # Seconds later the lane lets one attempt through: the right password signs in...
    clock.advance(timedelta(seconds=10))
    assert pf.accounts.sign_in("chair_a", PASSWORD, ATTACKER).outcome is SignIn.OK
    # ...and a guess right after it waits its turn again.
    assert pf.accounts.sign_in("chair_b", "spray", ATTACKER).outcome is SignIn.LIMITED
    failures = [a for a in attempts(pf) if a[1] == ATTACKER and not a[2]]
    assert len(failures) == 20
    clock.set(start + timedelta(minutes=15))  # the 19 early failures leave the window
    assert pf.accounts.address_limited_until(ATTACKER) is None


def test_limits_are_constructor_parameters(people: Planflow, clock: FixedClock) -> None:
    pf = people
    strict = Accounts(pf.db, clock, per_account=2, per_address=3, window=timedelta(minutes=1))
    assert strict.sign_in("chair_a", "wrong", HOME).outcome is SignIn.FAILED
    assert strict.account_limited_until("chair_a") is None
    assert strict.sign_in("chair_a", "wrong", HOME).outcome is SignIn.FAILED
    assert strict.account_limited_until("chair_a") == clock.now() + timedelta(minutes=1)
    assert pf.accounts.account_limited_until("chair_a") is None  # the default allows five
    assert strict.sign_in("nobody", "wrong", HOME).outcome is SignIn.FAILED
    assert strict.address_limited_until(HOME) == clock.now() + timedelta(seconds=10)
    clock.advance(timedelta(minutes=1))
    assert strict.limited_until("chair_a", HOME) is None
    # with_limits: the same accounts (and database) with other numbers.
    assert pf.accounts.with_limits(per_account=5, per_address=20) is pf.accounts
    loose = pf.accounts.with_limits(per_account=50, window=timedelta(minutes=30))
    assert (loose.per_account, loose.per_address, loose.window) == (50, 20, timedelta(minutes=30))
    assert (pf.accounts.per_account, pf.accounts.window) == (5, timedelta(minutes=15))


@pytest.mark.parametrize(
    "limits",
    [
        {"per_account": 0},
        {"per_address": 0},
        {"window": timedelta(0)},
        {"window": timedelta(days=2)},  # longer than the attempts are kept
    ],
)
def test_unusable_limits_are_refused(pf: Planflow, clock: FixedClock, limits: Any) -> None:
    with pytest.raises(ValueError):
        Accounts(pf.db, clock, **limits)


# -- pruning --------------------------------------------------------------------------------


def test_prune_deletes_attempts_older_than_a_day(people: Planflow, clock: FixedClock) -> None:
    pf = people
    start = clock.now()
    fail(pf, "chair_a")
    clock.advance(timedelta(hours=12))
    fail(pf, "chair_b")
    clock.set(start + timedelta(days=1))
    assert pf.accounts.prune() == 0  # exactly a day old: kept
    clock.advance(timedelta(seconds=1))
    assert pf.accounts.prune() == 1
    assert attempts(pf) == [("chair_b", HOME, False)]
    clock.advance(timedelta(days=1))
    assert pf.accounts.prune() == 1
    assert attempts(pf) == []


def test_recording_prunes_now_and_then(people: Planflow, clock: FixedClock) -> None:
    pf = people
    start = clock.now()
    fail(pf, "chair_a")  # the first attempt of the process prunes (nothing yet)
    clock.set(start + timedelta(days=1, minutes=10))
    fail(pf, "chair_b")  # the last prune was over an hour ago: the old attempt goes
    assert attempts(pf) == [("chair_b", HOME, False)]
    with pf.session() as s:  # an old row appears (written by another process, say)
        s.add(LoginAttempt(username="old", address=HOME, at=start, success=False))
    clock.advance(PRUNE_EVERY - timedelta(seconds=1))
    fail(pf, "chair_b")  # pruned less than an hour ago: no prune now
    assert [a[0] for a in attempts(pf)] == ["chair_b", "old", "chair_b"]
    clock.advance(timedelta(seconds=1))
    fail(pf, "chair_b")
    assert [a[0] for a in attempts(pf)] == ["chair_b", "chair_b", "chair_b"]


# -- password, sessions, language -------------------------------------------------------------


def test_password_change_checks_the_current_password_and_bumps_the_version(
    people: Planflow,
) -> None:
    pf = people
    user_id, before = pf.user_id("chair_a"), version(pf, "chair_a")
    with pytest.raises(WrongPassword):
        pf.accounts.change_password(user_id, "not it", "a brand new secret", address=HOME)
    assert version(pf, "chair_a") == before
    assert attempts(pf) == [("chair_a", HOME, False)]  # counts as a failed attempt
    account = pf.accounts.change_password(user_id, PASSWORD, "a brand new secret", address=HOME)
    assert account.session_version == before + 1 == version(pf, "chair_a")
    assert pf.accounts.session_account(user_id, before) is None
    assert pf.accounts.session_account(user_id, before + 1) == account
    assert pf.accounts.sign_in("chair_a", PASSWORD, HOME).outcome is SignIn.FAILED
    assert pf.accounts.sign_in("chair_a", "a brand new secret", HOME).outcome is SignIn.OK


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("x" * (MIN_PASSWORD - 1), "at least 8 characters"),
        ("x" * 257, "at most 256 characters"),
        ("long enough \ud800", "unpaired surrogate"),
    ],
)
def test_an_unfit_new_password_is_refused(people: Planflow, new: str, message: str) -> None:
    pf = people
    user_id, before = pf.user_id("chair_a"), version(pf, "chair_a")
    with pytest.raises(ValidationError, match=message):
        pf.accounts.change_password(user_id, PASSWORD, new, address=HOME)
    assert version(pf, "chair_a") == before
    assert attempts(pf) == []
    assert pf.accounts.sign_in("chair_a", PASSWORD, HOME).outcome is SignIn.OK


def test_guessing_the_current_password_is_rate_limited(people: Planflow, clock: FixedClock) -> None:
    pf = people
    user_id = pf.user_id("chair_a")
    for _ in range(5):
        with pytest.raises(WrongPassword):
            pf.accounts.change_password(user_id, "guess", "a brand new secret", address=HOME)
    with pytest.raises(LoginLimited) as caught:
        pf.accounts.change_password(user_id, PASSWORD, "a brand new secret", address=HOME)
    assert caught.value.retry_at == clock.now() + timedelta(minutes=15)
    assert pf.accounts.sign_in("chair_a", PASSWORD, ELSEWHERE).outcome is SignIn.LIMITED
    clock.advance(timedelta(minutes=15))
    pf.accounts.change_password(user_id, PASSWORD, "a brand new secret", address=HOME)
    with pytest.raises(NotFound):
        pf.accounts.change_password(9999, PASSWORD, "a brand new secret")


def test_end_sessions_bumps_the_version(people: Planflow) -> None:
    pf = people
    user_id, before = pf.user_id("chair_a"), version(pf, "chair_a")
    assert pf.accounts.end_sessions(user_id) == before + 1 == version(pf, "chair_a")
    assert pf.accounts.session_account(user_id, before) is None
    assert pf.accounts.end_sessions(user_id) == before + 2
    assert version(pf, "chair_b") == 2  # nobody else's
    with pytest.raises(NotFound):
        pf.accounts.end_sessions(9999)


@pytest.mark.parametrize("language", ["zh", "ko", "en"])
def test_set_language(people: Planflow, language: str) -> None:
    pf = people
    user_id = pf.user_id("reviewer")
    pf.accounts.set_language(user_id, language)
    account = pf.accounts.account(user_id)
    assert account is not None and account.language == language


@pytest.mark.parametrize("language", ["fr", "", "ZH", "zh\x00", "zh-Hans", " en"])
def test_unknown_language_is_refused(people: Planflow, language: str) -> None:
    pf = people
    user_id = pf.user_id("reviewer")
    pf.accounts.set_language(user_id, "ko")
    with pytest.raises(ValidationError, match="language must be one of en, zh, ko"):
        pf.accounts.set_language(user_id, language)
    account = pf.accounts.account(user_id)
    assert account is not None and account.language == "ko"
    with pytest.raises(NotFound):
        pf.accounts.set_language(9999, "zh")
