"""Personal join links (live/links.py): one tap signs a registrant in and opens the room; everything else is refused.

Hostile cases: a tampered token, another registration's number with this signature, an expired link, a cancelled
registration, a changed password or e-mail, a deactivated account, privileged accounts, a visitor signed in as
someone else, a replay after log-out, and a flood of guessed tokens from one address.
"""
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from academy.accounts.backends import SESSION_BACKEND
from live import links
from live.models import Registration, SessionModerator
from live.room_views import LINK_BAD_LIMIT
from live.services.registration import registration_cancel, registration_create, reminders_send
from tests.factories import UserFactory
from tests.factories.live import make_live_session

pytestmark = pytest.mark.django_db


def _soon(**overrides):
    now = timezone.now()
    return make_live_session(start=now + timedelta(minutes=10), end=now + timedelta(hours=2), **overrides)


def _register(session, user) -> Registration:
    return Registration.objects.create(session=session, user=user)


def _signed_in_as(client) -> int | None:
    value = client.session.get(SESSION_KEY)
    return int(value) if value is not None else None


def test_a_link_signs_the_registrant_in_without_a_password_and_serves_the_room(client, volunteer):
    session = _soon(registration_required=True)
    path = links.link_path(_register(session, volunteer))
    assert path.startswith("/live/join/") and len(path) < 60  # short enough for an SMS
    response = client.get(path)
    assert response.status_code == 200
    assert _signed_in_as(client) == volunteer.pk
    assert client.session["_auth_user_backend"] == SESSION_BACKEND
    html = response.content.decode()
    assert f'"room": "{session.url}room/"' in html  # room.js puts the room's own address in the bar
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" in response
    assert volunteer.display_name not in html and volunteer.username not in html
    # The same link again, already signed in: the room, same account.
    assert client.get(path).status_code == 200 and _signed_in_as(client) == volunteer.pk


def test_a_tampered_token_is_refused_and_signs_nobody_in(client, volunteer):
    registration = _register(_soon(), volunteer)
    token = links.link_token(registration)
    pk, signature = token.split("-")
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    for bad in (f"{pk}-{flipped}", f"{pk}-{'0' * 32}", f"zzzzzzzzzzzzz-{signature}"):
        response = client.get(f"/live/join/{bad}/")
        assert response.status_code == 404
        assert "这个入场链接无效" in response.content.decode()
        assert _signed_in_as(client) is None


def test_a_signature_does_not_open_another_registration(client, volunteer):
    first = _register(_soon(), volunteer)
    other = _register(_soon(), volunteer)  # the same person, another session
    signature = links.link_token(first).split("-")[1]
    response = client.get(f"/live/join/{links._b36(other.pk)}-{signature}/")
    assert response.status_code == 404 and _signed_in_as(client) is None
    assert client.get(links.link_path(other)).status_code == 200  # its own link works


def test_a_link_expires_with_the_session_plus_the_grace(client, volunteer):
    now = timezone.now()
    session = make_live_session(start=now - timedelta(hours=3), end=now - links.LINK_GRACE + timedelta(minutes=1))
    registration = _register(session, volunteer)
    assert client.get(links.link_path(registration)).status_code == 200  # just inside the grace
    client.logout()
    session.end = now - links.LINK_GRACE - timedelta(seconds=1)
    session.save_revision().publish()
    response = client.get(links.link_path(registration))
    assert response.status_code == 410 and "已过期" in response.content.decode()
    assert _signed_in_as(client) is None


def test_a_cancelled_registration_kills_its_link_even_after_registering_again(client, volunteer):
    session = _soon()
    old = registration_create(session=session, user=volunteer)
    old_path = links.link_path(old)
    registration_cancel(session=session, user=volunteer)
    response = client.get(old_path)
    assert response.status_code == 410 and "报名已取消" in response.content.decode()
    assert _signed_in_as(client) is None
    new = registration_create(session=session, user=volunteer)
    assert new.pk != old.pk
    assert client.get(old_path).status_code == 410
    assert client.get(links.link_path(new)).status_code == 200


def test_changing_the_password_or_e_mail_or_deactivating_voids_the_link(client, volunteer):
    registration = _register(_soon(), volunteer)
    path = links.link_path(registration)
    volunteer.set_password("a new password 2026")
    volunteer.save()
    assert client.get(path).status_code == 404 and _signed_in_as(client) is None

    registration.user.refresh_from_db()
    path = links.link_path(registration)
    volunteer.refresh_from_db()
    volunteer.email = "new-address@example.org"
    volunteer.save()
    assert client.get(path).status_code == 404 and _signed_in_as(client) is None

    registration.user.refresh_from_db()
    path = links.link_path(registration)
    assert client.get(path).status_code == 200
    client.logout()
    get_user_model().objects.filter(pk=volunteer.pk).update(is_active=False)
    assert client.get(path).status_code == 404 and _signed_in_as(client) is None


@pytest.mark.parametrize("kind", ["staff", "superuser", "moderator_group", "organiser_group", "session_moderator"])
def test_a_link_never_signs_in_a_privileged_account(client, kind):
    session = _soon()
    user = {
        "staff": lambda: UserFactory(username="staffer", is_staff=True),
        "superuser": lambda: UserFactory(username="root", is_superuser=True, is_staff=True),
        "moderator_group": lambda: UserFactory(username="mod", groups=["Moderators"]),
        "organiser_group": lambda: UserFactory(username="org", groups=["Organisers"]),
        "session_moderator": lambda: UserFactory(username="host"),
    }[kind]()
    if kind == "session_moderator":  # named on another session: a moderator anywhere logs in with a password
        SessionModerator.objects.create(page=_soon(), user=user)
    response = client.get(links.link_path(_register(session, user)))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=") and "room" in response["Location"]
    assert _signed_in_as(client) is None


