"""Minutes attended in the live room count toward the courses whose live lesson links the session."""
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from courses.models import Completion, LiveAttendanceFact
from live.models import AttendanceSpan
from live.services.attendance import attendance_report_to_courses
from live.services.room import session_status_set
from tests.factories.courses import enrol, make_course, make_lesson
from tests.factories.live import make_live_session

pytestmark = pytest.mark.django_db


def _attend(session, user, minutes):
    start = session.start
    return AttendanceSpan.objects.create(session=session, user=user, connection=f"conn-{user.pk}-{minutes}",
                                         process="p", joined_at=start, left_at=start + timedelta(minutes=minutes),
                                         seen_at=start + timedelta(minutes=minutes))


def _session_just_over():
    now = timezone.now()
    return make_live_session(start=now - timedelta(minutes=90), end=now - timedelta(minutes=5))


def test_enough_minutes_complete_the_live_lesson_and_the_course(home, volunteer, socialworker):
    session = _session_just_over()
    course = make_course(title="直播课程")
    make_lesson(course, kind="live", live_session=session, minutes_required=30)
    enrol(volunteer, course)
    enrol(socialworker, course)
    _attend(session, volunteer, 45)
    _attend(session, socialworker, 10)

    assert attendance_report_to_courses(session=session) == 2

    assert LiveAttendanceFact.objects.get(user=volunteer, session_page=session).minutes == 45
    assert Completion.objects.filter(enrolment__user=volunteer, enrolment__course=course).exists()
    assert not Completion.objects.filter(enrolment__user=socialworker, enrolment__course=course).exists()


def test_a_session_no_course_requires_reports_nothing(home, volunteer):
    session = _session_just_over()
    _attend(session, volunteer, 60)
    assert attendance_report_to_courses(session=session) == 0
    assert not LiveAttendanceFact.objects.exists()


def _wait_for(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "not reported in time"
        time.sleep(0.05)  # poll for the condition until the deadline


@pytest.mark.django_db(transaction=True)
def test_the_host_ending_the_session_reports_the_minutes_in_the_background(home, volunteer, moderator):
    session = _session_just_over()
    course = make_course(title="直播课程")
    make_lesson(course, kind="live", live_session=session, minutes_required=30)
    enrol(volunteer, course)
    _attend(session, volunteer, 40)
    session_status_set(session=session, moderator=moderator, status="ended")
    _wait_for(lambda: LiveAttendanceFact.objects.filter(user=volunteer, session_page=session).exists())
    assert LiveAttendanceFact.objects.get(user=volunteer, session_page=session).minutes == 40


def test_the_sweep_reports_recent_sessions(home, volunteer):
    session = _session_just_over()
    course = make_course(title="直播课程")
    make_lesson(course, kind="live", live_session=session, minutes_required=30)
    enrol(volunteer, course)
    _attend(session, volunteer, 35)
    call_command("live_sweep_attendance", stdout=open("/dev/null", "w"))
    assert LiveAttendanceFact.objects.get(user=volunteer, session_page=session).minutes == 35


@pytest.mark.django_db(transaction=True)
async def test_ending_sends_the_ended_event_first_even_when_reporting_fails(home, moderator, volunteer, monkeypatch):
    from channels.db import database_sync_to_async

    from live.services import attendance
    from tests.factories.live_room import command, receive, receive_until, room_communicator, room_reset, room_shutdown

    def broken(**kwargs):  # a courses side that fails (its database, a bug): only the report may fail
        raise RuntimeError("courses are unavailable")
    monkeypatch.setattr(attendance, "live_attendance_record", broken)
    await room_reset()
    session = await database_sync_to_async(_session_just_over)()

    def link():
        course = make_course(title="直播课程")
        make_lesson(course, kind="live", live_session=session, minutes_required=30)
        _attend(session, volunteer, 40)
    await database_sync_to_async(link)()
    host, _, _ = await room_communicator(session, moderator)
    assert (await receive(host))["type"] == "snapshot"
    answer = await command(host, "session.status", "end", status="ended")
    assert answer == {"type": "ack", "id": "end", "status": "ended"}
    event = await receive_until(host, lambda m: m.get("name") == "session.status")
    assert event["data"]["status"] == "ended"
    await host.disconnect()
    await room_shutdown()
