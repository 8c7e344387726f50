"""Texts the system writes into the record, kept as a code and parameters.

When planflow itself explains something on a plan's trail (why a plan must
be rectified, that an escalation found nobody above, that a reminder came
too late, that an automatic action was refused) it stores a *note*,
``{"code": ..., "params": {...}}``, in the audit record's ``detail["note"]``
and in the notification's payload, and each reader gets it in their own
language: ``render(note, lang)``. The texts are here, in English, Chinese
and Korean, because both the web UI and the e-mails (and the command line,
in English) show them. A record's ``comment`` may also hold the English
rendering (the ``comment_required`` guard reads it); records written
before notes existed have only that English comment, and still show it.

The codes are listed in ``docs/codes.md``. ``render`` never raises: a
note from another version of planflow falls back to its English text, or
to its code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from planflow.core.content.target_words import PHRASES, target_wording
from planflow.core.korean import attach_particles

Note = dict[str, Any]

RECTIFY_BY = "rectify_by"
RECTIFY_TOTAL = "rectify_total"
REMINDER_LATE = "reminder_late"
ESCALATION_AT_TOP = "escalation_at_top"
AUTO_ACTION_REFUSED = "auto_action_refused"
#: Transfer, added approvers and CC (``services.handover``): people by username.
TRANSFERRED = "transferred"
APPROVER_ADDED = "approver_added"
COPIED = "copied"
COUNTERSIGNED = "countersigned"
COPIED_BY_DEFINITION = "copied_by_definition"
#: Delegation (委托, ``services.delegations``): people by username, days as ISO dates.
DELEGATION_STARTS = "delegation_starts"
DELEGATION_ENDS = "delegation_ends"

#: One table per language; ``{name}`` fields are filled with already-said values.
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        RECTIFY_BY: "Rectify by {due}: {points}",
        RECTIFY_TOTAL: "Rectify by {due}: total {total} of {max} is not enough",
        REMINDER_LATE: "the task was already overdue when the reminder ran",
        ESCALATION_AT_TOP: "nobody above holds the role {role}",
        AUTO_ACTION_REFUSED: "the automatic action {action} was refused ({error})",
        TRANSFERRED: "{by} transferred the task to {to}",
        APPROVER_ADDED: "{by} added {user} as an approver ({mode})",
        COPIED: "{by} copied {people}",
        COUNTERSIGNED: "{by} approved their part; it is your turn now",
        COPIED_BY_DEFINITION: "you are copied on this plan",
        DELEGATION_STARTS: "{deputy} acts for {delegator} from {starts_on} to {ends_on}",
        DELEGATION_ENDS: (
            "{deputy} no longer acts for {delegator}; open tasks are {delegator}'s again"
        ),
        "mode.before": "before them",
        "mode.after": "after them",
        "mode.alongside": "alongside them",
        "point": "{code}: {reasons}",
        "sep": "; ",
        "mandatory_failed": "mandatory criterion failed",
        "not_scored": "no inspector score",
        "scored": "scored {score} of {points}",
        "target_missed": "target missed: {target} (measured {measured})",
        "inspector_note": "inspector: {note}",
        "role.drafter": "drafter",
        "role.submitter": "submitter",
        "role.reviewer": "reviewer",
        "role.inspector": "inspector",
        "role.officer": "officer",
        "role.admin": "administrator",
        "role.committee": "committee member",
    },
    "zh": {
        RECTIFY_BY: "请于{due}前完成整改：{points}",
        RECTIFY_TOTAL: "请于{due}前完成整改：总分 {total}（满分 {max}）未达到最低等级",
        REMINDER_LATE: "提醒发出时，该任务已经超期",
        ESCALATION_AT_TOP: "上级单位中没有人担任“{role}”",
        AUTO_ACTION_REFUSED: "自动操作“{action}”未能执行（{error}）",
        TRANSFERRED: "{by} 将任务转交给 {to}",
        APPROVER_ADDED: "{by} 加签 {user}（{mode}）",
        COPIED: "{by} 抄送给 {people}",
        COUNTERSIGNED: "{by} 已同意，现在轮到您审批",
        COPIED_BY_DEFINITION: "此计划已抄送给您",
        DELEGATION_STARTS: "{starts_on}至{ends_on}期间，由 {deputy} 代 {delegator} 办理（委托）",
        DELEGATION_ENDS: "委托已结束：{deputy} 不再代 {delegator} 办理，未办任务交还 {delegator}",
        "mode.before": "前加签",
        "mode.after": "后加签",
        "mode.alongside": "并签",
        "point": "{code}：{reasons}",
        "sep": "；",
        "mandatory_failed": "必备项未达标",
        "not_scored": "检查员未评分",
        "scored": "得分 {score}（满分 {points}）",
        "target_missed": "未达到目标：{target}（实测 {measured}）",
        "inspector_note": "检查员意见：{note}",
        "role.drafter": "起草人",
        "role.submitter": "提交人",
        "role.reviewer": "审核人",
        "role.inspector": "检查人员",
        "role.officer": "工作人员",
        "role.admin": "管理员",
        "role.committee": "委员会委员",
    },
    "ko": {
        RECTIFY_BY: "{due}까지 시정하십시오: {points}",
        RECTIFY_TOTAL: "{due}까지 시정하십시오: 총점 {total}점(만점 {max}점)으로는 부족합니다",
        REMINDER_LATE: "알림을 보낼 때 이미 기한이 지난 작업이었습니다",
        ESCALATION_AT_TOP: "상위 단위에 ‘{role}’ 역할을 맡은 사람이 없습니다",
        AUTO_ACTION_REFUSED: "자동 작업 ‘{action}’이(가) 거부되었습니다({error})",
        TRANSFERRED: "{by}님이 작업을 {to}님에게 넘겼습니다",
        APPROVER_ADDED: "{by}님이 {user}님을 결재자로 추가했습니다({mode})",
        COPIED: "{by}님이 {people}님에게 참조로 보냈습니다",
        COUNTERSIGNED: "{by}님이 승인했습니다. 이제 결재 차례입니다",
        COPIED_BY_DEFINITION: "이 계획이 참조로 전달되었습니다",
        DELEGATION_STARTS: (
            "{starts_on}부터 {ends_on}까지 {deputy}님이 {delegator}님의 업무를 대리합니다"
        ),
        DELEGATION_ENDS: (
            "대리가 끝났습니다: {deputy}님은 더 이상 {delegator}님을 대리하지 않으며, "
            "남은 작업은 {delegator}님에게 돌아갑니다"
        ),
        "mode.before": "앞 결재",
        "mode.after": "뒤 결재",
        "mode.alongside": "공동 결재",
        "point": "{code}: {reasons}",
        "sep": "; ",
        "mandatory_failed": "필수 항목 미충족",
        "not_scored": "점검자 점수 없음",
        "scored": "{points}점 중 {score}점",
        "target_missed": "목표 미달: {target} (측정값 {measured})",
        "inspector_note": "점검자 의견: {note}",
        "role.drafter": "작성자",
        "role.submitter": "제출자",
        "role.reviewer": "검토자",
        "role.inspector": "점검자",
        "role.officer": "담당자",
        "role.admin": "관리자",
        "role.committee": "위원회 위원",
    },
}


def _raw(name: str) -> str:
    return name


@dataclass(frozen=True)
class NoteLabels:
    """The reader's words for names a note carries; the raw name by default."""

    metric: Callable[[str], str] = _raw
    role: Callable[[str], str] = _raw
    action: Callable[[str], str] = _raw
    #: An error's code in the reader's words (auto-action refusals).
    error: Callable[[str], str] = _raw
    #: A scoring-sheet criterion by its code (rectification points): "E1 Dues collected".
    criterion: Callable[[str], str] = _raw
    extra: Mapping[str, Any] = field(default_factory=dict)


