"""Which B-trees a transition writes on SQLite: the pages behind W1's commit cost.

Every page a commit dirties is appended whole to the WAL, and on the
reference machine each costs 7-9 us of the commit, so a change that makes
a transition touch one more index shows here first (benchmarks are too
noisy to see it). Counted from the WAL file itself, with checkpoints off;
``dbstat`` names the B-tree of each page. Deterministic: no timing.
"""

from __future__ import annotations

import collections
import sqlite3
import struct
from pathlib import Path

import pytest

from bench import w1
from planflow.app import Planflow
from planflow.storage.db import SQLITE_PAGE_SIZE

# What each W1 action may write, besides page 1 (the file's size, when it grows).
ALLOWED = {
    "create": {"plan", "audit_record", "ix_plan_unit_year"},
    "submit": {
        "plan", "audit_record", "ix_plan_task", "ix_plan_timer", "plan_revision",
        "notification", "ix_notification_user",
        "ux_notification_event",
    },
    "start_review": {"plan", "audit_record"},
    # annual_plan copies the officer above on an approval (``cc:`` on approve).
    "approve": {
        "plan", "audit_record", "ix_plan_task", "notification", "ix_notification_user",
        "ux_notification_event",
        "plan_cc", "ix_plan_cc_user", "sqlite_autoindex_plan_cc_1",
    },
    "schedule_inspection": {
        "plan", "audit_record", "ix_plan_task", "notification", "ix_notification_user",
        "ux_notification_event",
    },
    "inspect": {"plan", "audit_record"},
    "accept": {
        "plan", "audit_record", "ix_plan_task", "notification", "ix_notification_user",
        "ux_notification_event",
    },
    "return_for_revision": {
        "plan", "audit_record", "ix_plan_task", "notification", "ix_notification_user",
        "ux_notification_event",
    },
    "resubmit": {
        "plan", "audit_record", "ix_plan_task", "plan_revision", "notification",
        "ix_notification_user", "ux_notification_event",
    },
}  # fmt: skip
#: Measured: 4.41 here, 4.80 since an approval copies the officer above (the
#: CC row and its two indexes, on one step of the seven); B-tree splits add a
#: little, one more index on the path would add 0.5 or more. Only the first
#: timer of a plan moves the timer index (the later ones are later than its
#: hint: ``tables.Plan.timer_hint``). 5.47 since a notice is keyed by its event
#: in the database (``ux_notification_event``: one notice per event and person,
#: on the five steps that notify) and the branch is told of its inspection round.
#: Measured 5.4737 (2288 pages over the 418 counted steps; deterministic). The
#: budget leaves six pages of slack: one more B-tree page on every step of any
#: one action (eleven pages for the rarest, a return) fails here.
PAGES_PER_STEP = 5.49
PLANS = 60
#: The first plans also store the definition and grow every table from empty.
WARM_UP = 5


def _frames(wal: Path, start: int) -> tuple[list[int], int]:
    data = wal.read_bytes()[start:]
    size = 24 + SQLITE_PAGE_SIZE
    pages = [struct.unpack(">I", data[o : o + 4])[0] for o in range(0, len(data) - size + 1, size)]
    return pages, start + len(pages) * size


@pytest.mark.skipif(SQLITE_PAGE_SIZE != 4096, reason="the budget is for 4 KiB pages")
def test_each_transition_writes_only_its_own_b_trees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANFLOW_SQLITE_CHECKPOINT", "inline")
    path = tmp_path / "pages.sqlite3"
    pf = Planflow(f"sqlite:///{path}", workflows_dir=w1.WORKFLOWS)
    pf.init()
    ids = w1._setup_org(pf)
    pf.db.pinned_connection().execute("PRAGMA wal_autocheckpoint=0")
    wal = Path(f"{path}-wal")
    written: list[tuple[str, list[int]]] = []
    _, offset = _frames(wal, 32)  # past the WAL header and the set-up's pages
    try:
        for i in range(PLANS):
            b = i % w1.BRANCHES
            plan_id = pf.service.create_plan(
                unit_id=ids["units"][b], year=w1.YEAR, title=f"Plan {i}",
                actor_id=ids["drafter"][b], content_json=w1.CONTENT, item_count=3,
                items_without_due=0, workflow=w1.WORKFLOW,
            )  # fmt: skip
            pages, offset = _frames(wal, offset)
            if i >= WARM_UP:
                written.append(("create", pages))
            for action in w1.path_for(i):
                who = w1.ACTOR_FOR[action]
                actor = ids[who][b] if who == "chair" else ids[who]
                comment = "Please add targets." if action == "return_for_revision" else None
                pf.service.fire(plan_id, action, actor, comment)
                pages, offset = _frames(wal, offset)
                if i >= WARM_UP:
                    written.append((action, pages))
        with sqlite3.connect(path) as conn:
            try:
                owner = dict(conn.execute("SELECT pageno, name FROM dbstat"))
            except sqlite3.OperationalError:
                pytest.skip("this SQLite has no dbstat table")
    finally:
        pf.close()
    # A page's owner is read at the end: a page freed and reused meanwhile would
    # be misnamed, but the transition path frees none (timers and tasks leave
    # their indexes' leaves in place).
    touched: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for action, pages in written:
        for page in pages:
            touched[action][owner.get(page, "page 1" if page == 1 else "?")] += 1
    for action, trees in touched.items():
        extra = set(trees) - ALLOWED[action] - {"page 1", "sqlite_schema"}
        assert not extra, f"{action} also wrote {sorted(extra)}"
    per_step = sum(len(p) for _, p in written) / len(written)
    assert per_step <= PAGES_PER_STEP, f"{per_step:.2f} WAL pages per step"
