"""Completion rules: each lesson kind counts from its facts; a course completes by its rule, exactly once."""
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from courses import completion, services
from courses.models import Completion, CoursePage, LessonPage, LessonProgress, LiveAttendanceFact, QuizAttempt
from courses.signals import course_completed
from handbook.services import chapter_mark_read
from tests.factories.courses import enrol, make_course, make_lesson
from tests.factories.handbook import make_chapter, make_handbook

from .conftest import answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    calls = []

    def receiver(sender, completion, **kwargs):
        calls.append((sender, completion.pk))

    course_completed.connect(receiver, dispatch_uid="test-receiver")
    yield calls
    course_completed.disconnect(dispatch_uid="test-receiver")


def status(user, lesson):
    return completion.lesson_state(user=user, lesson=lesson).status


def pass_quiz(user, quiz, correct=True):
    attempt = services.quiz_attempt_start(user=user, lesson=quiz)
    return services.quiz_attempt_submit(user=user, lesson=quiz, attempt_id=attempt.pk, data=answers(correct))


def test_reading_lesson_counts_when_its_text_is_marked_read(volunteer, reading, enrolled):
    assert status(volunteer, reading) == completion.NOT_STARTED
    services.lesson_open(user=volunteer, lesson=reading)
    assert status(volunteer, reading) == completion.IN_PROGRESS
    services.lesson_confirm(user=volunteer, lesson=reading)
    assert status(volunteer, reading) == completion.COMPLETED
    assert LessonProgress.objects.get(user=volunteer, lesson=reading).completed_at is not None


def test_reading_lesson_with_chapters_counts_only_when_every_chapter_is_read_in_the_handbook(
    volunteer, course, enrolled, django_capture_on_commit_callbacks
):
    handbook = make_handbook()
    first, second = make_chapter(handbook, number=1), make_chapter(handbook, number=2)
    lesson = make_lesson(course, slug="chapters", chapters=[first, second])
    services.lesson_confirm(user=volunteer, lesson=lesson)
    assert status(volunteer, lesson) == completion.IN_PROGRESS
    with django_capture_on_commit_callbacks(execute=True):
        chapter_mark_read(user=volunteer, chapter=first)
    assert completion.lesson_state(user=volunteer, lesson=lesson).chapters_read == 1
    assert status(volunteer, lesson) == completion.IN_PROGRESS
    with django_capture_on_commit_callbacks(execute=True):
        chapter_mark_read(user=volunteer, chapter=second)
    # The handbook's chapter_read signal recorded the lesson as complete, with no further request to courses.
    assert LessonProgress.objects.get(user=volunteer, lesson=lesson).completed_at is not None


def test_tracked_video_counts_at_the_required_percentage_and_keeps_the_largest_report(volunteer, course, enrolled):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories.courses import make_video_document

    document = make_video_document()  # unreadable length: the lesson's 10 estimated minutes stand for it
    video = make_lesson(course, slug="video", kind=LessonPage.Kind.VIDEO, video=document, required_percent=80)
    start = timezone.now()
    for second in range(0, 300, 60):  # playing for five minutes, a heartbeat a minute
        services.video_progress_record(user=volunteer, lesson=video, seconds=second, now=start + timedelta(seconds=second))
    services.video_progress_record(user=volunteer, lesson=video, percent=50, now=start + timedelta(seconds=300))
    assert status(volunteer, video) == completion.IN_PROGRESS
    services.video_progress_record(user=volunteer, lesson=video, percent=30, now=start + timedelta(seconds=310))
    assert LessonProgress.objects.get(user=volunteer, lesson=video).watched_percent == 50
    services.video_progress_record(user=volunteer, lesson=video, percent=70, now=start + timedelta(seconds=420))
    services.video_progress_record(user=volunteer, lesson=video, percent=80, now=start + timedelta(seconds=480))
    assert status(volunteer, video) == completion.COMPLETED
    with pytest.raises(ValidationError):
        services.video_progress_record(user=volunteer, lesson=video, percent=101)
    with pytest.raises(ValidationError):  # a tracked video cannot be confirmed by hand
        services.lesson_confirm(user=volunteer, lesson=video)


def test_embedded_video_counts_when_the_learner_confirms_it(volunteer, course, enrolled):
    video = make_lesson(course, slug="embed", kind=LessonPage.Kind.VIDEO, embed_url="https://example.org/v")
    with pytest.raises(ValidationError):  # an embed cannot report percentages
        services.video_progress_record(user=volunteer, lesson=video, percent=100)
    services.lesson_confirm(user=volunteer, lesson=video)
    assert status(volunteer, video) == completion.COMPLETED


def test_quiz_counts_when_an_attempt_passes(volunteer, quiz, enrolled):
    failed = pass_quiz(volunteer, quiz, correct=False)
    assert (failed.score, failed.passed) == (0, False)
    assert status(volunteer, quiz) == completion.IN_PROGRESS
    passed = pass_quiz(volunteer, quiz)
    assert (passed.score, passed.passed, passed.number) == (100, True, 2)
    assert status(volunteer, quiz) == completion.COMPLETED


