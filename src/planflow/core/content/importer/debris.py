"""What a plan file holds besides the plan: web-page debris, closings, reviews, introductions.

Plans copied from the web bring the page with them: breadcrumbs ("Work Plan >
Trade Union Work Plan"), "更新时间", "发布 … 阅读 8706", "recommended article",
teasers of other articles cut off with "...", a copyright footer. A plan
often closes with a summing-up ("In short, …", "总之，…") and a signature, and
may follow a review of last year ("总结", "review", "검토"). These are
recognised by the kind of line they are, in the three languages, not by the
documents the importer was tried on. Pure: standard library only.
"""

from __future__ import annotations

import re

from planflow.core.content.importer.shapes import SENTENCE_END, is_heading, unlabelled, width

# A line that is only page furniture: it is dropped wherever it stands.
_DEBRIS = re.compile(
    r"""^(?:
        (?:更新时间|发布时间|发布日期|来源|作者|责任编辑|浏览|阅读|点击)\s*[:：]?.{0,40}
      | 发布\s*[0-9]{4}.{0,40}
      | (?:release|published|posted|updated?)\s*(?:time|date|on)?\s*[:：]\s*[0-9].{0,60}
      | (?:작성일|등록일|수정일|게시일|조회수?)\s*[:：]?\s*[0-9].{0,60}
      | .{0,40}\s阅读\s*[0-9]+\s*$
      | .{0,30}文库\s*[(（]?.{0,12}
      | (?:recommended|related|popular|latest|hot)\s+(?:articles?|posts?|reading)\b.{0,20}
      | (?:相关(?:内容|文章|推荐|阅读)|推荐(?:文章|阅读)|热门(?:文章|推荐)).{0,60}
      | (?:猜你喜欢|上一篇|下一篇).{0,60}
      | (?:관련\s*(?:글|기사)|추천\s*(?:글|기사)|인기\s*(?:글|기사)|이전\s*글|다음\s*글).{0,40}
      | (?:home|首页|홈)\s*[>›»].{0,80}
      | [^>\n0-9%]{1,30}(?:\s[>›»]\s[^>\n0-9%]{1,40}){1,5}
      | .{0,60}(?:下载到电脑|点击下载|免费下载|Word文档下载|download\s+(?:the\s+)?word).{0,3000}
      | (?:share|分享到|扫一扫|print|打印本页)\b.{0,30}
    )$""",
    re.I | re.X,
)
# Past this line the page has nothing of the plan: footers and lists of other pages.
_FOOTER = re.compile(
    r"^(?:copyright|©|版权所有|all rights reserved|.{0,40}ICP备|(?:recommended|popular|related)"
    r"\s+articles?$|相关内容$|相关文章$)",
    re.I,
)
# A teaser of another article: cut off with an ellipsis.
_TEASER = re.compile(r"(?:\.\.\.|…|。。。)\s*$")

# A summing-up after the last point: everything from here on is the plan's closing.
_CLOSING = re.compile(
    r"^(?:in short|in a word|in conclusion|in summary|to sum up|all in all|总之|综上所述?|"
    r"总而言之|总的来说|결론적으로|요컨대|끝으로|마지막으로\s*우리)",
    re.I,
)
# A date line: a signature ("…, March 1", "2023年3月1日", "2023. 3. 1.").
_DATED = re.compile(
    r"(?:[0-9oO○〇零一二三四五六七八九十]{2,4}\s*年\s*[0-9一二三四五六七八九十]{1,2}\s*月"
    r"(?:\s*[0-9一二三四五六七八九十]{1,3}\s*日)?|[0-9]{4}\s*[.-]\s*[0-9]{1,2}\s*[.-]\s*[0-9]{1,2}"
    r"|\b(?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December)\s+[0-9]{1,2}\b|[0-9]{1,2}\s*월\s*[0-9]{1,2}\s*일)\.?\s*$",
    re.I,
)

_REVIEW = re.compile(
    r"总结|回顾|存在的?问题|不足之处|情况概述|完成情况|主要成绩|取得的成绩|工作成效|"
    r"\breview\b|\blooking back\b|\bachievements?\b|\bshortcomings\b|\blast year\b|"
    r"검토|회고|성과|실적|평가|반성|문제점",
    re.I,
)
_PLAN = re.compile(
    r"计划|思路|打算|安排|措施|要点|重点工作|工作任务|"
    r"\bplans?\b|\bnext year\b|\bthis year's work\b|\bmeasures\b|\btasks\b|"
    r"계획|추진\s*과제|추진\s*방향|중점\s*과제|목표",
    re.I,
)
# An introduction that announces the list after it ("…计划如下：", "as follows:").
_ANNOUNCES = re.compile(
    r"(?:如下|以下几个方面|下列|as follows|the following|다음과\s*같(?:이|다))"
    r"[^。.]{0,12}[:：]?\s*$",
    re.I,
)


def is_debris(line: str) -> bool:
    """Page furniture: breadcrumbs, "更新时间", view counts, "recommended article" ..."""
    return bool(_DEBRIS.match(line))


def is_footer(line: str) -> bool:
    """The start of a page's footer: nothing after it belongs to the plan."""
    return bool(_FOOTER.match(line))


def is_teaser(line: str) -> bool:
    """A cut-off preview of another article."""
    return bool(_TEASER.search(line)) and len(line) > 20


def is_closing(line: str) -> bool:
    """A summing-up that closes the plan ("In short, …", "总之，…")."""
    return bool(_CLOSING.match(line))


def is_signature(line: str) -> bool:
    """A short line ending in a date: who wrote the plan and when."""
    return len(line) <= 80 and bool(_DATED.search(line))


def signs_off(line: str) -> bool:
    """A short line with nothing to do in it: a signature ("滨江社区工会") or a slogan ("단결!").

    Only taken as such at the end of a plan, after a finished sentence (``projection``).
    """
    words = line.rstrip("!！ ")
    return 0 < width(words) <= 48 and not SENTENCE_END.search(words)


def looks_review(text: str) -> bool:
    """Words of a review of past work: "总结", "存在的问题", "review", "검토" ..."""
    return bool(_REVIEW.search(text))


def looks_plan(text: str) -> bool:
    """Words of a plan for the work ahead: "计划", "思路", "措施", "plan", "계획" ..."""
    return bool(_PLAN.search(text))


def announces(text: str) -> bool:
    """An introduction ending in "如下：" / "as follows:": the plan's list comes next."""
    return bool(_ANNOUNCES.search(text))


def heads_review(line: str) -> bool:
    """A heading of a review part: "□ 작년 사업 평가", "Part 1. Looking back at 2023"."""
    words = unlabelled(line)
    return is_heading(line) and looks_review(words) and not looks_plan(words)


def heads_plan(line: str) -> bool:
    """A heading of a plan part: "□ 올해 사업 계획", "Part 2. Our plan for 2024"."""
    words = unlabelled(line)
    return is_heading(line) and looks_plan(words) and not looks_review(words)
