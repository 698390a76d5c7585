"""Phone numbers are stored in E.164 and unique; e-mail addresses are unique whatever their case."""
import pytest
from django.db import IntegrityError, transaction

from academy.accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = {"username": "newcomer", "real_name": "新志愿", "phone": "", "email": "", "role": "volunteer",
          "volunteer_category": "psychological", "organisation": "", "city": "武汉",
          "password1": "a-long-pass-phrase-9", "password2": "a-long-pass-phrase-9"}


def test_sign_up_stores_the_phone_number_in_e164(client, home):
    response = client.post("/accounts/signup/", {**SIGNUP, "phone": "139 0000-0000"})
    assert response.status_code == 302
    assert User.objects.get(username="newcomer").phone == "+8613900000000"


@pytest.mark.parametrize("typed", ["13900000001", "+86 139 0000 0001", "139-0000-0001", "+8613900000001"])
def test_sign_up_refuses_a_members_phone_number_in_any_written_form(client, home, typed):
    UserFactory(username="member", phone="+8613900000001")
    response = client.post("/accounts/signup/", {**SIGNUP, "phone": typed})
    assert response.status_code == 200
    assert "已有账号使用这个手机号" in response.content.decode()
    assert not User.objects.filter(username="newcomer").exists()


@pytest.mark.parametrize("typed", ["12345", "1380000000a", "+1 555 0100", "<script>", "9" * 40])
def test_sign_up_refuses_what_is_not_a_phone_number(client, home, typed):
    response = client.post("/accounts/signup/", {**SIGNUP, "phone": typed, "email": "new@example.org"})
    assert response.status_code == 200
    assert not User.objects.filter(username="newcomer").exists()


def test_sign_up_refuses_an_email_address_in_another_case(client, home):
    UserFactory(username="member", email="demo-volunteer@example.org")
    response = client.post("/accounts/signup/", {**SIGNUP, "email": "DEMO-VOLUNTEER@example.org"})
    assert response.status_code == 200
    assert "已有账号使用这个电子邮箱" in response.content.decode()
    assert not User.objects.filter(username="newcomer").exists()


def test_profile_refuses_another_members_email_or_phone_but_keeps_ones_own(client, volunteer, home):
    UserFactory(username="member", email="member@example.org", phone="+8613900000002")
    client.force_login(volunteer)
    form = {"real_name": "王志愿", "phone": "", "email": "MEMBER@example.org", "role": "volunteer",
            "volunteer_category": "", "organisation": "", "city": ""}
    assert client.post("/accounts/profile/", form).status_code == 200
    assert client.post("/accounts/profile/", {**form, "email": "", "phone": "139 0000 0002"}).status_code == 200
    response = client.post("/accounts/profile/", {**form, "email": "Volunteer@Example.org", "phone": "139 0000 0003"})
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert (volunteer.email, volunteer.phone) == ("Volunteer@example.org", "+8613900000003")  # domain lower-cased


def test_the_database_refuses_an_email_address_in_another_case():
    UserFactory(username="a", email="same@example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="b", email="SAME@example.org")
    User.objects.create(username="c", email="")
    User.objects.create(username="d", email="")  # blank is not an address


def test_the_database_refuses_a_phone_number_that_is_not_e164():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=UserFactory(username="a").pk).update(phone="13900000004")


@pytest.mark.django_db(transaction=True)
def test_migration_normalises_phones_and_resolves_duplicates_deterministically(caplog):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before = [("accounts", "0002_groups")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("accounts", "User")
    rows = [("first", "+86 139 0000 0005", "Twin@example.org"), ("second", "13900000005", "twin@EXAMPLE.org"),
            ("third", "139-0000-0006", "third@example.org"), ("fourth", "12345", "fourth@example.org"),
            ("fifth", "+8613900000006", "")]
    for username, phone, email in rows:
        old.objects.create(username=username, phone=phone, email=email)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("accounts"))
    found = {u.username: (u.phone, u.email) for u in User.objects.filter(username__in=[r[0] for r in rows])}
    assert found == {"first": ("+8613900000005", "Twin@example.org"), "second": ("", ""),
                     "third": ("+8613900000006", "third@example.org"), "fourth": ("", "fourth@example.org"),
                     "fifth": ("", "")}
    assert "second" in caplog.text and "fourth" in caplog.text and "fifth" in caplog.text


def test_sign_up_refuses_a_phone_number_as_username(client, home):
    response = client.post("/accounts/signup/", {**SIGNUP, "username": "13900000009", "email": "n@example.org"})
    assert response.status_code == 200
    assert "用户名不能是手机号" in response.content.decode()
    assert not User.objects.filter(username="13900000009").exists()
