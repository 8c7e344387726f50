"""Delegation / out of office (委托): the rules, in plain Python.

A person (the *delegator*) names a *deputy* for a range of dates, both
inclusive, read in the organisation's time zone: for every task, or only
the tasks of one workflow, or of one role. While it is in force the deputy
may act on the tasks the delegator could act on, and the audit records the
deputy *on behalf of* the delegator.

The design choice (documented in README "Delegation"): the deputy acts
through an authority check at decision time, not by re-routing tasks. A
task waiting for a role stays with the role; at each decision the engine
asks whether the actor, or someone whose delegation to the actor is in
force, may take the transition. So "open tasks go back" when the range ends
by construction (nothing was moved, nothing has to be moved back, and no
crash can leave a task with the deputy), tasks that arrive during the range
are the deputy's from the moment they arrive, and the delegator keeps their
own right to act (someone back early needs no admin). Only the notices at
the start and at the end are driven by time, exactly once per delegation
(``planflow.scheduling.delegations``).

Delegation is not transitive: a deputy's own deputy does not act for the
first delegator. A deputy does not submit for someone else: the submitter
is who separation of duties keeps out of a plan's review, and that must be
one person, the one who signed (``deputy_cannot_submit``). Separation of
duties looks at both people: the guards of the transition must pass for the
delegator (whose right is used) *and* for the deputy (who is the one
deciding), so a deputy who submitted the plan cannot approve it, nor can
anyone acting for its submitter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from planflow.errors import ValidationError

#: The audit and org-audit actions, and the notification kinds.
DELEGATION_SET = "delegation_set"
DELEGATION_ENDED = "delegation_ended"
STARTS = "delegation_starts"
ENDS = "delegation_ends"
#: The longest range one delegation may cover (a sabbatical; beyond, ask an admin to re-route).
MAX_DAYS = 366
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class Delegation:
    """One delegation, as the rules see it (ids, no names)."""

    id: int
    delegator_id: int
    deputy_id: int
    starts_on: date
    ends_on: date
    #: The scope: None and None is every task.
    workflow: str | None = None
    role: str | None = None
    #: When it was ended early (None: it runs to ``ends_on``).
    ended_at: datetime | None = None

    @property
    def scope(self) -> tuple[str | None, str | None]:
        return (self.workflow, self.role)

    def in_force(self, at: datetime, tz: ZoneInfo) -> bool:
        """Whether the deputy may act for the delegator at ``at``."""
        if self.ended_at is not None and at >= self.ended_at:
            return False
        today = local_day(at, tz)
        return self.starts_on <= today <= self.ends_on

    def has_ended(self, at: datetime, tz: ZoneInfo) -> bool:
        """Whether it is over for good at ``at`` (ended early or past its last day)."""
        if self.ended_at is not None and at >= self.ended_at:
            return True
        return local_day(at, tz) > self.ends_on

    def covers(self, workflow: str, role: str | None) -> bool:
        """Whether a task of ``workflow`` waiting for ``role`` is in its scope."""
        if self.workflow is not None and self.workflow != workflow:
            return False
        return self.role is None or self.role == role

    def overlaps(self, starts_on: date, ends_on: date) -> bool:
        return self.starts_on <= ends_on and starts_on <= self.ends_on


def local_day(at: datetime, tz: ZoneInfo) -> date:
    """The organisation's calendar day of an instant."""
    return at.astimezone(tz).date()


def day_starts(day: date, tz: ZoneInfo) -> datetime:
    """The instant ``day`` begins in the organisation's time zone."""
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def day_after_ends(day: date, tz: ZoneInfo) -> datetime:
    """The instant after ``day``'s last moment: when a delegation ending on it ends."""
    return day_starts(day + timedelta(days=1), tz)


def _refuse(code: str, message: str, **params: object) -> ValidationError:
    return ValidationError(message, code=code, params=params)


def check_new(
    new: Delegation,
    *,
    today: date,
    active_users: frozenset[int],
    known_users: Iterable[int],
    delegators_own: Iterable[Delegation],
    deputys_own: Iterable[Delegation],
) -> None:
    """Refuse a delegation that cannot be: each refusal a code and the field it is about.

    ``delegators_own``: the delegator's delegations not yet over (a new one may
    not overlap one of the same scope); ``deputys_own``: the deputy's (a deputy
    away for the whole range could act for nobody: refused, ``deputy_away``).
    """
    if new.deputy_id == new.delegator_id:
        raise _refuse("delegate_to_self", "you cannot be your own deputy", field="deputy")
    if new.deputy_id not in set(known_users):
        raise _refuse(
            "unknown_deputy", "there is no user {user}", field="deputy", user=new.deputy_id
        )
    if new.deputy_id not in active_users:
        raise _refuse("inactive_deputy", "{user} is not active", field="deputy", user=new.deputy_id)
    if new.ends_on < new.starts_on:
        raise _refuse(
            "delegation_ends_before_start",
            "the delegation ends ({ends_on}) before it starts ({starts_on})",
            field="ends_on",
            starts_on=new.starts_on.isoformat(),
            ends_on=new.ends_on.isoformat(),
        )
    if new.ends_on < today:
        raise _refuse(
            "delegation_in_past",
            "the delegation ends ({ends_on}) before today",
            field="ends_on",
            ends_on=new.ends_on.isoformat(),
        )
    if (new.ends_on - new.starts_on).days + 1 > MAX_DAYS:
        raise _refuse(
            "delegation_too_long",
            "a delegation covers at most {max} days",
            field="ends_on",
            max=MAX_DAYS,
        )
    for other in delegators_own:
        if other.scope == new.scope and other.overlaps(new.starts_on, new.ends_on):
            raise _refuse(
                "delegation_overlaps",
                "you already have a deputy for these tasks from {starts_on} to {ends_on}",
                field="starts_on",
                starts_on=other.starts_on.isoformat(),
                ends_on=other.ends_on.isoformat(),
                deputy=other.deputy_id,
            )
    for away in deputys_own:
        if away.starts_on <= new.starts_on and new.ends_on <= away.ends_on:
            raise _refuse(
                "deputy_away",
                "{user} is away themselves from {starts_on} to {ends_on}",
                field="deputy",
                user=new.deputy_id,
                starts_on=away.starts_on.isoformat(),
                ends_on=away.ends_on.isoformat(),
            )
