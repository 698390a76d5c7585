"""A learner sees only their own attempts and progress; lessons need an enrolment; locks hold on every request."""
from datetime import timedelta

import pytest
from django.utils import timezone

from courses import services
from courses.models import Enrolment, LessonProgress, QuizAttempt
from tests.factories.courses import enrol, make_lesson

from .conftest import answers

pytestmark = pytest.mark.django_db


def test_another_learner_cannot_open_my_attempt(client, volunteer, outsider, quiz, course, enrolled):
    attempt = services.quiz_attempt_start(user=volunteer, lesson=quiz)
    services.quiz_attempt_submit(user=volunteer, lesson=quiz, attempt_id=attempt.pk, data=answers())
    client.force_login(volunteer)
    assert client.get(quiz.url + "attempts/1/").status_code == 200
    enrol(outsider, course)
    client.force_login(outsider)
    assert client.get(quiz.url + "attempts/1/").status_code == 404
    assert "100%" not in client.get(quiz.url).content.decode()  # my score is not on their quiz page


def test_another_learner_cannot_submit_into_my_open_attempt(client, volunteer, outsider, quiz, course, enrolled):
    attempt = services.quiz_attempt_start(user=volunteer, lesson=quiz)
    enrol(outsider, course)
    client.force_login(outsider)
    data = {"attempt": attempt.pk, **{f"q-{k}": [str(v) for v in vs] for k, vs in answers().items()}}
    client.post(quiz.url + "quiz/submit/", data)
    assert QuizAttempt.objects.get(pk=attempt.pk).submitted_at is None


def test_my_learning_lists_only_my_courses(client, volunteer, outsider, course, reading, enrolled):
    client.force_login(outsider)
    body = client.get("/courses/my/").content.decode()
    assert course.title not in body
    client.force_login(volunteer)
    assert course.title in client.get("/courses/my/").content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client, reading):
    for url in (reading.url, "/courses/my/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_learner_who_is_not_enrolled_is_sent_to_the_course_and_records_nothing(client, outsider, course, reading, quiz):
    client.force_login(outsider)
    response = client.get(reading.url)
    assert response.status_code == 302 and response["Location"] == course.url
    client.post(reading.url + "complete/")
    client.post(quiz.url + "quiz/start/")
    assert not LessonProgress.objects.exists() and not QuizAttempt.objects.exists()


def test_self_enrolment_needs_a_post_and_is_idempotent(client, outsider, course, reading):
    client.force_login(outsider)
    assert client.get(course.url + "enrol/").status_code == 405
    response = client.post(course.url + "enrol/")
    assert response.status_code == 302 and response["Location"] == reading.url
    client.post(course.url + "enrol/")
    assert Enrolment.objects.filter(user=outsider, course=course, source="self").count() == 1


def test_a_locked_lesson_is_refused_on_every_request(client, volunteer, course, reading, enrolled):
    second = make_lesson(course, slug="second", prerequisites=[reading])
    client.force_login(volunteer)
    response = client.get(second.url)
    assert response.status_code == 403
    assert reading.title in response.content.decode()
    assert client.post(second.url + "complete/").status_code == 403
    assert not LessonProgress.objects.filter(lesson=second).exists()
    client.post(reading.url + "complete/")
    assert client.get(second.url).status_code == 200


def test_video_progress_endpoint_validates_and_answers_json(client, volunteer, course, enrolled):
    from courses.models import LessonPage
    from tests.factories.courses import make_video_document

    document = make_video_document()
    video = make_lesson(course, slug="video", kind=LessonPage.Kind.VIDEO, video=document, required_percent=80)
    client.force_login(volunteer)
    post = lambda body: client.post(video.url + "progress/", body, content_type="application/json")  # noqa: E731
    assert post('{"percent": 150}').status_code == 400
    assert post("not json").status_code == 400
    assert post('{"seconds": 0}').status_code == 200
    # Ten minutes (the lesson's estimate, as the file's length is unreadable) have passed since playing started.
    earlier = timezone.now() - timedelta(seconds=600)
    LessonProgress.objects.filter(lesson=video).update(heartbeat_at=timezone.now() - timedelta(seconds=60),
                                                       viewing_started_at=earlier)
    response = post('{"percent": 85}')
    assert response.status_code == 200
    assert response.json()["completed"] is True and response.json()["watched_percent"] == 85
