"""The room and console pages: who gets them, and what they carry for the script."""
import json

import pytest

from live.models import Ban, Registration
from tests.factories.live import make_live_session

pytestmark = pytest.mark.django_db


def config_of(response):
    html = response.content.decode()
    start = html.index('id="live-room-config"')
    body = html[html.index(">", start) + 1:html.index("</script>", start)]
    return json.loads(body)


def test_room_asks_anonymous_visitors_to_log_in(client):
    session = make_live_session()
    response = client.get(session.url + "room/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_room_page_gives_the_script_its_websocket_and_chinese_texts(client, volunteer):
    session = make_live_session(stream_kind="hls", stream_url="https://video.example.org/live/stream.m3u8")
    client.force_login(volunteer)
    response = client.get(session.url + "room/")
    assert response.status_code == 200
    assert config_of(response) == {"ws": f"/ws/live/{session.pk}/", "session": session.pk, "moderator": False,
                                   "room": f"{session.url}room/"}
    html = response.content.decode()
    assert 'data-hls="https://video.example.org/live/stream.m3u8"' in html
    assert "/static/live/vendor/hls.js-1.7.4/hls.light.min.js" in html
    assert "你的问题" in html and "匿名提问" in html
    assert "实时更新需要启用 JavaScript" in html  # until the script runs: never 连接中… forever
    assert "<p data-console-link hidden>" in html  # shown by room.js only when the snapshot's role is moderator


def test_embed_stream_is_shown_in_a_sandboxed_frame(client, volunteer):
    session = make_live_session(stream_kind="embed", stream_url="https://player.example.org/embed/42")
    client.force_login(volunteer)
    html = client.get(session.url + "room/").content.decode()
    assert '<iframe src="https://player.example.org/embed/42"' in html and "sandbox=" in html
    assert "hls.light.min.js" not in html


def test_unregistered_user_is_sent_back_to_the_session_page(client, volunteer):
    session = make_live_session(registration_required=True)
    client.force_login(volunteer)
    response = client.get(session.url + "room/")
    assert response.status_code == 302 and response["Location"] == session.url
    Registration.objects.create(session=session, user=volunteer)
    assert client.get(session.url + "room/").status_code == 200


def test_banned_user_gets_403(client, volunteer, moderator):
    session = make_live_session()
    Ban.objects.create(session=session, user=volunteer, by=moderator)
    client.force_login(volunteer)
    assert client.get(session.url + "room/").status_code == 403


def test_console_is_for_moderators_only(client, volunteer, moderator, outsider):
    session = make_live_session(moderators=[moderator])
    client.force_login(volunteer)
    assert client.get(session.url + "console/").status_code == 403
    client.force_login(moderator)
    response = client.get(session.url + "console/")
    assert response.status_code == 200
    assert config_of(response)["moderator"] is True
    assert "开始直播" in response.content.decode()
