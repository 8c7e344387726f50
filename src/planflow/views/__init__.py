"""What the library's front door returns: frozen views, never database rows.

Each view names people by username and units by code (with the unit's
name beside it), the names callers use to ask; the ids the services work
with stay behind the front door (``planflow.app.Planflow``). A view is a
snapshot of the moment it was read: it does not change when the plan does,
and it holds no database session.

``ActionOption`` (what a user may do on a plan now, and which checks would
refuse the rest) is the engine's own frozen type, re-exported here.

The views live in one module per area (``plans``: a plan and its lists;
``actions``: results of acting and the plan page; ``audit``; ``content``:
comments, revisions, progress, inspections; ``org``: units, people,
deputies; ``integrations``: API tokens and webhooks). Import them from
here: ``from planflow.views import PlanView``.
"""

from __future__ import annotations

from planflow.core.engine import ActionOption
from planflow.views.actions import (
    ActionResult,
    BulkOutcome,
    CcReceipt,
    HandoverOptions,
    HandoverResult,
    PlanPage,
    ReturnOption,
    UrgeOption,
    UrgeResult,
)
from planflow.views.audit import AuditEntry, AuditReport, OrgAuditView
from planflow.views.content import (
    CommentView,
    EvidenceFile,
    InspectionResult,
    InspectionRoundView,
    ProgressReport,
    RevisionView,
)
from planflow.views.integrations import (
    ApiTokenView,
    DeliveryAttempt,
    NewApiToken,
    NewWebhook,
    WebhookDeliveryView,
    WebhookView,
)
from planflow.views.org import (
    DelegatedTask,
    DelegationView,
    RoleView,
    UnitMoved,
    UnitView,
    UserView,
)
from planflow.views.plans import (
    NotificationEntry,
    OpenTask,
    Page,
    PlanSummary,
    PlanView,
    QueueEntry,
    ReviewQueue,
    TaskEntry,
    UnitRef,
)

__all__ = [
    "ActionOption",
    "ActionResult",
    "ApiTokenView",
    "AuditEntry",
    "AuditReport",
    "BulkOutcome",
    "CcReceipt",
    "CommentView",
    "DelegatedTask",
    "DelegationView",
    "DeliveryAttempt",
    "EvidenceFile",
    "HandoverOptions",
    "HandoverResult",
    "InspectionResult",
    "InspectionRoundView",
    "NewApiToken",
    "NewWebhook",
    "NotificationEntry",
    "OpenTask",
    "OrgAuditView",
    "Page",
    "PlanPage",
    "PlanSummary",
    "PlanView",
    "ProgressReport",
    "QueueEntry",
    "ReturnOption",
    "ReviewQueue",
    "RevisionView",
    "RoleView",
    "TaskEntry",
    "UnitMoved",
    "UnitRef",
    "UnitView",
    "UrgeOption",
    "UrgeResult",
    "UserView",
    "WebhookDeliveryView",
    "WebhookView",
]
