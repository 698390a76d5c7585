"""The site navigation: one menu that opens without JavaScript, every item in it, the current section marked."""
import re

import pytest

from tests.factories.courses import make_course_index

pytestmark = pytest.mark.django_db


def nav_html(client, path):
    html = client.get(path).content.decode()
    match = re.search(r'<details class="site-menu">(.*?)</details>', html, re.S)
    assert match, "the navigation is a <details> menu"
    return match.group(1)


def test_menu_is_a_details_element_with_a_summary_button(client, home):
    nav = nav_html(client, "/")
    assert '<summary class="menu-button">' in nav
    assert "<script" not in nav


def test_visitor_menu_holds_log_in_and_sign_up_returning_to_the_page(client, home):
    make_course_index(home)
    nav = nav_html(client, "/courses/")
    assert "/accounts/login/?next=/courses/" in nav
    assert "/accounts/signup/?next=/courses/" in nav


def test_signed_in_menu_holds_my_learning_certificates_name_and_log_out(client, volunteer, home):
    make_course_index(home)
    client.force_login(volunteer)
    nav = nav_html(client, "/")
    for text in ["/courses/my/", "/certificates/", volunteer.display_name, "accounts/logout/"]:
        assert text in nav


def test_current_page_and_section_are_marked(client, volunteer, home):
    make_course_index(home)
    client.force_login(volunteer)
    nav = nav_html(client, "/courses/my/")
    assert re.search(r'href="/courses/my/" aria-current="page"', nav)
    assert not re.search(r'href="/courses/" aria-current', nav)  # 我的学习 has its own link
    assert not re.search(r'href="/" aria-current', nav)
    nav = nav_html(client, "/courses/")
    assert re.search(r'href="/courses/" aria-current="page"', nav)