def test_live_lesson_counts_from_attendance_facts_of_its_session(volunteer, course, enrolled, home):
    session = make_course(slug="stand-in-session")  # any page stands in for a live session page
    lesson = make_lesson(course, slug="live", kind=LessonPage.Kind.LIVE, live_session=session, minutes_required=30)
    services.live_attendance_record(user=volunteer, session_page_id=session.pk, minutes=20)
    assert status(volunteer, lesson) == completion.IN_PROGRESS
    services.live_attendance_record(user=volunteer, session_page_id=session.pk, minutes=10)
    assert LiveAttendanceFact.objects.get(user=volunteer, session_page=session).minutes == 20
    services.live_attendance_record(user=volunteer, session_page_id=session.pk, minutes=30)
    services.live_attendance_record(user=volunteer, session_page_id=session.pk, minutes=30)
    assert LiveAttendanceFact.objects.filter(user=volunteer).count() == 1
    assert status(volunteer, lesson) == completion.COMPLETED
    with pytest.raises(ValidationError):
        services.live_attendance_record(user=volunteer, session_page_id=session.pk, minutes=-1)
    with pytest.raises(ValidationError):
        services.live_attendance_record(user=volunteer, session_page_id=987654, minutes=40)


def test_live_lesson_without_a_linked_session_never_counts(volunteer, course, enrolled):
    lesson = make_lesson(course, slug="unlinked", kind=LessonPage.Kind.LIVE, minutes_required=1)
    assert status(volunteer, lesson) == completion.NOT_STARTED


