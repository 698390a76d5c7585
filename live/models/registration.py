"""Who registered for a session, and who is banned from its room."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .pages import LiveSessionPage


class RegistrationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(cancelled_at__isnull=True)


class Registration(models.Model):
    """A user's place in a session. Cancelling keeps the row (cancelled_at); registering again makes a new one."""

    session = models.ForeignKey(LiveSessionPage, verbose_name=_("session"), on_delete=models.CASCADE,
                                related_name="registrations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="live_registrations")
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "user"], condition=Q(cancelled_at__isnull=True),
                name="live_registration_one_active_per_user",
            )
        ]
        indexes = [models.Index(fields=["session", "cancelled_at"], name="live_reg_session_active")]

    def __str__(self) -> str:
        return f"{self.user} → {self.session}"

    @property
    def is_active(self) -> bool:
        return self.cancelled_at is None


class Ban(models.Model):
    """A user removed from one session's room: disconnected, and refused when they try to rejoin."""

    session = models.ForeignKey(LiveSessionPage, verbose_name=_("session"), on_delete=models.CASCADE,
                                related_name="bans")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="live_bans")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("banned by"), null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("banned at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ban")
        verbose_name_plural = _("bans")
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="live_ban_unique")]

    def __str__(self) -> str:
        return f"{self.user} ✕ {self.session}"
