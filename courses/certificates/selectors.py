"""Reads: current certificates, the issuer's settings, what may be downloaded by whom, verification answers."""
from __future__ import annotations

from django.db.models import QuerySet
from wagtail.models import Site

from courses.models import Completion

from .models import Certificate, CertificateSettings

MANAGE_PERMISSION = "accounts.manage_certificates"
CURRENT_STATUSES = [Certificate.Status.VALID, Certificate.Status.REVOKED]


def issuer_settings() -> CertificateSettings:
    """The issuer's settings of the default site (defaults, unsaved, when there is no site yet)."""
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return CertificateSettings()
    return CertificateSettings.for_site(site)


def certificate_current_for_enrolment(*, enrolment) -> Certificate | None:
    return Certificate.objects.filter(enrolment=enrolment, status__in=CURRENT_STATUSES).first()


def completions_without_certificate(*, completions: QuerySet | None = None) -> QuerySet:
    """Completions (of `completions`, or all) of courses that give a certificate, with no current certificate."""
    completions = Completion.objects.all() if completions is None else completions
    return (
        completions.filter(enrolment__course__certificate_enabled=True)
        .exclude(enrolment__certificates__status__in=CURRENT_STATUSES)
        .select_related("enrolment__user", "enrolment__course")
        .order_by("completed_at", "pk")
    )


def completions_for_bulk_issue(*, course, completed_since=None) -> QuerySet:
    completions = Completion.objects.filter(enrolment__course=course)
    if completed_since is not None:
        completions = completions.filter(completed_at__gte=completed_since)
    return completions_without_certificate(completions=completions)


def certificate_list_for_holder(*, user) -> QuerySet:
    """A learner's certificates, newest first; superseded ones are left out (their successor is listed)."""
    return Certificate.objects.filter(holder=user).exclude(status=Certificate.Status.SUPERSEDED).select_related("course")


def certificate_can_download(*, certificate: Certificate, user) -> bool:
    """The PDF and the credential belong to the holder; organisers who manage certificates may fetch them too."""
    if not user.is_authenticated or not user.is_active:
        return False
    return certificate.holder_id == user.pk or user.has_perm(MANAGE_PERMISSION)


def certificate_by_code(*, code: str) -> Certificate | None:
    if not code or len(code) > 64:
        return None
    return Certificate.objects.filter(code=code).first()


def certificate_current_successor(*, certificate: Certificate) -> Certificate | None:
    """For a superseded certificate, the certificate that now stands in its place (following re-issues)."""
    current, seen = certificate.successor, set()
    while current is not None and current.status == Certificate.Status.SUPERSEDED and current.pk not in seen:
        seen.add(current.pk)
        current = current.successor
    return current
