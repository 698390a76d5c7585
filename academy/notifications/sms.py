"""SMS sending shaped like Django's e-mail: a backend class named by a setting, messages, one connection.

    from academy.notifications.sms import send_sms
    send_sms("+8613800000001", "您的验证码是 123456。")

SMS_BACKEND names the backend class:
- `academy.notifications.backends.console.SmsBackend` (default): prints each message to stdout.
- `academy.notifications.backends.file.SmsBackend`: appends each message as a JSON line to SMS_FILE_PATH.
- `academy.notifications.backends.locmem.SmsBackend`: keeps messages in `academy.notifications.sms.outbox` (tests).
A gateway backend subclasses BaseSmsBackend and implements `send_messages(messages) -> int`.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "academy.notifications.backends.console.SmsBackend"

# The locmem backend's sent messages (like django.core.mail.outbox).
outbox: list["SmsMessage"] = []


@dataclass
class SmsMessage:
    to: str
    body: str


class BaseSmsBackend:
    def __init__(self, fail_silently: bool = False, **kwargs):
        self.fail_silently = fail_silently

    def send_messages(self, messages: list[SmsMessage]) -> int:  # pragma: no cover - interface
        raise NotImplementedError


def get_connection(backend: str | None = None, fail_silently: bool = False, **kwargs) -> BaseSmsBackend:
    path = backend or getattr(settings, "SMS_BACKEND", "") or DEFAULT_BACKEND
    return import_string(path)(fail_silently=fail_silently, **kwargs)


def send_sms(to: str, body: str, *, connection: BaseSmsBackend | None = None) -> int:
    """Send one SMS; returns the number of messages sent (0 or 1)."""
    connection = connection or get_connection()
    return connection.send_messages([SmsMessage(to=to, body=body)])
