"""Password reset by a code sent by SMS: same answer for every number, one code per account held only as a hash,
five wrong guesses void it, throttled per address and per number like the e-mail reset."""
import re
import time

import pytest
from django.core import mail
from django.core.cache import cache

from academy.accounts import phone_reset
from academy.notifications import sms
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PHONE = "+8613800000042"
NEW = "brand-new-pass-42"


@pytest.fixture(autouse=True)
def _sms(settings):
    settings.SMS_BACKEND = "academy.notifications.backends.locmem.SmsBackend"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def member(db):
    return UserFactory(username="member", email="member@example.org", phone=PHONE)


def ask(client, phone, address="198.51.100.5"):
    return client.post("/accounts/password_reset/phone/", {"phone": phone}, REMOTE_ADDR=address)


def confirm(client, code, password=NEW, address="198.51.100.5"):
    return client.post("/accounts/password_reset/phone/code/",
                       {"code": code, "new_password1": password, "new_password2": password}, REMOTE_ADDR=address)


def sent_code(message) -> str:
    return re.search(r"(\d{6})", message.body).group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1000000:06d}"


def test_reset_page_offers_the_phone_way_in_chinese(client, home):
    body = client.get("/accounts/password_reset/").content.decode()
    assert "用手机号找回" in body and 'action="/accounts/password_reset/phone/"' in body and "发送验证码" in body
    assert "发送链接" in body  # the e-mail way stays


def test_code_by_sms_sets_a_new_password_once_without_logging_in(client, home, member):
    response = ask(client, "138 0000 0042")
    assert response.status_code == 302 and response.url == "/accounts/password_reset/phone/code/"
    assert len(sms.outbox) == 1 and sms.outbox[0].to == PHONE
    assert sms.outbox[0].body.startswith("【联动学堂】") and "10 分钟" in sms.outbox[0].body
    code = sent_code(sms.outbox[0])
    page = client.get("/accounts/password_reset/phone/code/").content.decode()
    assert "+86138****0042" in page and "短信验证码" in page
    response = confirm(client, code)
    assert response.status_code == 302 and response.url == "/accounts/reset/done/"
    member.refresh_from_db()
    assert member.check_password(NEW)
    assert "_auth_user_id" not in client.session
    ask(client, PHONE)  # a used code is void: the session's number is gone, and a replayed code fails
    response = confirm(client, code, password="another-pass-77")
    assert response.status_code == 200 and "验证码错误或已失效" in response.content.decode()


def test_only_a_hash_of_the_code_is_kept(client, home, member):
    ask(client, PHONE)
    code = sent_code(sms.outbox[0])
    entry = cache.get(f"accounts:phone-reset:{member.pk}")
    assert entry and code not in repr(entry)


def test_a_new_request_replaces_the_earlier_code(client, home, member):
    ask(client, PHONE)
    ask(client, PHONE, address="192.0.2.7")
    first, second = sent_code(sms.outbox[0]), sent_code(sms.outbox[1])
    if first != second:
        assert "验证码错误" in confirm(client, first).content.decode()
    assert confirm(client, second).status_code == 302


def test_an_unknown_number_gets_the_same_answer_and_no_sms(client, home, member):
    response = ask(client, "13900000099")
    assert response.status_code == 302 and response.url == "/accounts/password_reset/phone/code/"
    assert sms.outbox == []
    page = client.get(response.url)
    assert page.status_code == 200 and "+86139****0099" in page.content.decode()
    assert "验证码错误或已失效" in confirm(client, "123456").content.decode()


def test_an_inactive_account_gets_no_sms(client, home, member):
    member.is_active = False
    member.save()
    assert ask(client, PHONE).status_code == 302
    assert sms.outbox == []


def test_five_wrong_codes_void_the_code(client, home, member):
    ask(client, PHONE)
    code = sent_code(sms.outbox[0])
    for n in range(phone_reset.PHONE_RESET_CODE_TRIES):
        response = confirm(client, wrong(code), address=f"192.0.2.{n + 1}")  # not the log-in throttle: the code's
        assert response.status_code == 200 and "验证码错误" in response.content.decode()
    response = confirm(client, code, address="192.0.2.99")
    assert response.status_code == 200 and "验证码错误或已失效" in response.content.decode()
    member.refresh_from_db()
    assert not member.check_password(NEW)


def test_four_wrong_codes_still_leave_the_right_one_working(client, home, member):
    ask(client, PHONE)
    code = sent_code(sms.outbox[0])
    for n in range(phone_reset.PHONE_RESET_CODE_TRIES - 1):
        confirm(client, wrong(code), address=f"192.0.2.{n + 1}")
    assert confirm(client, code, address="192.0.2.99").status_code == 302


