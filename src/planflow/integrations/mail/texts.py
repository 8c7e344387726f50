"""The words of planflow's e-mails, in English, Simplified Chinese and Korean.

Owns only the phrase tables; ``messages`` fills them in. Every language has
every key (a test checks it), and placeholders are ``str.format`` fields
filled with already-translated values: state and action names come from the
workflow definition, not from here.
"""

from __future__ import annotations

LANGUAGES = ("en", "zh", "ko")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "prefix": "[planflow]",
        "greeting": "Hello {name},",
        "greeting_anon": "Hello,",
        "transition.subject": "{title}: {action} ({to})",
        "transition.subject_same": "{title}: {action}",
        "transition.lead": "{actor} chose “{action}” on the plan “{title}”.",
        "transition.lead_system": "The plan “{title}” moved on automatically: {action}.",
        "remind.subject": "Reminder: “{title}” is due {due}",
        "remind.subject_nodue": "Reminder: “{title}” is waiting for you",
        "remind.lead": "A reminder: the plan “{title}” is waiting for you in the state “{state}”.",
        "escalate.subject": "Overdue and escalated: “{title}”",
        "escalate.lead": (
            "The plan “{title}” is overdue in the state “{state}” and has been escalated "
            "to {unit} (level {level})."
        ),
        "escalate.unit_unknown": "the unit above",
        "at_top.subject": "Overdue, nobody above to escalate to: “{title}”",
        "at_top.lead": (
            "The plan “{title}” is overdue in the state “{state}” at {unit}, and no unit "
            "above it has anyone to escalate it to: it stays with you."
        ),
        "urge.subject": "Please act on “{title}”",
        "urge.lead": (
            "{actor} asks you to act on the plan “{title}”, waiting for you in the state “{state}”."
        ),
        "returned.subject": "Returned to “{to}”: “{title}”",
        "returned.lead": "{actor} returned the plan “{title}” to the step “{to}”.",
        "reroute.subject": "Now waiting for you: “{title}”",
        "reroute.lead": (
            "The plan “{title}” in the state “{state}” now waits for you at {unit}: "
            "its unit has moved in the organisation."
        ),
        "field.moved_to": "Now at",
        "escalated_away.subject": "Overdue and escalated above you: “{title}”",
        "escalated_away.lead": (
            "The plan “{title}” is overdue in the state “{state}” and has been escalated "
            "to {unit} (level {level}). You may still act on it."
        ),
        "draft_ready.subject": "Ready to submit: “{title}”",
        "draft_ready.lead": (
            "The draft of the plan “{title}” now has its items, each with a due date: "
            "it is ready for you to check and submit."
        ),
        "visit_planned.subject": "Inspection visit date set: “{title}”",
        "visit_planned.lead": "The inspection visit for the plan “{title}” is set for {day}.",
        "visit_planned.unplanned": "The inspection visit for the plan “{title}” is no longer set.",
        "transfer.subject": "A task was handed over: “{title}”",
        "transfer.lead": "The task on the plan “{title}” in the state “{state}” was handed over.",
        "add_approver.subject": "You are asked to approve: “{title}”",
        "add_approver.lead": (
            "You were added as an approver of the plan “{title}” in the state “{state}”; "
            "you act on this task of this plan only."
        ),
        "cc.subject": "Copied to you: “{title}”",
        "cc.lead": (
            "You were copied on the plan “{title}” (state “{state}”): you may read it "
            "until it ends; nothing waits for you."
        ),
        "countersign.subject": "Your turn to approve: “{title}”",
        "countersign.lead": (
            "The plan “{title}” in the state “{state}” now waits for your approval."
        ),
        "generic.subject": "News about “{title}”",
        "delegation_starts.subject": "A deputy acts from today (delegation)",
        "delegation_ends.subject": "A delegation has ended",
        "generic.lead": "There is news about the plan “{title}” ({kind}).",
        "digest.subject_one": "Daily summary for {day}: 1 notification",
        "digest.subject_many": "Daily summary for {day}: {count} notifications",
        "digest.lead": "This is what happened in planflow since your last summary:",
        "digest.more": "… and {count} more; open planflow to see them all.",
        "field.state": "State",
        "field.workflow": "Workflow",
        "field.comment": "Comment",
        "field.note": "Note",
        "field.due": "Due",
        "field.level": "Escalation level",
        "field.unit": "Escalated to",
        "link": "Open in planflow: {url}",
        "footer": "You receive this e-mail because of your notification settings in planflow.",
        "user": "User #{id}",
        "untitled": "(untitled plan)",
        "none": "—",
        "sep": ": ",
    },
    "zh": {
        "prefix": "[planflow]",
        "greeting": "{name}，您好：",
        "greeting_anon": "您好：",
        "transition.subject": "计划「{title}」：{action}（{to}）",
        "transition.subject_same": "计划「{title}」：{action}",
        "transition.lead": "{actor}对计划「{title}」执行了“{action}”。",
        "transition.lead_system": "计划「{title}」已由系统自动处理：{action}。",
        "remind.subject": "提醒：计划「{title}」将于{due}到期",
        "remind.subject_nodue": "提醒：计划「{title}」等待您处理",
        "remind.lead": "温馨提醒：计划「{title}」目前处于“{state}”状态，正等待您处理。",
        "escalate.subject": "已超期并上报：计划「{title}」",
        "escalate.lead": (
            "计划「{title}」在“{state}”状态已超过期限，已上报至{unit}（第 {level} 级）。"
        ),
        "escalate.unit_unknown": "上级单位",
        "at_top.subject": "已超期，无上级可上报：计划「{title}」",
        "at_top.lead": (
            "计划「{title}」在{unit}的“{state}”状态已超过期限，上级单位中无人可接收上报，仍由您办理。"
        ),
        "escalated_away.subject": "已超期并上报至上级：计划「{title}」",
        "escalated_away.lead": (
            "计划「{title}」在“{state}”状态已超过期限，已上报至{unit}（第 {level} 级）。"
            "您仍可继续办理。"
        ),
        "draft_ready.subject": "可以提交：计划「{title}」",
        "draft_ready.lead": "计划「{title}」的草稿已列明各项工作及完成时限，请您审阅后提交。",
        "visit_planned.subject": "检查验收日期已确定：计划「{title}」",
        "visit_planned.lead": "计划「{title}」的现场检查验收日期定为 {day}。",
        "visit_planned.unplanned": "计划「{title}」的现场检查验收日期已取消，待重新确定。",
        "transfer.subject": "任务已转交：计划「{title}」",
        "transfer.lead": "计划「{title}」在“{state}”状态的待办任务已转交。",
        "add_approver.subject": "请您审批（加签）：计划「{title}」",
        "add_approver.lead": (
            "您已被加签为计划「{title}」（“{state}”状态）的审批人，仅可办理该计划的这一项任务。"
        ),
        "cc.subject": "抄送给您：计划「{title}」",
        "cc.lead": "计划「{title}」（“{state}”状态）已抄送给您：办结前您可查阅，无需您办理。",
        "countersign.subject": "轮到您审批：计划「{title}」",
        "countersign.lead": "计划「{title}」在“{state}”状态，现等待您审批。",
        "urge.subject": "催办：计划「{title}」",
        "urge.lead": (
            "{actor}催促您办理计划「{title}」，该计划目前处于“{state}”状态，正等待您处理。"
        ),
        "returned.subject": "已退回到“{to}”：计划「{title}」",
        "returned.lead": "{actor}已将计划「{title}」退回到“{to}”环节。",
        "reroute.subject": "待您处理：计划「{title}」",
        "reroute.lead": (
            "计划「{title}」目前处于“{state}”状态，因所属单位在组织架构中调整，现改由{unit}处理，"
            "正等待您办理。"
        ),
        "field.moved_to": "现由",
        "generic.subject": "计划「{title}」有新动态",
        "delegation_starts.subject": "委托今日起生效",
        "delegation_ends.subject": "委托已结束",
        "generic.lead": "计划「{title}」有新的动态（{kind}）。",
        "digest.subject_one": "{day} 每日汇总：共 1 条通知",
        "digest.subject_many": "{day} 每日汇总：共 {count} 条通知",
        "digest.lead": "以下是自上次汇总以来 planflow 中的动态：",
        "digest.more": "……另有 {count} 条，请登录 planflow 查看全部。",
        "field.state": "状态",
        "field.workflow": "流程",
        "field.comment": "意见",
        "field.note": "说明",
        "field.due": "截止时间",
        "field.level": "上报级别",
        "field.unit": "已上报至",
        "link": "在 planflow 中查看：{url}",
        "footer": "您收到此邮件，是因为您在 planflow 中设置了邮件通知。",
        "user": "用户 #{id}",
        "untitled": "（无标题计划）",
        "none": "—",
        "sep": "：",
    },
    "ko": {
        "prefix": "[planflow]",
        "greeting": "{name} 님, 안녕하세요.",
        "greeting_anon": "안녕하세요.",
        "transition.subject": "계획 ‘{title}’: {action} ({to})",
        "transition.subject_same": "계획 ‘{title}’: {action}",
        "transition.lead": "{actor} 님이 계획 ‘{title}’에 대해 ‘{action}’을(를) 처리했습니다.",
        "transition.lead_system": "계획 ‘{title}’이(가) 자동으로 처리되었습니다: {action}.",
        "remind.subject": "알림: 계획 ‘{title}’ 마감 {due}",
        "remind.subject_nodue": "알림: 계획 ‘{title}’이(가) 처리를 기다리고 있습니다",
        "remind.lead": "계획 ‘{title}’이(가) ‘{state}’ 상태에서 처리를 기다리고 있습니다.",
        "escalate.subject": "기한 초과로 상위 보고됨: 계획 ‘{title}’",
        "escalate.lead": (
            "계획 ‘{title}’이(가) ‘{state}’ 상태에서 기한을 넘겨 {unit}(으)로 "
            "상위 보고되었습니다({level}단계)."
        ),
        "escalate.unit_unknown": "상급 단위",
        "at_top.subject": "기한 초과, 상위 보고할 상급 단위 없음: 계획 ‘{title}’",
        "at_top.lead": (
            "계획 ‘{title}’이(가) {unit}의 ‘{state}’ 상태에서 기한을 넘겼지만, 상위 보고를 받을 "
            "상급 단위 담당자가 없어 계속 직접 처리해야 합니다."
        ),
        "escalated_away.subject": "기한 초과로 상급 단위에 보고됨: 계획 ‘{title}’",
        "escalated_away.lead": (
            "계획 ‘{title}’이(가) ‘{state}’ 상태에서 기한을 넘겨 {unit}(으)로 "
            "상위 보고되었습니다({level}단계). 이후에도 계속 직접 처리할 수 있습니다."
        ),
        "draft_ready.subject": "제출 준비 완료: 계획 ‘{title}’",
        "draft_ready.lead": (
            "계획 ‘{title}’의 초안에 항목과 항목별 기한이 모두 입력되었습니다. "
            "검토하신 뒤 제출해 주십시오."
        ),
        "visit_planned.subject": "점검 방문일 확정: 계획 ‘{title}’",
        "visit_planned.lead": "계획 ‘{title}’의 점검 방문일이 {day}(으)로 정해졌습니다.",
        "visit_planned.unplanned": "계획 ‘{title}’의 점검 방문일이 취소되었습니다.",
        "transfer.subject": "업무가 이관되었습니다: 계획 ‘{title}’",
        "transfer.lead": "‘{state}’ 상태인 계획 ‘{title}’의 업무가 이관되었습니다.",
        "add_approver.subject": "결재 요청(결재자 추가): 계획 ‘{title}’",
        "add_approver.lead": (
            "‘{state}’ 상태인 계획 ‘{title}’의 결재자로 추가되었습니다. "
            "이 계획의 이 업무만 처리할 수 있습니다."
        ),
        "cc.subject": "참조로 공유됨: 계획 ‘{title}’",
        "cc.lead": (
            "계획 ‘{title}’(‘{state}’ 상태)이(가) 참조로 공유되었습니다. "
            "종료될 때까지 열람할 수 있으며 처리할 일은 없습니다."
        ),
        "countersign.subject": "결재 차례입니다: 계획 ‘{title}’",
        "countersign.lead": ("‘{state}’ 상태인 계획 ‘{title}’이(가) 결재를 기다리고 있습니다."),
        "urge.subject": "처리 독촉: 계획 ‘{title}’",
        "urge.lead": ("{actor} 님이 ‘{state}’ 상태인 계획 ‘{title}’의 처리를 요청했습니다."),
        "returned.subject": "‘{to}’ 단계로 되돌려짐: 계획 ‘{title}’",
        "returned.lead": "{actor} 님이 계획 ‘{title}’을(를) ‘{to}’ 단계로 되돌렸습니다.",
        "reroute.subject": "처리 대기: 계획 ‘{title}’",
        "reroute.lead": (
            "계획 ‘{title}’의 소속 단위가 조직 구조에서 이동되어, ‘{state}’ 상태의 처리가 "
            "이제 {unit}에 배정되었습니다."
        ),
        "field.moved_to": "현재 담당",
        "generic.subject": "계획 ‘{title}’에 새 소식이 있습니다",
        "delegation_starts.subject": "오늘부터 대리가 시작됩니다",
        "delegation_ends.subject": "대리가 끝났습니다",
        "generic.lead": "계획 ‘{title}’에 새 소식이 있습니다({kind}).",
        "digest.subject_one": "{day} 일일 요약: 알림 1건",
        "digest.subject_many": "{day} 일일 요약: 알림 {count}건",
        "digest.lead": "지난 요약 이후 planflow에서 있었던 일입니다:",
        "digest.more": "… 외 {count}건이 더 있습니다. planflow에서 모두 확인하십시오.",
        "field.state": "상태",
        "field.workflow": "업무 흐름",
        "field.comment": "의견",
        "field.note": "참고",
        "field.due": "마감",
        "field.level": "상위 보고 단계",
        "field.unit": "보고 대상",
        "link": "planflow에서 보기: {url}",
        "footer": "planflow의 알림 설정에 따라 발송된 메일입니다.",
        "user": "사용자 #{id}",
        "untitled": "(제목 없는 계획)",
        "none": "—",
        "sep": ": ",
    },
}

MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
