"""Build the held-out .docx plans (zh_word, ko_word, en_word) with python-docx.

They are written as a union secretary's Word file is: a Title, sections in
Word's heading styles (some with a typed number in the heading, some
without), items numbered by Word itself ("List Number", or a "List
Paragraph" carrying its own numbering, as Word writes when the user presses
the numbering button), and some paragraphs with typed numbers or inline
"第一，…第二，…" / "첫째, … 둘째, …" / "Firstly, …" items. The expected
outlines next to them were written by hand from this text, before the
importer was run on it.

Run from the checkout: ``python tests/data/imports/heldout/make_docx.py``;
the .docx files are committed, so the tests do not need to run this.
"""

from __future__ import annotations

from pathlib import Path

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

HERE = Path(__file__).resolve().parent

# (text, style); style "numbered" is a List Paragraph with Word's own numbering (numPr),
# "bold" is a Normal paragraph in bold, as a heading typed without a heading style.
Paragraphs = list[tuple[str, str | None]]

ZH: Paragraphs = [
    ("某某公司工会2025年工作要点", "Title"),
    (
        "2025年公司工会工作的总体要求是：以党的二十大精神为指导，围绕公司生产经营中心任务，"
        "团结动员广大职工建功立业，切实维护职工合法权益。",
        None,
    ),
    ("一、围绕中心建功立业", "Heading 1"),
    ("深入开展“安康杯”竞赛，职工参与率不低于90%，6月底前完成阶段评比。", "List Number"),
    ("组织职工技能大赛，第二季度举办，参赛人数不少于200人。", "List Number"),
    ("二、维护职工合法权益", "Heading 1"),
    ("召开公司第三届职工代表大会第二次会议，审议集体合同草案，3月完成。", "List Number"),
    ("开展劳动合同专项检查，签订率达到100%，合格率100%，优秀率不低于60%。", "List Number"),
    ("检查结果在公司内网公示，发现的问题限期整改。", None),
    ("关心职工生活", "Heading 1"),
    (
        "第一，做好困难职工帮扶，年底前实现建档困难职工帮扶全覆盖。第二，七月开展夏季送清凉活动。"
        "第三，组织职工健康体检，体检率达到95%。",
        None,
    ),
    ("四、加强工会自身建设", "bold"),
    ("1）完善工会财务制度，每季度开展一次经费审查。", None),
    ("2）加强工会干部培训，全年不少于4次。", None),
    ("3）做好会员信息采集工作，11 月底前完成。", None),
    ("某某公司工会", None),
    ("2025年2月10日", None),
]

KO: Paragraphs = [
    ("○○병원지부 2025년 사업계획", "Title"),
    ("지부 운영위원회 의결 2025. 1. 15.", None),
    ("Ⅰ. 조직 강화", "Heading 1"),
    ("간호 인력 조합원 가입률 80% 이상 달성 (3 월 까지)", "numbered"),
    ("부서별 대의원을 100% 선출한다.", "numbered"),
    ("Ⅱ. 노동조건 개선", "Heading 1"),
    ("교대제 개선 TF를 구성하여 상반기 안에 개선안을 마련한다.", "numbered"),
    ("인력 충원 요구: 간호사 30명 이상, 보조 인력 10명 이상 충원", "numbered"),
    ("조합원 복지", "Heading 1"),
    (
        "첫째, 조합원 자녀 장학금을 2월에 지급한다. 둘째, 경조사비를 인상한다. "
        "셋째, 휴양소를 7 월과 8 월에 운영한다. 넷째, 건강 상담실을 매주 운영한다. "
        "다섯째, 연말 송년회를 12월에 개최한다.",
        None,
    ),
    ("Ⅳ. 교육 및 연대", "Heading 1"),
    ("1. 신입 조합원 교육을 연 4회 이상 실시한다.", None),
    ("2. 지역 연대 활동에 적극 참여한다.", None),
    ("3. 노동절 대회(5 월 1 일)에 조합원 200명 이상 참가한다.", None),
    ("○○병원지부 운영위원회", None),
]

EN: Paragraphs = [
    ("Northfield Hospital Branch: Work Plan 2025", "Title"),
    ("Adopted by the branch committee on 14 January 2025.", None),
    ("Review of 2024", "Heading 1"),
    ("We recruited 85 members in 2024 and won the local pay claim in October.", None),
    ("Turnout at the AGM was 40%, up from 25% the year before.", None),
    ("Plan for 2025", "Heading 1"),
    ("1. Recruitment and organising", "Heading 2"),
    (
        "Run a recruitment drive on every ward in April, reaching at least 95 percent of "
        "new starters.",
        "List Number",
    ),
    ("Elect a steward for each department by the end of June.", "List Number"),
    ("Pay and conditions", "Heading 2"),
    (
        "Submit the 2025 pay claim by the end of February, aiming for an increase of not "
        "less than 5%.",
        "List Number",
    ),
    (
        "Survey members on safe staffing: more than 60% response rate, 100% of wards covered.",
        "List Number",
    ),
    ("The results go to the joint negotiating committee.", None),
    ("III. Health and safety", "Heading 2"),
    ("Firstly, inspect every ward twice a year.", None),
    ("Secondly, train 12 new safety representatives by the end of September.", None),
    ("Thirdly, we may run a stress survey if funds allow.", None),
    ("4. Education and communications", "Heading 2"),
    ("(1) Publish the branch bulletin every two months.", None),
    ("(2) Hold the members' education day in May, July and September.", None),
    ("(3) Send 20 representatives on union courses by the end of December.", None),
    ("Branch Secretary, Northfield Hospital Branch", None),
]


def _numbered(paragraph: Paragraph) -> None:
    """Give a paragraph Word's own list numbering (numId 5 is the template's decimal list)."""
    num_pr = OxmlElement("w:numPr")
    ilvl = OxmlElement("w:ilvl")
    ilvl.set(qn("w:val"), "0")
    num_id = OxmlElement("w:numId")
    num_id.set(qn("w:val"), "5")
    num_pr.append(ilvl)
    num_pr.append(num_id)
    paragraph._p.get_or_add_pPr().append(num_pr)


def build(paragraphs: Paragraphs, path: Path) -> None:
    document = docx.Document()
    for text, style in paragraphs:
        if style == "numbered":
            _numbered(document.add_paragraph(text, style="List Paragraph"))
        elif style == "bold":
            document.add_paragraph().add_run(text).bold = True
        else:
            document.add_paragraph(text, style=style)
    document.core_properties.author = "union secretary"
    document.save(str(path))


if __name__ == "__main__":
    build(ZH, HERE / "zh_word.docx")
    build(KO, HERE / "ko_word.docx")
    build(EN, HERE / "en_word.docx")
