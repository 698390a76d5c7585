"""Signing keys for the portable credentials.

Private keys come only from configuration: CERTIFICATE_SIGNING_KEYS (PEM text, one or more keys) or
CERTIFICATE_SIGNING_KEY_FILE (a path to such a PEM file). The first RSA key signs RS256, the first Ed25519 key
signs EdDSA. With DEBUG on and nothing configured, a development key pair is generated into a git-ignored file
(settings.CERTIFICATE_DEV_KEY_FILE); with DEBUG off, signing is refused with NO_KEY_CONFIGURED.

Public halves: every key that has signed is recorded in SigningKey, so the JWKS keeps publishing it after a
rotation and old credentials still verify. A key's `kid` is its RFC 7638 JWK thumbprint.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

from .models import SigningKey

RS256 = "RS256"
EDDSA = "EdDSA"
ALGORITHMS = (RS256, EDDSA)

NO_KEY_CONFIGURED = (
    "No certificate signing key is configured. Set CERTIFICATE_SIGNING_KEYS to a PEM private key, or "
    "CERTIFICATE_SIGNING_KEY_FILE to the path of a PEM file; `python manage.py certificate_keys generate` makes one. "
    "(With DEBUG on, a development key is generated automatically.)"
)
NO_KEY_FOR_ALGORITHM = "No {algorithm} key is configured for signing certificates."
BAD_KEY = "A certificate signing key could not be read: {error}"

_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", re.S)


class SigningKeyError(ImproperlyConfigured):
    pass


@dataclass(frozen=True)
class LoadedKey:
    kid: str
    algorithm: str
    private_key: object
    public_jwk: dict

    def private_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()


# --- Building keys ----------------------------------------------------------------------------------------------

def generate_private_key(algorithm: str = RS256):
    if algorithm == RS256:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == EDDSA:
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"Unknown algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}.")


def thumbprint(jwk: dict) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of a public RSA or OKP key."""
    members = ("e", "kty", "n") if jwk["kty"] == "RSA" else ("crv", "kty", "x")
    canonical = json.dumps({m: jwk[m] for m in members}, sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def load_key(private_key) -> LoadedKey:
    if isinstance(private_key, rsa.RSAPrivateKey):
        algorithm, jwk = RS256, RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    elif isinstance(private_key, ed25519.Ed25519PrivateKey):
        algorithm, jwk = EDDSA, OKPAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    else:
        raise SigningKeyError(BAD_KEY.format(error="only RSA and Ed25519 keys are supported"))
    public = {k: v for k, v in jwk.items() if k in ("kty", "n", "e", "crv", "x")}
    kid = thumbprint(public)
    public.update({"kid": kid, "alg": algorithm, "use": "sig"})
    return LoadedKey(kid=kid, algorithm=algorithm, private_key=private_key, public_jwk=public)


def parse_pem(text: str) -> list[LoadedKey]:
    """Every private key in `text` (PEM blocks, in order)."""
    keys = []
    for block in _PEM_BLOCK.findall(text.replace("\\n", "\n")):
        try:
            keys.append(load_key(serialization.load_pem_private_key(block.encode(), password=None)))
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(BAD_KEY.format(error=exc)) from exc
    return keys


def write_key_file(path: Path, keys: list[LoadedKey]) -> None:
    """Write private keys to `path` (mode 0600), replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("".join(key.private_pem() for key in keys))
    os.replace(tmp, path)


# --- Configured keys --------------------------------------------------------------------------------------------

_cache_lock = threading.Lock()
_cache: dict[str, list[LoadedKey]] = {}


def key_file_path() -> Path | None:
    """The file the keys come from: CERTIFICATE_SIGNING_KEY_FILE, or the development file when DEBUG is on."""
    if settings.CERTIFICATE_SIGNING_KEYS:
        return None
    if settings.CERTIFICATE_SIGNING_KEY_FILE:
        return Path(settings.CERTIFICATE_SIGNING_KEY_FILE)
    if settings.DEBUG:
        return Path(settings.CERTIFICATE_DEV_KEY_FILE)
    return None


def key_source() -> str:
    if settings.CERTIFICATE_SIGNING_KEYS:
        return "CERTIFICATE_SIGNING_KEYS"
    path = key_file_path()
    return str(path) if path else ""


def _configured_pem() -> str:
    if settings.CERTIFICATE_SIGNING_KEYS:
        return settings.CERTIFICATE_SIGNING_KEYS
    path = key_file_path()
    if path is None:
        raise SigningKeyError(NO_KEY_CONFIGURED)
    if not path.exists():
        if settings.CERTIFICATE_SIGNING_KEY_FILE:
            raise SigningKeyError(f"CERTIFICATE_SIGNING_KEY_FILE names {path}, which does not exist.")
        # DEBUG on, nothing configured: a development key pair, kept out of git (.keys/ is ignored).
        write_key_file(path, [load_key(generate_private_key(RS256)), load_key(generate_private_key(EDDSA))])
    return path.read_text()


def configured_keys() -> list[LoadedKey]:
    """The private keys in configuration, first one of each algorithm first (raises SigningKeyError if none)."""
    pem = _configured_pem()
    with _cache_lock:
        if pem not in _cache:
            keys = parse_pem(pem)
            if not keys:
                raise SigningKeyError(NO_KEY_CONFIGURED)
            _cache.clear()
            _cache[pem] = keys
        return _cache[pem]


def signing_key(algorithm: str = RS256) -> LoadedKey:
    for key in configured_keys():
        if key.algorithm == algorithm:
            return key
    raise SigningKeyError(NO_KEY_FOR_ALGORITHM.format(algorithm=algorithm))


def key_publish(key: LoadedKey) -> SigningKey:
    """Record the public half of `key` (idempotent) so that the JWKS keeps it after a rotation."""
    row, _ = SigningKey.objects.get_or_create(
        kid=key.kid, defaults={"algorithm": key.algorithm, "public_jwk": key.public_jwk}
    )
    return row


def key_uri(kid: str) -> str:
    """The URI that names a key in a credential's JOSE header; fetching it answers the public JWK."""
    from django.urls import reverse

    return settings.SITE_URL + reverse("certificates:key", args=[kid])


def public_jwk(kid: str) -> dict | None:
    """The public JWK with thumbprint `kid`, configured or published before; None when there is none."""
    for key in jwks()["keys"]:
        if key.get("kid") == kid:
            return key
    return None


def jwks() -> dict:
    """The JSON Web Key Set: the configured keys' public halves and every key published before (retired too)."""
    keys: dict[str, dict] = {}
    try:
        for key in configured_keys():
            keys[key.kid] = key.public_jwk
    except SigningKeyError:
        pass  # nothing configured: publish what signed before, if anything
    for row in SigningKey.objects.all():
        keys.setdefault(row.kid, row.public_jwk)
    return {"keys": list(keys.values())}
