"""The portable credential: an Open Badges 3.0 OpenBadgeCredential secured as a VC-JWT.

Form (documented in docs/certificates.md): the VC-JOSE-COSE form that Open Badges 3.0.3 §8.2 uses with the VC
Data Model 2.0 — the JWT payload IS the credential (no `vc` wrapper claim), with the registered claims `iss`
(issuer.id), `jti` (the credential's id), `nbf` (validFrom) and `iat` (time of signing) beside it. The JOSE
header is {"alg": "RS256" | "EdDSA", "typ": "vc+jwt", "kid": <RFC 7638 thumbprint>}; the public keys are at
/.well-known/jwks.json. The @context URLs are identifiers inside the JSON, never fetched.

The subject is identified without leaking the e-mail: identityHash = "sha256$" + hex(sha256(email + salt)), the
salt derived per certificate from SECRET_KEY (stable across downloads, useless for a dictionary attack across
certificates).
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
from .models import Certificate

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
CREDENTIAL_TYPE = ["VerifiableCredential", "OpenBadgeCredential"]
JOSE_TYPE = "vc+jwt"
MEDIA_TYPE = "application/vc+jwt"


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def verify_url(certificate: Certificate) -> str:
    return absolute(reverse("certificates:verify", args=[certificate.code]))


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def identity_salt(certificate: Certificate) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"certificate-salt:{certificate.code}".encode(), "sha256").hexdigest()[:32]


def identity_hash(identity: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((identity + salt).encode()).hexdigest()


def issuer_profile(certificate: Certificate, issuer_url: str = "") -> dict:
    return {"id": issuer_url or absolute("/"), "type": ["Profile"], "name": certificate.issuer_name}


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
        "validFrom": _iso(certificate.issued_at),
        "credentialSubject": {
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
    }


def credential_jwt(certificate: Certificate, *, algorithm: str = signing_keys.RS256, issuer_url: str = "",
                   now: datetime | None = None) -> str:
    """The credential signed as a compact JWS with the current key of `algorithm` (its public half is published)."""
    key = signing_keys.signing_key(algorithm)
    signing_keys.key_publish(key)
    body = credential(certificate, issuer_url=issuer_url)
    payload = {
        **body,
        "iss": body["issuer"]["id"],
        "jti": body["id"],
        "nbf": int(certificate.issued_at.timestamp()),
        "iat": int((now or timezone.now()).timestamp()),
    }
    return jwt.encode(payload, key.private_key, algorithm=algorithm, headers={"kid": key.kid, "typ": JOSE_TYPE})


def credential_verify(token: str, jwks: dict) -> dict:
    """Verify `token` against a JWKS (as a third party would, with only the public keys); returns the payload.
    Raises jwt.InvalidTokenError (or a subclass) when the signature, the key or the claims do not check out."""
    header = jwt.get_unverified_header(token)
    matching = [k for k in jwks.get("keys", []) if k.get("kid") == header.get("kid")]
    if not matching:
        raise jwt.InvalidKeyError(f"No published key has kid {header.get('kid')!r}.")
    key = jwt.PyJWK(matching[0])
    return jwt.decode(token, key=key, algorithms=[key.algorithm_name], options={"require": ["iss", "jti", "nbf"]})