def note(code: str, **params: Any) -> Note:
    return {"code": code, "params": params}


def note_of(value: object) -> Mapping[str, Any] | None:
    """A stored note, or None when ``value`` is not one (old records, other data)."""
    if isinstance(value, Mapping) and isinstance(value.get("code"), str):
        return value
    return None


def of_detail(detail: object) -> Mapping[str, Any] | None:
    """The note of an audit record's ``detail`` (its JSON text or the dict), if any."""
    if isinstance(detail, str):
        try:
            detail = json.loads(detail)
        except ValueError:
            return None
    return note_of(detail.get("note")) if isinstance(detail, Mapping) else None


def record_text(
    comment: str | None, detail: object, lang: str = "en", labels: NoteLabels | None = None
) -> str | None:
    """What a record says: its note in ``lang`` when it has one, else its comment."""
    found = of_detail(detail)
    return render(found, lang, labels) if found is not None else comment


def number(value: object) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def format_day(iso: object, lang: str) -> str:
    try:
        day = date.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    if lang == "ko":
        return f"{day.year}년 {day.month}월 {day.day}일"
    return day.isoformat()


def describe_target(params: Mapping[str, Any], lang: str, labels: NoteLabels) -> str:
    """The missed target in words ("满意度不少于 90%"); as stored if its parts are odd."""
    metric = labels.metric(str(params.get("metric", "")))
    op, value, unit = params.get("op"), params.get("value"), str(params.get("unit", ""))
    if op not in PHRASES or not isinstance(value, int | float):
        return f"{metric} {op or ''} {number(value or '')}{unit}"
    return target_wording(metric, str(op), float(value), unit).said(lang)


