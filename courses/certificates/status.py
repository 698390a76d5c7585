"""Credential status that verifiers can check: a W3C Bitstring Status List, published by the site.

Every certificate has its own position: list number (pk - 1) // LIST_SIZE + 1, index (pk - 1) % LIST_SIZE. The
list is a credential of its own (BitstringStatusListCredential, statusPurpose "revocation") at the stable URL
/certificates/status/<number>, signed with the same keys as the certificates' credentials and served as a VC-JWT;
its `encodedList` is the multibase (prefix "u") base64url of the GZIP-compressed bitstring of LIST_SIZE bits, the
first index in the most significant bit of the first byte. A bit is 1 when the certificate is no longer current:
revoked, or superseded by a re-issued certificate. The list is computed from the certificates' rows on each request
(16 KB, one query), so revoking flips the bit at once; responses may be cached for STATUS_MAX_AGE seconds.
"""
from __future__ import annotations

import base64
import gzip

from django.urls import reverse
from django.utils import timezone

from .models import Certificate

LIST_SIZE = 131_072  # bits per list: the specification's minimum, for group privacy
STATUS_PURPOSE = "revocation"
STATUS_MAX_AGE = 300
MAX_LIST_NUMBER = 10_000


def status_position(certificate: Certificate) -> tuple[int, int]:
    """(list number, index in that list) of `certificate`."""
    return (certificate.pk - 1) // LIST_SIZE + 1, (certificate.pk - 1) % LIST_SIZE


def status_list_url(number: int) -> str:
    from .credentials import absolute

    return absolute(reverse("certificates:status_list", args=[number]))


def status_entry(certificate: Certificate) -> dict:
    """The credential's `credentialStatus`: a BitstringStatusListEntry pointing at its bit."""
    number, index = status_position(certificate)
    url = status_list_url(number)
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": STATUS_PURPOSE,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def status_bits(number: int) -> bytes:
    """The bitstring of list `number`: 1 for every certificate in its range that is no longer current."""
    first = (number - 1) * LIST_SIZE + 1
    bits = bytearray(LIST_SIZE // 8)
    not_current = Certificate.objects.filter(pk__gte=first, pk__lt=first + LIST_SIZE).exclude(
        status=Certificate.Status.VALID).values_list("pk", flat=True)
    for pk in not_current:
        index = pk - first
        bits[index // 8] |= 0x80 >> (index % 8)
    return bytes(bits)


def encode_list(bits: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(gzip.compress(bits, mtime=0)).rstrip(b"=").decode()


def decode_list(encoded: str) -> bytes:
    """The bitstring of an `encodedList` (what a verifier does)."""
    if not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url (prefix 'u').")
    data = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def bit_is_set(bits: bytes, index: int) -> bool:
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def list_number_exists(number: int) -> bool:
    """Lists are published from 1 up to the one holding the newest certificate."""
    if not 1 <= number <= MAX_LIST_NUMBER:
        return False
    newest = Certificate.objects.order_by("-pk").values_list("pk", flat=True).first() or 1
    return number <= (newest - 1) // LIST_SIZE + 1


def status_list_credential(number: int, *, issuer_url: str = "", issuer_name: str = "") -> dict:
    from .credentials import CONTEXT_V2, absolute, iso

    url = status_list_url(number)
    return {
        "@context": [CONTEXT_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": {"id": issuer_url or absolute("/"), "type": ["Profile"], "name": issuer_name},
        "validFrom": iso(timezone.now()),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": STATUS_PURPOSE,
            "encodedList": encode_list(status_bits(number)),
        },
    }
