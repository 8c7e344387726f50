"""The importer's grammar, rule by rule, without a database (issue 16's conventions)."""

from __future__ import annotations

import pytest

from planflow.core.content.importer import import_text
from planflow.core.content.importer.dues import due_month, targets
from planflow.core.content.items import MAX_TARGETS

YEAR = 2024


def outline(text: str, part: int | None = None) -> list[tuple[str, list[str]]]:
    content = import_text(text, year=YEAR, part=part).content
    return [(s.title, [i.text for i in s.items]) for s in content.sections]


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("Hold the congress in April.", 4),
        ("Audit the accounts by the end of December.", 12),
        ("会费4月收齐", 4),
        ("四月召开职代会", 4),
        ("4 월에 교육을 실시한다", 4),
        ("年底前完成", 12),
        ("上半年完成培训", 6),
        ("第三季度开展检查", 9),
        ("in May, July and September respectively", 9),
        ("Members may join at any time", None),
        ("Join the regional march on 1 May.", 5),  # a day before the month (blind4's miss)
        ("Hold a rally on May Day.", 5),
        ("Stewards may 2 times a year report", None),
        ("每月召开一次例会", None),
        ("培训3个月", None),
        ("学年末进行考核", None),
        ("1 2月", None),  # a stray space inside a number names no month
        ("S0100 13月 0月", None),
    ],
)
def test_due_months_only_where_the_text_names_one(text: str, month: int | None) -> None:
    assert due_month(text) == month


def test_several_targets_in_one_item_in_order() -> None:
    found = targets("100% qualified, more than 60% advanced, 20% model")
    assert [(t["op"], t["value"], t["unit"], t["metric"]) for t in found] == [
        (">=", 100.0, "%", "qualified"),
        (">", 60.0, "%", "advanced"),
        (">=", 20.0, "%", "model"),
    ]
    assert [(t["op"], t["value"], t["unit"]) for t in targets("不少于6次，不低于90%")] == [
        (">=", 6.0, "次"),
        (">=", 90.0, "%"),
    ]
    assert targets("at least 95 percent attendance")[0]["value"] == 95.0


def test_the_importer_keeps_every_target_of_an_item_in_order() -> None:
    result = import_text("一、考核\n1、100%合格，60%以上优秀，20%示范\n", year=YEAR)
    item = result.content.sections[0].items[0]
    assert [(t.op, t.value, t.unit) for t in item.targets] == [
        (">=", 100.0, "%"),
        (">=", 60.0, "%"),
        (">=", 20.0, "%"),
    ]
    assert item.target == item.targets[0]
    assert result.warnings == ()


def test_the_importer_keeps_at_most_the_limit_of_targets_and_says_so() -> None:
    many = "，".join(f"指标{n}达到{n}%" for n in range(1, MAX_TARGETS + 3))
    result = import_text(f"一、考核\n1、{many}\n", year=YEAR)
    assert len(result.content.sections[0].items[0].targets) == MAX_TARGETS
    params = {"item": "1.1", "count": MAX_TARGETS + 2, "max": MAX_TARGETS}
    assert ("too_many_targets", params) in result.warnings


def test_item_numbers_running_across_sections_stay_items() -> None:
    text = "一、学习\n1、学理论\n2、学法律\n二、文体\n3、运动会\n4、读书会\n三、帮扶\n5、走访\n"
    assert outline(text) == [
        ("学习", ["学理论", "学法律"]),
        ("文体", ["运动会", "读书会"]),
        ("帮扶", ["走访"]),
    ]


def test_headings_of_one_level_in_different_styles() -> None:
    text = (
        "I. Organising\n(1) Recruit\n(2) Train\nSecond, Safety\n(3) Inspect\n"
        "3. Education\n(4) Summer school\nIV. Finance\n(5) Audit\n"
    )
    assert [title for title, _ in outline(text)] == [
        "Organising",
        "Safety",
        "Education",
        "Finance",
    ]


