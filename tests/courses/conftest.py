"""Course fixtures: a course with a reading lesson, a quiz and a live-attendance lesson.

`volunteer` is enrolled in `course`; `outsider` is not.
"""
import pytest

from courses.models import LessonPage
from tests.factories.courses import enrol, make_course, make_lesson

QUIZ = [
    {"text": "哪一方负责需求评估?", "kind": "single", "choices": [
        {"text": "社会工作者", "correct": True}, {"text": "物业公司", "correct": False}, {"text": "供货商", "correct": False}],
     "explanation": "EXPLANATION-ONE 社工的专业优势在于需求评估。"},
    {"text": "哪些做法能保护居民信息?", "kind": "multiple", "choices": [
        {"text": "名单只用于本次任务", "correct": True}, {"text": "截图转发名单", "correct": False},
        {"text": "用完删除名单", "correct": True}],
     "explanation": "EXPLANATION-TWO 用完即删。"},
]


@pytest.fixture
def course(home):
    return make_course(title="志愿者上岗培训", slug="onboarding")


@pytest.fixture
def reading(course):
    return make_lesson(course, slug="reading", title="上岗之前", kind=LessonPage.Kind.READING)


@pytest.fixture
def quiz(course, reading):
    return make_lesson(course, slug="quiz", title="上岗考核", kind=LessonPage.Kind.QUIZ, questions=QUIZ, pass_mark=60,
                       max_attempts=2)


@pytest.fixture
def enrolled(volunteer, course):
    return enrol(volunteer, course)


def answers(correct=True):
    """A dict answer for QUIZ: all right or all wrong (question id → choice indexes)."""
    from tests.factories.courses import questions_stream
    import json

    ids = [item["id"] for item in json.loads(questions_stream(QUIZ))]
    if correct:
        return {ids[0]: [0], ids[1]: [0, 2]}
    return {ids[0]: [1], ids[1]: [1]}
