"""Certificate builders (courses/certificates/builders.py) and demo step (courses/certificates/demo.py) under the
names tests import, and `complete(user, course)`, a shortcut only tests use: a Completion recorded the way
courses.completion records one (course_completed is sent after commit), without going through the lessons.
"""
from django.db import transaction
from django.utils import timezone

from courses.certificates.builders import DEMO_ISSUER, ensure_organiser_permissions  # noqa: F401  (re-exported)
from courses.certificates.builders import set_issuer as _set_issuer
from courses.certificates.demo import DEMO_COURSE_TITLE, load_demo  # noqa: F401  (re-exported)
from courses.models import Completion, CoursePage
from courses.signals import course_completed

from .courses import enrol
from .pages import ensure_home


def set_issuer(**values):
    ensure_home()
    return _set_issuer(**values)


def complete(user, course: CoursePage, *, completed_at=None) -> Completion:
    """Record that `user` completed `course`; course_completed goes out after commit, as courses sends it."""
    enrolment = enrol(user, course)
    completion, created = Completion.objects.get_or_create(
        enrolment=enrolment, defaults={"completed_at": completed_at or timezone.now()}
    )
    if created:
        transaction.on_commit(lambda: course_completed.send(sender=Completion, completion=completion))
    return completion
