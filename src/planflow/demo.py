"""The demo federation: a realistic organisation with plans in every state.

A Chinese city federation of trade unions (清河市总工会), three industry
unions, four branch unions under each; users for every role; one annual plan
per branch, driven through the real workflow (so the demo's audit trail is as
real as production's) to a different state each, and one committee-reviewed
plan. Inspections go as the workflow requires: the inspector scores the sheet,
records the inspection, then finishes it, which accepts the plan or sends it
back for rectification as the sheet says.

Everything people write is in Chinese, as in a real federation: unit names,
people's names, plan titles, items and comments, taken from the seed plans
(April inspection and acceptance, competitions in May, July and September, the
financial check at the end of December). Only the interface language is a
personal choice: most people read it in Chinese, the federation's inspector
(a Korean-Chinese colleague) in Korean and the administrator in English.
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
    ("branch chair / submitter (zh)", "branch1-1.chair"),
    ("union reviewer (zh)", "union1.reviewer"),
    ("committee member, 2 of 3 (zh)", "union1.committee1"),
    ("federation reviewer (zh)", "fed.reviewer"),
    ("federation inspector (ko)", "fed.inspector"),
    ("federation officer (zh)", "fed.officer"),
    ("administrator (en)", "admin"),
)

FEDERATION = "清河市总工会"
#: The unions under the federation, each with its four branch unions.
UNIONS = [
    (
        "union1",
        "清河市城建工会",
        ["市政工程公司工会", "市自来水公司工会", "市园林绿化局工会", "市建筑设计院工会"],
    ),
    (
        "union2",
        "清河市教育工会",
        [
            "清河市第一中学工会",
            "清河市实验小学工会",
            "清河职业技术学院工会",
            "城东区教育局机关工会",
        ],
    ),
    (
        "union3",
        "清河市机械冶金工会",
        ["清河铝厂工会", "清河重型机械厂工会", "清河钢铁公司工会", "清河电机厂工会"],
    ),
]
#: People's names, handed out in order: each union's reviewer and officer, then
#: its branches' drafters and chairs; last union1's committee and inspector.
NAMES = (
    "陈静 周涛 赵丽 孙强 吴刚 郑红 "
    "王芳 刘建国 杨洋 黄志强 朱琳 胡斌 林晓燕 何军 高敏 罗平 梁雪 宋伟 "
    "谢婷 韩磊 唐娟 冯海 许丹 邓超 曹颖 彭勇 曾丽华 萧明 田静 董浩 "
    "潘玉 袁鹏 蒋琴 蔡文 余洁 杜鹏"
)

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
                "第2.1项缺少可衡量的目标，请补充职工书屋的建成数量。",
            ),
        ],
    ),
    (
        "approved",
        [
            ("submit", "chair", None),
            ("start_review", "reviewer", None),
            ("approve", "reviewer", "计划周全，同意。"),
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
            (SCORE, "inspector", "会费收缴率仅96%，请在期限前收齐至100%。"),
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
            (FINISH, "inspector", "达到示范职工之家标准。"),
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
    ("abandoned", [("abandon", "chair", "已并入上级工会计划。")]),
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


def demo_content(year: int) -> PlanContent:
    """A 16-item annual plan in the shape of the seed documents, in Chinese.

    The federation issues one outline and each branch union fills it in, as
    the seed plans do: education and training, the workers' home, women
    workers, culture and sports, organisation and finances.
    """
    Target = tuple[str, str, float, str]
    sections: list[tuple[str, list[tuple[str, int | str, Target | None]]]] = [
        (
            "宣传教育",
            [
                ("组织工会干部学习《工会法》和《企业工会工作条例》", 3, None),
                (
                    "举办法律知识、劳动保护监督检查员和建家基础工作培训班",
                    6,
                    ("举办培训", ">=", 3, "期"),
                ),
                ("开展工会知识竞赛", 10, None),
            ],
        ),
        (
            "职工之家建设",
            [
                ("提升已建职工之家水平，建设职工书屋", 3, None),
                ("深入基层检查验收职工之家", 4, None),
                ("开展集体合同履约满意度测评", 6, ("满意度", ">=", 90, "%")),
                ("督促签订书面劳动合同", 9, ("劳动合同签订率", ">=", 95, "%")),
            ],
        ),
        (
            "女职工工作",
            [
                ("女职工25人以上的单位建立女职工委员会", 5, None),
                ("开展女职工特殊劳动保护专项检查", 11, None),
            ],
        ),
        (
            "文体活动",
            [
                ("举办职工羽毛球比赛", 5, None),
                ("举办职工游泳比赛", 7, None),
                ("举办台球或钓鱼比赛", 9, None),
                ("全年开展职工文体活动", 12, ("文体活动", ">=", 6, "次")),
            ],
        ),
        (
            "组织建设与经费管理",
            [
                ("按期做好工会委员会换届选举", 6, None),
                ("工会会费足额按时收缴", 12, ("会费收缴率", ">=", 100, "%")),
                ("12月底开展工会经费检查评比", date(year, 12, 31).isoformat(), None),
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
        org.add_unit(s, "fed", FEDERATION, None)
        people = [
            ("admin", "系统管理员", "admin", "fed", "en"),
            ("fed.officer", "李伟", "officer", "fed", "zh"),
            ("fed.inspector", "金敏智", "inspector", "fed", "ko"),
            ("fed.reviewer", "张敏", "reviewer", "fed", "zh"),
        ]
        names = iter(NAMES.split())
        for code, name, branches_of in UNIONS:
            org.add_unit(s, code, name, "fed")
            people.append((f"{code}.reviewer", next(names), "reviewer", code, "zh"))
            people.append((f"{code}.officer", next(names), "officer", code, "zh"))
            for j, branch_name in enumerate(branches_of, start=1):
                branch = f"branch{code[-1]}-{j}"
                org.add_unit(s, branch, branch_name, code)
                people.append((f"{branch}.drafter", next(names), "drafter", branch, "zh"))
                people.append((f"{branch}.chair", next(names), "submitter", branch, "zh"))
        people += [
            (f"union1.committee{k}", next(names), "committee", "union1", "zh") for k in (1, 2, 3)
        ]
        people.append(("union1.inspector", next(names), "inspector", "union1", "zh"))
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

    branch_names = {
        f"branch{code[-1]}-{j}": name
        for code, _union, names_of_branches in UNIONS
        for j, name in enumerate(names_of_branches, start=1)
    }
    branches = list(branch_names)
    for branch, (target, path) in zip(branches, DEMO_PATHS, strict=True):
        union = f"union{branch[6]}"
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
            title=f"{branch_names[branch]}{year}年工作计划",
        )
        pf.content.set_content(
            plan_id,
            demo_content(year),
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
        title=f"{branch_names['branch1-2']}{year}年职工之家建设专项计划",
        workflow="committee_plan",
    )
    pf.content.set_content(
        plan_id,
        demo_content(year),
        actor="branch1-2.drafter",
        expected_version=None,
    )
    pf.fire(plan_id, "submit", "branch1-2.chair")
    pf.fire(plan_id, "approve", "union1.committee1", "同意。")
    summary.plans["committee_review"] = summary.plans.get("committee_review", 0) + 1
    return summary
