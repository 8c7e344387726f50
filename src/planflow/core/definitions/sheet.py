"""Reading and checking the ``inspection:`` section: the acceptance scoring sheet.

Owns the sheet's format (categories of criteria, grades, targets) and the rules
that keep its arithmetic honest: criteria points add up to their category's
maximum, codes are unique, grades fall strictly and are reachable.
"""

from __future__ import annotations

import math

from yaml.nodes import Node

from planflow.core.definitions.nodes import DURATION_MAX, Reader, join, quote, suggest
from planflow.core.definitions.spec import Category, Criterion, Grade, Label, ScoringSheet, Target

TARGET_OPS = (">=", "<=", "=", ">", "<")


def read_sheet(r: Reader, node: Node, path: str) -> ScoringSheet | None:
    fields = r.mapping(node, path, ("title", "grades", "categories"), ("rectification_days",))
    if fields is None:
        return None
    title = r.get(fields, path, "title", r.label)
    days = r.get(
        fields,
        path,
        "rectification_days",
        lambda n, p: r.integer(n, p, low=1, cap=DURATION_MAX["days"]),
    )
    codes: dict[str, str] = {}  # criterion code -> path of its first use, sheet-wide
    metrics: dict[str, tuple[Label, str]] = {}  # metric -> its label and where it was given
    categories: list[Category | None] = []
    seen_categories: dict[str, str] = {}
    if "categories" in fields:
        entries = r.items(fields["categories"], join(path, "categories"), allow_empty=False)
        for cat_path, cat_node in entries:
            category = _category(r, cat_node, cat_path, codes, metrics)
            if category is not None and category.code in seen_categories:
                r.problems.add(
                    join(cat_path, "code"),
                    f"duplicate category code {quote(category.code)} "
                    f"(first at {seen_categories[category.code]})",
                )
            elif category is not None:
                seen_categories[category.code] = cat_path
            categories.append(category)
    # A total built from broken categories would only mislead the grade checks.
    total = None if None in categories else sum(c.max_score for c in categories if c)
    grades = _grades(r, fields.get("grades"), join(path, "grades"), total)
    if title is None or grades is None or None in categories or not categories:
        return None
    return ScoringSheet(
        title=title,
        categories=tuple(c for c in categories if c),
        grades=grades,
        rectification_days=30 if days is None else days,
    )


def _category(
    r: Reader,
    node: Node,
    path: str,
    codes: dict[str, str],
    metrics: dict[str, tuple[Label, str]],
) -> Category | None:
    fields = r.mapping(node, path, ("code", "title", "max", "criteria"))
    if fields is None:
        return None
    code = r.get(fields, path, "code", r.text)
    title = r.get(fields, path, "title", r.label)
    max_score = r.get(fields, path, "max", r.number)
    criteria: list[Criterion | None] = []
    if "criteria" in fields:
        for cr_path, cr_node in r.items(
            fields["criteria"], join(path, "criteria"), allow_empty=False
        ):
            criterion = _criterion(r, cr_node, cr_path)
            _check_metric_label(r, criterion, cr_path, metrics)
            if criterion is not None and criterion.code in codes:
                r.problems.add(
                    join(cr_path, "code"),
                    f"duplicate criterion code {quote(criterion.code)} "
                    f"(first at {codes[criterion.code]})",
                )
            elif criterion is not None:
                codes[criterion.code] = cr_path
            criteria.append(criterion)
    if None in criteria or code is None or title is None or max_score is None or not criteria:
        return None
    points = sum(c.points for c in criteria if c)
    if not math.isclose(points, max_score):
        r.problems.add(
            join(path, "max"),
            f"criteria points add up to {points:g}, but the category max is {max_score:g}",
        )
    return Category(code, title, max_score, tuple(c for c in criteria if c))


