"""Languages: choosing the user's locale, and turning library names into words.

The locale is the signed-in user's ``language`` (stored on the user, so it
follows them to any device), else the choice made before signing in (kept in
the session), else the browser's preference. The library speaks in names
(``under_review``, ``return_for_revision``, ``reviewer``) and codes;
definitions carry their own labels in every language, and this module
translates the rest: roles, guards, the audit actions that are not
transitions and notification kinds. Refusals and errors, by code, are
``codes``'.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from babel import Locale, support
from babel.dates import format_skeleton, get_date_format, get_time_format
from flask import Flask, Response, g, request, session
from flask_babel import (  # type: ignore[import-untyped]
    Babel,
    format_date,
    get_locale,
    get_timezone,
    get_translations,
    gettext,
    lazy_gettext,
)
from flask_login import current_user  # type: ignore[import-untyped]
from wtforms.i18n import messages_path  # type: ignore[import-untyped]

from planflow.core import notes
from planflow.core.definitions.spec import WorkflowSpec
from planflow.core.korean import attach_particles

from .target_texts import criterion_target_text, describe_targets, target_text

LANGUAGES = ("en", "zh", "ko")
#: Each language named in itself, so anyone can find theirs.
LANGUAGE_NAMES = {"en": "English", "zh": "中文", "ko": "한국어"}
HTML_LANG = {"en": "en", "zh": "zh-Hans", "ko": "ko"}

ROLE_LABELS = {
    "drafter": lazy_gettext("drafter"),
    "submitter": lazy_gettext("submitter"),
    "reviewer": lazy_gettext("reviewer"),
    "inspector": lazy_gettext("inspector"),
    "officer": lazy_gettext("officer"),
    "admin": lazy_gettext("administrator"),
    "committee": lazy_gettext("committee member"),
}

#: The built-in guards (``planflow.core.guards``) as the conditions they check, for the
#: definitions pages; a guard's refusal is ``codes.refusal_text``'s.
GUARD_LABELS = {
    "has_items": lazy_gettext("The plan has items"),
    "all_items_have_due_dates": lazy_gettext("Every item has a due date or month"),
    "comment_required": lazy_gettext("A comment giving the reason"),
    "not_self": lazy_gettext("Not by the person who submitted the plan"),
    "inspection_recorded": lazy_gettext("The inspector has recorded scores"),
    "inspection_scored": lazy_gettext("The inspector has scored every criterion"),
    "inspection_passed": lazy_gettext("The inspection passed"),
    "not_acted_on": lazy_gettext("Nobody else has decided on it since it was submitted"),
}

#: Audit-trail actions that are not transitions of a definition.
ACTION_LABELS = {
    "create": lazy_gettext("Created the plan"),
    "edit_content": lazy_gettext("Edited the content"),
    "comment": lazy_gettext("Commented"),
    "report_progress": lazy_gettext("Reported progress"),
    "attach_evidence": lazy_gettext("Attached evidence"),
    "inspection_scores": lazy_gettext("Recorded inspection scores"),
    "self_assessment": lazy_gettext("Recorded the self-assessment"),
    "plan_visit": lazy_gettext("Planned the inspection visit"),
    "migrate_workflow": lazy_gettext("Moved to a new workflow version"),
    "remind": lazy_gettext("Reminder sent"),
    "escalate": lazy_gettext("Escalated (overdue)"),
    "escalation_at_top": lazy_gettext("Not escalated: nobody above"),
    "auto_action_refused": lazy_gettext("Automatic action refused"),
    "reroute_task": lazy_gettext("Task moved with its unit"),
    "urge": lazy_gettext("Urged the people it waits for"),
    "transfer": lazy_gettext("Transferred the task"),
    "add_approver": lazy_gettext("Added an approver"),
    "cc": lazy_gettext("Copied people on the plan"),
    "countersign": lazy_gettext("Approved their part"),
}

NOTIFICATION_KINDS = {
    "transition": lazy_gettext("Plan changed"),
    "remind": lazy_gettext("Reminder"),
    "escalate": lazy_gettext("Escalated to you"),
    "escalated_away": lazy_gettext("Escalated away from you (you may still act)"),
    "reroute": lazy_gettext("Task moved to you"),
    "urge": lazy_gettext("Urged to act"),
    "returned": lazy_gettext("Returned to an earlier step"),
    "transfer": lazy_gettext("Task transferred"),
    "add_approver": lazy_gettext("Added as an approver"),
    "countersign": lazy_gettext("Your turn to approve"),
    "cc": lazy_gettext("Copied to you"),
    "delegation_starts": lazy_gettext("A delegation starts"),
    "delegation_ends": lazy_gettext("A delegation has ended"),
    "visit_planned": lazy_gettext("Inspection visit date set"),
    "draft_ready": lazy_gettext("Draft ready to submit"),
}


def current_language() -> str:
    locale = get_locale()
    lang = locale.language if locale is not None else "en"
    return lang if lang in LANGUAGES else "en"


def select_locale() -> str:
    if request.blueprint == "api" or request.path.startswith("/api/"):
        # The API reads no cookie: the language is the client's Accept-Language.
        return request.accept_languages.best_match(LANGUAGES) or "en"
    user = current_user
    if user is not None and user.is_authenticated and user.language in LANGUAGES:
        return str(user.language)
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES) or "en"


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def guard_label(name: str) -> str:
    return str(GUARD_LABELS.get(name, name))


def state_label(spec: WorkflowSpec, state: str | None) -> str:
    if state is None:
        return ""
    try:
        return spec.state(state).label.get(current_language())
    except KeyError:
        return state


def action_label(spec: WorkflowSpec, action: str) -> str:
    # A trigger's former name (an old record's "withdraw") reads as the trigger.
    t = spec.transition_named(action)
    if t is not None:
        return t.label.get(current_language())
    return str(ACTION_LABELS.get(action, action))


def kind_label(kind: str, payload: Mapping[str, Any] | None = None) -> str:
    """What a notification is about. An overdue task with nobody above to escalate
    it to stays with its holder: it was not "escalated to you"."""
    note = notes.note_of((payload or {}).get("note"))
    if kind == "escalate" and note is not None and note["code"] == notes.ESCALATION_AT_TOP:
        return str(gettext("Overdue: nobody above to escalate it to"))
    return str(NOTIFICATION_KINDS.get(kind, kind))


def format_due(due: int | date | None, year: int) -> str:
    """An item's due: a month of the plan year ("March 2027") or a date."""
    if due is None:
        return ""
    if isinstance(due, date):
        return str(format_date(due, "medium"))
    return format_skeleton("yMMMM", date(year, due, 1), locale=get_locale())