def test_inline_enumerations_split_a_paragraph_into_items() -> None:
    assert outline("一、维权\n工作重点：一是签订合同；二是调解争议；三是法律援助。\n") == [
        ("维权", ["签订合同", "调解争议", "法律援助。"])
    ]
    assert outline("1. 복지\n첫째, 건강검진을 실시한다. 둘째, 경조사를 지원한다.\n") == [
        ("복지", ["건강검진을 실시한다.", "경조사를 지원한다."])
    ]
    # Without "一是" the text before "二是" is the first point.
    assert outline("一、安全\n开展安全检查。二是培训监督员。\n")[0][1] == [
        "开展安全检查。",
        "培训监督员。",
    ]


def test_an_item_over_two_paragraphs() -> None:
    assert outline("一、活动\n1、组织读书活动，\n全年不少于4次。\n2、运动会\n") == [
        ("活动", ["组织读书活动，\n全年不少于4次。", "运动会"])
    ]


def test_a_review_before_the_plan_is_skipped() -> None:
    result = import_text(
        "2023年工作总结\n一、主要成绩\n1、发展会员\n二、存在的问题\n1、经费不足\n"
        "三、2024年工作计划\n1、新建工会\n2、培训干部\n",
        year=YEAR,
    )
    assert [s.title for s in result.content.sections] == ["2024年工作计划"]
    review = ["一、主要成绩", "1、发展会员", "二、存在的问题", "1、经费不足"]
    assert [t for r, t in result.skipped if r == "review"] == review


def test_several_plans_in_one_file_offer_the_choice() -> None:
    text = "【篇一】\n一、学习\n1、学理论\n【篇二】\n一、文体\n1、运动会\n2、读书会\n"
    result = import_text(text, year=YEAR)
    assert [(p.number, p.items) for p in result.parts] == [(1, 1), (2, 2)]
    assert result.part == 1 and result.warnings[0] == ("several_plans", {"count": 2, "part": 1})
    assert outline(text, part=2) == [("文体", ["运动会", "读书会"])]


def test_web_page_debris_is_dropped() -> None:
    result = import_text(
        "Work Plan > Trade Union Work Plan\n更新时间:2023-11-22 05:06:01\n"
        "发布 2020-06-26 05:12:28 阅读 8706\n三一文库(工作计划\n"
        "一、学习\n1、学理论\n2、出勤率 > 90%\nrecommended article\npopular articles\n",
        year=YEAR,
    )
    assert [i.text for i in result.content.sections[0].items] == ["学理论", "出勤率 > 90%"]
    assert [r for r, _ in result.skipped].count("debris") == 5


def test_a_restart_under_a_bare_heading_is_a_list_below_it_not_another_plan() -> None:
    text = (
        "First, Recruitment\n1. Visit every depot.\n2. Staff a stall at the fair.\n"
        "Second, Safety\nFirstly, inspect the canteen. Secondly, train two reps.\n"
    )
    result = import_text(text, year=YEAR)
    assert len(result.parts) == 1
    assert outline(text) == [
        ("Recruitment", ["Visit every depot.", "Staff a stall at the fair."]),
        ("Safety", ["inspect the canteen.", "train two reps."]),
    ]
    korean = (
        "첫째, 조직\n가. 가입 운동을 한다.\n둘째, 복지\n첫째, 검진을 한다. 둘째, 상담을 한다.\n"
    )
    assert len(import_text(korean, year=YEAR).parts) == 1
    assert outline(korean)[1] == ("복지", ["검진을 한다.", "상담을 한다."])


def test_a_restart_at_the_top_after_a_point_with_text_is_another_plan() -> None:
    text = (
        "First, recruit in every depot.\nSecond, train safety reps.\n"
        "Plan of the youth committee\nFirst, run a summer school.\nSecond, visit colleges.\n"
    )
    assert len(import_text(text, year=YEAR).parts) == 2
    # After the plan's closing, or after a line that titles the next plan, too.
    closed = "一、学习\n1、学理论。\n二、其它\n总之，我们要努力。\n一、组织\n1、发展团员。\n"
    assert len(import_text(closed, year=YEAR).parts) == 2
    titled = "一、学习\n1、学理论。\n二、其它\n2024年团委工作计划\n一、组织\n1、发展团员。\n"
    assert len(import_text(titled, year=YEAR).parts) == 2
    # A heading with a lead-in sentence still takes the restart as its list.
    lead_in = (
        "First, Organising\n1. Recruit in the depots.\nSecond, Rights\n"
        "We will do two things.\nFirstly, run a pay survey. Secondly, open an advice desk.\n"
    )
    assert len(import_text(lead_in, year=YEAR).parts) == 1


