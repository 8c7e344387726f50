"""What an e-mail says: subject and plain-text body, in the reader's language.

Pure: no database, no network, no clock. Input is a notification's kind and
payload (as ``changes.write_notifications`` and the deadline processor write
them), the recipient's language, a ``Labels`` lookup for the workflow's own
names of states and actions, and the web UI's address. A payload is data
from the past (older versions, other writers), so every key is optional and
an unknown kind gets a generic message: rendering never raises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Protocol

from planflow.core import handover, notes
from planflow.core.escalation import ESCALATED_AWAY
from planflow.core.korean import attach_particles
from planflow.integrations.mail.texts import LANGUAGES, MONTHS_EN, TEXTS

#: The notices of a task held personally, each with its own subject and lead.
HANDOVER_KINDS = frozenset(
    {handover.TRANSFER, handover.ADD_APPROVER, handover.CC, handover.COUNTERSIGN}
)


class Labels(Protocol):
    """The workflow definitions' names, translated; the raw name when unknown."""

    def workflow(self, workflow: str, language: str) -> str: ...
    def state(self, workflow: str, state: str, language: str) -> str: ...
    def action(self, workflow: str, action: str, language: str) -> str: ...


class RawLabels:
    """Labels that are the raw names (no definitions at hand)."""

    def workflow(self, workflow: str, language: str) -> str:
        return workflow

    def state(self, workflow: str, state: str, language: str) -> str:
        return state

    def action(self, workflow: str, action: str, language: str) -> str:
        return action

    def metric(self, workflow: str, metric: str, language: str) -> str:
        return metric

    def criterion(self, workflow: str, code: str, language: str) -> str:
        return code


@dataclass(frozen=True)
class MailContext:
    """Who reads the mail and how to show things to them."""

    language: str = "en"
    labels: Labels = field(default_factory=RawLabels)
    base_url: str | None = None
    timezone: tzinfo = UTC
    recipient_name: str = ""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


@dataclass(frozen=True)
class DigestItem:
    kind: str
    payload: Mapping[str, Any]
    plan_id: int | None
    created_at: datetime
    actor_name: str | None = None


def language_of(code: str | None) -> str:
    """``zh-CN``/``zh_Hans`` → ``zh``; anything unsupported → ``en``."""
    base = (code or "").strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else "en"


def plan_url(base_url: str | None, plan_id: int | None) -> str | None:
    if not base_url or plan_id is None:
        return None
    return f"{base_url.rstrip('/')}/plans/{plan_id}"


def format_time(value: datetime, language: str, tz: tzinfo = UTC) -> str:
    """A moment as people of ``language`` write it, in the deployment's zone."""
    local = value.astimezone(tz)
    zone = getattr(tz, "key", None) or local.tzname() or "UTC"
    hm = f"{local.hour:02d}:{local.minute:02d}"
    lang = language_of(language)
    if lang == "zh":
        return f"{local.year}年{local.month}月{local.day}日 {hm}（{zone}）"
    if lang == "ko":
        return f"{local.year}년 {local.month}월 {local.day}일 {hm} ({zone})"
    return f"{local.day} {MONTHS_EN[local.month - 1]} {local.year}, {hm} {zone}"


def render(
    kind: str,
    payload: Mapping[str, Any],
    ctx: MailContext,
    *,
    plan_id: int | None = None,
    actor_name: str | None = None,
) -> Rendered:
    """The e-mail for one notification."""
    t = TEXTS[language_of(ctx.language)]
    headline, lines = _summary(kind, payload, ctx, actor_name)
    body = [_greeting(t, ctx), "", *lines]
    url = plan_url(ctx.base_url, plan_id)
    if url:
        body += ["", t["link"].format(url=url)]
    body += ["", "-- ", t["footer"]]
    return _finished(ctx, Rendered(_one_line(f"{t['prefix']} {headline}"), "\n".join(body) + "\n"))


def render_digest(
    items: Sequence[DigestItem], ctx: MailContext, *, day: date, more: int = 0
) -> Rendered:
    """One e-mail listing several notifications (``more``: how many were left out)."""
    t = TEXTS[language_of(ctx.language)]
    count = len(items) + more
    key = "digest.subject_one" if count == 1 else "digest.subject_many"
    subject = t[key].format(day=day.isoformat(), count=count)
    body = [_greeting(t, ctx), "", t["digest.lead"], ""]
    for item in items:
        headline, lines = _summary(item.kind, item.payload, ctx, item.actor_name)
        when = item.created_at.astimezone(ctx.timezone).strftime("%Y-%m-%d %H:%M")
        body.append(f"• {when} — {headline}")
        # The lead repeats the headline in a sentence; the fields are the news.
        body += [f"    {line}" for line in lines[2:]]
        url = plan_url(ctx.base_url, item.plan_id)
        if url:
            body.append(f"    {url}")
        body.append("")
    if more > 0:
        body += [t["digest.more"].format(count=more), ""]
    body += ["-- ", t["footer"]]
    return _finished(ctx, Rendered(_one_line(f"{t['prefix']} {subject}"), "\n".join(body) + "\n"))


