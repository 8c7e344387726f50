"""``Planflow.delegations``: deputies for people who are away (委托), by username.

``add`` names a deputy for a range of days (the organisation's, both
inclusive), for every task or one workflow's or one role's; ``end`` ends one
now; ``list`` shows a person's, given and received; ``tasks`` the open tasks
a deputy may act on now, and for whom. Dates may be ``date`` objects or ISO
text (``2026-12-24``): text that is no date is refused with
``invalid_date`` naming the field, so every client says it the same way.
The rules and the design are in ``planflow.core.delegation``.
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Callable, Mapping
from datetime import date

from planflow.clock import Clock
from planflow.core.org import OrgSnapshot
from planflow.errors import ValidationError
from planflow.facade.names import Names
from planflow.services.delegations import Delegations, StoredDelegation, org_timezone
from planflow.services.inbox import Inbox
from planflow.views import DelegatedTask, DelegationView, TaskEntry


def parse_day(value: date | str | None, field: str) -> date:
    """A day from a ``date`` or ISO text; ``invalid_date`` naming ``field`` otherwise."""
    if isinstance(value, date):
        return value
    text = value.strip() if isinstance(value, str) else ""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ValidationError(
        f"{field}: {value!r} is not a date (YYYY-MM-DD)",
        code="invalid_date",
        params={"field": field, "value": str(value)[:40]},
    )


class DelegationsAPI:
    def __init__(self, service: Delegations, names: Names, inbox: Inbox, clock: Clock) -> None:
        self.service = service
        self.names = names
        self.inbox = inbox
        self.clock = clock

    def add(
        self,
        actor: str,
        deputy: str,
        starts_on: date | str,
        ends_on: date | str,
        *,
        for_user: str | None = None,
        workflow: str | None = None,
        role: str | None = None,
        reason: str | None = None,
    ) -> DelegationView:
        """``actor`` names ``deputy`` for themselves, or (an administrator) for
        ``for_user``, who is away. Refusals: ``delegate_to_self``, ``unknown_deputy``,
        ``inactive_deputy``, ``delegation_ends_before_start``, ``delegation_in_past``,
        ``delegation_overlaps``, ``deputy_away``, ``invalid_date`` (each with
        ``field``); ``admin_forbidden`` for someone else without the right."""
        first = parse_day(starts_on, "starts_on")
        last = parse_day(ends_on, "ends_on")
        actor_id = self.names.user_id(actor)
        delegator_id = self.names.user_id(for_user) if for_user else actor_id
        org = self.names.current()
        deputy_id = org.user_ids.get(deputy.strip() if isinstance(deputy, str) else "")
        if deputy_id is None:
            raise ValidationError(
                f"there is no user {deputy!r}",
                code="unknown_deputy",
                params={"field": "deputy", "user": str(deputy)[:64]},
            )
        delegation_id = self.service.create(
            actor_id,
            delegator_id,
            deputy_id,
            first,
            last,
            workflow=workflow or None,
            role=role or None,
            reason=reason,
        )
        found = [v for v in self.list(actor, for_user=for_user) if v.id == delegation_id]
        return found[0]

    def end(self, actor: str, delegation_id: int) -> bool:
        """End the delegation now (its delegator, its deputy, or an administrator of
        the delegator's units); False when it had ended already."""
        return self.service.end(self.names.user_id(actor), delegation_id)

    def list(self, actor: str, *, for_user: str | None = None) -> list[DelegationView]:
        """The delegations ``for_user`` (default: ``actor``) gave or received, the
        latest first; another person's only for an administrator of their units."""
        actor_id = self.names.user_id(actor)
        user_id = self.names.user_id(for_user) if for_user else actor_id
        stored = self.service.of_person(actor_id, user_id)
        org = self.names.knowing(
            [s.rule.delegator_id for s in stored]
            + [s.rule.deputy_id for s in stored]
            + [s.created_by for s in stored]
            + [s.ended_by for s in stored]
        )
        names = org.usernames
        return [self._view(s, names) for s in stored]

    def tasks(self, deputy: str) -> builtins.list[DelegatedTask]:
        """The open tasks ``deputy`` may act on now for someone away, and for whom."""
        found = self.service.tasks(self.names.user_id(deputy), self.inbox)
        names = self.names.knowing([d for _t, d in found]).usernames
        return [DelegatedTask(task, names.get(d, "?")) for task, d in found]

    def open_tasks(
        self,
        deputy: str,
        *,
        theirs: Callable[[TaskEntry], bool] = lambda _t: False,
        org: OrgSnapshot | None = None,
    ) -> builtins.list[TaskEntry]:
        """The rule behind "My work" and the review queue for a deputy: the open
        tasks of the people ``deputy`` stands in for now, in each delegation's
        scope, each marked ``on_behalf_of``, leaving out those ``theirs`` says the
        deputy has anyway (they hold the role too), so none shows twice.

        Nothing is read for someone who is no one's deputy but the organisation's
        generation (none when ``org``, the organisation as it is now, is given),
        and one statement per person they stand in for otherwise.
        """
        org = org or self.names.current()
        found = self.service.tasks(self.names.user_id(deputy), self.inbox, org)
        if not found:
            return []
        names = self.names.knowing([d for _t, d in found]).usernames
        return [
            dataclasses.replace(task, on_behalf_of=names.get(d, "?"), escalated_to_me=False)
            for task, d in found
            if not theirs(task)
        ]

    def _view(self, s: StoredDelegation, names: Mapping[int, str]) -> DelegationView:
        get = names.get
        d = s.rule
        now, tz = self.clock.now(), org_timezone()
        if d.has_ended(now, tz):
            status = "ended"
        elif d.in_force(now, tz):
            status = "in_force"
        else:
            status = "scheduled"
        return DelegationView(
            id=d.id,
            delegator=get(d.delegator_id, "?"),
            deputy=get(d.deputy_id, "?"),
            starts_on=d.starts_on,
            ends_on=d.ends_on,
            workflow=d.workflow,
            role=d.role,
            reason=s.reason,
            created_by=get(s.created_by, "?"),
            created_at=s.created_at,
            status=status,
            ended_at=d.ended_at,
            ended_by=None if s.ended_by is None else get(s.ended_by, "?"),
        )
