import base64
import hashlib
import json

import jwt
import pytest
from django.core.management import call_command

from courses.certificates import credentials, keys, services
from courses.certificates.models import SigningKey
from tests.factories.certificates import complete


@pytest.fixture
def certificate(volunteer, course):
    return services.certificate_issue(completion=complete(volunteer, course))


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, ensure_ascii=False).encode()).rstrip(b"=").decode()


def test_credential_verifies_with_only_the_published_jwks(client, certificate):
    token = credentials.credential_jwt(certificate)
    published = client.get("/.well-known/jwks.json").json()
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["typ"] == "JWT" and set(header) == {"alg", "kid", "typ"}
    assert header["kid"].startswith("http://127.0.0.1:8000/certificates/keys/")
    payload = credentials.credential_verify(token, published)
    assert payload["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert payload["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert payload["@context"][1] == "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
    assert payload["issuer"] == {"id": "http://127.0.0.1:8000/", "type": ["Profile"], "name": "联动学堂"}
    assert payload["iss"] == payload["issuer"]["id"] and payload["jti"] == payload["id"]
    assert payload["id"].endswith(f"/certificates/verify/{certificate.code}/")
    assert payload["validFrom"].endswith("Z")
    subject = payload["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"] and achievement["name"] == "志愿者上岗培训"
    assert achievement["criteria"]["narrative"] and achievement["description"]


def test_subject_is_a_salted_hash_of_the_email_never_the_email(certificate):
    token = credentials.credential_jwt(certificate)
    assert "volunteer@example.org" not in json.dumps(jwt.decode(token, options={"verify_signature": False}))
    identifier = jwt.decode(token, options={"verify_signature": False})["credentialSubject"]["identifier"][0]
    assert identifier["type"] == "IdentityObject" and identifier["identityType"] == "emailAddress"
    assert identifier["hashed"] is True and len(identifier["salt"]) >= 16
    expected = "sha256$" + hashlib.sha256(("volunteer@example.org" + identifier["salt"]).encode()).hexdigest()
    assert identifier["identityHash"] == expected


@pytest.mark.parametrize("path", [("credentialSubject", "achievement", "name"), ("issuer", "name"), ("validFrom",),
                                  ("credentialSubject", "identifier", 0, "identityHash")])
def test_changing_any_field_breaks_the_signature(certificate, path):
    token = credentials.credential_jwt(certificate)
    header, payload, signature = token.split(".")
    data = jwt.decode(token, options={"verify_signature": False})
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = str(target[path[-1]]) + "x"
    forged = ".".join([header, _b64(data), signature])
    with pytest.raises(jwt.InvalidSignatureError):
        credentials.credential_verify(forged, keys.jwks())
    assert credentials.credential_verify(token, keys.jwks())["id"] == data["id"]


def test_eddsa_credential_verifies_too(certificate):
    token = credentials.credential_jwt(certificate, algorithm=keys.EDDSA)
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    assert credentials.credential_verify(token, keys.jwks())["credentialSubject"]["achievement"]["name"] == "志愿者上岗培训"


def test_a_token_signed_by_another_key_with_our_kid_fails(certificate):
    token = credentials.credential_jwt(certificate)
    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})
    impostor = jwt.encode(payload, keys.generate_private_key(keys.RS256), algorithm="RS256", headers={"kid": header["kid"]})
    with pytest.raises(jwt.InvalidSignatureError):
        credentials.credential_verify(impostor, keys.jwks())


def test_old_credentials_still_verify_after_rotation(settings, tmp_path, certificate, capsys):
    key_file = tmp_path / "signing.pem"
    settings.CERTIFICATE_SIGNING_KEYS = ""
    settings.CERTIFICATE_SIGNING_KEY_FILE = str(key_file)
    call_command("certificate_keys", "generate", "--output", str(key_file))
    old_token = credentials.credential_jwt(certificate)
    old_kid = jwt.get_unverified_header(old_token)["kid"].rsplit("/", 1)[-1]  # the key URI ends with the thumbprint
    call_command("certificate_keys", "rotate")
    new_token = credentials.credential_jwt(certificate)
    assert not jwt.get_unverified_header(new_token)["kid"].endswith(old_kid)
    assert old_kid not in key_file.read_text()  # the private key is gone from configuration
    published = keys.jwks()
    assert old_kid in {k["kid"] for k in published["keys"]}
    assert credentials.credential_verify(old_token, published)["id"] == credentials.credential_verify(new_token, published)["id"]
    assert SigningKey.objects.get(kid=old_kid).retired_at is not None
    call_command("certificate_keys", "list")
    listing = capsys.readouterr().out
    assert old_kid in listing and "retired" in listing and "signing" in listing


def test_without_configured_key_and_debug_off_signing_is_refused(settings, certificate):
    settings.CERTIFICATE_SIGNING_KEYS = ""
    settings.CERTIFICATE_SIGNING_KEY_FILE = ""
    settings.DEBUG = False
    with pytest.raises(keys.SigningKeyError, match="No certificate signing key is configured"):
        credentials.credential_jwt(certificate)


def test_with_debug_on_a_development_key_is_generated_into_an_ignored_file(settings, tmp_path, certificate):
    settings.CERTIFICATE_SIGNING_KEYS = ""
    settings.CERTIFICATE_SIGNING_KEY_FILE = ""
    settings.DEBUG = True
    settings.CERTIFICATE_DEV_KEY_FILE = tmp_path / ".keys" / "certificate-signing.pem"
    token = credentials.credential_jwt(certificate)
    assert settings.CERTIFICATE_DEV_KEY_FILE.exists()
    assert oct(settings.CERTIFICATE_DEV_KEY_FILE.stat().st_mode & 0o777) == "0o600"
    assert credentials.credential_verify(token, keys.jwks())


def test_dev_key_directory_is_git_ignored():
    from pathlib import Path

    gitignore = (Path(__file__).resolve().parents[2] / ".gitignore").read_text().split()
    assert "/.keys/" in gitignore


def test_credential_download_without_a_key_answers_503_not_500(client, settings, volunteer, certificate):
    settings.CERTIFICATE_SIGNING_KEYS = ""
    settings.CERTIFICATE_SIGNING_KEY_FILE = ""
    settings.DEBUG = False
    client.force_login(volunteer)
    response = client.get(f"/certificates/{certificate.number}/credential.jwt")
    assert response.status_code == 503
    assert "稍后" in response.content.decode()


def test_deploy_check_mentions_a_missing_key(settings):
    from courses.certificates.checks import signing_key_configured

    settings.CERTIFICATE_SIGNING_KEYS = ""
    settings.CERTIFICATE_SIGNING_KEY_FILE = ""
    assert [m.id for m in signing_key_configured(None)] == ["certificates.I001"]
    settings.CERTIFICATE_SIGNING_KEY_FILE = "/etc/academy/keys.pem"
    assert signing_key_configured(None) == []
