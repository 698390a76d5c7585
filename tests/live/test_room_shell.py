"""The room page as a cached shell: the same HTML for every participant of a session, kept in process memory per
session, page revision and language; only the CSRF token and any messages are put in per request."""
import re

import pytest
from django.test import Client
from django.utils import translation

from live.models import Registration
from live import room_views
from live.room_views import CSRF_MARKER, room_shell_key
from tests.factories import UserFactory
from tests.factories.live import make_live_session

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _room(client, session):
    response = client.get(session.url + "room/")
    assert response.status_code == 200
    return response


def test_every_participant_gets_the_same_page_but_their_own_csrf_token(volunteer, socialworker):
    session = make_live_session()
    pages = []
    for user in (volunteer, socialworker):
        client = Client()
        client.force_login(user)
        pages.append(_room(client, session).content.decode())
    tokens = [TOKEN.findall(html) for html in pages]
    assert tokens[0] and tokens[1] and tokens[0][0] != tokens[1][0]
    assert CSRF_MARKER not in pages[0]
    assert TOKEN.sub("", pages[0]) == TOKEN.sub("", pages[1])
    for user in (volunteer, socialworker):
        assert user.display_name not in pages[0] and user.username not in pages[0]
    assert "我的账户" in pages[0] and "accounts/logout/" in pages[0]


def test_the_shell_is_rendered_once_and_served_from_the_cache(client, volunteer):
    session = make_live_session()
    client.force_login(volunteer)
    _room(client, session)
    with translation.override("zh-hans"):
        key = room_shell_key(session)
    until, html = room_views._shells[key]
    room_views._shells[key] = (until, html.replace("你的问题", "CACHED-MARK"))
    assert "CACHED-MARK" in _room(client, session).content.decode()


def test_a_new_revision_of_the_page_replaces_the_cached_shell(client, volunteer):
    session = make_live_session(title="旧标题")
    client.force_login(volunteer)
    assert "旧标题" in _room(client, session).content.decode()
    session.title = "新标题"
    session.save_revision().publish()
    html = _room(client, session).content.decode()
    assert "新标题" in html and "旧标题" not in html


def test_each_language_has_its_own_shell(client, volunteer):
    session = make_live_session()
    client.force_login(volunteer)
    assert "你的问题" in _room(client, session).content.decode()
    client.cookies["django_language"] = "en"
    html = _room(client, session).content.decode()
    assert "Your question" in html and "你的问题" not in html


def test_the_csrf_token_in_the_shell_is_accepted_by_the_form_without_javascript(volunteer):
    session = make_live_session()
    client = Client(enforce_csrf_checks=True)
    client.force_login(volunteer)
    token = TOKEN.findall(_room(client, session).content.decode())[0]
    refused = client.post(session.url + "room/ask/", {"text": "没有令牌的问题"})
    assert refused.status_code == 403
    response = client.post(session.url + "room/ask/", {"text": "社区志愿者怎么招募？", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "提问已发送" in html  # the message is put into the shell for this request only
    assert "提问已发送" not in client.get(session.url + "room/").content.decode()


def test_the_shell_keeps_the_strict_csp_and_the_streams_host(client, volunteer):
    session = make_live_session(stream_kind="embed", stream_url="https://player.example.org/embed/42")
    client.force_login(volunteer)
    response = _room(client, session)
    policy = response["Content-Security-Policy"]
    assert "frame-src" in policy and "https://player.example.org" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "<script>" not in response.content.decode()


def test_access_is_still_checked_before_the_cached_shell(client, outsider):
    session = make_live_session(registration_required=True)
    registrant = UserFactory(username="registrant")
    Registration.objects.create(session=session, user=registrant)
    client.force_login(registrant)
    _room(client, session)  # the shell is in the cache now
    client.force_login(outsider)
    response = client.get(session.url + "room/")
    assert response.status_code == 302 and response["Location"] == session.url


def test_with_the_cache_off_the_shell_is_rendered_for_every_request(client, volunteer, settings):
    settings.LIVE_ROOM_SHELL_SECONDS = 0
    session = make_live_session()
    client.force_login(volunteer)
    _room(client, session)
    with translation.override("zh-hans"):
        assert room_shell_key(session) not in room_views._shells
