"""XLSX downloads: a header row in the reader's language, then the rows, safe to open.

The exports (the plan list, the officers' overview, the audit trail) give
their rows as plain values; this module writes them with openpyxl's
write-only workbook, which streams rows to a temporary file instead of
building every cell in memory. Two rules make the file safe and useful:

- A text that would start a formula (``= + - @``, a tab or a line break
  first, the same list as the CSV's ``csv_cell``) is written as a string
  cell with Excel's "quote prefix", so no spreadsheet runs it, even when
  someone edits the cell later. openpyxl would otherwise store a text
  starting with ``=`` as a formula.
- Moments become real date-times in the reader's time zone (a spreadsheet
  has no time zones), days real dates, numbers numbers: they sort and
  filter as such.

Characters XML 1.0 cannot hold (C0 controls other than tab and line
breaks) are dropped rather than failing the whole download.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask import Response
from flask_babel import to_user_timezone  # type: ignore[import-untyped]
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from planflow.core.text import FORMULA_START

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "yyyy-mm-dd"
MOMENT_FORMAT = "yyyy-mm-dd hh:mm"
#: Excel's limit on a cell's text; longer texts are cut (the CSV and JSON exports keep all).
MAX_CELL = 32_767
_BOLD = Font(bold=True)

Value = str | int | float | bool | date | datetime | None


@dataclass(frozen=True)
class Table:
    """What a download holds: localized headers, rows of plain values, a file name (no suffix)."""

    headers: list[str]
    rows: list[list[Value]]
    name: str


def _cell(sheet: object, value: Value) -> WriteOnlyCell:
    if isinstance(value, datetime):
        local = to_user_timezone(value) if value.tzinfo is not None else value
        cell = WriteOnlyCell(sheet, value=local.replace(tzinfo=None))
        cell.number_format = MOMENT_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if value is None or isinstance(value, bool | int | float):
        return WriteOnlyCell(sheet, value=value)
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))[:MAX_CELL]
    cell = WriteOnlyCell(sheet, value=text)
    if text.startswith(FORMULA_START):
        # Text, never a formula: a string cell, shown and edited as text ("quote prefix").
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def workbook(title: str, headers: Sequence[str], rows: Iterable[Sequence[Value]]) -> bytes:
    """One sheet named ``title``: the header row (bold, frozen), then ``rows``."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=ILLEGAL_CHARACTERS_RE.sub("", title)[:31] or "Sheet")
    sheet.freeze_panes = "A2"
    header = []
    for name in headers:
        cell = _cell(sheet, name)
        cell.font = _BOLD
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_cell(sheet, v) for v in row])
    with tempfile.TemporaryFile() as out:
        book.save(out)
        out.seek(0)
        return out.read()


def download(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype=MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
