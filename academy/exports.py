"""The project's one exporter: a table as CSV (UTF-8 with BOM, for Excel) or XLSX, with spreadsheet formulas neutralised.

Every download of rows (live exports, course reports, rosters, certificates) goes through here, so one rule decides
how a cell is written: local times without zone or microseconds, yes/no in words, text that a spreadsheet would take
for a formula stored as text (a leading = + - @, tab or carriage return gets an apostrophe in front), and characters
that a spreadsheet cannot hold (C0/C1 control characters other than tab and line breaks, lone surrogates) removed, so
that no name or question typed by anybody can make a download fail or run in an organiser's spreadsheet. Text fields
are cleaned when they are typed (academy/text.py); this is the second line of defence for rows stored before that.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What a spreadsheet would start to evaluate: formulas (= + - @) and the tab / carriage return that some programs
# skip before looking for one.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# What XLSX cannot store (openpyxl raises IllegalCharacterError) and UTF-8 cannot encode: C0 controls except tab,
# line feed and carriage return, DEL and the C1 controls, lone surrogates.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)


def _cell(value):
    """A value as a spreadsheet shows it: local times without zone, yes/no in words, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, (int, float, Decimal, date)):
        return value
    return str(value)


def csv_bytes(data: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_sanitise(_cell(h)) for h in data.headers])
    for row in data.rows:
        writer.writerow([
            cell.strftime("%Y-%m-%d %H:%M:%S") if isinstance(cell, datetime) else cell
            for cell in (_sanitise(_cell(v)) for v in row)
        ])
    return "\ufeff".encode("utf-8") + buffer.getvalue().encode("utf-8")


def xlsx_bytes(data: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(data.title)
    sheet.append([_sanitise(_cell(h)) for h in data.headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in data.rows:
        sheet.append([_sanitise(_cell(v)) for v in row])
    for index, header in enumerate(data.headers, start=1):
        values = [header] + [row[index - 1] for row in data.rows[:200]]
        width = max(len(str(_cell(v))) for v in values)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width * 1.6, 10), 60)
        for row_cells in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            for cell in row_cells:
                if isinstance(cell.value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm:ss"
    sheet.freeze_panes = "A2"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _sanitise(value):
    """Text without the characters a spreadsheet cannot hold; text that it would take for a formula stored as text."""
    if not isinstance(value, str):
        return value
    value = _UNSTORABLE.sub("", value)
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _sheet_title(title: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of : \\ / ? * [ ]."""
    cleaned = re.sub(r"[:\\/?*\[\]]", " ", _UNSTORABLE.sub("", str(title))).strip()[:31]
    return cleaned or "Sheet"


def csv_response(data: Table, *, filename: str) -> HttpResponse:
    response = HttpResponse(csv_bytes(data), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(data: Table, *, filename: str) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(data), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response
