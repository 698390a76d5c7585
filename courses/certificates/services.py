"""Writes: issuing (one, in bulk), revoking, re-issuing. Every change adds a CertificateEvent.

Concurrency: every issuing path first locks the year's row of CertificateSequence (SELECT … FOR UPDATE on
PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers anyway), then checks for a current certificate, then
allocates numbers. So two completions, a bulk issue and a re-issue never interleave; and the partial unique
constraint "one current certificate per enrolment" is the backstop if anything gets past that.
"""
from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from academy.text import text_clean, text_is_blank

from . import selectors
from .models import Certificate, CertificateEvent, CertificateSequence

COURSE_GIVES_NO_CERTIFICATE = _("This course does not give a certificate.")
REASON_REQUIRED = _("Give a reason for revoking the certificate.")
ONLY_VALID_CAN_BE_REVOKED = _("Only a valid certificate can be revoked.")
ONLY_VALID_CAN_BE_REISSUED = _("Only a valid certificate can be re-issued.")
NAME_REQUIRED = _("Enter the name to print on the certificate.")
NAME_HAS_NO_GLYPH = _("The certificate font cannot print these characters: %(chars)s")

CODE_BYTES = 16  # secrets.token_urlsafe(16): 22 characters, 128 bits


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def format_number(year: int, serial: int) -> str:
    return f"{settings.CERTIFICATE_NUMBER_PREFIX}-{year}-{serial:06d}"


def _lock_sequence(year: int) -> CertificateSequence:
    """Lock the year's number sequence until the surrounding transaction ends (creating it on first use)."""
    CertificateSequence.objects.get_or_create(year=year)
    return CertificateSequence.objects.select_for_update().get(year=year)


def _take_numbers(sequence: CertificateSequence, count: int) -> list[str]:
    first = sequence.last + 1
    sequence.last += count
    sequence.save(update_fields=["last"])
    return [format_number(sequence.year, serial) for serial in range(first, first + count)]


def _event(certificate: Certificate, action: str, *, actor, at: datetime, **details) -> CertificateEvent:
    return CertificateEvent(certificate=certificate, action=action, actor=actor, at=at, details=details)


def _new_certificate(*, completion, issuer, number: str, at: datetime) -> Certificate:
    enrolment = completion.enrolment
    user, course = enrolment.user, enrolment.course
    return Certificate(
        number=number,
        code=new_code(),
        enrolment=enrolment,
        holder=user,
        course=course,
        holder_name=printed_name(user),
        course_title=course.title[:255],
        hours=course.hours_credited,
        completed_at=completion.completed_at,
        issued_at=at,
        issuer_name=issuer.issuer_name,
        signatory_name=issuer.signatory_name,
        signatory_title=issuer.signatory_title,
    )


def printed_name(user) -> str:
    """The name a new certificate prints: the user's real name (cleaned again: rows may predate the rule), else the
    full name, else the username."""
    for candidate in (user.real_name, user.get_full_name(), user.username):
        name = text_clean(candidate or "", required=False)
        if not text_is_blank(name):
            return name[:60]
    return user.username[:60]


def certificate_issue(*, completion, actor=None) -> Certificate | None:
    """Issue the certificate of a completed course, exactly once: returns the current certificate of the
    enrolment if there is one, None when the course gives no certificate. Called by the course_completed signal
    (actor None: the platform) and by organisers."""
    enrolment = completion.enrolment
    if not enrolment.course.certificate_enabled:
        return None
    existing = selectors.certificate_current_for_enrolment(enrolment=enrolment)
    if existing is not None:
        return existing
    issuer = selectors.issuer_settings()
    with transaction.atomic():
        at = timezone.now()
        sequence = _lock_sequence(timezone.localdate(at).year)
        existing = selectors.certificate_current_for_enrolment(enrolment=enrolment)
        if existing is not None:
            return existing
        [number] = _take_numbers(sequence, 1)
        certificate = _new_certificate(completion=completion, issuer=issuer, number=number, at=at)
        certificate.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                certificate.save()
        except IntegrityError:  # the constraint caught a race the lock did not (should not happen)
            return selectors.certificate_current_for_enrolment(enrolment=enrolment)
        _event(certificate, CertificateEvent.Action.ISSUED, actor=actor, at=at).save()
    return certificate


