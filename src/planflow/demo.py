"""The demo federation: a realistic organisation with plans in every state.

A city federation, three unions, four branch unions under each; users for
every role; one annual plan per branch, driven through the real workflow (so
the demo's audit trail is as real as production's) to a different state each,
and one committee-reviewed plan. Inspections go as the workflow requires:
the inspector scores the sheet, records the inspection, then finishes it,
which accepts the plan or sends it back for rectification as the sheet says.
Plan content follows the seed plans: April inspection and acceptance,
competitions in May, July and September, the financial check at the end of
December.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from planflow.app import Planflow
from planflow.core.content.model import PlanContent
from planflow.core.inspection.scoring import CriterionScore
from planflow.errors import PlanflowError

DEMO_PASSWORD = "planflow-demo"
#: One login per role, as ``planflow run`` prints them: (what they do, username).
DEMO_LOGINS = (
    ("branch drafter (zh)", "branch1-1.drafter"),
    ("branch chair / submitter", "branch1-1.chair"),
    ("union reviewer", "union1.reviewer"),
    ("committee member (2-of-3)", "union1.committee1"),
    ("federation reviewer", "fed.reviewer"),
    ("federation inspector (ko)", "fed.inspector"),
    ("federation officer (zh)", "fed.officer"),
    ("administrator", "admin"),
)

UNIONS = [
    ("union1", "城市建设工会 (Construction Union)"),
    ("union2", "교육 노동조합 (Education Union)"),
    ("union3", "Health Workers' Union"),
]

#: Steps besides the transitions: the inspector scores the whole sheet (the
#: comment, if any, is the note on the dues criterion, which then fails), and
#: finishes the inspection (``InspectionService.finish``: accept or rectify).
SCORE, FINISH = "score", "finish"
#: The criterion a failing demo sheet fails: dues collected, mandatory.
DUES_METRIC = "dues"
#: Where each branch's plan ends up, in order of the branches.
DEMO_PATHS: list[tuple[str, list[tuple[str, str, str | None]]]] = [
    ("draft", []),
    ("submitted", [("submit", "chair", None)]),
    ("under_review", [("submit", "chair", None), ("start_review", "reviewer", None)]),
    (
        "returned",
        [
            ("submit", "chair", None),
            ("start_review", "reviewer", None),
            (
                "return_for_revision",
                "reviewer",
                "Item 2.1 needs a measurable target; add the month for the contest.",
            ),
        ],
    ),
    (
        "approved",
        [
            ("submit", "chair", None),
            ("start_review", "reviewer", None),
            ("approve", "reviewer", "Well prepared."),
        ],
    ),
    (
        "inspection_scheduled",
        [
            ("submit", "chair", None),
            ("start_review", "reviewer", None),
            ("approve", "reviewer", None),
            ("schedule_inspection", "officer", None),
        ],
    ),
    (
        "inspected",
        [
            ("submit", "chair", None),
            ("start_review", "reviewer", None),
            ("approve", "reviewer", None),
            ("schedule_inspection", "officer", None),
            (SCORE, "inspector", None),
            ("inspect", "inspector", None),
        ],
    ),
    (
        "rectification_required",
        [
            ("submit", "chair", None),
            ("start_review", "reviewer", None),
            ("approve", "reviewer", None),
            ("schedule_inspection", "officer", None),
            (SCORE, "inspector", "Dues collection at 96%: bring it to 100% by the due date."),
            ("inspect", "inspector", None),
            (FINISH, "inspector", None),
        ],
    ),
    (
        "accepted",
        [
            ("submit", "chair", None),
            ("start_review", "reviewer", None),
            ("approve", "reviewer", None),
            ("schedule_inspection", "officer", None),
            (SCORE, "inspector", None),
            ("inspect", "inspector", None),
            (FINISH, "inspector", "Model standard."),
        ],
    ),
    (
        "archived",
        [
            ("submit", "chair", None),
            ("start_review", "reviewer", None),
            ("approve", "reviewer", None),
            ("schedule_inspection", "officer", None),
            (SCORE, "inspector", None),
            ("inspect", "inspector", None),
            (FINISH, "inspector", None),
            ("archive", "officer", None),
        ],
    ),
    ("abandoned", [("abandon", "chair", "Merged into the union's plan.")]),
    ("under_review", [("submit", "chair", None), ("start_review", "reviewer", None)]),
]


def score_sheet(pf: Planflow, plan_id: int, inspector: str, dues_note: str | None) -> None:
    """The inspector's column of the whole sheet: full points, or, with ``dues_note``,
    none on the dues criterion (mandatory, so the inspection does not pass)."""
    scores = []
    for c in pf.inspections.sheet(plan_id).criteria():
        dues = c.target is not None and c.target.metric == DUES_METRIC
        if dues_note is not None and dues:
            scores.append(CriterionScore(c.code, inspector_score=0.0, inspector_note=dues_note))
        else:
            scores.append(CriterionScore(c.code, inspector_score=float(c.points)))
    pf.inspections.record_scores(plan_id, scores, actor=inspector)


def demo_content(year: int, lang: str = "en") -> PlanContent:
    """A 16-item annual plan in the shape of the seed documents."""
    zh = lang == "zh"
    ko = lang == "ko"

    def t(en: str, zh_text: str, ko_text: str) -> str:
        return zh_text if zh else ko_text if ko else en

    Target = tuple[str, str, float, str]
    sections: list[tuple[str, list[tuple[str, int | str, Target | None]]]] = [
        (
            t("Education and study", "宣传教育", "교육 및 학습"),
            [
                (
                    t(
                        "Organise study of the union regulations for all cadres",
                        "组织工会干部学习工会条例",
                        "노조 간부 대상 노조 규정 학습",
                    ),
                    3,
                    None,
                ),
                (
                    t(
                        "Hold three large-scale trainings with invited lecturers",
                        "举办三期大型培训",
                        "초빙 강사와 대규모 교육 3회 개최",
                    ),
                    6,
                    ("trainings held", ">=", 3, ""),
                ),
                (
                    t(
                        "Union regulations knowledge contest",
                        "工会条例知识竞赛",
                        "노조 규정 지식 경연",
                    ),
                    10,
                    None,
                ),
            ],
        ),
        (
            t("Workers' home", "职工之家建设", "근로자의 집"),
            [
                (
                    t(
                        "Raise the level of the existing workers' homes",
                        "提升已建职工之家水平",
                        "기존 근로자의 집 수준 향상",
                    ),
                    3,
                    None,
                ),
                (
                    t(
                        "Inspection and acceptance at the grassroots",
                        "深入基层检查验收",
                        "현장 점검 및 승인",
                    ),
                    4,
                    None,
                ),
                (
                    t(
                        "Collective-contract satisfaction survey",
                        "集体合同满意度测评",
                        "단체협약 만족도 조사",
                    ),
                    6,
                    ("satisfaction", ">=", 90, "%"),
                ),
                (
                    t(
                        "Labour contracts signed for all staff",
                        "劳动合同签订",
                        "전 직원 근로계약 체결",
                    ),
                    9,
                    ("signed", ">=", 95, "%"),
                ),
            ],
        ),
        (
            t("Women workers", "女职工工作", "여성 근로자"),
            [
                (
                    t(
                        "Women workers' committee in every union with 25+ women",
                        "女职工25人以上建立女工委",
                        "여성 25명 이상 노조에 여성위원회 구성",
                    ),
                    5,
                    None,
                ),
                (t("Special protection check", "女职工特殊保护检查", "특별 보호 점검"), 11, None),
            ],
        ),
        (
            t("Culture and sports", "文体活动", "문화 및 체육"),
            [
                (t("Badminton competition", "羽毛球比赛", "배드민턴 대회"), 5, None),
                (t("Swimming competition", "游泳比赛", "수영 대회"), 7, None),
                (
                    t("Billiards or fishing competition", "台球或钓鱼比赛", "당구 또는 낚시 대회"),
                    9,
                    None,
                ),
                (
                    t(
                        "Cultural and sports activities in the year",
                        "全年文体活动",
                        "연간 문화·체육 활동",
                    ),
                    12,
                    ("activities", ">=", 6, ""),
                ),
            ],
        ),
        (
            t("Organisation and finances", "组织建设与经费", "조직 및 재정"),
            [
                (
                    t(
                        "Re-elect union committees that are due",
                        "按期换届",
                        "임기 만료 위원회 재선출",
                    ),
                    6,
                    None,
                ),
                (
                    t(
                        "Dues collected in full and on time",
                        "会费足额按时收缴",
                        "조합비 전액 적기 징수",
                    ),
                    12,
                    ("dues collected", ">=", 100, "%"),
                ),
                (
                    t(
                        "Financial check and ranking at the end of December",
                        "12月底经费检查评比",
                        "12월 말 재정 점검 및 순위",
                    ),
                    date(year, 12, 31).isoformat(),
                    None,
                ),
            ],
        ),
    ]
    data = {
        "sections": [
            {
                "title": title,
                "items": [
                    {
                        "text": text,
                        "due": due,
                        **(
                            {
                                "target": {
                                    "metric": tg[0],
                                    "op": tg[1],
                                    "value": tg[2],
                                    "unit": tg[3],
                                }
                            }
                            if tg
                            else {}
                        ),
                    }
                    for text, due, tg in items
                ],
            }
            for title, items in sections
        ]
    }
    return PlanContent.from_dict(data, year=year)


@dataclass
class DemoSummary:
    units: int = 0
    users: int = 0
    plans: dict[str, int] = field(default_factory=dict)
    skipped: bool = False

    def describe(self) -> str:
        if self.skipped:
            return "demo data is already loaded"
        states = ", ".join(f"{k}: {v}" for k, v in sorted(self.plans.items()))
        return f"demo loaded: {self.units} units, {self.users} users, plans by state: {states}"


def load_demo(pf: Planflow, *, year: int | None = None) -> DemoSummary:
    """Create the demo federation through the public API (idempotent)."""
    year = year or pf.clock.now().year
    summary = DemoSummary()
    with pf.session() as s:
        try:
            pf.org_repo.unit_by_code(s, "fed")
            summary.skipped = True
            return summary
        except PlanflowError:
            pass
        org = pf.org_repo
        org.add_unit(s, "fed", "市总工会 City Federation of Trade Unions", None)
        people = [
            ("admin", "Administrator", "admin", "fed", "en"),
            ("fed.officer", "Officer Li Wei 李伟", "officer", "fed", "zh"),
            ("fed.inspector", "Inspector Kim Min-ji 김민지", "inspector", "fed", "ko"),
            ("fed.reviewer", "Reviewer Zhang Min 张敏", "reviewer", "fed", "zh"),
        ]
        for code, name in UNIONS:
            org.add_unit(s, code, name, "fed")
            people.append((f"{code}.reviewer", f"Reviewer of {code}", "reviewer", code, "en"))
            people.append((f"{code}.officer", f"Officer of {code}", "officer", code, "en"))
            for j in range(1, 5):
                branch = f"branch{code[-1]}-{j}"
                org.add_unit(s, branch, f"Branch union {code[-1]}-{j}", code)
                lang = ("zh", "ko", "en")[int(code[-1]) - 1]
                people.append((f"{branch}.drafter", f"Drafter {branch}", "drafter", branch, lang))
                people.append((f"{branch}.chair", f"Chair {branch}", "submitter", branch, lang))
        people += [
            (f"union1.committee{k}", f"Committee member {k}", "committee", "union1", "en")
            for k in (1, 2, 3)
        ]
        people.append(("union1.inspector", "Inspector of union1", "inspector", "union1", "en"))
        known = tuple(sorted({r for spec in pf.registry.all() for r in spec.roles}))
        for username, name, role, unit, lang in people:
            org.add_user(
                s,
                username,
                name,
                email=f"{username}@example.org",
                language=lang,
                password=DEMO_PASSWORD,
            )
            org.assign_role(s, username, role, unit, known_roles=known)
        summary.units = 1 + len(UNIONS) * 5
        summary.users = len(people)

    branches = [f"branch{u}-{j}" for u in (1, 2, 3) for j in range(1, 5)]
    for branch, (target, path) in zip(branches, DEMO_PATHS, strict=True):
        union = f"union{branch[6]}"
        lang = ("zh", "ko", "en")[int(branch[6]) - 1]
        actors = {
            "chair": f"{branch}.chair",
            "reviewer": f"{union}.reviewer",
            "officer": f"{union}.officer",
            "inspector": "union1.inspector" if union == "union1" else "fed.inspector",
        }
        plan_id = pf.create_plan(
            unit_code=branch,
            year=year,
            actor=f"{branch}.drafter",
            title=f"{branch} {year} work plan",
        )
        pf.content.set_content(
            plan_id,
            demo_content(year, lang),
            actor=f"{branch}.drafter",
            expected_version=None,
        )
        for action, who, comment in path:
            if action == SCORE:
                score_sheet(pf, plan_id, actors[who], dues_note=comment)
            elif action == FINISH:
                pf.inspections.finish(plan_id, actor=actors[who], comment=comment)
            else:
                pf.fire(plan_id, action, actors[who], comment)
        summary.plans[target] = summary.plans.get(target, 0) + 1

    plan_id = pf.create_plan(
        unit_code="branch1-2",
        year=year,
        actor="branch1-2.drafter",
        title=f"branch1-2 {year} special plan (committee review)",
        workflow="committee_plan",
    )
    pf.content.set_content(
        plan_id,
        demo_content(year),
        actor="branch1-2.drafter",
        expected_version=None,
    )
    pf.fire(plan_id, "submit", "branch1-2.chair")
    pf.fire(plan_id, "approve", "union1.committee1", "Agreed.")
    summary.plans["committee_review"] = summary.plans.get("committee_review", 0) + 1
    return summary