def test_inline_chinese_ordinals_split_a_paragraph_like_korean_ones() -> None:
    text = "一、帮扶\n第一，春节前走访会员。第二，五月办理互助保险。第三，设立爱心驿站。\n"
    assert outline(text) == [("帮扶", ["春节前走访会员。", "五月办理互助保险。", "设立爱心驿站。"])]
    # A sentence ending in a colon before the points only leads in.
    text = "一、维权\n今年做好两件事：\n第一，开展工资协商；第二，设立援助站。\n"
    assert outline(text) == [("维权", ["开展工资协商", "设立援助站。"])]
    # Under an unnumbered lead-in, and "第二次" / "第三季度" are no markers.
    text = "一、民主管理\n重点有两项：第一，召开第二次职代会；第二，第三季度公开厂务。\n"
    assert outline(text) == [("民主管理", ["召开第二次职代会", "第三季度公开厂务。"])]


def test_a_heading_that_wraps_the_whole_plan_is_no_section() -> None:
    text = (
        "一、上年回顾\n全年发展会员300人。\n二、明年安排\n明年将重点抓好以下几项：\n"
        "（一）组织建设\n1、新建工会5家。\n（二）文体活动\n2、五月举办球赛。\n"
    )
    result = import_text(text, year=YEAR)
    assert [s.title for s in result.content.sections] == ["组织建设", "文体活动"]
    assert ("heading", "二、明年安排") in result.skipped
    assert ("introduction", "明年将重点抓好以下几项：") in result.skipped
    # A heading over items (not over sections) is a section.
    assert outline("I. Plan for 2024\n1. Recruit members.\n2. Train reps.\n") == [
        ("Plan for 2024", ["Recruit members.", "Train reps."])
    ]


def test_a_review_set_apart_by_unnumbered_headings_is_skipped_with_its_numbered_lines() -> None:
    text = (
        "Riverside Branch\nPart One: Looking back at 2023\nWe won the pay claim.\n"
        "Second, turnout rose to 40% in May.\nPart Two: Our plan for 2024\n"
        "1. Recruitment\n(1) Visit the depots in March.\n2. Safety\n(2) Inspect the sites.\n"
    )
    result = import_text(text, year=YEAR)
    assert len(result.parts) == 1 and result.parts[0].title == "Our plan for 2024"
    assert outline(text) == [
        ("Recruitment", ["Visit the depots in March."]),
        ("Safety", ["Inspect the sites."]),
    ]
    review = [t for r, t in result.skipped if r == "review"]
    assert review == [
        "Part One: Looking back at 2023",
        "We won the pay claim.",
        "Second, turnout rose to 40% in May.",
    ]
    korean = (
        "□ 작년 사업 평가\n성과가 있었다.\n둘째, 교섭을 마쳤다.\n"
        "□ 올해 사업 계획\n1. 조직\n가. 가입 운동\n"
    )
    assert outline(korean) == [("조직", ["가입 운동"])]
    # After the plan's closing a line with "plan" in it is no new plan heading.
    closed = (
        "Review of 2023\nWe grew.\nPlan for 2024\n1. Recruit in May.\n2. Train reps.\n"
        "In short, we will grow.\nPlan templates for 2025\n"
    )
    assert outline(closed) == [("Plan for 2024", ["Recruit in May.", "Train reps."])]


