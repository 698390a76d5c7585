import pytest
from django.core.management import call_command

from courses import completion
from courses.models import Completion, CoursePage, Enrolment, LessonPage, LessonProgress, QuizAttempt

pytestmark = pytest.mark.django_db


def counts():
    return [model.objects.count() for model in (CoursePage, LessonPage, Enrolment, Completion, LessonProgress, QuizAttempt)]


def test_demo_volunteer_finished_one_course_and_is_part_way_through_the_other(settings):
    settings.DEBUG = True
    call_command("load_demo", verbosity=0)
    from academy.accounts.models import User

    volunteer = User.objects.get(username="demo-volunteer")
    practice = CoursePage.objects.get(slug="sanshe-online-practice")
    onboarding = CoursePage.objects.get(slug="volunteer-onboarding")
    assert practice.lessons().count() >= 6
    kinds = list(practice.lessons().values_list("kind", flat=True))
    assert kinds.count("quiz") == 2 and "video" in kinds and "live" in kinds
    done = completion.course_progress(user=volunteer, course=onboarding)
    assert done.completion is not None and done.percent == 100
    assert QuizAttempt.objects.filter(user=volunteer, lesson__in=onboarding.lessons(), passed=True).count() == 1
    part = completion.course_progress(user=volunteer, course=practice)
    assert part.completion is None and 0 < part.percent < 100
    assert part.next_lesson.lesson.slug == "three-kinds-of-linkage"  # continue where they left off: the video
    first = practice.lessons().first().specific
    assert first.chapter_links.count() == 1  # linked to the handbook chapter by slug

    before = counts()
    call_command("load_demo", verbosity=0)
    assert counts() == before
