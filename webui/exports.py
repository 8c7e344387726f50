"""The plan list's and the audit trail's downloads: rows, with headers in the reader's language.

Each function reads through the library with the same access as its page
(the plan list: the plans the user sees, filtered as on the page; the audit
trail: admins of the whole organisation, checked by the caller) and returns
a ``Table`` that ``spreadsheets.workbook`` writes.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask_babel import gettext  # type: ignore[import-untyped]

from planflow.app import Planflow
from planflow.core.compact_json import compact_json_object

from .access import current_org
from .plan_lists import plan_rows
from .spreadsheets import Table, Value

#: The plan list's download reads the list this many at a time, up to ``MAX_PLANS``.
BATCH = 1000
MAX_PLANS = 100_000


def plan_list(pf: Planflow, username: str, state: str | None, year: int | None) -> Table:
    """Every plan ``username`` sees (in ``state``, of ``year``), as the list orders them."""
    headers = [
        gettext("Plan"),
        gettext("Title"),
        gettext("Unit code"),
        gettext("Unit"),
        gettext("Year"),
        gettext("Kind of plan"),
        gettext("State"),
        gettext("Due"),
        gettext("Escalation level"),
        gettext("Last change"),
    ]
    org = current_org(pf)
    rows: list[list[Value]] = []
    page = 1
    while len(rows) < MAX_PLANS:
        found = pf.plans(
            as_user=username, state=state, year=year, page=page, page_size=BATCH, org=org
        )
        rows += [
            [
                r.id,
                r.title,
                r.unit_code,
                r.unit_name,
                r.year,
                r.workflow_title,
                r.state_label,
                r.task_due_at,
                r.task_level,
                r.updated_at,
            ]
            for r in plan_rows(pf, found.items)
        ]
        if not found.more:
            break
        page += 1
    suffix = "".join(f"-{part}" for part in (state, year) if part)
    return Table(headers, rows, f"planflow-plans{suffix}")


def _audit_headers() -> list[str]:
    """The audit trail's columns, in the order of the library's export (``EXPORT_FIELDS``)."""
    return [
        gettext("Plan"),
        gettext("No."),
        gettext("Who"),
        gettext("On behalf of"),
        gettext("When"),
        gettext("Action"),
        gettext("From"),
        gettext("To"),
        gettext("Comment"),
        gettext("Revision"),
        gettext("Detail"),
        gettext("Previous hash"),
        gettext("Hash"),
    ]


def audit_trail(pf: Planflow) -> Table:
    """Every audit record, oldest first; people by username, the time as a real date-time."""

    def rows() -> Iterator[list[Value]]:
        for e in pf.audit_records():
            yield [
                e.plan_id,
                e.seq,
                e.actor,
                e.on_behalf_of,
                e.at,
                e.action,
                e.from_state,
                e.to_state,
                e.comment,
                e.revision,
                compact_json_object(e.detail),
                e.prev_hash,
                e.hash,
            ]

    stamp = pf.clock.now().strftime("%Y%m%d-%H%M")
    return Table(_audit_headers(), list(rows()), f"planflow-audit-{stamp}")