def test_a_link_opened_by_someone_signed_in_as_another_user_does_not_switch_accounts(client, volunteer, outsider):
    session = _soon()
    path = links.link_path(_register(session, volunteer))
    client.force_login(outsider)
    response = client.get(path)
    assert response.status_code == 409
    html = response.content.decode()
    assert "这个链接属于另一位报名者" in html and outsider.display_name in html
    assert f'href="{session.url}room/"' in html  # go on as themselves …
    assert f'name="next" value="{path}"' in html  # … or log out first
    assert _signed_in_as(client) == outsider.pk


def test_replay_after_log_out_never_revives_the_old_session(volunteer):
    path = links.link_path(_register(_soon(), volunteer))
    first = Client()
    assert first.get(path).status_code == 200
    old_key = first.session.session_key
    first.post("/accounts/logout/")
    assert _signed_in_as(first) is None
    stale = Client()
    stale.cookies["sessionid"] = old_key
    assert stale.get("/accounts/profile/").status_code == 302  # the logged-out session stays dead
    # The link is the registrant's own: it signs them in again, in a new Django session.
    assert first.get(path).status_code == 200
    assert _signed_in_as(first) == volunteer.pk and first.session.session_key != old_key


def test_guessing_tokens_is_throttled_per_address(volunteer):
    good = links.link_path(_register(_soon(), volunteer))
    guesser = Client(REMOTE_ADDR="203.0.113.7")
    for i in range(LINK_BAD_LIMIT):
        assert guesser.get(f"/live/join/{i + 1}-{'a' * 32}/").status_code == 404
    response = guesser.get(f"/live/join/{LINK_BAD_LIMIT + 1}-{'a' * 32}/")
    assert response.status_code == 429 and "无效链接过多" in response.content.decode()
    assert _signed_in_as(guesser) is None
    assert Client(REMOTE_ADDR="203.0.113.8").get(f"/live/join/1-{'b' * 32}/").status_code == 404  # others: not held
    assert guesser.get(good).status_code == 200  # a real link is never held back (its signature is not guessable)


def test_an_unpublished_session_has_no_working_links(client, volunteer):
    session = _soon()
    path = links.link_path(_register(session, volunteer))
    session.unpublish()
    assert client.get(path).status_code == 404 and _signed_in_as(client) is None


def test_confirmation_and_reminder_carry_the_personal_link_by_e_mail_and_sms(volunteer, settings,
                                                                             django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "academy.notifications.backends.locmem.SmsBackend"
    from academy.notifications import sms

    sms.outbox = []
    volunteer.phone = "+8613800000001"
    volunteer.save()
    session = _soon()
    with django_capture_on_commit_callbacks(execute=True):
        registration = registration_create(session=session, user=volunteer)
    link = links.link_url(registration)
    assert link.startswith("http") and link in mail.outbox[0].body and link in mail.outbox[0].alternatives[0][0]
    assert "请勿转发" in mail.outbox[0].body
    assert len(sms.outbox) == 1 and link in sms.outbox[0].body and "个人入场链接" in sms.outbox[0].body
    mail.outbox.clear()
    assert reminders_send(within=timedelta(hours=1)) == 1
    assert link in mail.outbox[0].body and len(sms.outbox) == 2 and link in sms.outbox[1].body


def test_organisers_get_the_room_address_not_a_link(organiser, django_capture_on_commit_callbacks):
    session = _soon()
    with django_capture_on_commit_callbacks(execute=True):
        registration_create(session=session, user=organiser)
    body = mail.outbox[0].body
    assert "/live/join/" not in body and f"{session.url}room/" in body


def test_the_session_page_shows_my_join_link_with_a_copy_button(client, volunteer, outsider, home):
    session = _soon()
    registration = _register(session, volunteer)
    client.force_login(volunteer)
    html = client.get(session.url).content.decode()
    assert "我的入场链接" in html and links.link_url(registration) in html
    assert "live/join_link" in html and "data-copy-target" in html and "<script>" not in html
    client.force_login(outsider)
    assert "我的入场链接" not in client.get(session.url).content.decode()


def test_a_banned_registrant_is_refused_and_not_signed_in(client, volunteer, moderator):
    from live.models import Ban

    session = _soon()
    path = links.link_path(_register(session, volunteer))
    Ban.objects.create(session=session, user=volunteer, by=moderator)
    assert client.get(path).status_code == 403 and _signed_in_as(client) is None


def test_a_private_session_sends_the_link_through_wagtails_own_check(client, volunteer):
    from wagtail.models import PageViewRestriction

    session = _soon()
    path = links.link_path(_register(session, volunteer))
    PageViewRestriction.objects.create(page=session.get_parent(), restriction_type="password", password="lianshe")
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == f"{session.url}room/"
    assert _signed_in_as(client) == volunteer.pk
    html = client.get(response["Location"]).content.decode()
    assert "需要密码" in html and 'id="live-room-config"' not in html  # Wagtail asks for the page's password


def test_opening_a_link_costs_a_handful_of_queries(client, volunteer, django_assert_max_num_queries):
    path = links.link_path(_register(_soon(), volunteer))
    client.get(path)  # the shell is in the cache now
    client.logout()
    # The link (2), the new session (2 + its save), last_login: 6 statements, plus 4 savepoint lines in a test.
    with django_assert_max_num_queries(10):
        assert client.get(path).status_code == 200
