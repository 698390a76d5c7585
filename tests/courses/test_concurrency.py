"""Completion is recorded exactly once under concurrent evaluation (double clicks, two tabs, two processes).

Real threads, each with its own database connection, against the real test database (SQLite file or PostgreSQL).
"""
import threading

import pytest
from django.db import connection, connections

from courses import completion, services
from courses.models import Completion, LessonProgress, QuizAttempt
from courses.signals import course_completed
from tests.factories import UserFactory, make_home
from tests.factories.courses import enrol, make_course, make_lesson

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 8


def run_together(target, count=THREADS):
    barrier = threading.Barrier(count)
    errors = []

    def worker():
        try:
            barrier.wait()
            target()
        except Exception as exc:  # reported below: a failed thread must fail the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


@pytest.fixture
def setting():
    make_home()
    user = UserFactory(username="racer")
    course = make_course(slug="race")
    lesson = make_lesson(course, slug="only")
    enrolment = enrol(user, course)
    return user, course, lesson, enrolment


@pytest.fixture
def received():
    calls = []
    lock = threading.Lock()

    def receiver(sender, completion, **kwargs):
        with lock:
            calls.append(completion.pk)

    course_completed.connect(receiver, dispatch_uid="concurrency-receiver")
    yield calls
    course_completed.disconnect(dispatch_uid="concurrency-receiver")


def test_concurrent_confirmations_record_one_completion_and_one_signal(setting, received):
    user, course, lesson, enrolment = setting
    run_together(lambda: services.lesson_confirm(user=user, lesson=lesson))
    assert Completion.objects.filter(enrolment=enrolment).count() == 1
    assert LessonProgress.objects.filter(user=user, lesson=lesson).count() == 1
    assert received == [Completion.objects.get(enrolment=enrolment).pk]


def test_concurrent_evaluations_of_a_complete_course_create_it_once(setting, received):
    user, course, lesson, enrolment = setting
    LessonProgress.objects.create(user=user, lesson=lesson, confirmed_at=enrolment.enrolled_at)
    results = []
    run_together(lambda: results.append(completion.evaluate_course(enrolment=enrolment)[1]))
    assert results.count(True) == 1 and len(results) == THREADS
    assert Completion.objects.count() == 1
    assert len(received) == 1


def test_concurrent_quiz_starts_open_one_attempt(setting):
    user, course, _lesson, _enrolment = setting
    from courses.models import LessonPage

    quiz = make_lesson(course, slug="quiz", kind=LessonPage.Kind.QUIZ)
    run_together(lambda: services.quiz_attempt_start(user=user, lesson=quiz))
    assert QuizAttempt.objects.filter(user=user, lesson=quiz).count() == 1
