"""Changes to a plan other than a workflow transition, on the same audited path.

Creating a plan (the first record of its chain), ``mutate`` (content edits,
comments, progress reports, inspection scores: the plan stays in its state),
``redirect`` (a reviewer's return to a chosen earlier step, where the
definition allows it), and the timers' and the organisation's changes made
inside a caller's transaction (``apply_system_change``, ``change_in``). Each
goes through ``PlanSteps``: the same lock, version check, audit record and
writers as a transition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planflow.core.audit_chain import GENESIS
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.intents import (
    NOTE,
    Addendum,
    DefinitionMigration,
    Move,
    Notice,
    PlanUpdate,
    TimerStep,
)
from planflow.core.org import OrgSnapshot
from planflow.core.text import MAX_PLAN_TITLE, clean_text
from planflow.errors import NotFound, PermissionDenied, ValidationError
from planflow.services.changes import Change, Step, StepContext
from planflow.services.plan_steps import MOVE, PlanSteps, clean_comment, retrying
from planflow.storage import plan_store as ps
from planflow.storage.tx import Tx, write_tx


@dataclass(frozen=True)
class SystemEffect:
    """A change the system makes to a loaded plan: a reminder or an escalation."""

    row: ps.PlanRow
    action: str
    update: TimerStep
    detail: dict[str, Any]
    key: str
    notice: Notice | None
    #: Notices of another kind to other people (an escalation's "away from you").
    also_notices: tuple[Notice, ...] = ()


class PlanChanges(PlanSteps):
    """Creating a plan, and changing it without a transition (see the module)."""

    def create_plan(
        self,
        *,
        unit_id: int,
        year: int,
        title: str,
        actor_id: int,
        workflow: str = "annual_plan",
        content_json: str = '{"sections":[]}',
        item_count: int = 0,
        items_without_due: int = 0,
    ) -> int:
        title = clean_text(title, field="title", max_length=MAX_PLAN_TITLE)
        if not title:
            raise ValidationError(
                "a plan needs a title of 1-300 characters",
                code="title_required",
                params={"max": MAX_PLAN_TITLE},
            )
        if not 2000 <= year <= 2100:
            raise ValidationError(
                f"year {year} is outside 2000-2100",
                code="year_out_of_range",
                params={"year": year, "min": 2000, "max": 2100},
            )
        spec = self.registry.get(workflow)
        self.definitions.ensure_stored(self.db, spec, self.clock.now())
        return retrying(
            lambda: self._create_once(
                unit_id, year, title, actor_id, spec, content_json, item_count, items_without_due
            ),
            pinned=True,
        )

    def _create_once(
        self,
        unit_id: int,
        year: int,
        title: str,
        actor_id: int,
        spec: WorkflowSpec,
        content_json: str,
        item_count: int,
        items_without_due: int,
    ) -> int:
        now = self.clock.now()
        with write_tx(self.db) as tx:
            org = self.org_cache.get(self.db, ps.org_generation(tx))
            if unit_id not in org.units:
                raise NotFound("unit", unit_id)
            creator_unit = org.resolve(spec.creator, unit_id)
            if creator_unit is None or actor_id not in org.holders(spec.creator.role, creator_unit):
                raise PermissionDenied("create", spec.creator.role, spec.creator.at.describe())
            plan_id = tx.insert(
                ps.INSERT_PLAN,
                {
                    "unit_id": unit_id,
                    "year": year,
                    "title": title,
                    "workflow_name": spec.name,
                    "workflow_version": spec.version,
                    "state": spec.initial,
                    "created_by": actor_id,
                    "at": now,
                    "content": content_json,
                    "item_count": item_count,
                    "items_without_due": items_without_due,
                },
            )
            row = ps.PlanRow(
                id=plan_id,
                unit_id=unit_id,
                year=year,
                title=title,
                workflow_name=spec.name,
                workflow_version=spec.version,
                state=spec.initial,
                version=0,
                submitted_by=None,
                item_count=item_count,
                items_without_due=items_without_due,
                revision=0,
                audit_seq=0,
                audit_hash=GENESIS,
                task_role=None,
                task_unit_id=None,
                task_level=0,
                task_escalated_unit_id=None,
                has_timer=False,
                org_generation=org.generation,
            )
            change = self._change(row, spec, org, "create", actor_id, None, None, None)
            change.from_state = None
            change.detail = {"title": title, "year": year, "workflow": spec.key}
            # The row is inserted at version 0 without an audit head; sealing the
            # first audit record moves it to version 1 through the same checked
            # update as every later change.
            self._commit(tx, row, change, MOVE)
        self._emit(change)
        return plan_id

    def mutate(
        self,
        plan_id: int,
        action: str,
        actor_id: int | None,
        update: PlanUpdate = NOTE,
        *,
        check: Step | None = None,
        expected_version: int | None = None,
        comment: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Change:
        """Change a plan without a workflow transition, on the same audited path.

        ``update`` says what the change does to the plan besides recording it
        (``planflow.core.intents``). ``check`` runs inside the transaction after
        the version check; it may refuse (raise a PlanflowError: nothing is
        written), write rows of its own and add to the audit record.
        ``actor_id`` None: the system (e.g. a re-routing run by maintenance).
        """
        if isinstance(update, Move | TimerStep):
            raise TypeError(f"{type(update).__name__} is not a mutation (use fire or the timers)")
        comment = clean_comment(comment) if comment else comment
        # A change that does not pin a version (a comment, say) commutes with the
        # others: if one slipped in first, it is decided again on the fresh plan.
        return retrying(
            lambda: self._mutate_once(
                plan_id, action, actor_id, update, check, expected_version, comment, detail
            ),
            pinned=expected_version is not None,
        )

    def _mutate_once(
        self,
        plan_id: int,
        action: str,
        actor_id: int | None,
        update: PlanUpdate,
        check: Step | None,
        expected_version: int | None,
        comment: str | None,
        detail: dict[str, Any] | None,
    ) -> Change:
        with write_tx(self.db) as tx:
            row, spec, org = self._load(tx, plan_id, expected_version, actor_id)
            change = self._change(row, spec, org, action, actor_id, None, comment, None)
            change.detail.update(detail or {})
            if check is not None:
                with self.hiding_from_strangers(row, org, actor_id):
                    change.add(check(tx, row, StepContext(spec, org, change.at)))
            if isinstance(update, DefinitionMigration):
                change.spec = update.target
                change.to_state = update.to_state
            self._commit(tx, row, change, update)
        self._emit(change)
        return change

    def redirect(
        self,
        plan_id: int,
        action: str,
        actor_id: int,
        to_state: str,
        *,
        check: Step,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> Change:
        """Move the plan to ``to_state`` outside the definition's transitions, where
        the definition allows it (a reviewer's return to a chosen earlier step).

        ``check`` decides (permission, what the definition allows) inside the
        transaction and may refuse; the plan then gets the new state's task and
        timer, the audit record and the check's notice, as with a transition.
        """
        comment = clean_comment(comment) if comment else comment
        return retrying(
            lambda: self._redirect_once(
                plan_id, action, actor_id, to_state, check, comment, expected_version
            ),
            pinned=expected_version is not None,
        )

    def _redirect_once(
        self,
        plan_id: int,
        action: str,
        actor_id: int,
        to_state: str,
        check: Step,
        comment: str | None,
        expected_version: int | None,
    ) -> Change:
        with write_tx(self.db) as tx:
            row, spec, org = self._load(tx, plan_id, expected_version, actor_id)
            change = self._change(row, spec, org, action, actor_id, None, comment, None)
            with self.hiding_from_strangers(row, org, actor_id):
                change.add(check(tx, row, StepContext(spec, org, change.at)))
            change.to_state = to_state
            self._commit(tx, row, change, MOVE)
        self._emit(change)
        return change

    def apply_system_change(self, tx: Tx, effect: SystemEffect) -> Change:
        """A timer's change to a plan the scheduler has already loaded (in a batch).

        The same path as ``mutate`` without the per-plan SELECT, inside the
        caller's transaction (the deadline processor commits a group of
        effects at once; emit the changes with ``emit`` after the commit).
        ``effect.update`` checks the version the row was loaded at and the
        scheduler's claim: a plan changed since is refused with
        ``StaleVersion`` before anything is written for it. The effect key
        makes a second application of the same effect a no-op.
        """
        row = effect.row
        spec = self.definitions.spec_for(self.db, row.workflow_name, row.workflow_version)
        org = self.org_cache.get(self.db, row.org_generation)
        change = self._change(row, spec, org, effect.action, None, None, None, None)
        change.detail.update(effect.detail)
        change.effect_key = effect.key
        change.notice = effect.notice
        change.also_notices = effect.also_notices
        self._commit(tx, row, change, effect.update)
        return change

    def change_in(
        self,
        tx: Tx,
        row: ps.PlanRow,
        org: OrgSnapshot,
        action: str,
        actor_id: int | None,
        update: PlanUpdate,
        addendum: Addendum | None = None,
    ) -> Change:
        """``mutate`` inside the caller's transaction, on a row it has loaded for a
        change (``ps.load_plan(..., for_change=True)``) and decided on with ``org``.

        For a change that is part of a larger one: the organisation changed in
        the same transaction, so ``org`` is what the caller read there, not the
        cache's (which must not hold a tree that may yet roll back). The plan
        UPDATE checks the version the row was loaded at. Emit the change with
        ``emit`` after the commit.
        """
        if isinstance(update, Move | TimerStep | DefinitionMigration):
            raise TypeError(f"{type(update).__name__} is not a change_in update")
        spec = self.definitions.spec_for(self.db, row.workflow_name, row.workflow_version)
        change = self._change(row, spec, org, action, actor_id, None, None, None)
        change.add(addendum)
        self._commit(tx, row, change, update)
        return change