def test_a_heading_keeps_the_level_of_headings_when_items_could_continue_too() -> None:
    # "4. Finance" continues the items 1.-3. and the headings First/Second/III. alike.
    text = (
        "First, Organising\n1. Recruit in the depots.\n2. Elect stewards.\nSecond, Rights\n"
        "3. Open an advice desk.\nIII. Culture\n(1) Hold a quiz night.\n4. Finance\n"
        "(2) Audit the books.\n"
    )
    assert [title for title, _ in outline(text)] == ["Organising", "Rights", "Culture", "Finance"]
    # "셋째, 교육" continues the inline 첫째/둘째 under "둘째, 복지" and the headings alike.
    korean = (
        "첫째, 조직\n가. 가입 운동을 한다.\n둘째, 복지\n첫째, 검진을 한다. 둘째, 상담을 한다.\n"
        "셋째, 교육\n하나, 간부 교육을 한다.\n"
    )
    assert outline(korean) == [
        ("조직", ["가입 운동을 한다."]),
        ("복지", ["검진을 한다.", "상담을 한다."]),
        ("교육", ["간부 교육을 한다."]),
    ]
    # Items running on into a section with no list yet stay items, short as they are.
    text = "一、学习\n1、学理论。\n2、学法律。\n二、文体\n3、运动会\n"
    assert outline(text) == [("学习", ["学理论。", "学法律。"]), ("文体", ["运动会"])]


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("Run the book club, with no fewer than 8 meetings.", (">=", 8.0, "meetings")),
        ("Hold not less than 6 workshops in the year.", (">=", 6.0, "workshops")),
        ("Visit more than 40 workplaces.", (">", 40.0, "workplaces")),
        ("Recruit 12 stewards or more.", (">=", 12.0, "stewards")),
        ("Help 300 members with their claims.", None),  # a bare count is no target
        ("Keep the office open for over 3 years.", None),  # a duration is not a count
    ],
)
def test_english_counts_with_a_comparator_are_targets(
    text: str, target: tuple[str, float, str] | None
) -> None:
    found = [(t["op"], t["value"], t["unit"]) for t in targets(text)]
    assert (found[0] if found else None) == target


def test_an_english_count_names_what_is_counted() -> None:
    (found,) = targets("Run the reading circle, with at least 5 sessions.")
    assert found["metric"] == "Run the reading circle" and found["unit"] == "sessions"


def test_a_sign_off_after_the_last_item_is_dropped() -> None:
    result = import_text(
        "一、活动\n1、五月举办球赛。\n2、开展读书月活动。\n团结奋进！\n滨江社区工会委员会\n",
        year=YEAR,
    )
    assert [i.text for i in result.content.sections[0].items] == [
        "五月举办球赛。",
        "开展读书月活动。",
    ]
    assert [t for r, t in result.skipped if r == "closing"] == ["团结奋进！", "滨江社区工会委员会"]
    english = (
        "1. Safety\n(1) Inspect the depots.\n(2) Train reps.\nYours in solidarity,\n"
        "Chair, Harbour Branch\n"
    )
    assert outline(english) == [("Safety", ["Inspect the depots.", "Train reps."])]
    # A line that carries on an unfinished sentence is the item's, however short.
    assert outline("1. Safety\n(1) Inspect the depots and\nthe canteen\n") == [
        ("Safety", ["Inspect the depots and\nthe canteen"])
    ]


def test_english_and_korean_page_dates_and_view_counts_are_debris() -> None:
    result = import_text(
        "Posted on: 2023-03-02 Views: 88\n등록일 2023.03.02 | 조회 120\n"
        "1. Safety\n(1) Inspect the depots.\n",
        year=YEAR,
    )
    assert [r for r, _ in result.skipped] == ["debris", "debris"]


def test_an_inline_list_under_a_heading_in_another_style_stays_below_it() -> None:
    # Headings written "First," / "Second," / "3." (one level, two styles); under the
    # third, an inline "First, … Second, …" is its list, not a restart of the headings,
    # and "Fourth," after it continues the headings by its shape.
    text = (
        "II. Our plan\n"
        "First, Organising\n(a) Recruit\n(b) Train\n"
        "Second, Pay\n(c) Bargain\n"
        "3. Safety\n"
        "First, inspect every depot. Second, elect safety representatives.\n"
        "Fourth, Education\n(d) Run a summer school\n"
    )
    assert outline(text) == [
        ("Organising", ["Recruit", "Train"]),
        ("Pay", ["Bargain"]),
        ("Safety", ["inspect every depot.", "elect safety representatives."]),
        ("Education", ["Run a summer school"]),
    ]


