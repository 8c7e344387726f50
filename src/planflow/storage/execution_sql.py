"""The fixed SQL of execution (progress, evidence) and inspections.

These statements run inside ``PlanService.mutate``/``fire`` transactions (and
in read transactions for the same look-ups), on the cursor API of
``storage.tx`` like the transition path's own statements in ``plan_store``.
Column lists must match ``tables.py`` (``ItemProgress``, ``Evidence``,
``Inspection``, ``Plan.grade``); the tests run every statement on SQLite and
PostgreSQL. ``INSERT ... ON CONFLICT ... DO UPDATE`` is spelled the same on
both (SQLite >= 3.24).
"""

from __future__ import annotations

from planflow.storage.audit_keys import RANGE_SQL as AUDIT_RANGE_SQL
from planflow.storage.audit_keys import SEQ_SPAN
from planflow.storage.tx import Sql

# -- progress -------------------------------------------------------------------------

UPSERT_PROGRESS = Sql(
    "upsert_progress",
    "INSERT INTO item_progress (plan_id, item_key, status, report, measured, measured_more,"
    " updated_by, updated_at) VALUES (:plan_id, :item_key, :status, :report, :measured,"
    " :measured_more, :updated_by, :updated_at) ON CONFLICT (plan_id, item_key) DO UPDATE SET"
    " status = excluded.status, report = excluded.report, measured = excluded.measured,"
    " measured_more = excluded.measured_more,"
    " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
)
SELECT_REVISION_CONTENT = Sql(
    "select_revision_content",
    f"SELECT content FROM plan_revision WHERE id = :plan_id * {SEQ_SPAN} + :number",
)

# -- evidence ---------------------------------------------------------------------------

INSERT_EVIDENCE = Sql(
    "insert_evidence",
    "INSERT INTO evidence (plan_id, item_key, filename, content_type, size, sha256,"
    " uploaded_by, uploaded_at) VALUES (:plan_id, :item_key, :filename, :content_type, :size,"
    " :sha256, :uploaded_by, :uploaded_at)",
    returns_id=True,
)
COUNT_EVIDENCE_BY_SHA = Sql(
    "count_evidence_by_sha",
    "SELECT COUNT(*) FROM evidence WHERE plan_id = :plan_id AND sha256 = :sha256",
)

# -- inspections ------------------------------------------------------------------------

#: How many times the plan moved into ``state``: the inspection round number.
COUNT_ENTRIES_INTO_STATE = Sql(
    "count_entries_into_state",
    f"SELECT COUNT(*) FROM audit_record WHERE {AUDIT_RANGE_SQL} AND to_state = :state"
    " AND (from_state IS NULL OR from_state <> to_state)",
)
SELECT_INSPECTION = Sql(
    "select_inspection",
    "SELECT scores, outcome, grade FROM inspection WHERE plan_id = :plan_id AND round = :round",
)
UPSERT_INSPECTION_SCORES = Sql(
    "upsert_inspection_scores",
    "INSERT INTO inspection (plan_id, round, scores, outcome, grade, inspector_id,"
    " rectification_due, updated_at) VALUES (:plan_id, :round, :scores, '{}', NULL,"
    " :inspector_id, NULL, :updated_at) ON CONFLICT (plan_id, round) DO UPDATE SET"
    " scores = excluded.scores,"
    " inspector_id = COALESCE(excluded.inspector_id, inspection.inspector_id),"
    " updated_at = excluded.updated_at",
)
UPDATE_INSPECTION_OUTCOME = Sql(
    "update_inspection_outcome",
    "UPDATE inspection SET outcome = :outcome, grade = :grade, inspector_id = :inspector_id,"
    " rectification_due = :rectification_due, updated_at = :updated_at"
    " WHERE plan_id = :plan_id AND round = :round",
)
SELECT_PLAN_GRADE = Sql("select_plan_grade", "SELECT grade FROM plan WHERE id = :plan_id")
UPDATE_PLAN_GRADE = Sql("update_plan_grade", "UPDATE plan SET grade = :grade WHERE id = :plan_id")
#: Finished inspections that did not pass, of the unit's plans of that year,
#: other than the round being decided.
COUNT_FAILED_THIS_YEAR = Sql(
    "count_failed_this_year",
    "SELECT COUNT(*) FROM inspection i JOIN plan p ON p.id = i.plan_id"
    " WHERE p.unit_id = :unit_id AND p.year = :year AND i.grade = :not_passed"
    " AND NOT (i.plan_id = :plan_id AND i.round >= :round)",
)

#: Every statement above, for the test that runs each one on both databases.
ALL_STATEMENTS = [v for v in list(globals().values()) if isinstance(v, Sql)]
