"""Notifications: one call, `notify()`, that tells a person something by e-mail and/or SMS.

    from academy.notifications import notify
    notify(template="volunteers/approved", context={...}, email="a@example.org", phone="+8613800000001")
    notify(template="accounts/phone_code", context={"code": "123456"}, user=user, channels=("sms",))

- Templates live in any app's templates/notifications/<template>/: `subject.txt` and `body.txt` for e-mail,
  `sms.txt` for SMS (a channel whose template is missing is skipped). They are rendered in the site's language
  (Chinese) whatever the request's language, with `{% translate %}` / `{% blocktranslate %}` as usual.
- E-mail goes through Django's mail (EMAIL_URL decides the backend); SMS through the SMS backend named by the
  SMS_BACKEND setting (academy.notifications.sms: console by default, file for inspection, locmem for tests). A
  vendor's gateway is one more backend class with `send_messages(messages)`, no change to callers.
- Each recipient (an address or a number) receives at most NOTIFY_RATE_LIMIT messages per NOTIFY_RATE_WINDOW seconds;
  more are dropped and reported in the result, so a loop or an attacker cannot flood a phone.
- `notify()` never raises for a delivery failure: it logs and reports. Call it after commit
  (`transaction.on_commit(lambda: notify(...))`) so nobody is told about a change that was rolled back.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import translation

from academy import ratelimit
from academy.notifications.sms import send_sms

logger = logging.getLogger(__name__)

CHANNELS = ("email", "sms")


@dataclass
class NotifyResult:
    sent: list[str] = field(default_factory=list)  # "email:<address>", "sms:<number>"
    skipped: list[str] = field(default_factory=list)  # reason:channel, e.g. "rate_limited:sms"

    @property
    def delivered(self) -> bool:
        return bool(self.sent)


def _render(template: str, part: str, context: dict) -> str | None:
    try:
        return render_to_string(f"notifications/{template}/{part}", context).strip()
    except TemplateDoesNotExist:
        return None


def _within_limit(channel: str, recipient: str) -> bool:
    return ratelimit.hit(
        f"notify:{channel}:{recipient.lower()}",
        limit=settings.NOTIFY_RATE_LIMIT, window=settings.NOTIFY_RATE_WINDOW,
    )


def notify(
    *, template: str, context: dict | None = None, user=None, email: str | None = None, phone: str | None = None,
    channels: tuple[str, ...] = CHANNELS,
) -> NotifyResult:
    """Send `template` to `email` and/or `phone` (taken from `user` when not given). See the module's docstring."""
    context = dict(context or {})
    if user is not None:
        email = email if email is not None else (user.email or None)
        phone = phone if phone is not None else (getattr(user, "phone", "") or None)
        context.setdefault("user", user)
    context.setdefault("site_name", getattr(settings, "WAGTAIL_SITE_NAME", ""))
    context.setdefault("site_url", settings.SITE_URL)
    result = NotifyResult()
    with translation.override(settings.LANGUAGE_CODE):
        if "email" in channels and email:
            subject = _render(template, "subject.txt", context)
            body = _render(template, "body.txt", context)
            if subject is None or body is None:
                result.skipped.append("no_template:email")
            elif not _within_limit("email", email):
                result.skipped.append("rate_limited:email")
            else:
                try:
                    send_mail(" ".join(subject.split()), body, None, [email])
                    result.sent.append(f"email:{email}")
                except Exception:  # a mail server's failure must not fail the caller's request
                    logger.exception("notification %s by e-mail failed", template)
                    result.skipped.append("failed:email")
        if "sms" in channels and phone:
            text = _render(template, "sms.txt", context)
            if text is None:
                result.skipped.append("no_template:sms")
            elif not _within_limit("sms", phone):
                result.skipped.append("rate_limited:sms")
            else:
                try:
                    send_sms(phone, " ".join(text.split()))
                    result.sent.append(f"sms:{phone}")
                except Exception:
                    logger.exception("notification %s by SMS failed", template)
                    result.skipped.append("failed:sms")
    return result


__all__ = ["notify", "NotifyResult", "send_sms"]