def _finished(ctx: MailContext, rendered: Rendered) -> Rendered:
    """Korean particles fitted to the words filled in (``core.korean``)."""
    if language_of(ctx.language) != "ko":
        return rendered
    return Rendered(attach_particles(rendered.subject), attach_particles(rendered.body))


def compose(
    rendered: Rendered,
    *,
    sender: str,
    to: Address,
    language: str,
    message_id: str,
    at: datetime,
) -> EmailMessage:
    """The MIME message: plain text, UTF-8, headers encoded as RFC 2047 needs.

    ``message_id`` should be stable per notification, so that a resend after
    a crash (see ``outbox``) can be recognised as the same message.
    """
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(at.astimezone(UTC))
    msg["Message-ID"] = message_id
    # RFC 3834: tells auto-responders (out-of-office) not to answer.
    msg["Auto-Submitted"] = "auto-generated"
    body = rendered.body
    if body.isascii():
        msg.set_content(body)
    else:
        # Quoted-printable keeps mostly-Latin text readable; CJK text is
        # shorter in base64 (a quoted-printable CJK character costs 9 bytes).
        cte = "quoted-printable" if language_of(language) == "en" else "base64"
        msg.set_content(body, cte=cte)
    # After set_content, which replaces every Content-* header.
    msg["Content-Language"] = language_of(language)
    return msg


def _greeting(t: Mapping[str, str], ctx: MailContext) -> str:
    name = ctx.recipient_name.strip()
    return t["greeting"].format(name=name) if name else t["greeting_anon"]


def _summary(
    kind: str, payload: Mapping[str, Any], ctx: MailContext, actor_name: str | None
) -> tuple[str, list[str]]:
    """(headline, [lead, "", field lines...]) for one notification."""
    lang = language_of(ctx.language)
    t = TEXTS[lang]
    p = payload if isinstance(payload, Mapping) else {}
    workflow = _str(p.get("workflow"))
    title = _str(p.get("title")) or t["untitled"]

    def state(key: str) -> str | None:
        name = _str(p.get(key))
        if name is None:
            return None
        return ctx.labels.state(workflow, name, lang) if workflow else name

    fields: list[tuple[str, str | None]] = []
    if kind == "transition":
        raw_action = _str(p.get("action"))
        action = raw_action or t["none"]
        if raw_action and workflow:
            action = ctx.labels.action(workflow, raw_action, lang)
        to, before = state("to") or t["none"], state("from")
        # "Approve (Approved)" says where it went; "Withdraw (Withdraw)" would not.
        key = "transition.subject" if action != to else "transition.subject_same"
        headline = t[key].format(title=title, action=action, to=to)
        if p.get("actor") is None:
            lead = t["transition.lead_system"].format(title=title, action=action)
        else:
            actor = actor_name or t["user"].format(id=_str(p.get("actor")))
            lead = t["transition.lead"].format(actor=actor, title=title, action=action)
        fields.append(("field.state", f"{before} → {to}" if before else to))
        fields.append(("field.comment", _note(p, lang, ctx, workflow) or _str(p.get("comment"))))
    elif kind in ("remind", "escalate", ESCALATED_AWAY):
        due = _due(p.get("due_at"), lang, ctx.timezone)
        where = state("state") or t["none"]
        if kind == "remind":
            key = "remind.subject" if due else "remind.subject_nodue"
            headline = t[key].format(title=title, due=due)
            lead = t["remind.lead"].format(title=title, state=where)
        elif _note_code(p) == notes.ESCALATION_AT_TOP:  # overdue, and nobody above to tell
            unit = _unit_name(p) or t["none"]
            headline = t["at_top.subject"].format(title=title)
            lead = t["at_top.lead"].format(title=title, state=where, unit=unit)
        else:  # escalated to them, or away from them (they may still act)
            unit = _unit_name(p) or t["escalate.unit_unknown"]
            level = _str(p.get("level")) or "1"
            headline = t[f"{kind}.subject"].format(title=title)
            lead = t[f"{kind}.lead"].format(title=title, state=where, unit=unit, level=level)
            fields.append(("field.level", level))
            fields.append(("field.unit", _unit(p)))
        fields.insert(0, ("field.due", due))
        fields.append(("field.note", _note(p, lang, ctx, workflow)))
    elif kind == "urge":  # the submitter's side asks the task's holders to act now
        who = actor_name or t["user"].format(id=_str(p.get("actor")))
        headline = t["urge.subject"].format(title=title)
        lead = t["urge.lead"].format(actor=who, title=title, state=state("state") or t["none"])
        fields.append(("field.due", _due(p.get("due_at"), lang, ctx.timezone)))
        fields.append(("field.comment", _str(p.get("comment"))))
    elif kind == "returned":  # a reviewer sent the plan back to an earlier step
        who = actor_name or t["user"].format(id=_str(p.get("actor")))
        to = state("to") or t["none"]
        headline = t["returned.subject"].format(title=title, to=to)
        lead = t["returned.lead"].format(actor=who, title=title, to=to)
        before = state("from")
        fields.append(("field.state", f"{before} → {to}" if before else to))
        fields.append(("field.comment", _str(p.get("comment"))))
    elif kind in HANDOVER_KINDS:  # transfer, add an approver, CC, your turn after a co-signer
        where = state("state") or t["none"]
        headline = t[f"{kind}.subject"].format(title=title)
        lead = t[f"{kind}.lead"].format(title=title, state=where)
        fields.append(("field.note", _note(p, lang, ctx, workflow)))
    elif kind == "draft_ready":  # the chair: the drafters have finished the draft
        headline = t["draft_ready.subject"].format(title=title)
        lead = t["draft_ready.lead"].format(title=title)
    elif kind == "visit_planned":  # the branch hears when its inspector will come
        day = _str(p.get("visit_date"))
        headline = t["visit_planned.subject"].format(title=title)
        lead = (
            t["visit_planned.lead"].format(title=title, day=day)
            if day
            else t["visit_planned.unplanned"].format(title=title)
        )
        fields.append(("field.state", state("state")))
    elif kind == "reroute":  # the task followed its unit to a new place in the tree
        unit = _unit_name(p) or t["none"]
        headline = t["reroute.subject"].format(title=title)
        lead = t["reroute.lead"].format(title=title, state=state("state") or t["none"], unit=unit)
        fields.append(("field.due", _due(p.get("due_at"), lang, ctx.timezone)))
        fields.append(("field.moved_to", _unit(p)))
    elif kind in ("delegation_starts", "delegation_ends"):  # 委托: about people, no plan
        headline = t[f"{kind}.subject"]
        lead = _note(p, lang, ctx, None) or headline
    else:
        headline = t["generic.subject"].format(title=title)
        lead = t["generic.lead"].format(title=title, kind=kind or t["none"])
        fields.append(("field.state", state("state") or state("to")))
        fields.append(("field.comment", _note(p, lang, ctx, workflow) or _str(p.get("comment"))))
    if workflow:
        fields.append(("field.workflow", ctx.labels.workflow(workflow, lang)))
    lines = [lead, ""] + [f"{t[key]}{t['sep']}{value}" for key, value in fields if value]
    return headline, lines


