"""The portable credential: an Open Badges 3.0 OpenBadgeCredential (the AchievementCredential class) secured as a
VC-JWT, with a credential status that verifiers can check.

Form (documented in docs/certificates.md): the credential is the VC Data Model 2.0 form that Open Badges 3.0.3 uses
(`validFrom`; the JWT payload IS the credential, with the registered claims beside it: `iss` = issuer.id, `jti` =
id, `sub` = credentialSubject.id, `nbf` = validFrom, `iat` = time of signing). The JOSE header follows Open Badges
3.0 §8.2 ("Create the JOSE Header"): {"alg": "RS256" | "EdDSA", "kid": <a URI that dereferences to the public JWK>,
"typ": "JWT"}, and nothing else. The key URI is SITE_URL/certificates/keys/<RFC 7638 thumbprint>; every public key
is also in /.well-known/jwks.json under its thumbprint. The @context URLs are identifiers, never fetched.

The holder: credentialSubject.id is a stable pseudonymous urn:uuid per user (CredentialHolder, made on the first
signing); the e-mail is present only as a salted hash (identityHash = "sha256$" + hex(sha256(email + salt)), the salt
derived per certificate from SECRET_KEY).

Status: credentialStatus is a W3C BitstringStatusListEntry (status.py); the list at /certificates/status/<n> is
itself a signed credential.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import jwt
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from . import keys as signing_keys
from . import status
from .models import Certificate, CredentialHolder

CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"
CONTEXT = [CONTEXT_V2, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
CREDENTIAL_TYPE = ["VerifiableCredential", "OpenBadgeCredential"]
SCHEMA = {
    "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
    "type": "1EdTechJsonSchemaValidator2019",
}
JOSE_TYPE = "JWT"  # Open Badges 3.0 §8.2: "typ — if present, MUST be set to JWT"
MEDIA_TYPE = "application/vc+jwt"


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def verify_url(certificate: Certificate) -> str:
    return absolute(reverse("certificates:verify", args=[certificate.code]))


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def identity_salt(certificate: Certificate) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"certificate-salt:{certificate.code}".encode(), "sha256").hexdigest()[:32]


def identity_hash(identity: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((identity + salt).encode()).hexdigest()


def issuer_profile(certificate: Certificate, issuer_url: str = "") -> dict:
    return {"id": issuer_url or absolute("/"), "type": ["Profile"], "name": certificate.issuer_name}


def holder_subject_id(user) -> str:
    """The holder's stable pseudonymous id (urn:uuid), made the first time one of their credentials is signed."""
    holder, _created = CredentialHolder.objects.get_or_create(user=user)
    return holder.urn


def achievement_id(certificate: Certificate) -> str:
    return absolute(f"/certificates/achievements/{certificate.course_id}/")


def credential(certificate: Certificate, *, issuer_url: str = "") -> dict:
    """The OpenBadgeCredential of `certificate` as a JSON-ready dict (without the JWT claims)."""
    holder = certificate.holder
    salt = identity_salt(certificate)
    if holder.email:
        identity, identity_type = holder.email.strip().lower(), "emailAddress"
    else:
        identity, identity_type = holder.username, "identifier"
    hours = format(certificate.hours.normalize(), "f")
    return {
        "@context": CONTEXT,
        "id": verify_url(certificate),
        "type": CREDENTIAL_TYPE,
        "name": f"{certificate.course_title}（{certificate.number}）",
        "issuer": issuer_profile(certificate, issuer_url),
        "validFrom": iso(certificate.issued_at),
        "credentialSubject": {
            "id": holder_subject_id(holder),
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": identity_hash(identity, salt),
                    "identityType": identity_type,
                    "hashed": True,
                    "salt": salt,
                },
            ],
            "achievement": {
                "id": achievement_id(certificate),
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": certificate.course_title,
                "description": f"{certificate.issuer_name}志愿者培训课程《{certificate.course_title}》，共{hours}学时。",
                "criteria": {
                    "narrative": f"完成课程《{certificate.course_title}》的全部学习要求（{hours}学时），由平台记录完成后颁发。"
                },
            },
        },
        "credentialStatus": status.status_entry(certificate),
        "credentialSchema": [SCHEMA],
    }


def sign(payload: dict, *, algorithm: str = signing_keys.RS256) -> str:
    """`payload` as a compact JWS signed with the current key of `algorithm`, whose public half is published and
    named in the header by a URI that dereferences to it."""
    key = signing_keys.signing_key(algorithm)
    signing_keys.key_publish(key)
    headers = {"kid": signing_keys.key_uri(key.kid), "typ": JOSE_TYPE}
    return jwt.encode(payload, key.private_key, algorithm=algorithm, headers=headers)


def credential_jwt(certificate: Certificate, *, algorithm: str = signing_keys.RS256, issuer_url: str = "",
                   now: datetime | None = None) -> str:
    """The credential signed as a compact JWS with the current key of `algorithm` (its public half is published)."""
    signing_keys.signing_key(algorithm)  # refuse before writing anything when no key is configured
    body = credential(certificate, issuer_url=issuer_url)
    payload = {
        **body,
        "iss": body["issuer"]["id"],
        "jti": body["id"],
        "sub": body["credentialSubject"]["id"],
        "nbf": int(certificate.issued_at.timestamp()),
        "iat": int((now or timezone.now()).timestamp()),
    }
    return sign(payload, algorithm=algorithm)


def status_list_jwt(number: int, *, issuer_url: str = "", issuer_name: str = "",
                    algorithm: str = signing_keys.RS256) -> str:
    """The status list credential `number`, signed like the certificates' credentials."""
    body = status.status_list_credential(number, issuer_url=issuer_url, issuer_name=issuer_name)
    now = timezone.now()
    payload = {**body, "iss": body["issuer"]["id"], "jti": body["id"], "nbf": int(now.timestamp()),
               "iat": int(now.timestamp())}
    return sign(payload, algorithm=algorithm)


def credential_verify(token: str, jwks: dict) -> dict:
    """Verify `token` against a JWKS (as a third party would, with only the public keys); returns the payload.
    Raises jwt.InvalidTokenError (or a subclass) when the signature, the key or the claims do not check out."""
    header = jwt.get_unverified_header(token)
    kid = str(header.get("kid", ""))
    thumbprint = kid.rstrip("/").rsplit("/", 1)[-1]  # a key URI ends with the thumbprint; older tokens carry it bare
    matching = [k for k in jwks.get("keys", []) if k.get("kid") in (kid, thumbprint)]
    if not matching:
        raise jwt.InvalidKeyError(f"No published key has kid {kid!r}.")
    return verify_with_jwk(token, matching[0])


def verify_with_jwk(token: str, jwk: dict) -> dict:
    """Verify `token` with one public JWK (for example the one its `kid` URI dereferences to)."""
    key = jwt.PyJWK(jwk)
    payload = jwt.decode(token, key=key, algorithms=[key.algorithm_name], options={"require": ["iss", "jti", "nbf"]})
    subject = payload.get("credentialSubject")
    if isinstance(subject, dict) and "sub" in payload and payload["sub"] != subject.get("id"):
        raise jwt.InvalidTokenError("The sub claim differs from credentialSubject.id.")
    return payload
