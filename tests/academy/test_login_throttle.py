"""One throttle on every way to log in (django-axes with academy/accounts/throttle.py), and log-in by phone number."""
import pytest

from tests.factories import UserFactory
from tests.factories.accounts import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
OWNER = "198.51.100.20"


def attempt(client, path, username, password, address=ATTACKER, **extra):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def test_thirty_wrong_passwords_on_the_wagtail_admin_log_in_are_throttled(client, organiser, settings):
    answers = [attempt(client, "/admin/login/", "organiser", f"wrong-{n}").status_code for n in range(30)]
    assert answers[: settings.LOGIN_RATE_LIMIT] == [200] * settings.LOGIN_RATE_LIMIT
    assert set(answers[settings.LOGIN_RATE_LIMIT:]) == {429}
    response = attempt(client, "/admin/login/", "organiser", DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_failures_on_the_site_throttle_the_admin_log_in_too(client, volunteer, home, settings):
    for n in range(settings.LOGIN_RATE_LIMIT):
        assert attempt(client, "/accounts/login/", "volunteer", f"wrong-{n}").status_code == 200
    response = attempt(client, "/admin/login/", "volunteer", DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/accounts/profile/").status_code == 302  # no session that works on the site either


def test_the_throttled_page_says_why_in_chinese(client, volunteer, home, settings):
    for n in range(settings.LOGIN_RATE_LIMIT):
        attempt(client, "/accounts/login/", "volunteer", f"wrong-{n}")
    response = attempt(client, "/accounts/login/", "volunteer", DEFAULT_PASSWORD)
    assert response.status_code == 429
    body = response.content.decode()
    assert "尝试次数过多" in body and "/accounts/password_reset/" in body


def test_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(client, moderator, home):
    for n in range(10):
        attempt(client, "/accounts/login/", "moderator", f"wrong-{n}", address=ATTACKER)
    assert attempt(client, "/accounts/login/", "moderator", DEFAULT_PASSWORD, address=ATTACKER).status_code == 429
    response = attempt(client, "/accounts/login/", "moderator", DEFAULT_PASSWORD, address=OWNER)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(moderator.pk)


def test_one_address_is_throttled_for_every_account_it_guesses(client, home, settings):
    settings.LOGIN_ADDRESS_RATE_LIMIT = 6
    users = [UserFactory(username=f"member{n}") for n in range(7)]
    for user in users[:6]:
        assert attempt(client, "/accounts/login/", user.username, "wrong").status_code == 200
    assert attempt(client, "/accounts/login/", users[6].username, DEFAULT_PASSWORD).status_code == 429
    assert attempt(client, "/accounts/login/", users[6].username, DEFAULT_PASSWORD, address=OWNER).status_code == 302


def test_behind_nginx_the_forwarded_address_counts_not_the_proxys(client, moderator, home, settings):
    settings.NUM_PROXIES = 1
    proxy = "127.0.0.1"
    for n in range(10):
        # The attacker also invents a first hop each time: only the hop nginx appended is believed.
        attempt(client, "/accounts/login/", "moderator", f"wrong-{n}", address=proxy,
                HTTP_X_FORWARDED_FOR=f"10.9.{n}.1, {ATTACKER}")
    refused = attempt(client, "/accounts/login/", "moderator", DEFAULT_PASSWORD, address=proxy,
                      HTTP_X_FORWARDED_FOR=f"10.10.10.10, {ATTACKER}")
    assert refused.status_code == 429
    response = attempt(client, "/accounts/login/", "moderator", DEFAULT_PASSWORD, address=proxy,
                       HTTP_X_FORWARDED_FOR=OWNER)
    assert response.status_code == 302


def test_many_addresses_guessing_one_account_are_slowed_not_locked(client, moderator, home, settings):
    import time

    settings.LOGIN_USER_SLOW_AFTER = 6
    settings.LOGIN_USER_SLOW_SECONDS = 1
    for n in range(7):
        attempt(client, "/accounts/login/", "moderator", "wrong", address=f"192.0.2.{n + 1}")
    slowed = attempt(client, "/accounts/login/", "moderator", DEFAULT_PASSWORD, address=OWNER)
    assert slowed.status_code == 429
    assert "秒" in slowed.content.decode()
    time.sleep(1.2)
    response = attempt(client, "/accounts/login/", "moderator", DEFAULT_PASSWORD, address=OWNER)
    assert response.status_code == 302


def test_a_member_logs_in_with_their_phone_number_in_any_written_form(client, home):
    member = UserFactory(username="li-member", phone="+8613800000011")
    for typed in ("13800000011", "138 0000 0011", "+86 138-0000-0011", "li-member"):
        client.logout()
        response = attempt(client, "/accounts/login/", typed, DEFAULT_PASSWORD, address=OWNER)
        assert response.status_code == 302, typed
        assert client.session["_auth_user_id"] == str(member.pk)


def test_the_phone_number_and_the_username_share_one_count(client, home, settings):
    UserFactory(username="li-member", phone="+8613800000011")
    for n in range(settings.LOGIN_RATE_LIMIT):
        typed = "li-member" if n % 2 else f"138 0000 00{11}"
        assert attempt(client, "/accounts/login/", typed, "wrong").status_code == 200
    assert attempt(client, "/accounts/login/", "+8613800000011", DEFAULT_PASSWORD).status_code == 429


def test_a_wrong_phone_number_or_username_logs_nobody_in(client, home):
    UserFactory(username="li-member", phone="+8613800000011")
    for typed in ("13800000012", "", "x" * 500, "138000000110000000", "+86 138 0000 0011 0"):
        response = attempt(client, "/accounts/login/", typed, DEFAULT_PASSWORD)
        assert response.status_code in (200, 429)
        assert "_auth_user_id" not in client.session


def test_log_in_page_asks_for_a_username_or_phone_number(client, home):
    body = client.get("/accounts/login/").content.decode()
    assert "用户名或手机号" in body


def test_the_live_rooms_batched_admission_still_applies_with_these_backends(settings):
    from live.selectors.access import permissions_are_model_backends

    assert permissions_are_model_backends()
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "tests.academy.test_login_throttle.OwnRules"]
    assert not permissions_are_model_backends()


class OwnRules:
    def has_perm(self, user, perm, obj=None):
        return True


def test_a_username_that_looks_like_a_members_phone_cannot_shut_the_member_out(client, home):
    UserFactory(username="13800000012")  # an older account; new ones may not take a phone number as username
    member = UserFactory(username="member", phone="+8613800000012")
    response = attempt(client, "/accounts/login/", "138 0000 0012", DEFAULT_PASSWORD, address=OWNER)
    assert response.status_code == 302
    client.logout()
    member.set_password("the-members-own-pass")
    member.save()
    response = attempt(client, "/accounts/login/", "13800000012", "the-members-own-pass", address=OWNER)
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(member.pk)


def test_the_test_clients_login_still_works(client, volunteer):
    assert client.login(username="volunteer", password=DEFAULT_PASSWORD)
    assert not client.login(username="volunteer", password="wrong")
