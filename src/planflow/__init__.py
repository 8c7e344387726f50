"""planflow: a workflow and approval engine for hierarchical organisations.

The public names, all importable from ``planflow``::

    from planflow import Planflow, PlanContent, NotFound

``Planflow``
    The front door, one per process and database (``planflow.app``). People
    are named by username (``actor="union1.reviewer"``; ``None`` is the
    system, where the system may act), units by code, plans by id.
    ``create_plan``, ``fire``, ``available_actions``, ``recall``, ``abandon``,
    ``urge``, ``urge_option``, ``plan``, ``plan_page`` (all a plan's page shows
    one person, in one read), ``plans``,
    ``tasks``, ``review_queue``, ``audit_trail``, ``audit_records`` (every
    record, streamed, as ``AuditEntry``), ``export_audit``, ``verify_audit``, and the
    areas ``org`` (units, users, roles), ``content`` (content, revisions,
    comments), ``execution`` (progress, evidence), ``inspections`` and
    ``inbox`` (tasks, notifications), ``admin`` (an administrator's changes
    within their units, by name), ``tokens`` (personal access tokens of
    the HTTP API), ``webhooks`` (outgoing webhooks and their delivery log).

Views (``planflow.views``): what the front door returns, frozen, never rows
    ``ActionResult``, ``PlanView``, ``PlanPage`` (``plan_page``), ``PlanSummary``,
    ``OpenTask``, ``UnitRef``, ``Page``,
    ``ReviewQueue``, ``QueueEntry``, ``TaskEntry``, ``NotificationEntry``,
    ``AuditEntry``, ``AuditReport``, ``CommentView``, ``RevisionView``,
    ``ProgressReport``, ``EvidenceFile``, ``InspectionRoundView``, ``InspectionResult``,
    ``UnitView``, ``UnitMoved``, ``UserView``, ``RoleView``, ``ApiTokenView``,
    ``NewApiToken``, ``WebhookView``, ``NewWebhook``, ``WebhookDeliveryView``,
    ``DeliveryAttempt``, ``UrgeResult``, ``UrgeOption``, ``ReturnOption`` (an earlier
    state a reviewer may send a plan back to), ``BulkOutcome`` (one plan of a bulk
    approve or return), ``HandoverResult``, ``HandoverOptions``, ``CcReceipt``,
    ``DelegationView`` and ``DelegatedTask`` (``delegations``: deputies, 委托),
    ``Person`` and ``PeoplePage`` (``admin``'s reads), and ``ActionOption`` (what a
    user may do on a plan now; ``blocked_by`` says what would refuse it).

Content: ``PlanContent`` (sections of numbered items), ``Section``, ``Item``,
    ``ItemTarget``, ``CriterionScore`` (one row of an inspection's scoring sheet).

Errors (``planflow.errors``): every error planflow raises on purpose is a
    ``PlanflowError``: ``NotFound``, ``ActionNotAllowed``,
    ``PermissionDenied``, ``GuardFailed``, ``StaleVersion``,
    ``ValidationError``, ``DefinitionError`` (with ``DefinitionProblem``),
    ``DatabaseNotInitialised`` (a database ``init`` was never run on);
    the admin rule's ``AdminForbidden``, ``AdminRefused`` and ``OrgConflict``.

Everything else is reachable but not promised to stay as it is.

The purity rule: every module under ``planflow.core`` (definitions, the
engine and its guards, the organisation tree, content, inspection scoring,
the audit chain) is plain Python; what it may import is stated once, in
``planflow/core/__init__.py``. Storage (``planflow.storage``), the command
line, mail and the clock are adapters around it; ``planflow.services.plans``
is the one path by which a plan changes.
"""

