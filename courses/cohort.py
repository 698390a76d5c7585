"""Cohort lists: read usernames or phone numbers from an uploaded CSV or XLSX file and match them to users.

A file has one person per row. The first column holds a username or a phone number; a header row (a first cell such
as "username", "用户名", "phone", "手机号") is skipped. Blank rows are ignored. Nothing here writes.
"""
import csv
import io
import re

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from academy.accounts.models import User
from academy.accounts.phones import phone_or_none

MAX_ROWS = 5000
MAX_BYTES = 2 * 1024 * 1024
HEADER_WORDS = {"username", "user", "phone", "mobile", "用户名", "账号", "帐号", "手机", "手机号", "手机号码", "电话"}

ERROR_FILE_TYPE = _("Upload a .csv or .xlsx file.")
ERROR_FILE_TOO_LARGE = _("The file is too large (at most 2 MB).")
ERROR_TOO_MANY_ROWS = _("The file has too many rows (at most 5,000).")
ERROR_UNREADABLE = _("The file could not be read: save it again as CSV (UTF-8) or XLSX.")
ERROR_EMPTY = _("The file has no rows.")
REASON_NO_MATCH = _("No user has this username or phone number.")
REASON_AMBIGUOUS = _("More than one user matches.")
REASON_BAD_VALUE = _("Not a username or phone number.")
REASON_DUPLICATE = _("Listed twice.")

USERNAME_RE = re.compile(r"^[\w.@+-]{1,150}$")


def read_identifiers(upload) -> list[tuple[int, str]]:
    """(row number, first cell) of every non-blank row of an uploaded .csv or .xlsx file, header skipped."""
    name = (upload.name or "").lower()
    if upload.size > MAX_BYTES:
        raise ValidationError(ERROR_FILE_TOO_LARGE)
    data = upload.read()
    if name.endswith(".csv"):
        rows = _csv_rows(data)
    elif name.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    else:
        raise ValidationError(ERROR_FILE_TYPE)
    identifiers = []
    for number, cells in rows:
        value = _cell_text(cells[0]) if cells else ""
        if not value:
            continue
        if not identifiers and value.strip().lower() in HEADER_WORDS:
            continue
        identifiers.append((number, value))
        if len(identifiers) > MAX_ROWS:
            raise ValidationError(ERROR_TOO_MANY_ROWS)
    if not identifiers:
        raise ValidationError(ERROR_EMPTY)
    return identifiers


def _cell_text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():  # a phone number typed into a spreadsheet cell
        cell = int(cell)
    return str(cell).strip().lstrip("\ufeff").strip()


def _csv_rows(data: bytes):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError(ERROR_UNREADABLE)
    try:
        return list(enumerate(csv.reader(io.StringIO(text)), start=1))
    except csv.Error:
        raise ValidationError(ERROR_UNREADABLE)


def _xlsx_rows(data: bytes):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = [(number, list(row)) for number, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
        workbook.close()
    except Exception:  # openpyxl raises many kinds of error for a damaged or foreign file
        raise ValidationError(ERROR_UNREADABLE)
    return rows


def match_users(identifiers: list[tuple[int, str]]) -> list[tuple[int, str, User | None, str]]:
    """(row number, value, user or None, reason) for each identifier; users are active accounts only.

    A value that is a valid phone number (in any written form: spaces, dashes, +86) is matched to the stored E.164
    phone number only, never to a username that happens to look like one; anything else is a username.
    """
    seen: set[int] = set()
    results = []
    for number, value in identifiers:
        phone = phone_or_none(value) if len(value) <= 32 else None
        if phone:
            query = Q(phone=phone)
        elif USERNAME_RE.match(value):
            query = Q(username__iexact=value)
        else:
            results.append((number, value, None, REASON_BAD_VALUE))
            continue
        users = list(User.objects.filter(query, is_active=True).distinct()[:2])
        if not users:
            results.append((number, value, None, REASON_NO_MATCH))
        elif len(users) > 1:
            results.append((number, value, None, REASON_AMBIGUOUS))
        elif users[0].pk in seen:
            results.append((number, value, None, REASON_DUPLICATE))
        else:
            seen.add(users[0].pk)
            results.append((number, value, users[0], ""))
    return results
