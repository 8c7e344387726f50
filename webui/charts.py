"""Bar charts as SVG drawn on the server: no script, no CDN, no inline style.

Owns the drawing only (bars, labels, legends); the caller passes finished
texts in the user's language. Colours come from CSS classes that the page's
stylesheet fills (``static/overview.css``), so the charts obey the site's
Content-Security-Policy. Each chart has a ``<title>`` and a ``<desc>``, each
bar a ``<title>`` with its numbers, and every label is text; the page shows
the same numbers as a table, which is the accessible version. The output is
well-formed XML.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 760
LABEL_WIDTH = 220
BAR_X = 230
BAR_WIDTH = 400
NOTE_X = BAR_X + BAR_WIDTH + 8
ROW = 26
BAR = 18
LEGEND_ROW = 22
FONT = 12  # px, as overview.css sets it; used to estimate text widths
_IDENT = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
_CSS = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


@dataclass(frozen=True)
class Segment:
    css: str  # class that colours it
    label: str
    value: int


@dataclass(frozen=True)
class StackedBar:
    label: str
    segments: tuple[Segment, ...]
    note: str  # written after the bar, e.g. "12 units"


@dataclass(frozen=True)
class Rate:
    css: str
    label: str
    value: float  # 0..1
    text: str  # e.g. "80% (8 of 10)"


@dataclass(frozen=True)
class RateGroup:
    label: str
    rates: tuple[Rate, ...]


def text_width(text: str) -> float:
    """Roughly how wide ``text`` is drawn: wide (CJK) characters count double."""
    return sum(FONT if unicodedata.east_asian_width(c) in "WF" else FONT * 0.6 for c in text)


def fit(text: str, width: float) -> str:
    """``text``, shortened with an ellipsis to fit ``width``."""
    if text_width(text) <= width:
        return text
    out = ""
    for c in text:
        if text_width(out + c + "…") > width:
            break
        out += c
    return out + "…"


def _x(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, body: str, css: str, anchor: str = "start") -> str:
    return (
        f'<text x="{_x(x)}" y="{_x(y)}" class="{css}" text-anchor="{anchor}">{escape(body)}</text>'
    )


def _rect(x: float, y: float, w: float, h: float, css: str) -> str:
    return f'<rect x="{_x(x)}" y="{_x(y)}" width="{_x(w)}" height="{_x(h)}" class="{css}"/>'


def _svg(ident: str, title: str, desc: str, height: float, body: list[str]) -> Markup:
    if not _IDENT.match(ident):
        raise ValueError(f"bad chart id {ident!r}")
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_x(height)}"'
        f' class="chart" id="{ident}" role="img"'
        f' aria-labelledby="{ident}-title {ident}-desc">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _legend(items: Sequence[tuple[str, str]], top: float) -> tuple[list[str], float]:
    """Swatches and labels in rows across the width; returns the parts and the height."""
    parts: list[str] = ['<g class="legend">']
    x, y = 0.0, top
    for css, label in items:
        width = 18 + text_width(label) + 16
        if x and x + width > WIDTH:
            x, y = 0.0, y + LEGEND_ROW
        parts.append(_rect(x, y + 3, 12, 12, f"swatch {_css(css)}"))
        parts.append(_text(x + 18, y + 13, label, "legend-label"))
        x += width
    parts.append("</g>")
    return parts, y - top + LEGEND_ROW + 6


def _css(name: str) -> str:
    if not _CSS.match(name):
        raise ValueError(f"bad CSS class {name!r}")
    return name


def stacked_bars(
    bars: Sequence[StackedBar],
    *,
    ident: str,
    title: str,
    desc: str,
    legend: Sequence[tuple[str, str]],
) -> Markup:
    """One bar per row, its segments as shares of the row's total (100 % stacked)."""
    body, top = _legend(legend, 0)
    for n, bar in enumerate(bars):
        y = top + n * ROW
        total = sum(s.value for s in bar.segments)
        numbers = ", ".join(f"{s.label}: {s.value}" for s in bar.segments if s.value)
        body.append(f'<g class="bar"><title>{escape(bar.label)} — {escape(numbers)}</title>')
        body.append(_text(LABEL_WIDTH, y + 13, fit(bar.label, LABEL_WIDTH), "label", "end"))
        body.append(_rect(BAR_X, y, BAR_WIDTH, BAR, "track"))
        x = float(BAR_X)
        for s in bar.segments:
            if not s.value or not total:
                continue
            w = BAR_WIDTH * s.value / total
            body.append(_rect(x, y, w, BAR, f"seg {_css(s.css)}"))
            if text_width(str(s.value)) + 6 <= w:
                body.append(_text(x + w / 2, y + 13, str(s.value), f"value {s.css}", "middle"))
            x += w
        body.append(_text(NOTE_X, y + 13, bar.note, "note"))
        body.append("</g>")
    return _svg(ident, title, desc, top + len(bars) * ROW + 4, body)


def rate_bars(groups: Sequence[RateGroup], *, ident: str, title: str, desc: str) -> Markup:
    """For each group, its name, then a labelled bar per rate (0 to 100 %) and its text."""
    body: list[str] = []
    thin, gap, y = 12, 4, 0.0
    for group in groups:
        body.append(f'<g class="rates"><title>{escape(group.label)}</title>')
        body.append(_text(0, y + 14, fit(group.label, WIDTH), "group-label"))
        y += 20
        for rate in group.rates:
            share = min(max(rate.value, 0.0), 1.0)
            body.append(f"<g><title>{escape(group.label)} — {escape(rate.label)}: ")
            body.append(f"{escape(rate.text)}</title>")
            body.append(_text(LABEL_WIDTH, y + 10, fit(rate.label, LABEL_WIDTH), "label", "end"))
            body.append(_rect(BAR_X, y, BAR_WIDTH, thin, "track"))
            if share:
                body.append(_rect(BAR_X, y, BAR_WIDTH * share, thin, f"seg {_css(rate.css)}"))
            body.append(_text(BAR_X + BAR_WIDTH * share + 4, y + 10, rate.text, "note"))
            body.append("</g>")
            y += thin + gap
        body.append("</g>")
        y += 8
    return _svg(ident, title, desc, y, body)
