"""The database tables, as SQLModel table models: one module per area.

This package is the only description of the schema; Alembic migrations are
generated from it and checked against it by the tests. The facade returns
views (``planflow.views``), never these rows. JSON payloads are stored as
canonical JSON text so that SQLite and PostgreSQL hold byte-identical values
(the audit hash depends on it).

All datetimes are timezone-aware UTC (SQLModel's ``UTCDateTime``).

Importing the package registers every table in ``SQLModel.metadata`` (the
migrations' environment, the backup's counts and the tests rely on that);
each table is importable from here: ``from planflow.storage.tables import Plan``.
"""

from __future__ import annotations

from planflow.storage.tables.accounts import (
    ApiRateWindow,
    ApiToken,
    FeedToken,
    LoginAttempt,
    TrustedDevice,
)
from planflow.storage.tables.audit import (
    AuditAnchor,
    AuditCheckpoint,
    AuditRecord,
    AuditSignedCheckpoint,
    AuditSignedHead,
)
from planflow.storage.tables.delegation import Delegation
from planflow.storage.tables.execution import Evidence, Inspection, ItemProgress
from planflow.storage.tables.handover import PlanCc, TaskPart
from planflow.storage.tables.notifications import OUTBOX_WAITING, Notification, OutboxWatermark
from planflow.storage.tables.org import OrgGeneration, RoleAssignment, Unit, User
from planflow.storage.tables.org_audit import OrgAuditHead, OrgAuditRecord
from planflow.storage.tables.plans import (
    ApprovalVote,
    Comment,
    Plan,
    PlanRevision,
    WorkflowDefinition,
)
from planflow.storage.tables.system import AppliedEffect, ScheduleFiring, Setting
from planflow.storage.tables.webhooks import WEBHOOK_WAITING, Webhook, WebhookDelivery

__all__ = [
    "OUTBOX_WAITING",
    "WEBHOOK_WAITING",
    "ApiRateWindow",
    "ApiToken",
    "AppliedEffect",
    "ApprovalVote",
    "AuditAnchor",
    "AuditCheckpoint",
    "AuditRecord",
    "AuditSignedCheckpoint",
    "AuditSignedHead",
    "Comment",
    "Delegation",
    "Evidence",
    "FeedToken",
    "Inspection",
    "ItemProgress",
    "LoginAttempt",
    "Notification",
    "OrgAuditHead",
    "OrgAuditRecord",
    "OrgGeneration",
    "OutboxWatermark",
    "Plan",
    "PlanCc",
    "PlanRevision",
    "RoleAssignment",
    "ScheduleFiring",
    "Setting",
    "TaskPart",
    "TrustedDevice",
    "Unit",
    "User",
    "Webhook",
    "WebhookDelivery",
    "WorkflowDefinition",
]
