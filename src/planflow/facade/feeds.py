"""Calendar feeds through the front door: feed addresses by username, a feed by its secret.

``create``/``of_user``/``revoke`` keep a person's feed addresses
(``services.feed_tokens``). ``feed(secret)`` gathers what the address's owner
may see now, through the same reads as the pages (their tasks, the
inspection calendar, the plans list and each plan's content), and turns it
into events (``services.calendar_feeds``). A unit's feed is what its owner
may see of that unit's plans; making one needs that they may see them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from planflow.core.definitions.registry import DefinitionRegistry
from planflow.core.definitions.spec import WorkflowSpec
from planflow.errors import NotFound, PlanflowError
from planflow.facade.inbox import InboxAPI
from planflow.facade.inspections import InspectionsAPI
from planflow.facade.names import Names
from planflow.facade.plans import PlanReads
from planflow.scheduling.rounds import timezone_from_env
from planflow.services import calendar_feeds as cf
from planflow.services.content import PlanContentService
from planflow.services.feed_tokens import FeedTokenRow, FeedTokens
from planflow.views import PlanSummary, UnitRef

#: How far back and ahead a feed reaches (calendar apps keep what they saw before).
BEFORE = timedelta(days=62)
AHEAD = timedelta(days=400)
#: The most plans one feed reads the items of, newest years first.
MAX_PLANS = 200


@dataclass(frozen=True, slots=True)
class FeedView:
    """A feed address without its secret: whose, of which unit (None: the owner's own)."""

    id: int
    username: str
    unit: UnitRef | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewFeed:
    feed: FeedView
    #: The secret of the address (``/feeds/<secret>.ics``): shown once.
    secret: str


class FeedsAPI:
    def __init__(
        self,
        tokens: FeedTokens,
        names: Names,
        reads: PlanReads,
        inbox: InboxAPI,
        inspections: InspectionsAPI,
        content: PlanContentService,
        registry: DefinitionRegistry,
        display_names: Callable[[Iterable[str | None]], dict[str, str]],
    ) -> None:
        self.tokens = tokens
        self.names = names
        self.reads = reads
        self.inbox = inbox
        self.inspections = inspections
        self.content = content
        self.registry = registry
        #: People's display names by username (``OrgAPI.display_names``, one query).
        self.display_names = display_names

    # -- the addresses ------------------------------------------------------------

    def units_for(self, username: str) -> list[UnitRef]:
        """The units whose feed ``username`` may make: where they see the unit's plans."""
        org, viewer = self.names.current(), self.reads.viewer(username)
        ids = viewer.own_units | viewer.oversight
        found = [UnitRef(org.units[u].code, org.units[u].name) for u in ids if u in org.units]
        return sorted(found, key=lambda u: u.code)

    def create(self, username: str, unit_code: str | None = None) -> NewFeed:
        """A new feed address: ``username``'s own, or ``unit_code``'s plans as they see them."""
        user_id = self.names.user_id(username)
        unit_id = None
        if unit_code is not None:
            unit_id = self.names.unit_id(unit_code)
            viewer = self.reads.viewer(username)
            if unit_id not in viewer.own_units | viewer.oversight:
                # A unit the user may not see the plans of answers like one that does not exist.
                raise NotFound("unit", unit_code)
        row, secret = self.tokens.create(user_id, unit_id)
        return NewFeed(self._view(row), secret)

    def of_user(self, username: str) -> list[FeedView]:
        return [self._view(r) for r in self.tokens.of_user(self.names.user_id(username))]

    def revoke(self, feed_id: int, *, actor: str | None) -> FeedView:
        """Revoke a feed address (its owner; ``None``: the command line)."""
        owner = self.names.user_id(actor) if actor is not None else None
        row = self.tokens.revoke(feed_id, may_revoke=lambda u: owner is None or u == owner)
        return self._view(row)

    def _view(self, row: FeedTokenRow) -> FeedView:
        org = self.names.current()
        unit = org.units.get(row.unit_id) if row.unit_id is not None else None
        return FeedView(
            id=row.id,
            username=org.usernames.get(row.user_id, "?"),
            unit=UnitRef(unit.code, unit.name) if unit is not None else None,
            prefix=row.prefix,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )

    # -- the feed -----------------------------------------------------------------

    def feed(self, secret: str, *, tz: ZoneInfo | None = None) -> cf.Feed:
        """The feed at the address ``secret``; ``NotFound`` if unknown or revoked."""
        row = self.tokens.resolve(secret)
        tz = tz or timezone_from_env()
        org = self.names.current()
        username = org.usernames.get(row.user_id)
        if username is None or (row.unit_id is not None and row.unit_id not in org.units):
            raise NotFound("feed", row.id)
        lang = row.language
        today = self.reads.clock.now().astimezone(tz).date()
        first, last = today - BEFORE, today + AHEAD
        events: list[cf.FeedEvent] = []
        if row.unit_id is None:
            name = cf.text("user_feed", lang, name=username)
            events += self._my_tasks(username, lang)
            unit_ids = self.reads.viewer(username, org).own_units
            plans = [p for u in sorted(unit_ids) for p in self._plans(username, org.units[u].code)]
            inspections = self.inspections.calendar(username, first, last, tz=tz, org=org)
        else:
            unit = org.units[row.unit_id]
            name = cf.text("unit_feed", lang, unit=unit.name)
            plans = self._plans(username, unit.code)
            events += self._plan_tasks(plans, lang)
            inspections = [
                e
                for e in self.inspections.calendar(username, first, last, tz=tz, org=org)
                if e.unit_code == unit.code
            ]
        events += [cf.inspection_event(e, lang) for e in inspections]
        events += self._items(plans, today.year, lang)
        events += cf.round_events(self._latest_specs(), tz, first, last, lang)
        return cf.Feed(name=name, language=lang, tz=tz, events=tuple(events))

    def _plans(self, username: str, unit_code: str) -> list[PlanSummary]:
        page = self.reads.plans(
            as_user=username, unit_code=unit_code, order="year", page_size=MAX_PLANS
        )
        return list(page.items)

    def _spec(self, workflow: str, version: int) -> WorkflowSpec | None:
        """The plan's definition, else the latest of its name (a version only stored), else None."""
        try:
            return self.registry.get(workflow, version)
        except PlanflowError:
            try:
                return self.registry.latest(workflow)
            except PlanflowError:
                return None

    def _state_label(self, workflow: str, version: int, state: str, lang: str) -> str:
        spec = self._spec(workflow, version)
        try:
            return spec.state(state).label.get(lang) if spec is not None else state
        except KeyError:
            return state

    def _ended(self, p: PlanSummary) -> bool:
        """Whether the plan is in a final state (accepted, abandoned …): its items are done."""
        spec = self._spec(p.workflow, p.workflow_version)
        return spec is not None and p.state in spec.final_states

    def _my_tasks(self, username: str, lang: str) -> list[cf.FeedEvent]:
        """The owner's tasks, as on "My work": a deputy's marked with whom they act for."""
        tasks = self.inbox.tasks(username)
        away = {t.on_behalf_of for t in tasks if t.on_behalf_of and t.due_at is not None}
        names = self.display_names(away) if away else {}
        return [
            cf.task_event(
                plan_id=t.plan_id,
                title=t.title,
                state=t.state,
                state_label=self._state_label(t.workflow, t.workflow_version, t.state, lang),
                due_at=t.due_at,
                version=t.plan_version,
                updated_at=t.updated_at,
                language=lang,
                on_behalf_of=None
                if t.on_behalf_of is None
                else names.get(t.on_behalf_of, t.on_behalf_of),
            )
            for t in tasks
            if t.due_at is not None
        ]

    def _plan_tasks(self, plans: list[PlanSummary], lang: str) -> list[cf.FeedEvent]:
        return [
            cf.task_event(
                plan_id=p.id,
                title=p.title,
                state=p.state,
                state_label=self._state_label(p.workflow, p.workflow_version, p.state, lang),
                due_at=p.task.due_at,
                version=p.version,
                updated_at=p.updated_at,
                language=lang,
            )
            for p in plans
            if p.task is not None and p.task.due_at is not None
        ]

    def _items(self, plans: list[PlanSummary], year: int, lang: str) -> list[cf.FeedEvent]:
        """The due items of this year's plans and later ones that have not ended."""
        out: list[cf.FeedEvent] = []
        for p in plans:
            if p.year < year or self._ended(p):
                continue
            out += cf.item_events(
                plan_id=p.id,
                title=p.title,
                version=p.version,
                updated_at=p.updated_at,
                content=self.content.content(p.id),
                language=lang,
            )
        return out

    def _latest_specs(self) -> list[WorkflowSpec]:
        latest: dict[str, WorkflowSpec] = {}
        for spec in self.registry.all():
            latest[spec.name] = spec  # ordered by version: the last one wins
        return list(latest.values())


__all__ = ["FeedView", "FeedsAPI", "NewFeed"]
