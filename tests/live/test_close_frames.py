"""Close codes reach the client through a real server: `python -m academy.serve` (Daphne, autobahn) on the test
database, read with a raw WebSocket client. autobahn sends no close frame for a code outside 1000 and 3000-4999,
so a code the client cannot act on would show up here as a connection closed without a code."""
import pytest
from django.test import Client
from wagtail.models import PageViewRestriction

from bench.wsclient import BlockingClient
from tests.factories import UserFactory
from tests.factories.live import make_live_session
from tests.live.test_faults import start_room  # noqa: F401 - the fixture that starts real servers

pytestmark = pytest.mark.django_db(transaction=True)


def close_code(port: int, path: str, cookie: str | None) -> int | None:
    client = BlockingClient("127.0.0.1", port, path, f"http://127.0.0.1:{port}", cookie, timeout=10)
    try:
        while True:
            try:
                if client.recv_text(timeout=10) is None:
                    return None  # nothing within 10 s: hanging
            except ConnectionError:
                return client.close_code
    finally:
        client.sock.close()


def test_refusals_arrive_as_close_frames_with_the_protocols_codes(start_room):  # noqa: F811
    user = UserFactory(username="close-frames", real_name="关闭码")
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    session = make_live_session()
    private = make_live_session()
    PageViewRestriction.objects.create(page=private, restriction_type="password", password="x")
    room = start_room(1)
    assert close_code(room.port, f"/ws/live/{session.pk}/", None) == 4401
    assert close_code(room.port, "/ws/live/" + "9" * 23 + "/", cookie) == 4404  # not a 500 at the handshake
    assert close_code(room.port, "/ws/live/999999999/", cookie) == 4404
    assert close_code(room.port, f"/ws/live/{private.pk}/", cookie) == 4411
