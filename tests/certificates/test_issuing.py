import threading

import pytest
from django.db import IntegrityError, connection, transaction

from courses.certificates import services
from courses.certificates.models import Certificate, CertificateEvent
from tests.factories import UserFactory
from tests.factories.certificates import complete
from courses.models import Completion
from tests.factories.courses import enrol, make_course


def test_completing_a_course_issues_its_certificate_after_commit(volunteer, course, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        complete(volunteer, course)
    certificate = Certificate.objects.get(holder=volunteer)
    assert certificate.holder_name == "王志愿"
    assert certificate.course_title == "志愿者上岗培训"
    assert str(certificate.hours) == "3.0"
    assert certificate.issuer_name == "联动学堂"
    assert certificate.signatory_name == "林明远"
    assert certificate.status == Certificate.Status.VALID
    assert certificate.events.get().action == CertificateEvent.Action.ISSUED
    assert certificate.events.get().actor is None


def test_no_certificate_before_completion_and_none_for_a_course_without_one(volunteer, course, issuer):
    from tests.factories.courses import enrol

    enrol(volunteer, course)
    assert not Certificate.objects.exists()
    plain = make_course(title="无证书课程", slug="no-certificate", certificate_enabled=False)
    completion = complete(volunteer, plain)
    assert services.certificate_issue(completion=completion) is None
    assert not Certificate.objects.exists()


def test_number_is_human_friendly_and_code_is_long_and_distinct(volunteer, socialworker, course):
    first = services.certificate_issue(completion=complete(volunteer, course))
    second = services.certificate_issue(completion=complete(socialworker, course))
    year = first.issued_at.astimezone().year
    assert first.number.startswith(f"LA-{year}-")
    assert int(second.number.rsplit("-", 1)[1]) == int(first.number.rsplit("-", 1)[1]) + 1
    assert len(first.code) >= 22 and first.code != second.code
    assert first.number not in first.code


def test_issuing_twice_returns_the_same_certificate(volunteer, course):
    completion = complete(volunteer, course)
    first = services.certificate_issue(completion=completion)
    again = services.certificate_issue(completion=completion)
    assert first.pk == again.pk
    assert Certificate.objects.count() == 1


def test_database_refuses_a_second_current_certificate_for_an_enrolment(volunteer, course):
    certificate = services.certificate_issue(completion=complete(volunteer, course))
    duplicate = Certificate.objects.get(pk=certificate.pk)
    duplicate.pk, duplicate.number, duplicate.code = None, "LA-2000-999999", services.new_code()
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuing_for_one_completion_creates_exactly_one_certificate(home):
    from tests.factories.certificates import set_issuer

    set_issuer()
    course = make_course(title="并发课程", slug="concurrent-course")
    learners = [UserFactory() for _ in range(3)]
    # Completions recorded without the signal, so that the threads race to issue (8 threads, 3 completions).
    completions = [Completion.objects.create(enrolment=enrol(user, course)) for user in learners]
    barrier = threading.Barrier(8)
    results, errors = [], []

    def worker(index):
        try:
            barrier.wait()
            results.append(services.certificate_issue(completion=completions[index % 3]).pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Certificate.objects.count() == 3
    assert len(set(results)) == 3
    numbers = sorted(Certificate.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 3
    assert CertificateEvent.objects.filter(action="issued").count() == 3


def test_bulk_issue_covers_completions_without_a_certificate_only(course, issuer, organiser):
    users = [UserFactory() for _ in range(5)]
    completions = [complete(user, course) for user in users]  # signal not run: captured on-commit callbacks dropped
    services.certificate_issue(completion=completions[0])
    issued = services.certificate_issue_bulk(completions=completions[0].__class__.objects.all(), actor=organiser)
    assert len(issued) == 4
    assert Certificate.objects.count() == 5
    assert set(CertificateEvent.objects.filter(certificate__in=issued).values_list("actor", flat=True)) == {organiser.pk}
    assert services.certificate_issue_bulk(completions=completions[0].__class__.objects.all(), actor=organiser) == []
