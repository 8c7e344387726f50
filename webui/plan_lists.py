"""Lists of plans: the rows the dashboard and the plans page show.

A list query selects ``LIST_COLUMNS`` (never the content, which can be
large); ``list_fields`` turns those columns into the words of a row, with
the state and workflow labels from the plan's own definition version in the
user's language. The review queue builds its rows on the same columns and
labels (``queue_views``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from planflow.app import Planflow
from planflow.storage.tables import Plan, Unit

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


#: The columns every list of plans shows, first in each list query.
LIST_COLUMNS = (
    col(Plan.id),
    col(Plan.title),
    col(Plan.unit_id),
    col(Plan.year),
    col(Plan.state),
    col(Plan.workflow_name),
    col(Plan.workflow_version),
)


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
            spec = self.pf.service.definitions.spec_for(self.pf.db, workflow, version)
            found = self._seen[key] = (state_label(spec, state), spec.title.get(self.language))
        return found


def list_fields(labels: ListLabels, p: Any, units: dict[int, tuple[str, str]]) -> dict[str, Any]:
    """The fields of a list row that come from ``LIST_COLUMNS``."""
    state, workflow_title = labels(p.workflow_name, p.workflow_version, p.state)
    code, name = units.get(p.unit_id, ("?", "?"))
    return {
        "id": p.id,
        "title": p.title,
        "unit_code": code,
        "unit_name": name,
        "year": p.year,
        "state": p.state,
        "state_label": state,
        "workflow_title": workflow_title,
    }


def plan_rows(
    pf: Planflow,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    *,
    offset: int = 0,
    limit: int = 50,
) -> list[PlanRow]:
    """Plans for a list, without their content (which can be large)."""
    query = (
        sa_select(
            *LIST_COLUMNS,
            col(Plan.updated_at),
            col(Plan.task_due_at),
            col(Plan.task_level),
        )
        .where(*where)
        .order_by(*order_by)
        .offset(offset)
        .limit(limit)
    )
    with pf.db.read_session() as s:
        found = list(s.connection().execute(query))
        units = unit_names(s, {p.unit_id for p in found})
    labels = ListLabels(pf)
    rows = []
    for p in found:
        rows.append(
            PlanRow(
                **list_fields(labels, p, units),
                updated_at=p.updated_at,
                task_due_at=p.task_due_at,
                task_level=p.task_level,
            )
        )
    return rows


def unit_names(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {
        u.id or 0: (u.code, u.name)
        for u in session.exec(select(Unit).where(col(Unit.id).in_(wanted)))
    }
