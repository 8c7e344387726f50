"""The API's documentation reads as text: no reStructuredText markup on the docs page.

An IT person opening /api/v1/docs read "Scope ``write``." beside each
endpoint: the summaries come from the endpoints' docstrings, whose literals
are reStructuredText's double backticks, and the docs page prints a summary
as plain text. A summary now carries no backticks; a description (markdown
on the page) has each literal in single backticks.
"""

from __future__ import annotations

from databases import SQLITE_ONLY
from flask import Flask


@SQLITE_ONLY  # the OpenAPI document: no database is read
def test_summaries_are_plain_and_descriptions_are_markdown(app: Flask) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    operations = [op for item in spec["paths"].values() for op in item.values()]
    assert len(operations) > 20
    for op in operations:
        assert "`" not in op.get("summary", ""), op["summary"]
        assert "``" not in op.get("description", ""), op["description"]
    create = spec["paths"]["/api/v1/plans"]["post"]
    assert create["summary"].endswith("Scope write.")
    assert "`PUT /plans/{plan_id}/content`" in create["description"]
