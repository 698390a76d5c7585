"""Certificate builders shared by the tests and by `load_demo`.

complete(user, course) → a Completion recorded the way courses.completion records one (course_completed is sent
after commit); set_issuer(...) → the issuer's site settings. load_demo: the demo issuer, and demo-volunteer's
finished course (志愿者上岗培训) holding its certificate.
"""
from django.db import transaction
from django.utils import timezone

from courses.models import Completion, CoursePage
from courses.signals import course_completed
from courses.certificates import selectors, services
from courses.certificates.models import CertificateSettings

from .courses import enrol
from .pages import make_home

DEMO_ISSUER = {
    "issuer_name": "联动学堂",
    "signatory_name": "林明远",
    "signatory_title": "联动学堂培训中心主任",
}
DEMO_COURSE_TITLE = "志愿者上岗培训"


def ensure_organiser_permissions() -> None:
    """Organisers may edit the issuer settings (a transactional test may have flushed what the migration granted)."""
    from importlib import import_module

    from django.apps import apps

    from .accounts import ensure_groups

    ensure_groups()
    import_module("courses.certificates.migrations.0002_organiser_permissions").grant(apps, None)


def set_issuer(**values) -> CertificateSettings:
    site = make_home().get_site()
    issuer = CertificateSettings.for_site(site)
    changed = {k: v for k, v in {**DEMO_ISSUER, **values}.items() if getattr(issuer, k) != v}
    if changed:
        for name, value in changed.items():
            setattr(issuer, name, value)
        issuer.save()
    return issuer


def complete(user, course: CoursePage, *, completed_at=None) -> Completion:
    """Record that `user` completed `course`; course_completed goes out after commit, as courses sends it."""
    enrolment = enrol(user, course)
    completion, created = Completion.objects.get_or_create(
        enrolment=enrolment, defaults={"completed_at": completed_at or timezone.now()}
    )
    if created:
        transaction.on_commit(lambda: course_completed.send(sender=Completion, completion=completion))
    return completion


def load_demo(*, users, log):
    ensure_organiser_permissions()
    set_issuer()
    volunteer = users["demo-volunteer"]
    course = CoursePage.objects.filter(title=DEMO_COURSE_TITLE).first()
    if course is None:
        log(f"certificates: no course titled {DEMO_COURSE_TITLE}, nothing to issue")
        return
    completion = Completion.objects.filter(enrolment__user=volunteer, enrolment__course=course).first()
    if completion is None:
        completion = complete(volunteer, course)
    enrolment = completion.enrolment
    if selectors.certificate_current_for_enrolment(enrolment=enrolment) is None:
        certificate = services.certificate_issue(completion=completion)
        log(f"certificate {certificate.number} issued to {volunteer.username}")
