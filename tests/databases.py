"""Which databases a test runs on, where not both in every case.

``database_url`` (conftest.py) runs each test that uses it on SQLite and on
PostgreSQL, so that every behaviour that depends on the database is tested on
both. A test of wording alone (the language of a page, the words for a wire
name, a format) checks nothing more on PostgreSQL than on SQLite: the rows it
reads are the same, and the pages and reads it goes through are tested on both
databases by their own tests. Its PostgreSQL case cost a second test's time
(PostgreSQL's cases are the dearer ones) and found nothing the other would not.

- ``SQLITE_ONLY`` runs such a test on SQLite alone.
- ``in_languages(name, codes)`` is for a test that writes rows and reads them
  back in each language: every language on SQLite, and the first on PostgreSQL
  too, so the rows still go through both databases once.

Each use says why, beside it.
"""

from __future__ import annotations

import pytest

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def in_languages(name: str, codes: list[str]) -> pytest.MarkDecorator:
    """Parametrise ``name`` over ``codes`` on SQLite, and ``codes[0]`` on PostgreSQL too."""
    cases = [pytest.param(code, "sqlite", id=f"sqlite-{code}") for code in codes]
    cases.append(
        pytest.param(
            codes[0], "postgresql", marks=pytest.mark.postgres, id=f"postgresql-{codes[0]}"
        )
    )
    return pytest.mark.parametrize((name, "database_url"), cases, indirect=["database_url"])
