"""The Wagtail admin asks no other host for anything (Gravatar is off), and its zh-hans pages are in Chinese where
our catalogue can translate them."""
import re

import pytest
from django.urls import reverse

from tests.factories.courses import make_course

pytestmark = pytest.mark.django_db

# An absolute URL to another host where the browser fetches it by itself: src, srcset, <link href>, CSS url(), or
# the avatar URL of the comments' JSON. Plain <a href> links (the editor guide) are only followed by a person.
FOREIGN = re.compile(
    r"""(?:\bsrc|srcset|avatar_url["']?|<link\b[^>]*\bhref|url\()\s*[=:(]?\s*["']?(?:https?:)?//(?!testserver|localhost|127\.0\.0\.1)""",
    re.I,
)


def admin_pages(course):
    return [
        reverse("wagtailadmin_home"),
        reverse("wagtailadmin_explore_root"),
        reverse("wagtailadmin_explore", args=[course.pk]),
        reverse("wagtailadmin_pages:edit", args=[course.pk]),
        reverse("wagtailadmin_pages:add", args=["courses", "lessonpage", course.pk]),
        reverse("wagtailadmin_account"),
    ]


def test_no_admin_page_fetches_anything_from_another_host(client, home, organiser, settings):
    assert settings.WAGTAIL_GRAVATAR_PROVIDER_URL is None
    organiser.is_superuser = True  # every admin page, whatever the organiser group holds
    organiser.save()
    course = make_course(slug="admin-course")
    client.force_login(organiser)
    for url in admin_pages(course):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        offenders = [html[m.start():m.start() + 80] for m in FOREIGN.finditer(html)]
        assert not offenders, f"{url}: {offenders}"
        assert "gravatar" not in html.lower(), url


def test_the_foreign_host_check_catches_a_gravatar_avatar():
    assert FOREIGN.search('<img src="//www.gravatar.com/avatar/abc?d=mp">')
    assert FOREIGN.search('"avatar_url": "//www.gravatar.com/avatar/c5a1"')
    assert FOREIGN.search('<link rel="stylesheet" href="https://cdn.example/x.css">')
    assert not FOREIGN.search('<img src="/static/wagtailadmin/images/default-user-avatar.png">')
    assert not FOREIGN.search('<a href="https://guide.wagtail.org/">')


def test_dashboard_summary_and_search_are_in_chinese(client, home, organiser):
    client.force_login(organiser)
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "个页面" in html and " Pages" not in html
    assert "搜索全部页面" in html and "Search all pages" not in html