def test_wrong_codes_count_in_the_log_in_throttle(client, home, member, settings):
    ask(client, PHONE)
    code = sent_code(sms.outbox[0])
    answers = [confirm(client, wrong(code), address="203.0.113.9").status_code
               for _ in range(settings.LOGIN_RATE_LIMIT + 1)]
    assert answers[: settings.LOGIN_RATE_LIMIT] == [200] * settings.LOGIN_RATE_LIMIT
    assert answers[settings.LOGIN_RATE_LIMIT] == 429
    response = client.post("/accounts/login/", {"username": "member", "password": "secret-pass-123"},
                           REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429


def test_an_expired_code_is_refused(client, home, member, monkeypatch):
    monkeypatch.setattr(phone_reset, "PHONE_RESET_CODE_SECONDS", 1)
    ask(client, PHONE)
    code = sent_code(sms.outbox[0])
    time.sleep(1.5)
    response = confirm(client, code)
    assert response.status_code == 200 and "验证码错误或已失效" in response.content.decode()
    member.refresh_from_db()
    assert not member.check_password(NEW)


def test_one_number_gets_at_most_the_account_limit_of_codes(client, home, member, settings):
    for n in range(10):
        assert ask(client, PHONE, address=f"192.0.2.{n + 1}").status_code == 302
    assert len(sms.outbox) == settings.PASSWORD_RESET_ACCOUNT_LIMIT < 10


def test_one_address_asking_for_many_numbers_is_throttled(client, home, settings):
    limit = settings.PASSWORD_RESET_RATE_LIMIT
    for n in range(limit + 2):
        UserFactory(username=f"member{n}", phone=f"+86138000001{n:02d}")
    answers = [ask(client, f"+86138000001{n:02d}").status_code for n in range(limit + 2)]
    assert answers[:limit] == [302] * limit and set(answers[limit:]) == {429}
    assert len(sms.outbox) == limit


def test_the_address_limit_is_shared_with_the_email_reset(client, home, member, settings):
    for _ in range(settings.PASSWORD_RESET_RATE_LIMIT):
        client.post("/accounts/password_reset/", {"email": "x@example.org"}, REMOTE_ADDR="198.51.100.5")
    assert ask(client, PHONE).status_code == 429
    assert sms.outbox == []


def test_password_rules_apply_and_a_bad_password_does_not_use_up_the_code(client, home, member):
    ask(client, PHONE)
    code = sent_code(sms.outbox[0])
    response = client.post("/accounts/password_reset/phone/code/",
                           {"code": code, "new_password1": NEW, "new_password2": NEW + "x"})
    assert response.status_code == 200
    response = confirm(client, code, password="123")
    assert response.status_code == 200
    assert confirm(client, code).status_code == 302


def test_other_sessions_of_the_account_end(client, home, member, django_user_model):
    from django.test import Client

    other = Client()
    other.force_login(member)
    assert other.get("/accounts/profile/").status_code == 200
    ask(client, PHONE)
    confirm(client, sent_code(sms.outbox[0]))
    assert other.get("/accounts/profile/").status_code == 302


def test_the_code_page_without_a_request_goes_back_to_the_phone_form(client, home):
    response = client.get("/accounts/password_reset/phone/code/")
    assert response.status_code == 302 and response.url == "/accounts/password_reset/phone/"
    response = confirm(client, "123456")
    assert response.status_code == 302 and response.url == "/accounts/password_reset/phone/"


@pytest.mark.parametrize("typed", ["", "abc", "1" * 100, "+86 138 0000", "\u202eabc", "\x00", "138\x000000042",
                                   "<script>alert(1)</script>"])
def test_hostile_numbers_give_form_errors_and_no_sms(client, home, member, typed):
    response = ask(client, typed)
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert sms.outbox == []


def test_a_missing_number_field_is_a_form_error(client, home):
    response = client.post("/accounts/password_reset/phone/", {}, REMOTE_ADDR="198.51.100.5")
    assert response.status_code == 200 and "手机号" in response.content.decode()


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "1" * 100, "١٢٣٤٥٦", "12\x0034", "１２３"])
def test_hostile_codes_give_form_errors_and_do_not_count(client, home, member, typed):
    ask(client, PHONE)
    code = sent_code(sms.outbox[0])
    response = confirm(client, typed)
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    assert confirm(client, code).status_code == 302


def test_a_short_code_is_told_what_a_code_looks_like(client, home, member):
    ask(client, PHONE)
    assert "请输入短信中的 6 位验证码" in confirm(client, "12345").content.decode()


def test_spaces_and_full_width_digits_in_the_right_code_are_accepted(client, home, member):
    ask(client, PHONE)
    code = sent_code(sms.outbox[0])
    typed = " " + code[:3] + " " + "".join(chr(ord(d) + 0xFEE0) for d in code[3:]) + " "
    assert confirm(client, typed).status_code == 302


@pytest.mark.parametrize("data", [{}, {"code": "123456"}, {"new_password1": NEW, "new_password2": NEW}])
def test_missing_fields_on_the_code_page_are_form_errors(client, home, member, data):
    ask(client, PHONE)
    response = client.post("/accounts/password_reset/phone/code/", data)
    assert response.status_code == 200 and 'class="error"' in response.content.decode()


def test_the_email_reset_still_works(client, home, member):
    response = client.post("/accounts/password_reset/", {"email": "member@example.org"})
    assert response.status_code == 302 and len(mail.outbox) == 1 and sms.outbox == []
