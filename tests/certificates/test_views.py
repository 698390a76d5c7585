import pytest
from django.urls import reverse

from courses.certificates import services
from courses.certificates.models import Certificate
from tests.factories.certificates import complete


@pytest.fixture
def certificate(volunteer, course):
    return services.certificate_issue(completion=complete(volunteer, course))


def verify_url(certificate):
    return reverse("certificates:verify", args=[certificate.code])


def test_valid_certificate_page_says_valid_and_shows_only_name_course_hours_date(client, certificate):
    response = client.get(verify_url(certificate))
    assert response.status_code == 200
    html = response.content.decode()
    assert "有效" in html
    for shown in ("王志愿", "志愿者上岗培训", "3", certificate.number):
        assert shown in html
    for private in ("volunteer@example.org", "volunteer", certificate.holder.phone or "13800"):
        assert private not in html.replace("志愿者", "")


def test_verification_json_by_query_and_by_accept_header(client, certificate):
    by_query = client.get(verify_url(certificate), {"format": "json"}).json()
    by_header = client.get(verify_url(certificate), HTTP_ACCEPT="application/json").json()
    assert by_query == by_header
    assert by_query["status"] == "valid"
    assert by_query["name"] == "王志愿" and by_query["course"] == "志愿者上岗培训" and by_query["hours"] == "3"
    assert set(by_query) == {"status", "status_label", "number", "name", "course", "hours", "completed_on",
                             "issued_on", "issuer", "verify_url"}


def test_revoked_certificate_shows_date_and_reason_on_page_and_in_json(client, certificate, organiser):
    services.certificate_revoke(certificate=certificate, actor=organiser, reason="培训记录有误")
    html = client.get(verify_url(certificate)).content.decode()
    assert "已撤销" in html and "培训记录有误" in html
    answer = client.get(verify_url(certificate), {"format": "json"}).json()
    assert answer["status"] == "revoked" and answer["revocation_reason"] == "培训记录有误"
    assert answer["revoked_on"]
    event = certificate.events.get(action="revoked")
    assert event.actor == organiser and event.details["reason"] == "培训记录有误"


def test_superseded_certificate_links_to_the_current_one(client, certificate, organiser):
    new = services.certificate_reissue(certificate=certificate, actor=organiser, holder_name="王志远", reason="姓名更正")
    html = client.get(verify_url(certificate)).content.decode()
    assert "已被取代" in html and verify_url(new) in html
    answer = client.get(verify_url(certificate), {"format": "json"}).json()
    assert answer["status"] == "superseded"
    assert answer["superseded_by"]["number"] == new.number
    assert answer["superseded_by"]["verify_url"].endswith(verify_url(new))
    current = client.get(verify_url(new), {"format": "json"}).json()
    assert current["status"] == "valid" and current["name"] == "王志远"
    old_event = certificate.events.get(action="superseded")
    new_event = new.events.get(action="reissued")
    assert old_event.actor == organiser and new_event.details["old_name"] == "王志愿"


def test_unknown_code_gives_a_chinese_404_page(client, certificate):
    response = client.get(reverse("certificates:verify", args=["not-a-real-code-000000"]))
    assert response.status_code == 404
    assert "找不到" in response.content.decode()
    assert client.get(reverse("certificates:verify", args=["nope"]), {"format": "json"}).json()["status"] == "not_found"


def test_verification_is_rate_limited_per_client_address(client, settings, certificate):
    settings.CERTIFICATE_VERIFY_RATE_LIMIT = 3
    for i in range(3):
        assert client.get(reverse("certificates:verify", args=[f"guess{i}"])).status_code == 404
    blocked = client.get(verify_url(certificate))
    assert blocked.status_code == 429
    assert blocked["Retry-After"]
    assert "过于频繁" in blocked.content.decode()
    assert client.get(verify_url(certificate), {"format": "json"}).json()["status"] == "rate_limited"
    other = client.get(verify_url(certificate), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_pdf_and_credential_download_for_the_holder(client, volunteer, certificate):
    client.force_login(volunteer)
    pdf = client.get(reverse("certificates:pdf", args=[certificate.number]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    token = client.get(reverse("certificates:credential", args=[certificate.number]))
    assert token.status_code == 200 and token.content.count(b".") == 2


def test_organiser_may_download_anyones_pdf(client, organiser, certificate):
    client.force_login(organiser)
    assert client.get(reverse("certificates:pdf", args=[certificate.number])).status_code == 200
    assert client.get(reverse("certificates:credential", args=[certificate.number])).status_code == 200


def test_nobody_else_can_download_the_pdf_or_credential(client, outsider, moderator, certificate):
    for path in (reverse("certificates:pdf", args=[certificate.number]),
                 reverse("certificates:credential", args=[certificate.number])):
        anonymous = client.get(path)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
        for user in (outsider, moderator):
            client.force_login(user)
            assert client.get(path).status_code == 404
            client.logout()


def test_revoked_certificate_gives_no_new_credential(client, volunteer, organiser, certificate):
    services.certificate_revoke(certificate=certificate, actor=organiser, reason="误发")
    client.force_login(volunteer)
    assert client.get(reverse("certificates:credential", args=[certificate.number])).status_code == 410


def test_my_certificates_lists_links_to_verify_pdf_and_credential(client, volunteer, outsider, certificate):
    client.force_login(volunteer)
    html = client.get(reverse("certificates:mine")).content.decode()
    assert "我的证书" in html and "志愿者上岗培训" in html
    for url in (verify_url(certificate), reverse("certificates:pdf", args=[certificate.number]),
                reverse("certificates:credential", args=[certificate.number])):
        assert url in html
    client.force_login(outsider)
    assert certificate.number not in client.get(reverse("certificates:mine")).content.decode()


def test_my_certificates_needs_log_in(client):
    assert client.get(reverse("certificates:mine")).status_code == 302


def test_jwks_lists_public_keys_only(client, certificate):
    data = client.get("/.well-known/jwks.json").json()
    assert {key["alg"] for key in data["keys"]} == {"RS256", "EdDSA"}
    for key in data["keys"]:
        assert "d" not in key and "p" not in key and key["kid"]


def test_revoke_needs_a_reason_and_only_once(certificate, organiser):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.certificate_revoke(certificate=certificate, actor=organiser, reason="  ")
    services.certificate_revoke(certificate=certificate, actor=organiser, reason="误发")
    with pytest.raises(ValidationError, match=str(services.ONLY_VALID_CAN_BE_REVOKED)):
        services.certificate_revoke(certificate=certificate, actor=organiser, reason="again")
    with pytest.raises(ValidationError):
        services.certificate_reissue(certificate=Certificate.objects.get(pk=certificate.pk), actor=organiser)
