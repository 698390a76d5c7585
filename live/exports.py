"""After the session: the Q&A, the attendance and the registrations as CSV (UTF-8 with BOM, for Excel) or XLSX.

The rows of questions and attendance come from the room's selectors (live/selectors/room.py:
`questions_for_export(session)` and `attendance_for_export(session)`); registrations are this module's own. Each
table is a list of dicts whose keys become the columns, labelled in Chinese by COLUMN_LABELS.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from live.models import Registration

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COLUMN_LABELS = {
    "id": gettext_lazy("ID"),
    "question_id": gettext_lazy("Question ID"),
    "created_at": gettext_lazy("Asked at"),
    "asked_at": gettext_lazy("Asked at"),
    "author": gettext_lazy("Author"),
    "author_username": gettext_lazy("Username"),
    "username": gettext_lazy("Username"),
    "real_name": gettext_lazy("Real name"),
    "name": gettext_lazy("Name"),
    "anonymous": gettext_lazy("Anonymous"),
    "text": gettext_lazy("Question"),
    "topic": gettext_lazy("Agenda topic"),
    "status": gettext_lazy("Status"),
    "votes": gettext_lazy("Votes"),
    "vote_count": gettext_lazy("Votes"),
    "pinned": gettext_lazy("Pinned"),
    "reply": gettext_lazy("Reply"),
    "replied_by": gettext_lazy("Replied by"),
    "answered_at": gettext_lazy("Answered at"),
    "organisation": gettext_lazy("Organisation"),
    "city": gettext_lazy("City"),
    "role": gettext_lazy("Role"),
    "email": gettext_lazy("E-mail"),
    "phone": gettext_lazy("Phone"),
    "minutes": gettext_lazy("Minutes attended"),
    "seconds": gettext_lazy("Seconds attended"),
    "first_seen": gettext_lazy("First joined"),
    "first_joined": gettext_lazy("First joined"),
    "last_seen": gettext_lazy("Last seen"),
    "last_left": gettext_lazy("Last left"),
    "registered": gettext_lazy("Registered"),
    "registered_at": gettext_lazy("Registered at"),
    "cancelled_at": gettext_lazy("Cancelled at"),
    "reminded_at": gettext_lazy("Reminder sent at"),
    "connections": gettext_lazy("Connections"),
}

WHAT = {
    "questions": gettext_lazy("Questions"),
    "attendance": gettext_lazy("Attendance"),
    "registrations": gettext_lazy("Registrations"),
}


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)


def available(session) -> list[dict]:
    """The exports the attendee page offers, with their route suffixes."""
    return [
        {"what": what, "label": label, "csv": f"export/{what}.csv", "xlsx": f"export/{what}.xlsx"}
        for what, label in WHAT.items()
    ]


def _user_columns(user) -> dict:
    return {
        "username": user.username if user else "",
        "real_name": user.real_name if user else "",
        "role": user.get_role_display() if user else "",
        "organisation": user.organisation if user else "",
        "city": user.city if user else "",
    }


def _questions(session) -> list[dict]:
    from live.selectors.room import questions_for_export

    return [
        {
            "id": q.pk,
            "asked_at": q.created_at,
            "real_name": q.author.display_name,
            "username": q.author.username,
            "anonymous": q.anonymous,
            "text": q.text,
            "topic": q.topic.title if q.topic_id else "",
            "status": q.get_status_display(),
            "votes": q.vote_count,
            "pinned": q.pinned,
            "reply": q.reply,
            "replied_by": q.replied_by.display_name if q.replied_by_id else "",
            "answered_at": q.answered_at,
        }
        for q in questions_for_export(session)
    ]


def minutes_by_user(session) -> dict[int, int]:
    """Minutes attended, by user id, for everyone who entered the room (the room's own count)."""
    from live.selectors.room import attendance_for_export

    return {row["user"].pk: row["minutes"] for row in attendance_for_export(session) if row.get("user")}


def _attendance(session) -> list[dict]:
    from live.selectors.room import attendance_for_export

    registered = set(Registration.objects.active().filter(session=session).values_list("user_id", flat=True))
    rows = []
    for row in attendance_for_export(session):
        user = row.get("user")
        rows.append({
            **_user_columns(user),
            "registered": bool(user and user.pk in registered),
            "first_joined": row.get("first_joined"),
            "last_left": row.get("last_left"),
            "connections": row.get("connections"),
            "minutes": row.get("minutes"),
        })
    return rows


def _registrations(session) -> list[dict]:
    registrations = Registration.objects.filter(session=session).select_related("user").order_by("created_at", "pk")
    return [
        {
            "username": r.user.username,
            "real_name": r.user.real_name,
            "role": r.user.get_role_display(),
            "organisation": r.user.organisation,
            "city": r.user.city,
            "email": r.user.email,
            "registered_at": r.created_at,
            "cancelled_at": r.cancelled_at,
            "reminded_at": r.reminded_at,
        }
        for r in registrations
    ]


COLUMNS = {
    "registrations": ["username", "real_name", "role", "organisation", "city", "email", "registered_at",
                      "cancelled_at", "reminded_at"],
    "questions": ["id", "asked_at", "real_name", "username", "anonymous", "text", "topic", "status", "votes",
                  "pinned", "reply", "replied_by", "answered_at"],
    "attendance": ["username", "real_name", "role", "organisation", "city", "registered", "first_joined",
                   "last_left", "connections", "minutes"],
}


def table(session, what: str) -> Table:
    rows = {"registrations": _registrations, "questions": _questions, "attendance": _attendance}[what](session)
    keys = COLUMNS[what]
    return Table(
        title=str(WHAT[what]),
        headers=[str(COLUMN_LABELS.get(key, key)) for key in keys],
        rows=[[row.get(key) for key in keys] for row in rows],
    )


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
    if isinstance(value, (int, float, date)):
        return value
    return str(value)


def csv_bytes(data: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(data.headers)
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
    sheet.title = data.title[:31]
    sheet.append(data.headers)
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
    """Text that a spreadsheet would take for a formula is stored as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def csv_response(data: Table, *, filename: str) -> HttpResponse:
    response = HttpResponse(csv_bytes(data), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(data: Table, *, filename: str) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(data), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response
