"""One truth for a lesson's status: the learner's course page and the organisers' report agree; 继续学习 leads to the
first unfinished lesson."""
import pytest
from django.core.exceptions import PermissionDenied

from courses import completion, reports, services
from courses.models import LessonPage
from handbook.services import chapter_mark_read
from tests.factories.courses import make_lesson
from tests.factories.handbook import make_chapter, make_handbook

pytestmark = pytest.mark.django_db


def report_status(course, user, lesson):
    row = next(row for row in completion.course_report_rows(course=course) if row.enrolment.user_id == user.pk)
    return row.status_of(lesson.pk)


def page_status(user, lesson):
    return completion.lesson_state(user=user, lesson=lesson).status


def test_status_rule_is_completed_then_opened_then_not_started():
    assert completion.lesson_status(completed=True, opened=False) == completion.COMPLETED
    assert completion.lesson_status(completed=False, opened=True) == completion.IN_PROGRESS
    assert completion.lesson_status(completed=False, opened=False) == completion.NOT_STARTED


def test_lesson_never_opened_is_not_started_on_page_and_report_even_with_a_chapter_read(
    volunteer, course, enrolled, django_capture_on_commit_callbacks
):
    handbook = make_handbook()
    first, second = make_chapter(handbook, number=1), make_chapter(handbook, number=2)
    lesson = make_lesson(course, slug="chapters", chapters=[first, second])
    with django_capture_on_commit_callbacks(execute=True):
        chapter_mark_read(user=volunteer, chapter=first)
    assert completion.lesson_state(user=volunteer, lesson=lesson).chapters_read == 1
    assert page_status(volunteer, lesson) == completion.NOT_STARTED
    assert report_status(course, volunteer, lesson) == completion.NOT_STARTED


def test_opened_lesson_is_in_progress_on_page_and_report(volunteer, course, reading, enrolled):
    services.lesson_open(user=volunteer, lesson=reading)
    assert page_status(volunteer, reading) == completion.IN_PROGRESS
    assert report_status(course, volunteer, reading) == completion.IN_PROGRESS


def test_completed_lesson_is_completed_on_page_and_report(volunteer, course, reading, enrolled):
    services.lesson_confirm(user=volunteer, lesson=reading)
    assert page_status(volunteer, reading) == completion.COMPLETED
    assert report_status(course, volunteer, reading) == completion.COMPLETED


def test_report_export_writes_the_same_status_words_as_the_page(volunteer, course, reading, quiz, enrolled):
    services.lesson_open(user=volunteer, lesson=reading)
    table = reports.export_table(course)
    row = table.rows[0]
    assert row[table.headers.index(reading.title)] == "进行中"
    assert row[table.headers.index(quiz.title)] == "未开始"


def test_continue_goes_to_the_first_unfinished_lesson_not_the_last_opened(volunteer, course, reading, enrolled):
    second = make_lesson(course, slug="second", title="第二课")
    third = make_lesson(course, slug="third", title="第三课")
    services.lesson_open(user=volunteer, lesson=reading)
    services.lesson_confirm(user=volunteer, lesson=third)  # opened last, and complete
    services.lesson_open(user=volunteer, lesson=second)
    services.lesson_open(user=volunteer, lesson=reading)
    services.lesson_open(user=volunteer, lesson=second)  # seen last
    progress = completion.course_progress(user=volunteer, course=course)
    assert progress.next_lesson.lesson.pk == reading.pk


def test_continue_skips_locked_and_completed_lessons(volunteer, course, reading, enrolled):
    locked = make_lesson(course, slug="locked", title="要先学完", prerequisites=[reading])
    services.lesson_confirm(user=volunteer, lesson=reading)
    progress = completion.course_progress(user=volunteer, course=course)
    assert progress.next_lesson.lesson.pk == locked.pk
    services.lesson_confirm(user=volunteer, lesson=locked)
    assert completion.course_progress(user=volunteer, course=course).next_lesson is None


def test_continue_never_offers_a_locked_lesson(volunteer, course, reading, enrolled):
    make_lesson(course, slug="locked", title="要先学完", prerequisites=[reading])
    services.lesson_open(user=volunteer, lesson=reading)
    progress = completion.course_progress(user=volunteer, course=course)
    assert progress.next_lesson.lesson.pk == reading.pk
    with pytest.raises(PermissionDenied):
        services.lesson_open(user=volunteer, lesson=LessonPage.objects.get(slug="locked"))


def test_live_lesson_attended_in_part_is_in_progress_on_page_and_report(volunteer, course, enrolled):
    session = make_lesson(course, slug="stand-in-session")  # any page stands in for a live session page
    lesson = make_lesson(course, slug="live", kind=LessonPage.Kind.LIVE, live_session=session, minutes_required=30)
    services.live_attendance_record(user=volunteer, session_page_id=session.pk, minutes=20)
    assert page_status(volunteer, lesson) == completion.IN_PROGRESS
    assert report_status(course, volunteer, lesson) == completion.IN_PROGRESS
