import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from academy.accounts.models import User
from tests.factories import DEMO_USERS, UserFactory
from tests.factories.accounts import DEFAULT_PASSWORD

SIGNUP = {"username": "newcomer", "real_name": "新志愿", "phone": "13900000000", "email": "", "role": "volunteer",
          "volunteer_category": "psychological", "organisation": "", "city": "武汉",
          "password1": "a-long-pass-phrase-9", "password2": "a-long-pass-phrase-9"}


@pytest.mark.django_db
def test_sign_up_creates_the_profile_and_logs_in(client, home):
    response = client.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 302
    user = User.objects.get(username="newcomer")
    assert (user.real_name, user.volunteer_category, user.city) == ("新志愿", "psychological", "武汉")
    assert client.get("/accounts/profile/").status_code == 200


@pytest.mark.django_db
def test_sign_up_cannot_claim_the_organiser_role(client, home):
    response = client.post("/accounts/signup/", {**SIGNUP, "role": "organiser"})
    assert response.status_code == 200
    assert not User.objects.filter(username="newcomer").exists()


@pytest.mark.django_db
def test_sign_up_needs_a_phone_or_email(client, home):
    response = client.post("/accounts/signup/", {**SIGNUP, "phone": "", "email": ""})
    assert response.status_code == 200
    assert "手机号" in response.content.decode() or "phone" in response.content.decode()
    assert not User.objects.filter(username="newcomer").exists()


@pytest.mark.django_db
def test_log_in_and_log_out(client, volunteer, home):
    response = client.post("/accounts/login/", {"username": "volunteer", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert client.get("/accounts/profile/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code in (200, 302)
    assert client.get("/accounts/profile/").status_code == 302


@pytest.mark.django_db
def test_log_in_is_rate_limited_with_a_clear_message(client, volunteer, settings, home):
    settings.LOGIN_RATE_LIMIT = 3
    for _ in range(3):
        assert client.post("/accounts/login/", {"username": "volunteer", "password": "wrong"}).status_code == 200
    response = client.post("/accounts/login/", {"username": "volunteer", "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert "尝试次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_password_change(client, volunteer, home):
    client.force_login(volunteer)
    response = client.post("/accounts/password/", {"old_password": DEFAULT_PASSWORD, "new_password1": "another-pass-77x",
                                                   "new_password2": "another-pass-77x"})
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.check_password("another-pass-77x")


@pytest.mark.django_db
def test_groups_come_with_their_permissions(organiser, moderator, volunteer):
    assert Group.objects.filter(name__in=["Organisers", "Moderators"]).count() == 2
    assert organiser.has_perm("wagtailadmin.access_admin")
    assert organiser.has_perm("accounts.manage_certificates")
    assert moderator.has_perm("accounts.moderate_live")
    assert not moderator.has_perm("wagtailadmin.access_admin")
    assert not moderator.has_perm("wagtailimages.add_image")
    assert not volunteer.has_perm("accounts.moderate_live")


@pytest.mark.django_db
def test_organisers_may_publish_pages_and_others_may_not(organiser, volunteer, home):
    from wagtail.models import Page

    assert home.permissions_for_user(organiser).can_publish()
    assert not home.permissions_for_user(volunteer).can_edit()
    assert Page.objects.count() >= 2


@pytest.mark.django_db
def test_admin_is_in_chinese_for_organisers(client, organiser):
    client.force_login(organiser)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "控制面板" in response.content.decode()


@pytest.mark.django_db
def test_load_demo_is_idempotent_and_refused_without_debug(settings):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    settings.DEBUG = True  # pytest-django runs tests with DEBUG off
    call_command("load_demo", verbosity=0)
    counts = (get_user_model().objects.count(), __import__("wagtail.models").models.Page.objects.count())
    call_command("load_demo", verbosity=0)
    assert (get_user_model().objects.count(), __import__("wagtail.models").models.Page.objects.count()) == counts
    assert get_user_model().objects.get(username="demo-organiser").groups.filter(name="Organisers").exists()
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("load_demo", verbosity=0)
    call_command("load_demo", force=True, verbosity=0)
    assert UserFactory._meta.model.objects.filter(username__in=DEMO_USERS).count() == len(DEMO_USERS) == 4
    # The demo's fictional people (panel audience, volunteer applicants) cannot be logged into: only the demo-*
    # accounts (the four above and demo-reviewer) have a password.
    others = UserFactory._meta.model.objects.exclude(username__startswith="demo-")
    assert others.exists() and not any(user.has_usable_password() for user in others)
