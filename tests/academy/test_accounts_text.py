"""What people type about themselves (real name, organisation, city) is cleaned by academy/text.py's one rule, in
the sign-up and profile forms and in model validation; the sign-up page is valid HTML."""
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError

from academy.accounts.models import User
from tests.factories import UserFactory

from .test_accounts import SIGNUP

pytestmark = pytest.mark.django_db

HOSTILE_NAME = "王\x01志\u202e愿\x1b\ufeff"


def test_sign_up_strips_control_and_bidi_characters_from_typed_text(client, home):
    response = client.post("/accounts/signup/", {
        **SIGNUP, "real_name": HOSTILE_NAME, "organisation": "=社区\x07中心\u2066", "city": "武\x85汉\r\n"})
    assert response.status_code == 302, response.context["form"].errors
    user = User.objects.get(username="newcomer")
    assert (user.real_name, user.organisation, user.city) == ("王志愿", "=社区中心", "武汉")


@pytest.mark.parametrize("invisible", ["\u200b\u200d", "\ufeff\u2060", "\u202e\u200b", "\x01\x02\x7f"])
def test_sign_up_refuses_a_real_name_that_is_only_invisible_characters(client, home, invisible):
    response = client.post("/accounts/signup/", {**SIGNUP, "real_name": invisible})
    assert response.status_code == 200
    assert "real_name" in response.context["form"].errors
    assert not User.objects.filter(username="newcomer").exists()


def test_profile_form_cleans_typed_text(client, home, volunteer):
    client.force_login(volunteer)
    response = client.post("/accounts/profile/", {
        "real_name": "李\u202e四\x1f", "phone": "", "email": "v@example.org", "role": "volunteer",
        "volunteer_category": "", "organisation": "\u200b\u200b", "city": "武汉\x9f"})
    assert response.status_code in (200, 302)
    volunteer.refresh_from_db()
    assert (volunteer.real_name, volunteer.organisation, volunteer.city) == ("李四", "", "武汉")


def test_model_validation_cleans_typed_text():
    user = UserFactory.build(username="modelled", real_name="\u2067张三\u2069\x08", organisation="\ufeff", city="北\x00京")
    user.set_unusable_password()
    user.full_clean()
    assert (user.real_name, user.organisation, user.city) == ("张三", "", "北京")


class _BlockInParagraph(HTMLParser):
    """Collects block elements opened while a <p> is open (a browser would close the <p> first)."""
    BLOCKS = {"ul", "ol", "div", "table", "form", "h1", "h2", "h3", "section", "p"}

    def __init__(self):
        super().__init__()
        self.open_p, self.problems = 0, []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS and self.open_p:
            self.problems.append(tag)
        if tag == "p":
            self.open_p += 1

    def handle_endtag(self, tag):
        if tag == "p" and self.open_p:
            self.open_p -= 1


@pytest.mark.parametrize("url", ["/accounts/signup/", "/accounts/password/"])
def test_account_forms_put_no_block_inside_a_paragraph(client, home, volunteer, url):
    if "password" in url:
        client.force_login(volunteer)
    response = client.get(url)
    assert response.status_code == 200
    parser = _BlockInParagraph()
    parser.feed(response.content.decode())
    assert "<ul>" in response.content.decode()  # the password rules are a list
    assert parser.problems == []
