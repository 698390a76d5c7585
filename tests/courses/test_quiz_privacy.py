"""The answer key never reaches the browser before submission: not in HTML, attributes or JSON."""
import json
import re

import pytest

from courses import services
from courses.models import LessonPage, QuizAttempt
from tests.factories.courses import questions_stream

from .conftest import QUIZ

pytestmark = pytest.mark.django_db
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def quiz_bytes(client, quiz) -> bytes:
    response = client.get(quiz.url)
    assert response.status_code == 200
    return CSRF.sub(b"", response.content)


def flip_answer_key(quiz):
    flipped = [
        {**q, "explanation": q["explanation"].replace("EXPLANATION", "OTHER"),
         "choices": [{**c, "correct": not c["correct"]} for c in q["choices"]]}
        for q in QUIZ
    ]
    flipped[0]["choices"][2]["correct"] = False  # a single-choice question keeps one correct choice
    quiz.questions = questions_stream(flipped)
    quiz.save_revision().publish()


def test_quiz_page_is_byte_identical_whatever_the_answer_key(client, volunteer, quiz, enrolled):
    client.force_login(volunteer)
    client.post(quiz.url + "quiz/start/")
    before = quiz_bytes(client, quiz)
    assert "社会工作者".encode() in before and b'name="q-' in before  # the form is there
    flip_answer_key(LessonPage.objects.get(pk=quiz.pk))
    assert quiz_bytes(client, quiz) == before


def test_no_response_before_submission_carries_correct_flags_or_explanations(client, volunteer, quiz, enrolled):
    client.force_login(volunteer)
    bodies = [client.get(quiz.url).content, client.post(quiz.url + "quiz/start/", follow=True).content]
    bodies.append(client.get(quiz.url).content)
    # A refused submission re-renders the form: still no key.
    attempt = QuizAttempt.objects.get(user=volunteer, lesson=quiz)
    bodies.append(client.post(quiz.url + "quiz/submit/", {"attempt": attempt.pk}).content)
    for body in bodies:
        assert b"EXPLANATION" not in body
        assert b"correct" not in body.lower()
        assert b"is-answer" not in body


def test_explanations_and_answers_are_shown_after_submission(client, volunteer, quiz, enrolled):
    client.force_login(volunteer)
    client.post(quiz.url + "quiz/start/")
    attempt = QuizAttempt.objects.get(user=volunteer, lesson=quiz)
    ids = [q["id"] for q in attempt.layout]
    by_text = {json.loads(questions_stream(QUIZ))[i]["id"]: i for i in range(2)}
    data = {"attempt": attempt.pk}
    for question_id in ids:
        data[f"q-{question_id}"] = ["0"] if by_text[question_id] == 0 else ["0", "2"]
    response = client.post(quiz.url + "quiz/submit/", data, follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0].endswith("/attempts/1/")
    assert "EXPLANATION-ONE" in body and "EXPLANATION-TWO" in body
    assert "100%" in body


def test_a_refused_submission_keeps_the_chosen_answers(client, volunteer, quiz, enrolled):
    client.force_login(volunteer)
    client.post(quiz.url + "quiz/start/")
    attempt = QuizAttempt.objects.get(user=volunteer, lesson=quiz)
    first = attempt.layout[0]["id"]
    response = client.post(quiz.url + "quiz/submit/", {"attempt": attempt.pk, f"q-{first}": ["1"]})
    assert response.status_code == 400
    body = response.content.decode()
    assert "第 1 题还没有作答" not in body and "第 2 题还没有作答" in body  # names the question left out
    assert re.search(rf'name="q-{first}" value="1" checked', body)
    assert QuizAttempt.objects.get(pk=attempt.pk).submitted_at is None
