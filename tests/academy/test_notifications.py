"""academy.notifications: one call, e-mail and SMS backends shaped like Django's, Chinese templates, rate limits."""
import io
import json

import pytest
from django.core import mail

from academy.notifications import notify, sms
from academy.notifications.backends.console import SmsBackend as ConsoleBackend
from academy.notifications.backends.file import SmsBackend as FileBackend

CONTEXT = {"campaign_title": "测试招募", "name": "周报名", "message": "", "application_id": 1}


@pytest.fixture(autouse=True)
def _backends(settings):
    settings.SMS_BACKEND = "academy.notifications.backends.locmem.SmsBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_RATE_LIMIT = 2
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def test_notify_sends_chinese_email_and_sms():
    result = notify(template="volunteers/submitted", context=CONTEXT, email="a@example.org", phone="+8613800000009")
    assert result.sent == ["email:a@example.org", "sms:+8613800000009"]
    assert mail.outbox[0].subject == "报名已收到：测试招募"
    assert "周报名，你好" in mail.outbox[0].body
    assert sms.outbox[0].body.startswith("【联动学堂】")


def test_notify_is_rate_limited_per_recipient():
    for _ in range(3):
        result = notify(template="volunteers/submitted", context=CONTEXT, phone="+8613800000009")
    assert result.skipped == ["rate_limited:sms"]
    assert len(sms.outbox) == 2
    assert notify(template="volunteers/submitted", context=CONTEXT, phone="+8613800000010").delivered


def test_a_channel_without_template_is_skipped():
    result = notify(template="no/such", context={}, email="a@example.org", phone="+8613800000009")
    assert result.sent == [] and set(result.skipped) == {"no_template:email", "no_template:sms"}


def test_notify_takes_the_address_and_number_from_the_user(django_user_model):
    user = django_user_model(username="u", email="u@example.org", phone="+8613800000011")
    result = notify(template="volunteers/submitted", context=CONTEXT, user=user, channels=("sms",))
    assert result.sent == ["sms:+8613800000011"] and mail.outbox == []


def test_a_failing_backend_does_not_raise(settings):
    settings.SMS_BACKEND = "academy.notifications.backends.file.SmsBackend"
    settings.SMS_FILE_PATH = ""
    result = notify(template="volunteers/submitted", context=CONTEXT, phone="+8613800000012")
    assert result.skipped == ["failed:sms"]


def test_file_backend_writes_json_lines(tmp_path):
    path = tmp_path / "sms" / "out.jsonl"
    assert FileBackend(file_path=str(path)).send_messages([sms.SmsMessage("+8613800000013", "你好")]) == 1
    assert json.loads(path.read_text())["body"] == "你好"


def test_console_backend_writes_to_its_stream():
    stream = io.StringIO()
    ConsoleBackend(stream=stream).send_messages([sms.SmsMessage("+8613800000014", "你好")])
    assert "SMS to +8613800000014" in stream.getvalue() and "你好" in stream.getvalue()
