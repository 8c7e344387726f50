"""The words of the documents planflow writes (.docx), in English, Chinese and Korean.

Owns only the phrase tables; ``plan_writing`` and ``inspection_writing``
fill them in with values already in the reader's language (state and
action names come from the workflow definition, not from here). Every
language has every key (a test checks it); an unknown language reads
English.
"""

from __future__ import annotations

from planflow.core.content.importer.dues import MONTH_NAMES
from planflow.core.content.target_words import TargetWording

LANGUAGES = ("en", "zh", "ko")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "unit": "Unit",
        "year": "Year",
        "state": "State",
        "no_items": "This plan has no items yet.",
        "due": "Due",
        "target": "Target",
        "owner": "Responsible unit",
        "month": "{month_name} {year}",
        "record": "Approval record",
        "record.none": "No decision has been recorded yet.",
        "record.when": "When",
        "record.who": "Who",
        "record.action": "Action",
        "record.state": "State after",
        "record.comment": "Comment",
        "system": "the system",
        "printed": "Written by planflow on {date}.",
        "inspection": "Inspection result",
        "inspection.round": "Inspection round {round}",
        "inspection.inspector": "Inspector",
        "inspection.none": "No inspection has been recorded for this plan.",
        "sheet.criterion": "Criterion",
        "sheet.points": "Points",
        "sheet.self": "Self-assessment",
        "sheet.inspector": "Inspector",
        "sheet.note": "Inspector's note",
        "sheet.total": "Total",
        "outcome": "Outcome",
        "outcome.grade": "Grade",
        "outcome.passed": "Passed",
        "outcome.failed": "Not passed",
        "outcome.pending": "The inspection is not finished yet; the outcome as it stands.",
        "rectification": "Rectification required",
        "rectification.none": "Nothing needs to be rectified.",
        "rectification.due": "To be rectified by {date}.",
        "targets": "The plan's targets",
        "targets.item": "Item",
        "targets.target": "Target",
        "targets.measured": "Measured",
        "targets.state": "Met",
        "targets.met": "met",
        "targets.missed": "not met",
        "targets.none": "no measured value yet",
        "targets.share": "{percent}% of the target",
        "targets.tally": "{met} of {total} targets met",
    },
    "zh": {
        "unit": "单位",
        "year": "年度",
        "state": "状态",
        "no_items": "本计划尚无事项。",
        "due": "完成时间",
        "target": "目标",
        "owner": "责任单位",
        "month": "{year}年{month}月",
        "record": "审批记录",
        "record.none": "尚无审批记录。",
        "record.when": "时间",
        "record.who": "人员",
        "record.action": "操作",
        "record.state": "操作后状态",
        "record.comment": "意见",
        "system": "系统",
        "printed": "由 planflow 于 {date} 生成。",
        "inspection": "检查结果",
        "inspection.round": "第 {round} 轮检查",
        "inspection.inspector": "检查人",
        "inspection.none": "本计划尚无检查记录。",
        "sheet.criterion": "考核项目",
        "sheet.points": "分值",
        "sheet.self": "自评",
        "sheet.inspector": "检查评分",
        "sheet.note": "检查意见",
        "sheet.total": "合计",
        "outcome": "检查结论",
        "outcome.grade": "等级",
        "outcome.passed": "合格",
        "outcome.failed": "不合格",
        "outcome.pending": "检查尚未结束，以下为当前结果。",
        "rectification": "整改事项",
        "rectification.none": "无需整改。",
        "rectification.due": "整改期限：{date}。",
        "targets": "计划的目标",
        "targets.item": "事项",
        "targets.target": "目标",
        "targets.measured": "实测值",
        "targets.state": "是否达标",
        "targets.met": "已达标",
        "targets.missed": "未达标",
        "targets.none": "尚无实测值",
        "targets.share": "达到目标的 {percent}%",
        "targets.tally": "{total} 项目标中已达标 {met} 项",
    },
    "ko": {
        "unit": "단위",
        "year": "연도",
        "state": "상태",
        "no_items": "이 계획에는 아직 항목이 없습니다.",
        "due": "완료 시기",
        "target": "목표",
        "owner": "담당 단위",
        "month": "{year}년 {month}월",
        "record": "승인 기록",
        "record.none": "아직 기록된 결정이 없습니다.",
        "record.when": "일시",
        "record.who": "처리자",
        "record.action": "처리",
        "record.state": "처리 후 상태",
        "record.comment": "의견",
        "system": "시스템",
        "printed": "planflow가 {date}에 작성했습니다.",
        "inspection": "점검 결과",
        "inspection.round": "{round}차 점검",
        "inspection.inspector": "점검자",
        "inspection.none": "이 계획에는 점검 기록이 없습니다.",
        "sheet.criterion": "평가 항목",
        "sheet.points": "배점",
        "sheet.self": "자체 평가",
        "sheet.inspector": "점검 점수",
        "sheet.note": "점검 의견",
        "sheet.total": "합계",
        "outcome": "점검 결론",
        "outcome.grade": "등급",
        "outcome.passed": "통과",
        "outcome.failed": "미통과",
        "outcome.pending": "점검이 아직 끝나지 않았습니다. 현재까지의 결과입니다.",
        "rectification": "시정 사항",
        "rectification.none": "시정할 사항이 없습니다.",
        "rectification.due": "시정 기한: {date}.",
        "targets": "계획의 목표",
        "targets.item": "항목",
        "targets.target": "목표",
        "targets.measured": "측정값",
        "targets.state": "충족 여부",
        "targets.met": "충족",
        "targets.missed": "미충족",
        "targets.none": "측정값 없음",
        "targets.share": "목표의 {percent}%",
        "targets.tally": "목표 {total}개 중 {met}개 충족",
    },
}


def month(language: str, number: int, year: int) -> str:
    """A due month as the reader writes it ("April 2027", "2027年4月", "2027년 4월"); the
    importer reads each back as that month."""
    name = MONTH_NAMES[number - 1]
    return words(language)["month"].format(month=number, month_name=name, year=year)


def target(language: str, wording: TargetWording) -> str:
    """A target as a person writes it in ``language`` ("培训次数不少于 3")."""
    return wording.said(language if language in TEXTS else "en")


def words(language: str) -> dict[str, str]:
    """The phrase table of ``language`` (English for one planflow does not speak)."""
    return TEXTS.get(language, TEXTS["en"])
