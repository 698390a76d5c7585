"""Minutes attended in the live room count toward the courses whose live lesson links the session."""
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


def test_the_host_ending_the_session_reports_the_minutes(home, volunteer, moderator, django_capture_on_commit_callbacks):
    session = _session_just_over()
    course = make_course(title="直播课程")
    make_lesson(course, kind="live", live_session=session, minutes_required=30)
    enrol(volunteer, course)
    _attend(session, volunteer, 40)
    with django_capture_on_commit_callbacks(execute=True):
        session_status_set(session=session, moderator=moderator, status="ended")
    assert LiveAttendanceFact.objects.get(user=volunteer, session_page=session).minutes == 40


def test_the_sweep_reports_recent_sessions(home, volunteer):
    session = _session_just_over()
    course = make_course(title="直播课程")
    make_lesson(course, kind="live", live_session=session, minutes_required=30)
    enrol(volunteer, course)
    _attend(session, volunteer, 35)
    call_command("live_sweep_attendance", stdout=open("/dev/null", "w"))
    assert LiveAttendanceFact.objects.get(user=volunteer, session_page=session).minutes == 35
