import pytest
from django.db import IntegrityError, transaction

from courses.models import Completion, CourseIndexPage, Enrolment, LessonPage
from tests.factories.courses import enrol, make_course, make_course_index, make_lesson

pytestmark = pytest.mark.django_db


def test_course_tree_gives_lessons_urls_under_their_course(home):
    course = make_course(title="志愿者上岗培训", slug="volunteer-onboarding")
    lesson = make_lesson(course, slug="before-you-start")
    assert make_course_index().url == "/courses/"
    assert course.url == "/courses/volunteer-onboarding/"
    assert lesson.url == "/courses/volunteer-onboarding/before-you-start/"
    assert CourseIndexPage.objects.count() == 1


def test_builders_are_idempotent_by_slug(home):
    course = make_course(slug="c1")
    make_lesson(course, slug="l1", kind=LessonPage.Kind.QUIZ)
    assert make_course(slug="c1").pk == course.pk
    make_lesson(course, slug="l1", kind=LessonPage.Kind.QUIZ)
    assert list(course.lessons().values_list("slug", flat=True)) == ["l1"]


def test_one_enrolment_per_user_and_course_and_one_completion_per_enrolment(home, volunteer):
    course = make_course()
    enrolment = enrol(volunteer, course)
    assert enrol(volunteer, course).pk == enrolment.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.create(user=volunteer, course=course)
    Completion.objects.create(enrolment=enrolment)
    with pytest.raises(IntegrityError), transaction.atomic():
        Completion.objects.create(enrolment=enrolment)
