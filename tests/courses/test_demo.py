import pytest

from courses import completion
from academy.demo import ensure_demo_users
from courses.demo import load_demo as courses_demo
from courses.models import Completion, CoursePage, Enrolment, LessonPage, LessonProgress, QuizAttempt

pytestmark = pytest.mark.django_db


def counts():
    return [model.objects.count() for model in (CoursePage, LessonPage, Enrolment, Completion, LessonProgress, QuizAttempt)]


def load(users):
    """The demo steps courses builds on (home, handbook) and its own; the full command is the lead's to test."""
    from academy import demo as home
    from handbook import demo as handbook

    for step in (home.load_demo, handbook.load_demo, courses_demo):
        step(users=users, log=lambda message: None)


def test_demo_volunteer_finished_one_course_and_is_part_way_through_the_other(django_capture_on_commit_callbacks):
    users = ensure_demo_users("demo-pass-123")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        load(users)
    volunteer = users["demo-volunteer"]
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

    assert callbacks  # course_completed (and the handbook's chapter_read) went out after commit

    before = counts()
    load(users)
    assert counts() == before