def _note(p: Mapping[str, Any], lang: str, ctx: MailContext, workflow: str | None) -> str | None:
    """A text the system wrote (``planflow.core.notes``), in the reader's language."""
    found = notes.note_of(p.get("note"))
    if found is None:
        return None
    labels = ctx.labels
    metric = getattr(labels, "metric", None)  # Labels of older callers may lack it

    def metric_label(name: str) -> str:
        return str(metric(workflow, name, lang)) if metric and workflow else name

    def action_label(name: str) -> str:
        return labels.action(workflow, name, lang) if workflow else name

    criterion = getattr(labels, "criterion", None)

    def criterion_label(code: str) -> str:
        return str(criterion(workflow, code, lang)) if criterion and workflow else code

    said = notes.render(
        found,
        lang,
        notes.NoteLabels(metric=metric_label, action=action_label, criterion=criterion_label),
    )
    return said or None


def _one_line(text: str) -> str:
    # A line break in a title must not end the Subject header (and the e-mail
    # package refuses one there anyway).
    return " ".join(text.split())


def _str(value: Any) -> str | None:
    """A payload value as display text; None for missing, empty or structured values."""
    if value is None or isinstance(value, dict | list) or value == "":
        return None
    return str(value).strip() or None


def _unit(p: Mapping[str, Any]) -> str | None:
    """The unit for a field of its own: its name with its code ("Federation (fed)")."""
    name, code = _str(p.get("unit_name")), _str(p.get("unit"))
    if name and code and name != code:
        return f"{name} ({code})"
    return name or code


def _note_code(p: Mapping[str, Any]) -> str | None:
    found = notes.note_of(p.get("note"))
    return None if found is None else str(found["code"])


def _unit_name(p: Mapping[str, Any]) -> str | None:
    """The unit inside a sentence: its name alone (the code is in the field below it)."""
    return _str(p.get("unit_name")) or _str(p.get("unit"))


def _due(value: Any, language: str, tz: tzinfo) -> str | None:
    text = _str(value)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text  # not a date we understand, but still what the sender meant
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_time(moment, language, tz)
