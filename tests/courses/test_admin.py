"""Organisers build courses in the Wagtail admin: the page forms render and a lesson can be created there."""
import pytest
from django.urls import reverse

from courses.models import LessonPage
from tests.factories.courses import make_course, make_lesson

pytestmark = pytest.mark.django_db


def test_course_and_lesson_forms_render_in_the_admin(client, home, organiser, course, quiz):
    other = make_course(slug="other")
    foreign = make_lesson(other, slug="foreign-lesson", title="别的课程的课时")
    client.force_login(organiser)
    for url in (
        reverse("wagtailadmin_pages:add", args=["courses", "lessonpage", course.pk]),
        reverse("wagtailadmin_pages:edit", args=[quiz.pk]),
        reverse("wagtailadmin_pages:edit", args=[course.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert foreign.title not in response.content.decode()  # prerequisites come from the same course only


def test_a_reading_lesson_with_a_prerequisite_is_created_through_the_admin(client, home, organiser, course, reading):
    from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

    client.force_login(organiser)
    data = nested_form_data({
        "title": "第二课", "slug": "second", "kind": "reading", "module": "", "estimated_minutes": 10,
        "required": "on", "body": rich_text("<p>正文</p>"),
        "chapter_links": inline_formset([]), "required_percent": 80, "pass_mark": 60, "max_attempts": 3,
        "answer_reveal": "when_settled", "questions": streamfield([]), "minutes_required": 30,
        "action-publish": "publish",
    })
    data["prerequisites"] = [reading.pk]
    response = client.post(reverse("wagtailadmin_pages:add", args=["courses", "lessonpage", course.pk]), data)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    lesson = LessonPage.objects.get(slug="second")
    assert lesson.live and list(lesson.prerequisites.all()) == [reading]


def test_course_and_lesson_pages_render_as_previews_for_editors(course, quiz, reading):
    for page in (course, quiz, reading):
        response = page.make_preview_request()
        assert response.status_code == 200
        assert page.title in response.render().content.decode()
