import io

import openpyxl
import pytest
from django.urls import reverse

from courses.certificates import services
from courses.certificates.models import Certificate, CertificateEvent
from courses.models import Completion
from tests.factories import UserFactory
from tests.factories.certificates import complete


@pytest.fixture
def certificate(volunteer, course):
    return services.certificate_issue(completion=complete(volunteer, course))


def test_organiser_lists_and_searches_certificates(client, organiser, certificate, socialworker, course):
    other = services.certificate_issue(completion=complete(socialworker, course))
    client.force_login(organiser)
    index = reverse("certificate_admin:index")
    html = client.get(index).content.decode()
    assert certificate.number in html and other.number in html
    found = client.get(index, {"q": "王志愿"}).content.decode()
    assert certificate.number in found and other.number not in found


def test_organiser_exports_csv_and_xlsx(client, organiser, certificate):
    client.force_login(organiser)
    csv = client.get(reverse("certificate_admin:index"), {"export": "csv"})
    assert csv.status_code == 200
    text = b"".join(csv.streaming_content).decode("utf-8-sig") if csv.streaming else csv.content.decode("utf-8-sig")
    assert certificate.number in text and "王志愿" in text
    xlsx = client.get(reverse("certificate_admin:index"), {"export": "xlsx"})
    assert xlsx.status_code == 200
    body = b"".join(xlsx.streaming_content) if xlsx.streaming else xlsx.content
    rows = list(openpyxl.load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))
    assert any(certificate.number in row for row in rows)


def test_inspect_shows_history(client, organiser, certificate):
    client.force_login(organiser)
    html = client.get(reverse("certificate_admin:inspect", args=[certificate.pk])).content.decode()
    assert certificate.number in html and reverse("certificate_actions:revoke", args=[certificate.pk]) in html


def test_organiser_revokes_with_a_reason(client, organiser, certificate):
    client.force_login(organiser)
    url = reverse("certificate_actions:revoke", args=[certificate.pk])
    assert client.post(url, {"reason": ""}).status_code == 200  # the form comes back with its error
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID
    response = client.post(url, {"reason": "冒名参加培训"})
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED and certificate.revocation_reason == "冒名参加培训"
    assert CertificateEvent.objects.get(certificate=certificate, action="revoked").actor == organiser


def test_organiser_reissues_after_a_name_correction(client, organiser, certificate):
    client.force_login(organiser)
    response = client.post(reverse("certificate_actions:reissue", args=[certificate.pk]),
                           {"holder_name": "王智远", "reason": "姓名录入错误"})
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.SUPERSEDED
    assert certificate.successor.holder_name == "王智远" and certificate.successor.status == Certificate.Status.VALID


def test_bulk_issue_counts_then_issues(client, organiser, course):
    learners = [UserFactory() for _ in range(3)]
    for user in learners:
        complete(user, course)  # on-commit signal not run in this test: no certificates yet
    assert Completion.objects.count() == 3 and not Certificate.objects.exists()
    client.force_login(organiser)
    url = reverse("certificate_actions:bulk_issue")
    preview = client.post(url, {"course": course.pk})
    assert preview.status_code == 200 and "3" in preview.content.decode()
    assert not Certificate.objects.exists()
    done = client.post(url, {"course": course.pk, "confirm": "True"})
    assert done.status_code == 302
    assert Certificate.objects.count() == 3
    assert set(CertificateEvent.objects.values_list("actor", flat=True)) == {organiser.pk}


def test_people_without_manage_certificates_are_refused(client, moderator, outsider, certificate):
    for user in (moderator, outsider):
        client.force_login(user)
        for url in (reverse("certificate_admin:index"), reverse("certificate_actions:bulk_issue"),
                    reverse("certificate_actions:revoke", args=[certificate.pk])):
            response = client.get(url)
            assert response.status_code in (302, 403)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID


def test_inspect_links_old_and_new_after_a_reissue(client, organiser, certificate):
    new = services.certificate_reissue(certificate=certificate, actor=organiser, holder_name="王智远")
    client.force_login(organiser)
    old_html = client.get(reverse("certificate_admin:inspect", args=[certificate.pk])).content.decode()
    assert reverse("certificate_admin:inspect", args=[new.pk]) in old_html and new.number in old_html
    assert reverse("certificate_actions:revoke", args=[certificate.pk]) not in old_html  # superseded: no actions


def test_organiser_edits_the_issuer_settings(client, organiser, issuer):
    from tests.factories.certificates import ensure_organiser_permissions

    ensure_organiser_permissions()
    client.force_login(organiser)
    url = reverse("wagtailsettings:edit", args=["certificates", "certificatesettings", issuer.site_id])
    assert client.get(url).status_code == 200


def test_reissue_refuses_a_name_the_font_cannot_print(client, organiser, certificate):
    client.force_login(organiser)
    response = client.post(reverse("certificate_actions:reissue", args=[certificate.pk]), {"holder_name": "王𠀀", "reason": ""})
    assert response.status_code == 200
    assert "𠀀" in response.content.decode()
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID and certificate.successor is None


def test_revoking_a_revoked_certificate_shows_an_error(client, organiser, certificate):
    services.certificate_revoke(certificate=certificate, actor=organiser, reason="误发")
    client.force_login(organiser)
    response = client.post(reverse("certificate_actions:revoke", args=[certificate.pk]), {"reason": "再次撤销"})
    assert response.status_code == 200
    assert "只能撤销有效的证书" in response.content.decode()
    assert CertificateEvent.objects.filter(certificate=certificate, action="revoked").count() == 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_certificates_export_neutralises_formulas_translates_statuses_and_writes_local_times(
        client, organiser, certificate, fmt, settings):
    import csv as csv_module

    settings.TIME_ZONE = "Asia/Shanghai"
    renamed = services.certificate_reissue(certificate=certificate, actor=organiser,
                                           holder_name='=HYPERLINK("http://evil.example","王")')
    Certificate.objects.filter(pk=renamed.pk).update(revocation_reason="\t=1+1\x01")
    client.force_login(organiser)
    response = client.get(reverse("certificate_admin:index"), {"export": fmt}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if fmt == "csv":
        assert body.startswith(b"\xef\xbb\xbf")
        rows = list(csv_module.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    else:
        rows = [list(r) for r in openpyxl.load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True)]
    header, by_number = rows[0], {row[0]: row for row in rows[1:]}
    assert header[:3] == ["证书编号", "证书上的姓名", "用户名"]
    new, old = by_number[renamed.number], by_number[certificate.number]
    assert new[1] == '\'=HYPERLINK("http://evil.example","王")'
    assert new[9] == "'\t=1+1"
    assert (new[7], old[7]) == ("有效", "已被取代")
    issued = str(new[6])
    assert "." not in issued and "+" not in issued and "UTC" not in issued
    from django.utils import timezone
    assert issued.startswith(timezone.localtime(renamed.issued_at).strftime("%Y-%m-%d %H:%M"))