from .app import Planflow as Planflow
from .core.content.items import Item as Item
from .core.content.items import ItemTarget as ItemTarget
from .core.content.items import Section as Section
from .core.content.model import PlanContent as PlanContent
from .core.inspection.scoring import CriterionScore as CriterionScore
from .errors import ActionNotAllowed as ActionNotAllowed
from .errors import DatabaseNotInitialised as DatabaseNotInitialised
from .errors import DefinitionError as DefinitionError
from .errors import DefinitionProblem as DefinitionProblem
from .errors import GuardFailed as GuardFailed
from .errors import NotFound as NotFound
from .errors import PermissionDenied as PermissionDenied
from .errors import PlanflowError as PlanflowError
from .errors import StaleVersion as StaleVersion
from .errors import ValidationError as ValidationError
from .services.admin_directory import AdminForbidden as AdminForbidden
from .services.admin_directory import AdminRefused as AdminRefused
from .services.admin_directory import OrgConflict as OrgConflict
from .services.admin_directory import PeoplePage as PeoplePage
from .services.admin_directory import Person as Person
from .views import ActionOption as ActionOption
from .views import ActionResult as ActionResult
from .views import ApiTokenView as ApiTokenView
from .views import AuditEntry as AuditEntry
from .views import AuditReport as AuditReport
from .views import BulkOutcome as BulkOutcome
from .views import CcReceipt as CcReceipt
from .views import CommentView as CommentView
from .views import DelegatedTask as DelegatedTask
from .views import DelegationView as DelegationView
from .views import DeliveryAttempt as DeliveryAttempt
from .views import EvidenceFile as EvidenceFile
from .views import HandoverOptions as HandoverOptions
from .views import HandoverResult as HandoverResult
from .views import InspectionResult as InspectionResult
from .views import InspectionRoundView as InspectionRoundView
from .views import NewApiToken as NewApiToken
from .views import NewWebhook as NewWebhook
from .views import NotificationEntry as NotificationEntry
from .views import OpenTask as OpenTask
from .views import Page as Page
from .views import PlanPage as PlanPage
from .views import PlanSummary as PlanSummary
from .views import PlanView as PlanView
from .views import ProgressReport as ProgressReport
from .views import QueueEntry as QueueEntry
from .views import ReturnOption as ReturnOption
from .views import ReviewQueue as ReviewQueue
from .views import RevisionView as RevisionView
from .views import RoleView as RoleView
from .views import TaskEntry as TaskEntry
from .views import UnitMoved as UnitMoved
from .views import UnitRef as UnitRef
from .views import UnitView as UnitView
from .views import UrgeOption as UrgeOption
from .views import UrgeResult as UrgeResult
from .views import UserView as UserView
from .views import WebhookDeliveryView as WebhookDeliveryView
from .views import WebhookView as WebhookView

__version__ = "0.1.0"

__all__ = [
    "ActionNotAllowed",
    "ActionOption",
    "ActionResult",
    "AdminForbidden",
    "AdminRefused",
    "ApiTokenView",
    "AuditEntry",
    "AuditReport",
    "BulkOutcome",
    "CcReceipt",
    "CommentView",
    "CriterionScore",
    "DatabaseNotInitialised",
    "DefinitionError",
    "DefinitionProblem",
    "DelegatedTask",
    "DelegationView",
    "DeliveryAttempt",
    "EvidenceFile",
    "GuardFailed",
    "HandoverOptions",
    "HandoverResult",
    "InspectionResult",
    "InspectionRoundView",
    "Item",
    "ItemTarget",
    "NewApiToken",
    "NewWebhook",
    "NotFound",
    "NotificationEntry",
    "OpenTask",
    "OrgConflict",
    "Page",
    "PeoplePage",
    "PermissionDenied",
    "Person",
    "PlanContent",
    "PlanPage",
    "PlanSummary",
    "PlanView",
    "Planflow",
    "PlanflowError",
    "ProgressReport",
    "QueueEntry",
    "ReturnOption",
    "ReviewQueue",
    "RevisionView",
    "RoleView",
    "Section",
    "StaleVersion",
    "TaskEntry",
    "UnitMoved",
    "UnitRef",
    "UnitView",
    "UrgeOption",
    "UrgeResult",
    "UserView",
    "ValidationError",
    "WebhookDeliveryView",
    "WebhookView",
    "__version__",
]
