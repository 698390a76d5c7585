"""Users and their profiles.

The user model carries the profile fields a certificate and a volunteer review need; it is swapped in from the
first migration, so no separate profile table and no extra join on every request.
"""
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from academy.text import text_clean, text_is_blank

from .phones import phone_normalise, phone_or_none

# Free text a user types about themselves: cleaned by academy/text.py's rule in forms and in model validation.
TYPED_TEXT_FIELDS = ("real_name", "organisation", "city")


def phone_validator(value: str) -> None:
    """A stored phone number is a valid number written in E.164 (`+8613812345678`)."""
    if phone_normalise(value) != value:
        from django.core.exceptions import ValidationError

        from .phones import PHONE_INVALID

        raise ValidationError(PHONE_INVALID, code="invalid_phone")


class User(AbstractUser):
    class Role(models.TextChoices):
        SOCIAL_WORKER = "social_worker", _("Social worker")
        VOLUNTEER = "volunteer", _("Volunteer")
        ORGANISER = "organiser", _("Organiser")

    class VolunteerCategory(models.TextChoices):
        MEDICAL = "medical", _("Medical")
        PSYCHOLOGICAL = "psychological", _("Psychological")
        SOCIAL_WORK = "social_work", _("Social work")
        PREVENTION = "prevention", _("Prevention and control")
        DISINFECTION = "disinfection", _("Disinfection")
        ARTS = "arts", _("Arts and culture")
        SUPPLIES = "supplies", _("Supplies and daily-life support")

    real_name = models.CharField(
        _("real name"), max_length=60, blank=True, help_text=_("Printed on your certificates.")
    )
    # E.164 only (academy/accounts/phones.py); forms normalise what members type, save() normalises other writers.
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VOLUNTEER)
    volunteer_category = models.CharField(
        _("volunteer category"), max_length=20, choices=VolunteerCategory.choices, blank=True
    )
    organisation = models.CharField(_("organisation"), max_length=120, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        # Role permissions that are not about one model; the groups migration gives them to Organisers/Moderators.
        permissions = [
            ("moderate_live", _("Can moderate every live session")),
            ("view_reports", _("Can view learning and attendance reports")),
            ("manage_certificates", _("Can issue, re-issue and revoke certificates")),
            ("review_volunteers", _("Can review volunteer profiles")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["phone"], condition=~models.Q(phone=""), name="accounts_user_phone_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(phone="") | models.Q(phone__startswith="+"), name="accounts_user_phone_e164"
            ),
            # One account per e-mail address whatever its case: a password reset reaches exactly one account.
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="accounts_user_email_ci_unique"
            ),
        ]

    def clean(self):
        super().clean()
        for name in TYPED_TEXT_FIELDS:
            value = text_clean(getattr(self, name) or "", required=False)
            setattr(self, name, "" if text_is_blank(value) else value)

    def save(self, *args, **kwargs):
        if self.phone:
            self.phone = phone_or_none(self.phone) or self.phone
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.real_name or self.get_full_name() or self.username