def certificate_issue_bulk(*, completions, actor=None, batch_size: int = 1000) -> list[Certificate]:
    """Issue certificates for every completion in `completions` (a queryset) that has none yet and whose course
    gives one. Returns the new certificates; completions that already have one are left alone."""
    issuer = selectors.issuer_settings()
    with transaction.atomic():
        at = timezone.now()
        sequence = _lock_sequence(timezone.localdate(at).year)
        pending = list(selectors.completions_without_certificate(completions=completions))
        if not pending:
            return []
        numbers = _take_numbers(sequence, len(pending))
        certificates = [
            _new_certificate(completion=completion, issuer=issuer, number=number, at=at)
            for completion, number in zip(pending, numbers)
        ]
        certificates = Certificate.objects.bulk_create(certificates, batch_size=batch_size)
        if any(c.pk is None for c in certificates):  # a backend that cannot return keys from a bulk insert
            by_number = dict(Certificate.objects.filter(number__in=numbers).values_list("number", "pk"))
            for c in certificates:
                c.pk = by_number[c.number]
        CertificateEvent.objects.bulk_create(
            [_event(c, CertificateEvent.Action.ISSUED, actor=actor, at=at, bulk=True) for c in certificates],
            batch_size=batch_size,
        )
    return certificates


def certificate_revoke(*, certificate: Certificate, actor, reason: str) -> Certificate:
    reason = text_clean(reason or "", multiline=True, required=False)
    if text_is_blank(reason):
        raise ValidationError({"reason": REASON_REQUIRED})
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if certificate.status != Certificate.Status.VALID:
            raise ValidationError(ONLY_VALID_CAN_BE_REVOKED)
        at = timezone.now()
        certificate.status = Certificate.Status.REVOKED
        certificate.revoked_at = at
        certificate.revocation_reason = reason[:500]
        certificate.full_clean(validate_constraints=False)
        certificate.save(update_fields=["status", "revoked_at", "revocation_reason"])
        _event(certificate, CertificateEvent.Action.REVOKED, actor=actor, at=at, reason=certificate.revocation_reason).save()
    return certificate


def certificate_reissue(*, certificate: Certificate, actor, holder_name: str | None = None, reason: str = "") -> Certificate:
    """Replace a valid certificate with a new one (new number and code), for example after a name correction.
    The old certificate becomes superseded and its verification page points to the new one."""
    from .pdf import missing_glyphs

    name = holder_name if holder_name is not None else certificate.holder.real_name or certificate.holder_name
    name = text_clean(name or "", required=False)
    if text_is_blank(name):
        raise ValidationError({"holder_name": NAME_REQUIRED})
    reason = text_clean(reason or "", multiline=True, required=False)
    missing = missing_glyphs(name)
    if missing:
        raise ValidationError({"holder_name": NAME_HAS_NO_GLYPH % {"chars": " ".join(missing)}})
    with transaction.atomic():
        at = timezone.now()
        sequence = _lock_sequence(timezone.localdate(at).year)
        old = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if old.status != Certificate.Status.VALID:
            raise ValidationError(ONLY_VALID_CAN_BE_REISSUED)
        old.status = Certificate.Status.SUPERSEDED
        old.save(update_fields=["status"])
        [number] = _take_numbers(sequence, 1)
        new = Certificate(
            number=number, code=new_code(), enrolment_id=old.enrolment_id, holder_id=old.holder_id,
            course_id=old.course_id, holder_name=name[:60], course_title=old.course_title, hours=old.hours,
            completed_at=old.completed_at, issued_at=at, issuer_name=old.issuer_name,
            signatory_name=old.signatory_name, signatory_title=old.signatory_title, replaces=old,
        )
        new.full_clean(validate_constraints=False)
        new.save()
        CertificateEvent.objects.bulk_create([
            _event(old, CertificateEvent.Action.SUPERSEDED, actor=actor, at=at, successor=new.number, reason=reason),
            _event(new, CertificateEvent.Action.REISSUED, actor=actor, at=at, replaces=old.number,
                   old_name=old.holder_name, new_name=new.holder_name, reason=reason),
        ])
    return new
