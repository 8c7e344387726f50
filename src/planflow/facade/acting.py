"""Acting on a plan: creating one, firing its actions, and what a person may fire now.

Every change here goes through the one transition path (``services.plans``);
this is where usernames and unit codes become ids, and the path's ``Change``
becomes an ``ActionResult``. ``recall`` and ``abandon`` are named actions of
the definition; ``open_task`` fires a state's ``on_open:`` transition when a
reviewer opens the plan from their queue.
"""

from __future__ import annotations

from planflow.core.content.model import PlanContent
from planflow.core.engine import ActionOption
from planflow.core.org import OrgSnapshot
from planflow.errors import NotFound, StaleVersion, ValidationError
from planflow.facade.base import FacadeBase
from planflow.services.plan_creation import units_for_new_plans
from planflow.storage import plan_store as ps
from planflow.storage.tx import read_tx
from planflow.views import ActionResult, UnitRef


class ActingMixin(FacadeBase):
    def units_for_new_plans(
        self, username: str, workflow: str | None = None, *, org: OrgSnapshot | None = None
    ) -> list[UnitRef]:
        """The units where ``username`` may create a plan (of ``workflow``; None: of any
        definition at hand, in its latest version), by code; ``org`` as for ``plans``."""
        org = org or self.names.current()
        viewer = self._reads.viewer(username, org)
        if workflow is not None:
            specs = [self.registry.get(workflow)]
        else:
            latest = {spec.name: spec for spec in self.registry.all()}  # ordered by version
            specs = list(latest.values())
        units = units_for_new_plans(org, viewer, specs)
        return [UnitRef(org.unit(u).code, org.unit(u).name) for u in units]

    def create_plan(
        self,
        *,
        unit_code: str,
        year: int,
        title: str,
        actor: str,
        workflow: str = "annual_plan",
        content: PlanContent | None = None,
    ) -> int:
        """Create a plan of ``unit_code`` for ``year`` as ``actor``; returns its id.

        With ``content`` (an imported outline, say) the draft is created holding it, in
        the same transaction: a refusal leaves no empty draft behind.
        """
        if content is not None and content.year != year:
            raise ValidationError(
                f"the content is for {content.year}, the plan for {year}",
                code="content_year_mismatch",
                params={"content_year": content.year, "plan_year": year},
            )
        body = content if content is not None else PlanContent(year)
        return self.service.create_plan(
            unit_id=self.names.unit_id(unit_code),
            year=year,
            title=title,
            actor_id=self.names.user_id(actor),
            workflow=workflow,
            content_json=body.canonical_json(),
            item_count=body.item_count,
            items_without_due=len(body.items_without_due()),
        )

    def fire(
        self,
        plan_id: int,
        action: str,
        actor: str | None,
        comment: str | None = None,
        expected_version: int | None = None,
        *,
        on_behalf_of: str | None = None,
    ) -> ActionResult:
        """Fire ``action`` as ``actor`` (a username; None is the system).

        ``on_behalf_of`` names the colleague the actor stands in for; it is
        recorded on the audit trail (permissions are the actor's own).
        ``expected_version`` refuses with ``StaleVersion`` if the plan changed
        since you read it; without it a lost race is decided again on fresh state.
        """
        change = self.service.fire(
            plan_id,
            action,
            self.names.actor_id(actor),
            comment,
            expected_version,
            on_behalf_of_id=self.names.actor_id(on_behalf_of),
        )
        decision = change.decision
        return ActionResult(
            plan_id=plan_id,
            action=change.action,  # the trigger, also when ``action`` was a former name
            from_state=change.from_state,
            to_state=change.to_state,
            version=change.new_version,
            quorum=decision.quorum if decision is not None else None,
        )

    def recall(
        self,
        plan_id: int,
        actor: str,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> ActionResult:
        """Pull a submitted plan back to its draft (the definition's ``recall``), while
        nobody but its submitter has decided anything on it since the submission;
        after that, ``GuardFailed`` with ``recall_too_late{acted_by, action, at}``."""
        return self.fire(plan_id, "recall", actor, comment, expected_version)

    def abandon(
        self,
        plan_id: int,
        actor: str,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> ActionResult:
        """End the plan for good (the definition's ``abandon``, formerly ``withdraw``).

        Plans started under a definition version from before the rename know
        only ``withdraw``: fire that, or move them to the new version."""
        return self.fire(plan_id, "abandon", actor, comment, expected_version)

    def available_actions(self, plan_id: int, actor: str, lang: str = "en") -> list[ActionOption]:
        """What ``actor`` may do on the plan now, each with the checks that would refuse it
        (``blocked_by``). A plan ``actor`` may not see is ``NotFound``."""
        return self.actions_and_behalf(plan_id, actor, lang)[0]

    def acting_on_behalf_of(self, plan_id: int, actor: str) -> str | None:
        """Whom ``actor`` would act for on the plan's task now as their deputy (委托,
        ``delegations``): a username, or None when they act for themselves or not at all."""
        return self.actions_and_behalf(plan_id, actor)[1]

    def actions_and_behalf(
        self, plan_id: int, actor: str, lang: str = "en"
    ) -> tuple[list[ActionOption], str | None]:
        """``available_actions`` and ``acting_on_behalf_of`` in one read (a plan page)."""
        actor_id = self.names.user_id(actor)
        with read_tx(self.db) as tx:
            row = ps.load_plan(tx, plan_id)
            if row is None:
                raise NotFound("plan", plan_id)
            spec = self.service.definitions.spec_for(
                self.db, row.workflow_name, row.workflow_version
            )
            org = self.names.at(row.org_generation)
            self._reads.check_visible(org, row, plan_id, actor)
            facts = self.service.facts_for(tx, row, spec)
            delegators = self.service.delegators_for(tx, row, actor_id)
        options, delegator = self.service.actions_for(spec, facts, actor_id, delegators, org, lang)
        return options, None if delegator is None else org.usernames.get(delegator)

    def open_task(
        self, plan_id: int, actor: str, expected_version: int | None = None
    ) -> ActionResult | None:
        """``actor`` opens the plan from their queue: if its state has an ``on_open:``
        transition (``start_review``) that ``actor`` may fire now, it is fired, through
        the one transition path; else nothing happens (None). A plan changed since
        ``expected_version`` is left as it is (None): the reader sees it as it is now."""
        with read_tx(self.db) as tx:
            row = ps.load_plan(tx, plan_id)
            if row is None:
                raise NotFound("plan", plan_id)
            # A plan the actor may not see answers like one that does not exist.
            self._reads.check_visible(self.names.at(row.org_generation), row, plan_id, actor)
            spec = self.service.definitions.spec_for(
                self.db, row.workflow_name, row.workflow_version
            )
        opening = [t.trigger for t in spec.transitions if t.on_open and row.state in t.sources]
        if not opening or (expected_version is not None and row.version != expected_version):
            return None
        ready = {o.trigger for o in self.available_actions(plan_id, actor) if o.ready}
        for trigger in opening:
            if trigger in ready:
                try:
                    return self.fire(plan_id, trigger, actor, expected_version=row.version)
                except StaleVersion:
                    return None  # someone else opened it first: it is started
        return None
