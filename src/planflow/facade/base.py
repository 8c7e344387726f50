"""What every group of ``Planflow``'s operations works with: the parts ``__init__`` wires.

``Planflow`` (``planflow.app``) is one class put together from mixins, one
per group of operations (``facade.acting``, ``facade.gestures``,
``facade.pages``, ``facade.audit``, ``facade.figures``), much as flask's
``Flask`` builds on its sans-IO ``App``: the wiring stays in ``app.py``, the
operations live beside the areas they belong to. The mixins wire nothing;
they use the attributes ``Planflow.__init__`` sets, which are declared here
once so that each mixin is type-checked on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from planflow.clock import Clock
from planflow.core.definitions.registry import DefinitionRegistry
from planflow.core.org import OrgSnapshot
from planflow.facade.delegations import DelegationsAPI
from planflow.facade.inbox import InboxAPI
from planflow.facade.names import Names
from planflow.facade.org import OrgAPI
from planflow.facade.plans import PlanReads
from planflow.services.bulk import Bulk
from planflow.services.content import PlanContentService
from planflow.services.execution import ExecutionService
from planflow.services.gestures import Gestures
from planflow.services.handover import Handover
from planflow.services.inbox import Inbox
from planflow.services.inspections.service import InspectionService
from planflow.services.plan_page import PlanPages
from planflow.services.plans import PlanService
from planflow.services.returns import Returns
from planflow.storage.db import Database


@dataclass(frozen=True)
class Services:
    """The id-based services behind the front door (for the library's own parts and tests)."""

    plans: PlanService
    content: PlanContentService
    execution: ExecutionService
    inspections: InspectionService
    inbox: Inbox
    gestures: Gestures
    returns: Returns
    bulk: Bulk
    handover: Handover
    pages: PlanPages


class FacadeBase:
    """The attributes ``Planflow.__init__`` sets that the operation mixins use."""

    db: Database
    clock: Clock
    registry: DefinitionRegistry
    #: The one path by which a plan changes (id-based; see ``services.plans``).
    service: PlanService
    services: Services
    names: Names
    _reads: PlanReads
    org: OrgAPI
    inbox: InboxAPI
    delegations: DelegationsAPI

    def org_snapshot(self) -> OrgSnapshot:
        """The organisation as it is now (one read of its generation; reloaded if it moved)."""
        return self.names.current()