def _translations() -> Any:
    """This request's catalogue, looked up once per request (see ``init_app``)."""
    cached = g.get("planflow_translations")
    if cached is None:
        cached = g.planflow_translations = get_translations()
    return cached


@functools.lru_cache(maxsize=8)
def _wtforms_catalogue(locale: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


def quick_gettext(string: str, **variables: Any) -> str:
    """``gettext`` for loops: this request's catalogue, looked up once per request."""
    text = str(_translations().ugettext(string))
    return text % variables if variables else text


class _WtformsTranslations:
    """WTForms' own messages in the request's language, each catalogue parsed once.

    Flask-WTF parses WTForms' catalogue again on every request that builds a
    form (every page: the language form is on each), unless the request
    already carries one; this one looks the locale up only when a message
    is actually needed.
    """

    def ugettext(self, string: str) -> str:
        return str(_wtforms_catalogue(str(get_locale())).ugettext(string))

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return str(_wtforms_catalogue(str(get_locale())).ungettext(singular, plural, n))


_WTFORMS_TRANSLATIONS = _WtformsTranslations()


def _share_wtforms_translations() -> None:
    request.wtforms_translations = _WTFORMS_TRANSLATIONS  # type: ignore[attr-defined]


_Formatted = tuple[dict[date, str], dict[tuple[int, int], str]]


class _WhenFormat:
    """This request's locale, zone and patterns, looked up once.

    A queue page formats hundreds of moments; Flask-Babel's helpers look the
    locale, the zone and the pattern up again for each one, which measured
    at more than half of the page's time. The formatted days and minutes are
    kept per (locale, zone) for the process: a page's rows rarely share a
    minute, but the day has only 1,440 of them.
    """

    #: (locale, zone) -> (formatted days, formatted minutes); days are dropped past ``MAX_DAYS``.
    _shared: ClassVar[dict[tuple[str, str], _Formatted]] = {}
    MAX_DAYS = 10_000

    def __init__(self) -> None:
        locale = get_locale() or Locale.parse("en")
        self.locale = locale
        self.zone = get_timezone()
        self.date = get_date_format("medium", locale=locale)
        self.time = get_time_format("short", locale=locale)
        key = (str(locale), str(self.zone))
        shared = self._shared.get(key)
        if shared is None:
            shared = self._shared[key] = ({}, {})
        self.days, self.times = shared
        if len(self.days) > self.MAX_DAYS:
            self.days.clear()

    @classmethod
    def of_request(cls) -> _WhenFormat:
        cached = g.get("planflow_when_format")
        if not isinstance(cached, cls):
            cached = g.planflow_when_format = cls()
        return cached

    def __call__(self, value: datetime) -> str:
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        local = aware.astimezone(self.zone)
        on = local.date()
        day = self.days.get(on)
        if day is None:
            day = self.days[on] = self.date.apply(local, self.locale)
        minute = self.times.get((local.hour, local.minute))
        if minute is None:
            minute = self.times[(local.hour, local.minute)] = self.time.apply(local, self.locale)
        return f"{day} {minute}"


def format_when(value: datetime | None) -> str:
    """A moment in the configured time zone: the date, then hours and minutes."""
    if value is None:
        return ""
    return _WhenFormat.of_request()(value)


def when_formatter() -> Callable[[datetime | None], str]:
    """``format_when`` for loops: this request's formats, looked up once by the caller."""
    fmt = _WhenFormat.of_request()
    return lambda value: "" if value is None else fmt(value)


def fit_korean_particles(response: Response) -> Response:
    """A Korean page's generic particles ("%(action)s은(는)") fitted to the words
    filled in (``planflow.core.korean``). The page says its own language
    (``<html lang="ko">``), so nothing is asked of the database here, where
    a 503 page may be answered."""
    if response.is_streamed or response.mimetype != "text/html":
        return response
    body = response.get_data()  # bytes: a page in another language is not decoded
    if b'<html lang="ko"' in body[:400]:
        response.set_data(attach_particles(body.decode("utf-8")))
    return response


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.before_request(_share_wtforms_translations)
    app.after_request(fit_korean_particles)
    # Flask-Babel's template gettext looks the catalogue up on every string;
    # a list page has hundreds. Same catalogue, looked up once per request.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    helpers: dict[str, Any] = {
        "LANGUAGES": LANGUAGES,
        "LANGUAGE_NAMES": LANGUAGE_NAMES,
        "current_language": current_language,
        "html_lang": lambda: HTML_LANG[current_language()],
        "role_label": role_label,
        "state_label": state_label,
        "action_label": action_label,
        "kind_label": kind_label,
    }
    app.jinja_env.globals.update(helpers)
    app.jinja_env.filters["when"] = format_when
    app.jinja_env.filters["due"] = format_due
    app.jinja_env.filters["targets"] = describe_targets
    app.jinja_env.filters["target"] = target_text
    app.jinja_env.globals["criterion_target"] = criterion_target_text
