"""After the session: the Q&A, the attendance and the registrations as CSV (UTF-8 with BOM, for Excel) or XLSX.

The rows of questions and attendance come from the room's selectors (live/selectors/room.py:
`questions_for_export(session)` and `attendance_for_export(session)`); registrations are this module's own. Each
table is a list of dicts whose keys become the columns, labelled in Chinese by COLUMN_LABELS.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy

from academy.exports import Table, csv_response, xlsx_response  # noqa: F401  (the views answer through these)
from live.models import Registration

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
