import pytest

from courses.models import LessonProgress
from tests.factories.courses import make_course_index

pytestmark = pytest.mark.django_db


def test_catalogue_course_and_lesson_pages_render_for_an_enrolled_learner(client, volunteer, course, reading, quiz, enrolled):
    client.force_login(volunteer)
    assert client.get("/courses/").status_code == 200
    response = client.get(course.url)
    assert response.status_code == 200
    assert "上岗之前" in response.content.decode()
    response = client.get(reading.url)
    assert response.status_code == 200
    assert LessonProgress.objects.filter(user=volunteer, lesson=reading).exists()
    assert client.get("/courses/my/").status_code == 200
    assert client.get(quiz.url).status_code == 200


def test_course_page_reads_in_chinese_with_whole_hours_and_an_enrol_button(client, outsider, course, reading):
    client.force_login(outsider)
    body = client.get(course.url).content.decode()
    assert "认定 2 学时" in body and "报名本课程" in body
    assert "经验与启示" not in body and "课时" in body  # the course's "Lessons", not the handbook's