def reason(code: str, params: Mapping[str, Any], lang: str, labels: NoteLabels) -> str:
    """One reason of a rectification point (``scoring``'s codes) in ``lang``."""
    t = TEXTS.get(lang, TEXTS["en"])
    if code not in t:
        return code
    values = dict(params)
    if code == "scored":
        values = {"score": number(params["score"]), "points": number(params["points"])}
    elif code == "target_missed":
        target = describe_target(params, lang, labels)
        values = {"target": target, "measured": number(params["measured"])}
    return t[code].format(**values)


def _points(points: Sequence[Mapping[str, Any]], lang: str, labels: NoteLabels) -> str:
    t = TEXTS[lang]
    said = []
    for p in points:
        reasons = t["sep"].join(
            reason(str(r.get("code")), r.get("params") or {}, lang, labels)
            for r in p.get("reasons", ())
        )
        said.append(
            t["point"].format(code=labels.criterion(str(p.get("code", ""))), reasons=reasons)
        )
    return t["sep"].join(said)


def render(value: Mapping[str, Any], lang: str = "en", labels: NoteLabels | None = None) -> str:
    """The note in ``lang`` (en, zh, ko; others get English)."""
    labels = labels or NoteLabels()
    lang = lang if lang in TEXTS else "en"
    code = str(value.get("code", ""))
    params = value.get("params") or {}
    try:
        text = _render(code, params, lang, labels)
    except (KeyError, TypeError, ValueError, AttributeError):
        if lang != "en":
            return render(value, "en", labels)
        return code
    return attach_particles(text) if lang == "ko" else text


def _render(code: str, p: Mapping[str, Any], lang: str, labels: NoteLabels) -> str:
    t = TEXTS[lang]
    if code == RECTIFY_BY:
        return t[code].format(
            due=format_day(p["due"], lang), points=_points(p["points"], lang, labels)
        )
    if code == RECTIFY_TOTAL:
        due = format_day(p["due"], lang)
        return t[code].format(due=due, total=number(p["total"]), max=number(p["max"]))
    if code == ESCALATION_AT_TOP:
        name = str(p["role"])
        role = labels.role(name)
        if role == name:  # no words of the caller's: ours, for the built-in roles
            role = t.get(f"role.{name}", name)
        return t[code].format(role=role)
    if code == AUTO_ACTION_REFUSED:
        action = labels.action(str(p["action"]))
        return t[code].format(action=action, error=labels.error(str(p["error"])))
    if code == APPROVER_ADDED:
        mode = t.get(f"mode.{p['mode']}", str(p["mode"]))
        return t[code].format(by=p["by"], user=p["user"], mode=mode)
    if code in (DELEGATION_STARTS, DELEGATION_ENDS):
        days = {k: format_day(p[k], lang) for k in ("starts_on", "ends_on")}
        return t[code].format(deputy=p["deputy"], delegator=p["delegator"], **days)
    if code in t:
        return t[code].format(**p)
    raise KeyError(code)