def test_an_ordinal_word_inside_a_paragraph_continues_only_its_own_words() -> None:
    # "Secondly," in prose is the writer's own list, not the second Roman heading …
    text = (
        "I. Organising\nRecruit in the depots. Secondly, elect stewards in May.\n"
        "II. Rights\n1. Survey pay.\n2. Open a desk.\n"
    )
    assert outline(text) == [
        ("Organising", ["Recruit in the depots.", "elect stewards in May."]),
        ("Rights", ["Survey pay.", "Open a desk."]),
    ]
    korean = "Ⅰ. 조직\n가입 운동을 한다. 둘째, 간부를 교육한다.\nⅡ. 복지\n1. 검진을 한다.\n"
    assert outline(korean)[0] == ("조직", ["가입 운동을 한다.", "간부를 교육한다."])
    # … while a numeral run into a paragraph is a lost line break, in any style.
    text = (
        "First, recruit in the depots.\nSecond, visit members in April. 3. Train reps in May.\n"
        "Fourth, hold the congress.\n"
    )
    assert [i[:5] for i in outline(text)[0][1]] == ["recru", "visit", "Train", "hold "]


def test_a_numbered_review_then_the_plan_heading_and_a_restart_is_one_plan() -> None:
    # The plan's sections number again from 1 under "II. Plan for …" (after "I. Review …").
    english = (
        "I. Review of 2026\nWe grew by 9 branches. Secondly, pay rose.\nII. Plan for 2027\n"
        "I. Organising\n1. Recruit in the depots in March.\nII. Rights\n2. Survey pay.\n"
    )
    result = import_text(english, year=YEAR)
    assert len(result.parts) == 1 and result.title == "Plan for 2027"
    assert outline(english) == [
        ("Organising", ["Recruit in the depots in March."]),
        ("Rights", ["Survey pay."]),
    ]
    assert [t for r, t in result.skipped if r == "review"] == [
        "I. Review of 2026",
        "We grew by 9 branches. Secondly, pay rose.",
    ]
    chinese = (
        "一、2026年工作回顾\n全年新建工会5家。\n二、2027年工作计划\n重点做好以下工作：\n"
        "一、组织建设\n1、新建工会8家，5月完成。\n二、维权服务\n2、开展工资协商。\n"
    )
    assert len(import_text(chinese, year=YEAR).parts) == 1
    assert outline(chinese) == [
        ("组织建设", ["新建工会8家，5月完成。"]),
        ("维权服务", ["开展工资协商。"]),
    ]
    korean = (
        "1. 2026년 사업 검토\n조직이 커졌다.\n2. 2027년 사업 계획\n"
        "1. 조직 강화\n가. 가입 운동을 한다.\n2. 복지\n나. 검진을 한다.\n"
    )
    assert outline(korean) == [("조직 강화", ["가입 운동을 한다."]), ("복지", ["검진을 한다."])]


def test_a_topic_numbered_on_from_the_review_and_plan_headings_is_a_section_of_the_plan() -> None:
    # "III. Members" could continue "I. Review" / "II. Plan" or "First," / "Second,": a
    # topic is no part of the file, so it is the plan's third section.
    text = (
        "I. Review of 2026\nWe grew.\nII. Plan for 2027\nFirst, Organising\n"
        "1. Recruit in the depots.\nSecond, Rights\n2. Survey pay.\n"
        "III. Members\n(1) Visit members in hardship.\n"
    )
    assert outline(text) == [
        ("Organising", ["Recruit in the depots."]),
        ("Rights", ["Survey pay."]),
        ("Members", ["Visit members in hardship."]),
    ]
    # A part of the file ("三、保障措施") stays beside the plan's heading; the plan's
    # heading over sections only is no empty section of its own.
    chinese = (
        "一、2026年工作回顾\n全年新建工会5家。\n二、2027年工作思路\n（一）组织\n1、新建工会。\n"
        "（二）维权\n2、开展协商。\n三、保障措施\n3、落实经费。\n"
    )
    result = import_text(chinese, year=YEAR)
    assert outline(chinese) == [
        ("组织", ["新建工会。"]),
        ("维权", ["开展协商。"]),
        ("保障措施", ["落实经费。"]),
    ]
    assert ("heading", "二、2027年工作思路") in result.skipped
