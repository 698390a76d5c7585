"""Registering for a session, cancelling, and the messages that go with it (confirmation and reminder, by e-mail
and, when the user has a phone number, by SMS), each carrying the registrant's personal join link (live/links.py).

Capacity is never over-booked: registration_create locks the session's row (SELECT … FOR UPDATE on PostgreSQL;
SQLite's IMMEDIATE transactions already let one writer in at a time) before it counts the active registrations.
One active registration per user and session is a database constraint.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from academy.notifications import notify
from live.ics import session_ics
from live.links import link_may_sign_in, link_url
from live.models import LiveSessionPage, Registration
from live.selectors.access import user_is_banned

logger = logging.getLogger(__name__)

ERROR_NOT_SIGNED_IN = _("Please log in to register.")
ERROR_CLOSED = _("Registration for this session is closed.")
ERROR_ENDED = _("This session has ended.")
ERROR_FULL = _("This session is full.")
ERROR_BANNED = _("You have been removed from this session and cannot register.")
ERROR_NOT_REGISTERED = _("You are not registered for this session.")


def absolute_url(session: LiveSessionPage, suffix: str = "") -> str:
    url = session.get_url()
    if url and url.startswith("/"):
        url = settings.SITE_URL + url
    return f"{url}{suffix}"


def registration_create(*, session: LiveSessionPage, user) -> Registration:
    """Register `user`; registering twice returns the existing registration. Sends the confirmation after commit."""
    if not (user and user.is_authenticated):
        raise ValidationError(ERROR_NOT_SIGNED_IN, code="not_signed_in")
    existing = Registration.objects.active().filter(session=session, user=user).first()
    if existing is not None:
        return existing
    if user_is_banned(session=session, user=user):
        raise ValidationError(ERROR_BANNED, code="banned")
    try:
        with transaction.atomic():
            locked = LiveSessionPage.objects.select_for_update(of=("self",)).get(pk=session.pk)
            if locked.is_past:
                raise ValidationError(ERROR_ENDED, code="ended")
            if not locked.registration_open:
                raise ValidationError(ERROR_CLOSED, code="closed")
            if locked.capacity:
                taken = Registration.objects.active().filter(session=locked).count()
                if taken >= locked.capacity:
                    raise ValidationError(ERROR_FULL, code="full")
            registration = Registration(session=locked, user=user)
            registration.full_clean(validate_constraints=False)
            registration.save()
            transaction.on_commit(lambda: send_confirmation(registration))
    except IntegrityError:
        # The same user registering twice at once: the constraint kept one; return it.
        return Registration.objects.active().get(session=session, user=user)
    return registration


def registration_cancel(*, session: LiveSessionPage, user) -> Registration:
    """Cancel the user's active registration (before the session ends); the seat becomes free at once."""
    with transaction.atomic():
        registration = (
            Registration.objects.select_for_update().active().filter(session=session, user=user).first()
        )
        if registration is None:
            raise ValidationError(ERROR_NOT_REGISTERED, code="not_registered")
        if session.is_past:
            raise ValidationError(ERROR_ENDED, code="ended")
        registration.cancelled_at = timezone.now()
        registration.save(update_fields=["cancelled_at"])
    return registration


# --- e-mail and SMS ----------------------------------------------------------------------------------------------
def join_url(registration: Registration, *, personal: bool | None = None) -> str:
    """The address a registrant enters the room by: their personal join link (live/links.py), or the room's own
    address for accounts a link never signs in (organisers and moderators log in with their password)."""
    if personal is None:
        personal = link_may_sign_in(registration.user, registration.session)
    return link_url(registration) if personal else absolute_url(registration.session, "room/")


def _context(registration: Registration) -> dict:
    session = registration.session
    personal = link_may_sign_in(registration.user, session)
    return {
        "session": session,
        "user": registration.user,
        "url": absolute_url(session),
        "room_url": join_url(registration, personal=personal),
        "personal_link": personal,
        "calendar_url": absolute_url(session, "calendar.ics"),
        "site_url": settings.SITE_URL,
    }


def _sms(registration: Registration, template: str) -> bool:
    """The same news by SMS when the user has a phone number (academy.notifications: rate-limited per number)."""
    if not getattr(registration.user, "phone", ""):
        return False
    result = notify(template=f"live/{template}", context=_context(registration), user=registration.user,
                    channels=("sms",))
    return result.delivered


def _email(registration: Registration, template: str) -> EmailMultiAlternatives:
    session = registration.session
    context = _context(registration)
    with translation.override(settings.LANGUAGE_CODE), timezone.override(settings.TIME_ZONE):
        subject = " ".join(render_to_string(f"live/email/{template}_subject.txt", context).split())
        text = render_to_string(f"live/email/{template}.txt", context)
        html = render_to_string(f"live/email/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [registration.user.email])
    message.attach_alternative(html, "text/html")
    message.attach(f"live-{session.pk}.ics", session_ics(session, url=context["url"]), "text/calendar; charset=utf-8")
    return message


def send_confirmation(registration: Registration) -> bool:
    sent = _sms(registration, "registration_confirmed")
    if not registration.user.email:
        return sent
    try:
        _email(registration, "registration_confirmed").send()
    except Exception:  # the registration stands even when the mail server is down
        logger.exception("Could not send the registration confirmation %s", registration.pk)
        return sent
    return True


def registrations_due_reminder(*, within: timedelta, now: datetime | None = None):
    now = now or timezone.now()
    return (
        Registration.objects.active()
        .filter(reminded_at__isnull=True, session__live=True, session__start__gt=now, session__start__lte=now + within)
        .select_related("session", "user")
        .order_by("session__start", "pk")
    )


def reminders_send(*, within: timedelta, now: datetime | None = None) -> int:
    """Send each due registration its reminder once: claim it by setting reminded_at, then send (unclaim on failure).

    Safe to run from cron every few minutes, even twice at once: a claimed registration is never sent again.
    """
    now = now or timezone.now()
    sent = 0
    for registration in registrations_due_reminder(within=within, now=now):
        claimed = Registration.objects.filter(pk=registration.pk, reminded_at__isnull=True).update(reminded_at=now)
        if not claimed:
            continue
        texted = _sms(registration, "reminder")
        if not registration.user.email:
            sent += texted
            continue
        try:
            _email(registration, "reminder").send()
        except Exception:
            logger.exception("Could not send the reminder for registration %s", registration.pk)
            if not texted:  # nothing reached the user: let the next run try again
                Registration.objects.filter(pk=registration.pk).update(reminded_at=None)
            sent += texted
            continue
        sent += 1
    return sent