def test_course_completes_when_every_required_lesson_is_complete_and_signals_once(
    volunteer, course, reading, quiz, enrolled, received, django_capture_on_commit_callbacks
):
    make_lesson(course, slug="optional", required=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.lesson_confirm(user=volunteer, lesson=reading)
    assert not Completion.objects.exists()
    assert completion.course_progress(user=volunteer, course=course).percent == 50
    with django_capture_on_commit_callbacks(execute=True):
        pass_quiz(volunteer, quiz)
    done = Completion.objects.get(enrolment=enrolled)
    assert received == [(Completion, done.pk)]
    with django_capture_on_commit_callbacks(execute=True):
        assert completion.evaluate_course(enrolment=enrolled) == (done, False)
        services.lesson_confirm(user=volunteer, lesson=reading)
    assert received == [(Completion, done.pk)]
    assert completion.course_progress(user=volunteer, course=course).percent == 100


def test_threshold_rule_needs_its_share_of_lessons_and_every_quiz(volunteer, home):
    course = make_course(slug="threshold", completion_rule=CoursePage.CompletionRule.THRESHOLD, completion_threshold=50)
    lessons = [make_lesson(course, slug=f"r{i}") for i in range(3)]
    quiz = make_lesson(course, slug="q", kind=LessonPage.Kind.QUIZ)
    enrolment = enrol(volunteer, course)
    for lesson in lessons:
        services.lesson_confirm(user=volunteer, lesson=lesson)
    assert completion.course_progress(user=volunteer, course=course).percent == 75
    assert not Completion.objects.filter(enrolment=enrolment).exists()  # 75% ≥ 50% but the quiz is not passed
    from tests.factories.courses import DEFAULT_QUESTIONS, questions_stream
    import json

    ids = [item["id"] for item in json.loads(questions_stream(DEFAULT_QUESTIONS))]
    attempt = services.quiz_attempt_start(user=volunteer, lesson=quiz)
    services.quiz_attempt_submit(user=volunteer, lesson=quiz, attempt_id=attempt.pk, data={ids[0]: [0], ids[1]: [0, 2]})
    assert Completion.objects.filter(enrolment=enrolment).exists()


def test_completion_is_sticky_when_an_editor_adds_a_lesson_later(volunteer, course, reading, enrolled):
    services.lesson_confirm(user=volunteer, lesson=reading)
    assert Completion.objects.filter(enrolment=enrolled).exists()
    make_lesson(course, slug="added-later")
    progress = completion.course_progress(user=volunteer, course=course)
    assert progress.is_complete and progress.percent == 100


def test_facts_recorded_before_enrolling_count_when_the_learner_enrols(volunteer, course, home):
    session = make_course(slug="session-stand-in")
    make_lesson(course, slug="live", kind=LessonPage.Kind.LIVE, live_session=session, minutes_required=30)
    services.live_attendance_record(user=volunteer, session_page_id=session.pk, minutes=45)
    enrolment, created = services.enrolment_create(user=volunteer, course=course)
    assert created and Completion.objects.filter(enrolment=enrolment).exists()


def test_prerequisite_locks_a_lesson_on_the_server(volunteer, course, reading, enrolled):
    second = make_lesson(course, slug="second", prerequisites=[reading])
    assert completion.lesson_state(user=volunteer, lesson=second).locked
    with pytest.raises(PermissionDenied):
        services.lesson_confirm(user=volunteer, lesson=second)
    assert not LessonProgress.objects.filter(lesson=second).exists()
    services.lesson_confirm(user=volunteer, lesson=reading)
    assert not completion.lesson_state(user=volunteer, lesson=second).locked
    services.lesson_confirm(user=volunteer, lesson=second)
    assert status(volunteer, second) == completion.COMPLETED


def test_facts_need_an_enrolment(outsider, reading, quiz):
    with pytest.raises(PermissionDenied):
        services.lesson_confirm(user=outsider, lesson=reading)
    with pytest.raises(PermissionDenied):
        services.quiz_attempt_start(user=outsider, lesson=quiz)
    assert not QuizAttempt.objects.exists() and not LessonProgress.objects.exists()


def test_quiz_attempt_limit_and_every_attempt_is_kept(volunteer, quiz, enrolled):
    pass_quiz(volunteer, quiz, correct=False)
    pass_quiz(volunteer, quiz, correct=False)
    with pytest.raises(ValidationError) as error:
        services.quiz_attempt_start(user=volunteer, lesson=quiz)
    assert services.ERROR_NO_ATTEMPTS_LEFT in error.value.messages
    kept = list(QuizAttempt.objects.filter(user=volunteer, lesson=quiz).values_list("number", "score", "passed"))
    assert kept == [(1, 0, False), (2, 0, False)]


def test_quiz_grades_multiple_choice_as_all_or_nothing_and_keeps_answers(volunteer, quiz, enrolled):
    ids = list(answers())
    attempt = services.quiz_attempt_start(user=volunteer, lesson=quiz)
    graded = services.quiz_attempt_submit(
        user=volunteer, lesson=quiz, attempt_id=attempt.pk, data={ids[0]: [0], ids[1]: [0]}  # second half-right
    )
    assert (graded.correct_count, graded.question_count, graded.score, graded.passed) == (1, 2, 50, False)
    assert graded.answers == {ids[0]: [0], ids[1]: [0]}
    # Submitting the same attempt again (a double click) changes nothing.
    again = services.quiz_attempt_submit(user=volunteer, lesson=quiz, attempt_id=attempt.pk, data=answers())
    assert (again.pk, again.score) == (graded.pk, 50)


def test_quiz_refuses_unanswered_and_foreign_choices(volunteer, quiz, enrolled):
    ids = list(answers())
    attempt = services.quiz_attempt_start(user=volunteer, lesson=quiz)
    with pytest.raises(ValidationError) as error:
        services.quiz_attempt_submit(user=volunteer, lesson=quiz, attempt_id=attempt.pk, data={ids[0]: [0]})
    assert error.value.code == "unanswered" and error.value.params["ids"] == [ids[1]]
    with pytest.raises(ValidationError) as error:
        services.quiz_attempt_submit(user=volunteer, lesson=quiz, attempt_id=attempt.pk, data={ids[0]: [0, 1], ids[1]: [0]})
    assert services.ERROR_BAD_ANSWER in error.value.messages
    with pytest.raises(ValidationError):
        services.quiz_attempt_submit(user=volunteer, lesson=quiz, attempt_id=attempt.pk, data={ids[0]: [9], ids[1]: [0]})
    assert QuizAttempt.objects.get(pk=attempt.pk).submitted_at is None


def test_shuffled_attempt_keeps_its_order_until_submitted(volunteer, course, enrolled):
    questions = [
        {"text": f"问题{i}", "kind": "single",
         "choices": [{"text": f"选项{i}-{j}", "correct": j == 0} for j in range(4)]}
        for i in range(8)
    ]
    quiz = make_lesson(course, slug="shuffled", kind=LessonPage.Kind.QUIZ, questions=questions, shuffle=True,
                       max_attempts=0)
    layouts = set()
    for _ in range(4):
        attempt = services.quiz_attempt_start(user=volunteer, lesson=quiz)
        assert services.quiz_attempt_start(user=volunteer, lesson=quiz).layout == attempt.layout  # same attempt
        layouts.add(str(attempt.layout))
        data = {q["id"]: [0] for q in attempt.layout}
        services.quiz_attempt_submit(user=volunteer, lesson=quiz, attempt_id=attempt.pk, data=data)
    assert len(layouts) > 1  # 8! × 4!^8 orders: four equal draws would be a broken shuffle
    assert QuizAttempt.objects.filter(lesson=quiz, passed=True).count() == 4


def test_hours_credited_is_a_decimal(course):
    course.refresh_from_db()
    assert course.hours_credited == Decimal("2.0")


def test_reading_a_linked_chapter_records_nothing_for_a_reader_who_is_not_enrolled(
    outsider, course, django_capture_on_commit_callbacks
):
    handbook = make_handbook()
    chapter = make_chapter(handbook, number=7)
    make_lesson(course, slug="with-chapter", chapters=[chapter], body="")
    with django_capture_on_commit_callbacks(execute=True):
        chapter_mark_read(user=outsider, chapter=chapter)
    assert not LessonProgress.objects.filter(user=outsider).exists()
    enrolment, _ = services.enrolment_create(user=outsider, course=course)
    # The chapter read before enrolling counts once enrolled: the only lesson is complete, and so is the course.
    assert LessonProgress.objects.get(user=outsider).completed_at is not None
    assert Completion.objects.filter(enrolment=enrolment).exists()
