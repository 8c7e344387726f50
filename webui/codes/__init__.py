"""The library's codes in the user's language: refusals, errors and system notes.

The library refuses with a stable code and parameters (``planflow.errors``,
listed in ``docs/codes.md``); this package is the web UI's catalogue for
them. It never reads the library's English sentences, except as the last
resort for a code it does not know (a custom guard of a deployment, say),
so that the user still learns why. Each text is a literal ``gettext`` call
so that extraction finds it. The notes the system writes into the record
(``planflow.core.notes``) carry their own texts in every language, which
the e-mails share; this package gives them the user's words for roles,
actions and metrics.

One module per kind of code: ``refusals`` (guards), ``errors``
(``PlanflowError``), ``problems`` (what a user typed: content, scores),
``notes`` (the record's notes); ``words`` says their parameters (people,
actions, states, times). Import from here: ``from .codes import error_text``.
"""

from __future__ import annotations

from .errors import ERRORS, error_text
from .notes import ERROR_NAMES, note_labels, note_text, payload_text, record_text
from .problems import CONTENT_PROBLEMS, SCORE_PROBLEMS, content_problem_text, score_problem_text
from .refusals import LASTING, PASSED, REFUSALS, blocked_intro, refusal_text
from .words import Params, person_name

__all__ = [
    "CONTENT_PROBLEMS",
    "ERRORS",
    "ERROR_NAMES",
    "LASTING",
    "PASSED",
    "REFUSALS",
    "SCORE_PROBLEMS",
    "Params",
    "blocked_intro",
    "content_problem_text",
    "error_text",
    "note_labels",
    "note_text",
    "payload_text",
    "person_name",
    "record_text",
    "refusal_text",
    "score_problem_text",
]
