"""After a failed attempt the review marks wrong answers and explains, without the answer key, until the quiz is
passed or out of attempts (the quiz's answer_reveal setting); a partial submission names the questions left out."""
import re

import pytest

from courses.models import LessonPage, QuizAttempt
from tests.factories.courses import make_lesson

from .conftest import QUIZ, answers

pytestmark = pytest.mark.django_db


def submit(client, quiz, correct):
    client.post(quiz.url + "quiz/start/")
    attempt = QuizAttempt.objects.get(user__username="volunteer", lesson=quiz, submitted_at__isnull=True)
    data = {"attempt": attempt.pk}
    for question_id, chosen in answers(correct).items():
        data[f"q-{question_id}"] = [str(i) for i in chosen]
    response = client.post(quiz.url + "quiz/submit/", data, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_failed_attempt_with_attempts_left_marks_wrong_answers_and_explains_but_hides_the_key(
    client, volunteer, quiz, enrolled
):
    client.force_login(volunteer)
    body = submit(client, quiz, correct=False)
    assert "EXPLANATION-ONE" in body
    assert body.count("status-wrong") == 2  # both questions marked wrong
    assert "is-answer" not in body
    assert "正确答案" in body and 'data-testid="key-hidden"' in body


def test_key_is_shown_once_the_attempts_are_used_up(client, volunteer, quiz, enrolled):
    client.force_login(volunteer)
    submit(client, quiz, correct=False)
    body = submit(client, quiz, correct=False)  # max_attempts=2: none left
    assert "is-answer" in body
    assert 'data-testid="key-hidden"' not in body
    # And the first attempt's review now shows it too.
    assert "is-answer" in client.get(quiz.url + "attempts/1/").content.decode()


def test_key_is_shown_once_passed(client, volunteer, quiz, enrolled):
    client.force_login(volunteer)
    submit(client, quiz, correct=False)
    body = submit(client, quiz, correct=True)
    assert "is-answer" in body
    assert "is-answer" in client.get(quiz.url + "attempts/1/").content.decode()


def test_quiz_set_to_always_shows_the_key_after_a_failed_attempt(client, volunteer, quiz, enrolled):
    quiz.answer_reveal = LessonPage.AnswerReveal.ALWAYS
    quiz.save_revision().publish()
    client.force_login(volunteer)
    assert "is-answer" in submit(client, quiz, correct=False)


def test_quiz_set_to_never_hides_the_key_even_with_no_attempt_left(client, volunteer, quiz, enrolled):
    quiz.answer_reveal = LessonPage.AnswerReveal.NEVER
    quiz.save_revision().publish()
    client.force_login(volunteer)
    submit(client, quiz, correct=False)
    body = submit(client, quiz, correct=False)
    assert "is-answer" not in body
    assert "EXPLANATION-TWO" in body


def test_partial_submit_names_and_marks_each_unanswered_question_and_keeps_choices(client, volunteer, quiz, enrolled):
    client.force_login(volunteer)
    client.post(quiz.url + "quiz/start/")
    attempt = QuizAttempt.objects.get(user=volunteer, lesson=quiz)
    second = attempt.layout[1]["id"]
    response = client.post(quiz.url + "quiz/submit/", {"attempt": attempt.pk, f"q-{second}": ["0", "2"]})
    assert response.status_code == 400
    body = response.content.decode()
    assert "第 1 题还没有作答" in body
    assert re.search(r'class="question question-unanswered" aria-describedby="unanswered-[^"]+" data-testid="question-1"', body)
    assert 'data-testid="question-2"' in body and not re.search(r'question-unanswered"[^>]*data-testid="question-2"', body)
    assert re.search(rf'name="q-{second}" value="0" checked', body)
    assert re.search(rf'name="q-{second}" value="2" checked', body)


def test_submit_with_nothing_answered_names_every_question(client, volunteer, quiz, enrolled):
    client.force_login(volunteer)
    client.post(quiz.url + "quiz/start/")
    attempt = QuizAttempt.objects.get(user=volunteer, lesson=quiz)
    body = client.post(quiz.url + "quiz/submit/", {"attempt": attempt.pk, "q-not-a-question": ["x"]}).content.decode()
    assert "第 1、2 题还没有作答" in body


def test_multiple_choice_hint_is_not_repeated_when_the_question_says_so(client, volunteer, course, enrolled):
    quiz = make_lesson(course, slug="hinted", kind=LessonPage.Kind.QUIZ, questions=[
        {**QUIZ[1], "text": "哪些做法能保护居民信息？（多选）"},
        {**QUIZ[1], "text": "哪些做法不对？"},
    ])
    client.force_login(volunteer)
    client.post(quiz.url + "quiz/start/")
    body = client.get(quiz.url).content.decode()
    assert body.count("可多选") == 1
    assert "(可多选)" not in body