def _check_metric_label(
    r: Reader, criterion: Criterion | None, path: str, metrics: dict[str, tuple[Label, str]]
) -> None:
    """A metric is one thing: every target that labels it must label it alike."""
    target = criterion.target if criterion is not None else None
    if target is None or target.label is None:
        return
    first = metrics.setdefault(target.metric, (target.label, path))
    if first[0] != target.label:
        r.problems.add(
            join(path, "target.label"),
            f"the metric {quote(target.metric)} has another label at {first[1]}; "
            "a metric has one label in a sheet",
        )


def _criterion(r: Reader, node: Node, path: str) -> Criterion | None:
    fields = r.mapping(node, path, ("code", "text", "points"), ("mandatory", "target", "deduction"))
    if fields is None:
        return None
    code = r.get(fields, path, "code", r.text)
    text = r.get(fields, path, "text", r.label)
    points = r.get(fields, path, "points", r.number)
    mandatory = r.get(fields, path, "mandatory", r.boolean)
    target = r.get(fields, path, "target", lambda n, p: _target(r, n, p))
    deduction = r.get(fields, path, "deduction", r.label)
    if code is None or text is None or points is None:
        return None
    return Criterion(code, text, points, bool(mandatory), target, deduction)


def _target(r: Reader, node: Node, path: str) -> Target | None:
    fields = r.mapping(node, path, ("metric", "op", "value"), ("unit", "label"))
    if fields is None:
        return None
    metric = r.get(fields, path, "metric", r.text)
    op = r.get(fields, path, "op", r.text)
    if op is not None and op not in TARGET_OPS:
        # "=>" for ">=" is the usual slip; difflib would suggest ">".
        reversed_op = op[::-1]
        if reversed_op in TARGET_OPS:
            hint = f" (did you mean {quote(reversed_op)}?)"
        else:
            hint = suggest(op, TARGET_OPS)
        r.problems.add(
            join(path, "op"),
            f"unknown target op {quote(op)}{hint}; use one of: {' '.join(TARGET_OPS)}",
        )
        op = None
    value = r.get(fields, path, "value", lambda n, p: r.number(n, p, negative=True))
    unit = r.get(fields, path, "unit", r.text)
    label = r.get(fields, path, "label", r.label)
    if metric is None or op is None or value is None or ("label" in fields and label is None):
        return None
    return Target(metric, op, value, unit or "", label)


def _grades(
    r: Reader, node: Node | None, path: str, total: float | None
) -> tuple[Grade, ...] | None:
    if node is None:
        return None
    grades: list[tuple[str, Grade]] = []
    ok = True
    for grade_path, grade_node in r.items(node, path, allow_empty=False):
        fields = r.mapping(grade_node, grade_path, ("name", "min"), ("label",))
        name = r.get(fields or {}, grade_path, "name", r.name)
        minimum = r.get(fields or {}, grade_path, "min", r.number)
        label = r.get(fields or {}, grade_path, "label", r.label)
        if name is None or minimum is None or ("label" in (fields or {}) and label is None):
            ok = False
            continue
        grades.append((grade_path, Grade(name, label or Label.of(en=name), minimum)))
    names: set[str] = set()
    for index, (grade_path, grade) in enumerate(grades):
        min_path = join(grade_path, "min")
        if grade.name in names:
            r.problems.add(join(grade_path, "name"), f"duplicate grade {quote(grade.name)}")
            ok = False
        names.add(grade.name)
        previous = grades[index - 1][1] if index else None
        if previous is not None and grade.min_score >= previous.min_score:
            r.problems.add(
                min_path,
                f"grades must be listed best first with strictly falling min: "
                f"{grade.min_score:g} is not below {quote(previous.name)} ({previous.min_score:g})",
            )
            ok = False
        if total is not None and grade.min_score > total:
            r.problems.add(
                min_path,
                f"grade {quote(grade.name)} needs {grade.min_score:g}, above the sheet's "
                f"total of {total:g}, so no plan could reach it",
            )
            ok = False
    return tuple(g for _, g in grades) if ok and grades else None
