"""Password reset on the public site: Chinese pages, one message per request, throttled per address and account."""
import re

import pytest
from django.core import mail

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def ask(client, email, address="198.51.100.5"):
    return client.post("/accounts/password_reset/", {"email": email}, REMOTE_ADDR=address)


def reset_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/reset/\S+)", message.body).group(1)


def test_log_in_page_links_to_the_reset_in_chinese(client, home):
    body = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password_reset/"' in body and "忘记密码" in body
    page = client.get("/accounts/password_reset/")
    assert page.status_code == 200 and "发送链接" in page.content.decode()


def test_reset_by_email_sets_a_new_password_and_the_link_works_once(client, home):
    member = UserFactory(username="member", email="Member@example.org")
    response = ask(client, "mEMBER@example.org")
    assert response.status_code == 302 and response.url == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["Member@example.org"]
    assert "联动学堂" in mail.outbox[0].subject and "member" in mail.outbox[0].body
    link = reset_link(mail.outbox[0])
    form_page = client.get(link, follow=True)
    assert "设置新密码" in form_page.content.decode()
    response = client.post(form_page.redirect_chain[-1][0],
                           {"new_password1": "brand-new-pass-42", "new_password2": "brand-new-pass-42"})
    assert response.status_code == 302 and response.url == "/accounts/reset/done/"
    member.refresh_from_db()
    assert member.check_password("brand-new-pass-42")
    assert "链接无效" in client.get(link, follow=True).content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_message(client, home):
    response = ask(client, "nobody@example.org")
    assert response.status_code == 302 and response.url == "/accounts/password_reset/done/"
    assert mail.outbox == []


def test_ten_requests_for_one_account_do_not_send_twenty_messages(client, home, settings):
    UserFactory(username="member", email="member@example.org")
    for n in range(10):
        ask(client, "member@example.org", address=f"192.0.2.{n + 1}")
    assert len(mail.outbox) == settings.PASSWORD_RESET_ACCOUNT_LIMIT < 10


def test_one_address_asking_for_many_accounts_is_throttled(client, home, settings):
    for n in range(settings.PASSWORD_RESET_RATE_LIMIT + 2):
        UserFactory(username=f"member{n}", email=f"member{n}@example.org")
    answers = [ask(client, f"member{n}@example.org").status_code
               for n in range(settings.PASSWORD_RESET_RATE_LIMIT + 2)]
    assert answers[: settings.PASSWORD_RESET_RATE_LIMIT] == [302] * settings.PASSWORD_RESET_RATE_LIMIT
    assert set(answers[settings.PASSWORD_RESET_RATE_LIMIT:]) == {429}
    assert len(mail.outbox) == settings.PASSWORD_RESET_RATE_LIMIT


def test_guessing_reset_links_is_throttled_like_log_in(client, home, settings):
    member = UserFactory(username="member", email="member@example.org")
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(member.pk))
    answers = [client.get(f"/accounts/reset/{uid}/abc-{n}/", REMOTE_ADDR="203.0.113.9").status_code
               for n in range(settings.LOGIN_RATE_LIMIT + 2)]
    assert answers[: settings.LOGIN_RATE_LIMIT] == [200] * settings.LOGIN_RATE_LIMIT
    assert set(answers[settings.LOGIN_RATE_LIMIT:]) == {429}
    # The same address may not then try passwords for that account either.
    response = client.post("/accounts/login/", {"username": "member", "password": "secret-pass-123"},
                           REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429


@pytest.mark.parametrize("uid", ["MQ", "x" * 200, "%00", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk"])
def test_hostile_reset_links_answer_invalid_not_500(client, home, uid):
    response = client.get(f"/accounts/reset/{uid}/set-password/")
    assert response.status_code == 200
    assert "链接无效" in response.content.decode()


def test_wagtail_admin_reset_sends_nothing(client, organiser):
    for _ in range(10):
        client.post("/admin/password_reset/", {"email": organiser.email})
    assert mail.outbox == []
    assert "password_reset" not in client.get("/admin/login/").content.decode()


@pytest.mark.parametrize("typed", ["", "not-an-address", "a@b.c\x00", "x" * 300 + "@example.org", "\u202emember@example.org"])
def test_hostile_reset_requests_send_nothing_and_do_not_fail(client, home, typed):
    UserFactory(username="member", email="member@example.org")
    response = ask(client, typed)
    assert response.status_code in (200, 302)
    assert mail.outbox == []
