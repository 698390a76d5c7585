"""Minutes attended become course progress: the live app reports them to courses (live may import courses).

A course's live-attendance lesson counts when the learner attended at least N minutes of its session. The room
records attendance spans on its hot path; turning them into minutes and re-evaluating completion is heavier, so it
happens off that path: when a host ends the session, and on every `live_sweep_attendance` run (cron, every few
minutes), which also covers sessions that end by their schedule. Reports are running totals, so repeating one is
harmless (courses keeps the largest figure).
"""
import logging
import threading
from datetime import timedelta

from django.db import connections
from django.utils import timezone

from courses.models import LessonPage
from courses.services import live_attendance_record
from live.models import AttendanceSpan, LiveSessionPage
from live.selectors.room import attendance_for_export

logger = logging.getLogger(__name__)

RECENT = timedelta(hours=24)


def attendance_report_to_courses(*, session: LiveSessionPage) -> int:
    """Report every attendee's minutes of `session` to the courses that require it; returns how many were sent."""
    if not LessonPage.objects.filter(kind=LessonPage.Kind.LIVE, live_session_id=session.pk).exists():
        return 0
    sent = 0
    for row in attendance_for_export(session):
        if row["user"] is not None and row["minutes"] > 0:
            live_attendance_record(user=row["user"], session_page_id=session.pk, minutes=row["minutes"])
            sent += 1
    return sent


def attendance_report_recent(*, now=None) -> int:
    """Report the sessions whose rooms had anyone in them during the last day (what the sweep runs)."""
    since = (now or timezone.now()) - RECENT
    session_ids = (AttendanceSpan.objects.filter(seen_at__gte=since).values_list("session_id", flat=True).distinct())
    return sum(attendance_report_to_courses(session=session)
               for session in LiveSessionPage.objects.filter(pk__in=list(session_ids)))


def _report_quietly(session_id: int) -> None:
    try:
        session = LiveSessionPage.objects.filter(pk=session_id).first()
        if session is not None:
            attendance_report_to_courses(session=session)
    except Exception:  # noqa: BLE001 - the sweep (live_sweep_attendance) reports the running totals again
        logger.exception("live session %s: reporting attendance to courses failed; the sweep will retry", session_id)
    finally:
        connections.close_all()  # this thread's own database connection


def attendance_report_in_background(*, session_id: int) -> threading.Thread:
    """Report `session_id`'s attendance in a thread of its own (a session that just ended); a failure is logged and
    repaired by the next sweep, since reports are running totals."""
    thread = threading.Thread(target=_report_quietly, args=(session_id,), name=f"live-attendance-{session_id}",
                              daemon=True)
    thread.start()
    return thread
