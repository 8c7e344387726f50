"""What is written on a plan once it exists: comments, revisions, progress, inspections.

Comments on its items and decisions, the revisions submitted, the progress
reports and evidence of its execution, and its inspection rounds with their
scores and results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from planflow.core.content.model import PlanContent
from planflow.core.inspection.scoring import CriterionScore, InspectionOutcome


@dataclass(frozen=True, slots=True)
class CommentView:
    id: int
    author: str
    body: str
    #: The item the comment is about (None: the whole plan).
    item_key: str | None
    #: The revision the plan had when the comment was written.
    revision: int
    created_at: datetime
    #: ``comment`` (written as a comment) or ``decision`` (given with a workflow action,
    #: e.g. a return's reason; ``id`` is then the audit record's ``seq``).
    kind: str = "comment"
    #: For a decision: the action taken and the state it left the plan in.
    action: str | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class RevisionView:
    """The content as it was submitted, frozen."""

    number: int
    content: PlanContent
    content_hash: str
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ProgressReport:
    """The unit's latest report on one plan item."""

    item_key: str
    status: str
    report: str
    measured: float | None
    updated_by: str
    updated_at: datetime
    #: The values for the item's second and later targets (None: not given).
    measured_more: tuple[float | None, ...] = ()

    @property
    def measured_values(self) -> tuple[float | None, ...]:
        """A value for each of the item's targets, in order, as far as given."""
        return (self.measured, *self.measured_more)


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """A file kept as evidence for a plan item; ``pf.execution.open_evidence`` finds its bytes."""

    id: int
    plan_id: int
    item_key: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class InspectionRoundView:
    """One inspection round's sheet: both columns, and the outcome once finished.

    ``scores[i].measured`` is the inspector's measured value; ``self_measured``
    holds the values the unit gave in its self-assessment.
    """

    plan_id: int
    round: int
    scores: tuple[CriterionScore, ...]
    self_measured: Mapping[str, float]
    outcome: InspectionOutcome | None
    grade: str | None
    inspector: str | None
    rectification_due: date | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InspectionResult:
    """What finishing an inspection decided (``pf.inspections.finish``)."""

    plan_id: int
    #: ``accept`` or ``require_rectification``, as the scores decided.
    action: str
    to_state: str
    version: int
    grade: str | None
    #: The inspector's total.
    total: float | None
    rectification_due: date | None
