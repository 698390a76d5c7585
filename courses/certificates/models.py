"""Certificates: one current certificate per enrolment, its audit trail, the issuer's site settings, the yearly
number sequence and the published signing keys.

A certificate is a document of record: what it prints (name, course, hours, dates, issuer, signatory) is copied
into its row when it is issued, so a later edit of the course or of the user's profile does not change it. A name
correction is a re-issue: a new certificate, the old one "superseded" and pointing to it.
"""
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting


class Certificate(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        REVOKED = "revoked", _("Revoked")
        SUPERSEDED = "superseded", _("Superseded")

    number = models.CharField(_("certificate number"), max_length=32, unique=True)
    code = models.CharField(_("verification code"), max_length=64, unique=True, editable=False)
    enrolment = models.ForeignKey(
        "courses.Enrolment", verbose_name=_("enrolment"), on_delete=models.CASCADE, related_name="certificates"
    )
    # Copied from the enrolment for lists and permission checks without joins.
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("holder"), on_delete=models.CASCADE, related_name="certificates"
    )
    course = models.ForeignKey(
        "courses.CoursePage", verbose_name=_("course"), on_delete=models.CASCADE, related_name="certificates"
    )
    # What the certificate prints, as it was when issued.
    holder_name = models.CharField(_("name on the certificate"), max_length=60)
    course_title = models.CharField(_("course title"), max_length=255)
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=1)
    completed_at = models.DateTimeField(_("completed at"))
    issued_at = models.DateTimeField(_("issued at"))
    issuer_name = models.CharField(_("issuing organisation"), max_length=120)
    signatory_name = models.CharField(_("signatory"), max_length=60, blank=True)
    signatory_title = models.CharField(_("signatory's title"), max_length=120, blank=True)

    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.VALID)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revocation_reason = models.CharField(_("reason for revocation"), max_length=500, blank=True)
    # A re-issued certificate points to the one it replaces; the old one is then "superseded".
    replaces = models.OneToOneField(
        "self", verbose_name=_("replaces"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="replaced_by",
    )

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_at", "-id"]
        constraints = [
            # Exactly one certificate per enrolment is current (valid or revoked); superseded ones are history.
            models.UniqueConstraint(
                fields=["enrolment"], condition=~models.Q(status="superseded"),
                name="certificates_one_current_per_enrolment",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="revoked") | (models.Q(revoked_at__isnull=False) & ~models.Q(revocation_reason="")),
                name="certificates_revoked_has_date_and_reason",
            ),
        ]
        indexes = [models.Index(fields=["course", "issued_at"]), models.Index(fields=["holder", "issued_at"])]

    def __str__(self):
        return f"{self.number} {self.holder_name} · {self.course_title}"

    @property
    def is_valid(self) -> bool:
        return self.status == self.Status.VALID

    @property
    def successor(self):
        """The certificate that replaced this one, or None."""
        try:
            return self.replaced_by
        except Certificate.DoesNotExist:
            return None


class CertificateEvent(models.Model):
    """The audit trail: who did what to which certificate, and when. Rows are only ever added."""

    class Action(models.TextChoices):
        ISSUED = "issued", _("Issued")
        REVOKED = "revoked", _("Revoked")
        REISSUED = "reissued", _("Re-issued (this certificate replaces an older one)")
        SUPERSEDED = "superseded", _("Superseded by a re-issued certificate")

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", help_text=_("Empty when the platform acted on its own (issuing at completion)."),
    )
    at = models.DateTimeField(_("at"))
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("certificate event")
        verbose_name_plural = _("certificate events")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.certificate.number} {self.action} {self.at:%Y-%m-%d %H:%M}"


class CertificateSequence(models.Model):
    """The last certificate number used in a year. Issuing locks the row, so numbers never repeat."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("certificate number sequence")


class SigningKey(models.Model):
    """A public key that has signed credentials. Private keys live only in configuration; the public halves stay
    here after a rotation, so that the JWKS keeps publishing them and old credentials still verify."""

    kid = models.CharField(_("key id"), max_length=64, unique=True)
    algorithm = models.CharField(_("algorithm"), max_length=10)
    public_jwk = models.JSONField(_("public key (JWK)"))
    created_at = models.DateTimeField(_("first seen"), auto_now_add=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.algorithm} {self.kid}"


class CredentialHolder(models.Model):
    """A holder's stable pseudonymous identifier in portable credentials (credentialSubject.id and the JWT's `sub`):
    a random urn:uuid made when the user's first credential is signed, the same in every later one, and telling
    nothing about the person."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("holder"), on_delete=models.CASCADE, related_name="credential_holder"
    )
    subject_id = models.UUIDField(_("subject identifier"), unique=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("credential holder")
        verbose_name_plural = _("credential holders")

    def __str__(self):
        return self.urn

    @property
    def urn(self) -> str:
        return f"urn:uuid:{self.subject_id}"


@register_setting(icon="doc-full")
class CertificateSettings(BaseSiteSetting):
    """The issuer printed on certificates and named in the credentials."""

    issuer_name = models.CharField(_("issuing organisation"), max_length=120, default="联动学堂")
    issuer_url = models.URLField(
        _("issuer's web address"), blank=True,
        help_text=_("Identifies the issuer in the portable credential. Empty: the site's own address."),
    )
    signatory_name = models.CharField(_("signatory"), max_length=60, blank=True)
    signatory_title = models.CharField(_("signatory's title"), max_length=120, blank=True)

    panels = [FieldPanel("issuer_name"), FieldPanel("issuer_url"), FieldPanel("signatory_name"), FieldPanel("signatory_title")]

    class Meta:
        verbose_name = _("certificate issuer")
