"""Lists of plans: the rows the dashboard and the plans page show.

Which plans a list holds is the library's answer (``Planflow.plans``, the
plans the user may see); ``plan_rows`` turns its summaries into the words of
a row, with the state and workflow labels from the plan's own definition
version in the user's language. The review queue builds its lines on the
same labels (``queue_views``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from planflow.app import Planflow
from planflow.views import PlanSummary

from .i18n import current_language, state_label


@dataclass(frozen=True)
class PlanRow:
    id: int
    title: str
    unit_code: str
    unit_name: str
    year: int
    state: str
    state_label: str
    workflow_title: str
    updated_at: datetime
    task_due_at: datetime | None
    task_level: int


class ListLabels:
    """The state and workflow labels of list rows, each worked out once per list.

    The rows of a list share a few definition versions and states; looking
    the spec and the language up again for each row was a visible part of a
    list page's time.
    """

    def __init__(self, pf: Planflow) -> None:
        self.pf = pf
        self.language = current_language()
        self._seen: dict[tuple[str, int, str], tuple[str, str]] = {}

    def __call__(self, workflow: str, version: int, state: str) -> tuple[str, str]:
        """(state label, workflow title) of a plan of ``workflow`` at ``version``."""
        key = (workflow, version, state)
        found = self._seen.get(key)
        if found is None:
            spec = self.pf.definition(workflow, version)
            found = self._seen[key] = (state_label(spec, state), spec.title.get(self.language))
        return found


def plan_rows(pf: Planflow, plans: Iterable[PlanSummary]) -> list[PlanRow]:
    """The summaries of a list as its rows print them."""
    labels = ListLabels(pf)
    rows = []
    for p in plans:
        state, workflow_title = labels(p.workflow, p.workflow_version, p.state)
        rows.append(
            PlanRow(
                id=p.id,
                title=p.title,
                unit_code=p.unit.code,
                unit_name=p.unit.name,
                year=p.year,
                state=p.state,
                state_label=state,
                workflow_title=workflow_title,
                updated_at=p.updated_at,
                task_due_at=p.task.due_at if p.task else None,
                task_level=p.task.level if p.task else 0,
            )
        )
    return rows
