"""Gestures around a waiting task, and handing it on: urge, return, bulk, transfer, CC.

The gestures (``services.gestures``, ``services.returns``, ``services.bulk``)
and the handover (转交, 加签, 抄送: ``services.handover``) each go through the
one transition path; this is where the people named by username become ids.
A person named in a handover who does not exist is a refusal of the gesture
(``unknown_user``), not a missing page.
"""

from __future__ import annotations

from collections.abc import Sequence

from planflow.errors import GuardFailed, NotFound, Refusal, ValidationError
from planflow.facade.base import FacadeBase
from planflow.services.changes import Change
from planflow.views import (
    ActionResult,
    BulkOutcome,
    CcReceipt,
    HandoverOptions,
    HandoverResult,
    ReturnOption,
    UrgeOption,
    UrgeResult,
)


class GesturesMixin(FacadeBase):
    def urge(self, plan_id: int, actor: str, comment: str | None = None) -> UrgeResult:
        """Remind the holders of the plan's open task now, as its submitter or one of
        its unit's drafters; at most once per task per the definition's ``urge:
        {every_hours}`` (``GuardFailed`` with ``urge_too_soon{next_at}`` before)."""
        change = self.services.gestures.urge(plan_id, self.names.user_id(actor), comment)
        org = change.org
        return UrgeResult(
            plan_id=plan_id,
            version=change.new_version,
            at=change.at,
            notified=tuple(org.usernames.get(u, "?") for u in change.notified),
        )

    def return_to(
        self,
        plan_id: int,
        state: str,
        actor: str,
        comment: str | None,
        expected_version: int | None = None,
    ) -> ActionResult:
        """Send the plan back to an earlier ``state`` its current state allows
        (``allows: return_to``), as a holder of its task, with a reason. Refused with
        ``GuardFailed`` (``return_target_not_allowed{state, target, allowed}``,
        ``comment_required``, ``not_self``), ``ActionNotAllowed`` where the state
        allows no return, ``PermissionDenied`` for someone not holding the task."""
        change = self.services.returns.return_to(
            plan_id, state, self.names.user_id(actor), comment, expected_version
        )
        return ActionResult(
            plan_id=plan_id,
            action=change.action,
            from_state=change.from_state,
            to_state=change.to_state,
            version=change.new_version,
        )

    def bulk(
        self,
        items: Sequence[tuple[int, int]],
        action: str,
        actor: str,
        comment: str | None,
        *,
        return_to: str | None = None,
    ) -> list[BulkOutcome]:
        """``approve`` or ``return`` each ``(plan_id, expected_version)`` of a selection
        with one comment; each plan is its own transition, with its own permission,
        guard and version check, done whole or not at all. One outcome per plan, in
        order: done (new state) or refused (code, params). ``return_to`` sends each
        back to that earlier state instead of the definition's ``return_for_revision``.
        A selection that cannot be meant (empty, over 100, a plan twice) is
        ``ValidationError`` and nothing is done."""
        return self.services.bulk.run(
            items, action, self.names.user_id(actor), comment, return_to=return_to
        )

    def return_options(self, plan_id: int, actor: str, lang: str = "en") -> list[ReturnOption]:
        """The earlier states ``actor`` may send the plan back to now (empty: none)."""
        states = self.services.returns.options(plan_id, self.names.user_id(actor))
        return [ReturnOption(s.name, s.label.get(lang)) for s in states]

    def urge_option(self, plan_id: int, actor: str) -> UrgeOption | None:
        """Whether ``actor`` may urge the plan: None when never (not theirs, no task
        held by someone else), else ready now or refused until a time."""
        return self.services.gestures.urge_option(plan_id, self.names.user_id(actor))

    def transfer(
        self,
        plan_id: int,
        actor: str,
        to: str,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> HandoverResult:
        """Hand the task ``actor`` holds to ``to`` (转交), as the waiting state's
        ``allows: {transfer: {to: role|unit}}`` says; the old holder no longer has it."""
        target = self._person(plan_id, "transfer", to)
        change = self.services.handover.transfer(
            plan_id, self.names.user_id(actor), target, comment, expected_version
        )
        return _handover_result(change)

    def add_approver(
        self,
        plan_id: int,
        actor: str,
        user: str,
        mode: str,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> HandoverResult:
        """Add ``user`` as an approver of the task ``actor`` holds (加签): ``before``
        (they decide first, then it comes back), ``after`` (they decide after the
        actor's approval) or ``alongside`` (both must approve)."""
        target = self._person(plan_id, "add_approver", user)
        change = self.services.handover.add_approver(
            plan_id, self.names.user_id(actor), target, mode, comment, expected_version
        )
        return _handover_result(change)

    def cc(
        self, plan_id: int, actor: str, people: Sequence[str], comment: str | None = None
    ) -> HandoverResult:
        """Copy ``people`` on the plan (抄送): they are told, and may read it until it ends."""
        targets = [self._person(plan_id, "cc", name) for name in people]
        change = self.services.handover.cc(plan_id, self.names.user_id(actor), targets, comment)
        return _handover_result(change)

    def handover_options(self, plan_id: int, actor: str) -> HandoverOptions | None:
        """What ``actor`` may do with the plan's task: None when it is not theirs."""
        return self.services.handover.options(plan_id, self.names.user_id(actor))

    def record_cc_read(self, plan_id: int, user: str) -> bool:
        """Record that ``user``, copied on the plan, read it (the first time counts)."""
        return self.services.handover.record_read(plan_id, self.names.user_id(user))

    def cc_receipts(self, plan_id: int, *, as_user: str | None = None) -> list[CcReceipt]:
        """Who was copied on the plan, and whether they have read it."""
        actor = self.names.user_id(as_user) if as_user is not None else None
        return self.services.handover.receipts(plan_id, actor)

    def _person(self, plan_id: int, action: str, username: str) -> int:
        # An unknown name is a refusal of the gesture, not a missing page.
        try:
            return self.names.user_id(username)
        except (NotFound, ValidationError):
            raise GuardFailed(
                action,
                [Refusal("unknown_user", {"user": str(username)[:100]}, "there is no user {user}")],
            ) from None


def _handover_result(change: Change) -> HandoverResult:
    org = change.org
    return HandoverResult(
        plan_id=change.plan_id,
        action=change.action,
        version=change.new_version,
        at=change.at,
        notified=tuple(org.usernames.get(u, "?") for u in change.notified),
    )
