from django.core.management import call_command

from courses import services as course_services
from courses.certificates.models import Certificate, CertificateSettings
from courses.models import LessonPage
from tests.factories.courses import make_lesson


def test_completing_the_last_lesson_through_courses_issues_the_certificate(volunteer, course, django_capture_on_commit_callbacks):
    lesson = make_lesson(course, kind=LessonPage.Kind.READING, title="上岗须知")
    course_services.enrolment_create(user=volunteer, course=course)
    course_services.lesson_open(user=volunteer, lesson=lesson)
    assert not Certificate.objects.exists()  # opening a lesson issues nothing
    with django_capture_on_commit_callbacks(execute=True):
        course_services.lesson_confirm(user=volunteer, lesson=lesson)
    certificate = Certificate.objects.get(holder=volunteer)
    assert certificate.course_id == course.pk and certificate.is_valid


def test_demo_volunteer_holds_a_certificate_and_a_second_run_changes_nothing(db):
    call_command("load_demo", "--force", verbosity=0)
    certificate = Certificate.objects.get(holder__username="demo-volunteer")
    assert certificate.course_title == "志愿者上岗培训" and certificate.is_valid
    assert certificate.issuer_name == "联动学堂" and certificate.signatory_name
    snapshot = list(Certificate.objects.values_list("pk", "number", "code", "status"))
    settings_rows = CertificateSettings.objects.count()
    call_command("load_demo", "--force", verbosity=0)
    assert list(Certificate.objects.values_list("pk", "number", "code", "status")) == snapshot
    assert CertificateSettings.objects.count() == settings_rows == 1
