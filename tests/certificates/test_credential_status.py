"""Open Badges 3.0 VC-JWT rules and a credential status verifiers can check (W3C Bitstring Status List).

The verifier in these tests has only the token and HTTP: it dereferences the header's `kid`, checks the signature,
follows credentialStatus to the status list, checks that credential's signature too, and reads its bit.
"""
import json
from pathlib import Path
from urllib.parse import urlsplit

import jwt
import pytest
from jsonschema import Draft201909Validator

from courses.certificates import credentials, services, status
from courses.certificates.models import CredentialHolder
from tests.factories import UserFactory
from tests.factories.certificates import complete
from tests.factories.courses import make_course

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "ob_v3p0_achievementcredential.schema.json").read_text())


@pytest.fixture
def certificate(volunteer, course):
    return services.certificate_issue(completion=complete(volunteer, course))


def _get(client, url):
    """What a verifier fetches: the site's absolute URL, answered by the test client."""
    assert url.startswith("http://127.0.0.1:8000/")
    return client.get(urlsplit(url).path)


def verify_like_a_wallet(client, token: str) -> dict:
    header = jwt.get_unverified_header(token)
    response = _get(client, header["kid"])
    assert response.status_code == 200
    jwk = response.json()
    assert "d" not in jwk and not {"p", "q", "dp", "dq", "qi"} & set(jwk)
    return credentials.verify_with_jwk(token, jwk)


def revoked_as_seen_by_a_verifier(client, token: str) -> bool:
    payload = verify_like_a_wallet(client, token)
    entry = payload["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
    response = _get(client, entry["statusListCredential"])
    assert response.status_code == 200 and response["Content-Type"] == "application/vc+jwt"
    status_list = verify_like_a_wallet(client, response.content.decode())
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert status_list["id"] == entry["statusListCredential"]
    subject = status_list["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    bits = status.decode_list(subject["encodedList"])
    assert len(bits) * 8 >= 131_072
    return status.bit_is_set(bits, int(entry["statusListIndex"]))


def test_a_verifier_sees_a_certificate_valid_then_revoked_through_the_status_list(client, certificate, organiser):
    token = credentials.credential_jwt(certificate)
    assert revoked_as_seen_by_a_verifier(client, token) is False
    services.certificate_revoke(certificate=certificate, actor=organiser, reason="材料不实")
    # The very token issued before the revocation: its signature still checks, its status bit now says revoked.
    assert revoked_as_seen_by_a_verifier(client, token) is True


def test_a_superseded_certificates_credential_is_marked_too_and_its_successor_is_not(client, certificate, organiser):
    old_token = credentials.credential_jwt(certificate)
    new = services.certificate_reissue(certificate=certificate, actor=organiser, holder_name="王志远")
    assert revoked_as_seen_by_a_verifier(client, old_token) is True
    assert revoked_as_seen_by_a_verifier(client, credentials.credential_jwt(new)) is False


def test_each_certificate_has_its_own_index(certificate, socialworker, course):
    other = services.certificate_issue(completion=complete(socialworker, course))
    first = credentials.credential(certificate)["credentialStatus"]
    second = credentials.credential(other)["credentialStatus"]
    assert first["statusListCredential"] == second["statusListCredential"]
    assert first["statusListIndex"] != second["statusListIndex"]
    assert first["id"] == f'{first["statusListCredential"]}#{first["statusListIndex"]}'


def test_header_is_as_open_badges_says_and_kid_dereferences_to_the_signing_jwk(client, certificate):
    token = credentials.credential_jwt(certificate)
    header = jwt.get_unverified_header(token)
    assert set(header) == {"alg", "kid", "typ"} and header["typ"] == "JWT"
    jwk = _get(client, header["kid"]).json()
    assert jwk["kty"] == "RSA" and jwk["kid"] == header["kid"].rsplit("/", 1)[-1]
    assert verify_like_a_wallet(client, token)["id"] == credentials.verify_url(certificate)
    assert client.get("/certificates/keys/not-a-key").status_code == 404
    assert client.get("/certificates/keys/" + "x" * 100).status_code == 404


def test_sub_is_the_subjects_stable_pseudonymous_id(certificate, volunteer, course, socialworker):
    payload = jwt.decode(credentials.credential_jwt(certificate), options={"verify_signature": False})
    subject_id = payload["credentialSubject"]["id"]
    assert payload["sub"] == subject_id and subject_id.startswith("urn:uuid:")
    assert subject_id == CredentialHolder.objects.get(user=volunteer).urn
    assert volunteer.username not in subject_id and "volunteer" not in subject_id
    second_course = make_course(title="心理支持", slug="psychological-support")
    second = services.certificate_issue(completion=complete(volunteer, second_course))
    assert jwt.decode(credentials.credential_jwt(second), options={"verify_signature": False})["sub"] == subject_id
    someone_else = services.certificate_issue(completion=complete(socialworker, course))
    other = jwt.decode(credentials.credential_jwt(someone_else), options={"verify_signature": False})["sub"]
    assert other != subject_id


def test_a_token_whose_sub_differs_from_the_subject_is_refused(certificate):
    from courses.certificates import keys

    payload = jwt.decode(credentials.credential_jwt(certificate), options={"verify_signature": False})
    payload["sub"] = "urn:uuid:00000000-0000-0000-0000-000000000000"
    forged = credentials.sign(payload)  # even signed by our own key
    with pytest.raises(jwt.InvalidTokenError):
        credentials.credential_verify(forged, keys.jwks())


def test_credential_validates_against_the_open_badges_schema(certificate):
    payload = jwt.decode(credentials.credential_jwt(certificate), options={"verify_signature": False})
    validator = Draft201909Validator(SCHEMA)
    assert [error.message for error in validator.iter_errors(payload)] == []
    broken = {**payload, "credentialSubject": {**payload["credentialSubject"], "achievement": {"type": ["Achievement"]}}}
    assert list(validator.iter_errors(broken))  # the schema can fail
    del broken["validFrom"]
    assert any("validFrom" in error.message for error in validator.iter_errors(broken))


@pytest.mark.parametrize("number", [0, 2, 10_001, 2**63])
def test_status_lists_that_do_not_exist_are_404(client, certificate, number):
    assert client.get(f"/certificates/status/{number}").status_code == 404


def test_status_list_is_public_cacheable_and_needs_no_login(client, certificate):
    response = client.get("/certificates/status/1")
    assert response.status_code == 200
    assert "max-age" in response["Cache-Control"] and response["Access-Control-Allow-Origin"] == "*"


def test_status_bits_use_the_left_most_bit_for_index_zero():
    bits = bytearray(status.LIST_SIZE // 8)
    bits[0] = 0x80
    decoded = status.decode_list(status.encode_list(bytes(bits)))
    assert status.bit_is_set(decoded, 0) and not status.bit_is_set(decoded, 1)
    assert status.encode_list(bytes(bits)).startswith("u") and "=" not in status.encode_list(bytes(bits))
