"""Registering and cancelling, the confirmation page and e-mail, capacity under concurrency, reminders, .ics."""
import threading
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from live.ics import fold
from live.models import Registration
from live.services.access import ban_create
from live.services.registration import (
    ERROR_CLOSED,
    ERROR_ENDED,
    ERROR_FULL,
    registration_cancel,
    registration_create,
)
from tests.factories import UserFactory
from tests.factories.live import make_live_session

pytestmark = pytest.mark.django_db


def _future(**overrides):
    now = timezone.now()
    return make_live_session(start=now + timedelta(days=2), end=now + timedelta(days=2, hours=1), **overrides)


def test_volunteer_registers_and_sees_the_confirmation(client, volunteer, home):
    session = _future(title="直播课:线上志愿者团队")
    client.force_login(volunteer)
    response = client.post(f"{session.url}register/")
    assert response.status_code == 302 and response["Location"] == f"{session.url}registered/"
    assert Registration.objects.active().filter(session=session, user=volunteer).count() == 1
    html = client.get(response["Location"]).content.decode()
    assert "报名成功" in html and "直播课:线上志愿者团队" in html
    assert f"{session.url}calendar.ics" in html
    assert "你已报名" in client.get(session.url).content.decode()


def test_confirmation_e_mail_is_chinese_with_html_and_calendar(client, volunteer, home, django_capture_on_commit_callbacks):
    session = _future(title="直播课:线上志愿者团队")
    client.force_login(volunteer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{session.url}register/")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [volunteer.email]
    assert message.subject == "报名成功：直播课:线上志愿者团队"
    assert "王志愿，你好" in message.body and "北京时间" in message.body
    assert "http://" in message.body and "/live/join/" in message.body  # the personal join link (live/links.py)
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "进入直播间" not in html and "添加到日历" in html
    name, content, attachment_type = message.attachments[0]
    assert name.endswith(".ics") and attachment_type.startswith("text/calendar") and "BEGIN:VEVENT" in content


def test_registering_needs_post_and_a_signed_in_user(client, volunteer, home):
    session = _future()
    response = client.post(f"{session.url}register/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(volunteer)
    assert client.get(f"{session.url}register/").status_code == 405
    assert not Registration.objects.exists()


def test_registering_checks_the_csrf_token(volunteer, home):
    from django.test import Client

    session = _future()
    client = Client(enforce_csrf_checks=True)
    client.force_login(volunteer)
    assert client.post(f"{session.url}register/").status_code == 403
    assert not Registration.objects.exists()


def test_registering_twice_keeps_one_registration(client, volunteer, home):
    session = _future()
    client.force_login(volunteer)
    client.post(f"{session.url}register/")
    client.post(f"{session.url}register/")
    assert Registration.objects.filter(session=session, user=volunteer).count() == 1


def test_one_active_registration_per_user_is_a_database_constraint(volunteer, home):
    session = _future()
    Registration.objects.create(session=session, user=volunteer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(session=session, user=volunteer)


def test_cancelling_frees_the_seat_and_one_may_register_again(client, volunteer, socialworker, home):
    session = _future(capacity=1)
    client.force_login(volunteer)
    client.post(f"{session.url}register/")
    with pytest.raises(ValidationError) as error:
        registration_create(session=session, user=socialworker)
    assert error.value.messages == [str(ERROR_FULL)]
    response = client.post(f"{session.url}cancel/")
    assert response.status_code == 302
    assert not Registration.objects.active().filter(user=volunteer).exists()
    assert Registration.objects.filter(user=volunteer, cancelled_at__isnull=False).count() == 1
    registration_create(session=session, user=socialworker)
    assert Registration.objects.active().filter(session=session).count() == 1


def test_full_session_refuses_with_a_clear_message(client, volunteer, socialworker, home):
    session = _future(capacity=1)
    registration_create(session=session, user=socialworker)
    client.force_login(volunteer)
    response = client.post(f"{session.url}register/", follow=True)
    assert "本场直播名额已满。" in response.content.decode()
    assert not Registration.objects.filter(user=volunteer).exists()


def test_closed_or_ended_sessions_refuse_registration(volunteer, home):
    closed = _future(registration_open=False)
    with pytest.raises(ValidationError) as error:
        registration_create(session=closed, user=volunteer)
    assert error.value.messages == [str(ERROR_CLOSED)]
    now = timezone.now()
    ended = make_live_session(start=now - timedelta(hours=3), end=now - timedelta(hours=1))
    with pytest.raises(ValidationError) as error:
        registration_create(session=ended, user=volunteer)
    assert error.value.messages == [str(ERROR_ENDED)]
    assert not Registration.objects.exists()


def test_banned_user_cannot_register(volunteer, moderator, home):
    session = _future()
    ban_create(session=session, user=volunteer, by=moderator, reason="刷屏")
    with pytest.raises(ValidationError):
        registration_create(session=session, user=volunteer)


def test_cancelling_without_a_registration_says_so(client, volunteer, home):
    session = _future()
    client.force_login(volunteer)
    response = client.post(f"{session.url}cancel/", follow=True)
    assert "你尚未报名本场直播。" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_capacity_is_never_over_booked_under_concurrent_registration():
    from tests.factories import make_home

    make_home()
    session = _future(capacity=5)
    users = [UserFactory() for _ in range(16)]
    barrier = threading.Barrier(len(users))
    outcomes = []

    def register(user):
        try:
            barrier.wait()
            registration_create(session=session, user=user)
            outcomes.append("ok")
        except ValidationError as error:
            outcomes.append(error.code or error.messages[0])
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=register, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Registration.objects.active().filter(session=session).count() == 5
    assert outcomes.count("ok") == 5
    assert outcomes.count("full") == 11


@pytest.mark.django_db(transaction=True)
def test_the_same_user_registering_twice_at_once_gets_one_registration():
    from tests.factories import make_home

    make_home()
    session = _future()
    user = UserFactory()
    barrier = threading.Barrier(6)
    errors = []

    def register():
        try:
            barrier.wait()
            registration_create(session=session, user=user)
        except Exception as error:  # noqa: BLE001 — any failure is the test's failure
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=register) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Registration.objects.filter(session=session, user=user).count() == 1


# --- reminders ---------------------------------------------------------------------------------------------------
def test_reminder_command_sends_once_per_registration(volunteer, socialworker, home):
    soon = make_live_session(start=timezone.now() + timedelta(hours=3), end=timezone.now() + timedelta(hours=4),
                             title="今晚的直播课")
    later = make_live_session(start=timezone.now() + timedelta(days=5), end=timezone.now() + timedelta(days=5, hours=1))
    Registration.objects.create(session=soon, user=volunteer)
    cancelled = Registration.objects.create(session=soon, user=socialworker, cancelled_at=timezone.now())
    Registration.objects.create(session=later, user=volunteer)
    call_command("send_live_reminders", "--hours", "24")
    assert [m.to for m in mail.outbox] == [[volunteer.email]]
    assert mail.outbox[0].subject == "提醒：“今晚的直播课”即将开始"
    assert "进入直播间" in mail.outbox[0].alternatives[0][0]
    assert Registration.objects.get(session=soon, user=volunteer).reminded_at is not None
    cancelled.refresh_from_db()
    assert cancelled.reminded_at is None
    call_command("send_live_reminders", "--hours", "24")
    assert len(mail.outbox) == 1


def test_reminder_dry_run_sends_nothing(volunteer, home, capsys):
    soon = make_live_session(start=timezone.now() + timedelta(hours=1), end=timezone.now() + timedelta(hours=2))
    Registration.objects.create(session=soon, user=volunteer)
    call_command("send_live_reminders", "--dry-run")
    assert "1 reminder(s) due." in capsys.readouterr().out
    assert not mail.outbox
    assert Registration.objects.get().reminded_at is None


# --- calendar ----------------------------------------------------------------------------------------------------
def _unfold(text: str) -> list[str]:
    assert "\n" not in text.replace("\r\n", ""), "bare LF in an iCalendar file"
    lines = []
    for raw in text.split("\r\n"):
        if raw.startswith(" "):
            lines[-1] += raw[1:]
        elif raw:
            lines.append(raw)
    return lines


def _properties(lines: list[str]) -> dict:
    props = {}
    for line in lines:
        name, _, value = line.partition(":")
        props.setdefault(name, value)
    return props


def test_calendar_file_is_a_valid_icalendar_event(client, home):
    start = datetime(2031, 4, 16, 11, 30, tzinfo=dt_timezone.utc)
    session = make_live_session(title="战“疫”中的社区专业力量;线上座谈,北京/上海/武汉", start=start,
                                end=start + timedelta(hours=2), description="<p>" + "嘉宾在线上围坐一堂。" * 20 + "</p>")
    response = client.get(f"{session.url}calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.endswith("\r\n")
    for raw in text.split("\r\n"):
        assert len(raw.encode("utf-8")) <= 75
    lines = _unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == 1 and lines.count("END:VEVENT") == 1
    props = _properties(lines)
    assert props["VERSION"] == "2.0" and props["PRODID"]
    assert props["UID"] == f"live-session-{session.pk}@127.0.0.1"
    assert props["DTSTART"] == "20310416T113000Z" and props["DTEND"] == "20310416T133000Z"
    assert len(props["DTSTAMP"]) == 16 and props["DTSTAMP"].endswith("Z")
    assert props["SUMMARY"] == "战“疫”中的社区专业力量\\;线上座谈\\,北京/上海/武汉"
    assert props["URL"] == f"http://127.0.0.1:8000{session.url}"
    assert "嘉宾在线上围坐一堂。" * 20 in props["DESCRIPTION"]


def test_folding_never_splits_a_chinese_character():
    line = "DESCRIPTION:" + "联动学堂" * 40
    folded = fold(line)
    parts = folded.split("\r\n")
    assert len(parts) > 1
    assert all(len(part.encode("utf-8")) <= 75 for part in parts)
    assert parts[0] + "".join(part[1:] for part in parts[1:]) == line
