"""Course builders (courses/builders.py) and demo step (courses/demo.py) under the names tests import, and
`enrol(user, course)`, a row shortcut only tests use (the demo enrols through courses.services).

`make_course_index()` / `make_course()` without a parent build the home page first when a flushed
(transactional) database lacks it.
"""
from courses.builders import (  # noqa: F401  (re-exported)
    DEFAULT_QUESTIONS,
    grant_organiser_permissions,
    make_lesson,
    make_video_document,
    questions_stream,
)
from courses.builders import make_course as _make_course
from courses.builders import make_course_index as _make_course_index
from courses.demo import (  # noqa: F401  (re-exported)
    DEMO_VIDEO_FILE,
    DEMO_VOLUNTEER_WATCHED,
    build_demo_course,
    demo_video_document,
    demo_video_label,
    demo_video_seconds,
    load_demo,
)
from courses.models import CourseIndexPage, CoursePage, Enrolment

from .pages import ensure_home


def make_course_index(home=None) -> CourseIndexPage:
    if home is None:
        ensure_home()
    return _make_course_index(home)


def make_course(parent=None, **overrides) -> CoursePage:
    return _make_course(parent or make_course_index(), **overrides)


def enrol(user, course: CoursePage, **kwargs) -> Enrolment:
    enrolment, _ = Enrolment.objects.get_or_create(user=user, course=course, defaults=kwargs)
    return enrolment
