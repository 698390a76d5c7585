"""The certificates' demo step: the demo issuer, and the certificate of demo-volunteer's finished course
(志愿者上岗培训, finished by the courses step through the courses services). Idempotent."""
from courses.certificates import selectors, services
from courses.certificates.builders import ensure_organiser_permissions, set_issuer
from courses.models import Completion, CoursePage

DEMO_COURSE_TITLE = "志愿者上岗培训"


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
        log(f"certificates: {volunteer.username} has not completed {DEMO_COURSE_TITLE}, nothing to issue")
        return
    if selectors.certificate_current_for_enrolment(enrolment=completion.enrolment) is None:
        certificate = services.certificate_issue(completion=completion)
        log(f"certificate {certificate.number} issued to {volunteer.username}")
