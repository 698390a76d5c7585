"""Phone numbers in one form: E.164 (`+8613812345678`), mainland China by default.

A member's number typed as `138 1234 5678`, `138-1234-5678` or `+86 138…` is the same number; it is stored,
compared and made unique in E.164 only.
"""
from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

PHONE_INVALID = _("Enter a valid phone number.")
DEFAULT_REGION = "CN"


def phone_normalise(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """The E.164 form of `raw`, or ValidationError(PHONE_INVALID) when it is no valid number."""
    text = str(raw or "").strip()
    if not text or len(text) > 32:
        raise ValidationError(PHONE_INVALID, code="invalid_phone")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(PHONE_INVALID, code="invalid_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(PHONE_INVALID, code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_or_none(raw: str, *, region: str = DEFAULT_REGION) -> str | None:
    """The E.164 form of `raw` when it is a valid number, else None (for look-ups: "is this a phone number?")."""
    try:
        return phone_normalise(raw, region=region)
    except ValidationError:
        return None
