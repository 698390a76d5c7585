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
