"""The WebSocket origin check matches scheme, host and port of the site's own origins."""
import pytest
from channels.db import database_sync_to_async

from tests.factories.live import make_live_session
from tests.factories.live_room import receive, room_communicator, room_fixture

pytestmark = pytest.mark.django_db(transaction=True)
_room = room_fixture()


@pytest.fixture
def site(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    settings.CSRF_TRUSTED_ORIGINS = ["https://academy.example.org", "https://*.lianshe.example.cn"]
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "academy.example.org"]


@pytest.mark.parametrize("origin", [
    "http://testserver",  # the server the handshake was made to
    "http://127.0.0.1:8000",  # SITE_URL
    "https://academy.example.org", "https://academy.example.org:443",  # CSRF_TRUSTED_ORIGINS
    "https://wuhan.lianshe.example.cn",  # a trusted wildcard
])
async def test_the_sites_own_origins_are_accepted(site, volunteer, origin):
    session = await database_sync_to_async(make_live_session)()
    communicator, connected, _ = await room_communicator(session, volunteer, origin=origin.encode())
    assert connected
    assert (await receive(communicator))["type"] == "snapshot"
    await communicator.disconnect()


@pytest.mark.parametrize("origin", [
    "http://127.0.0.1:9999", "https://127.0.0.1", "http://127.0.0.1",  # the right host on another port or scheme
    "https://testserver", "http://testserver:8080",
    "http://academy.example.org",  # trusted only over https
    "https://evil.example", "https://academy.example.org.evil.example", "https://lianshe.example.cn.evil.example",
    "null", "", "http://", "http://[::1", "javascript:alert(1)",
])
async def test_other_origins_are_refused_at_the_handshake(site, volunteer, origin):
    session = await database_sync_to_async(make_live_session)()
    communicator, connected, _ = await room_communicator(session, volunteer, origin=origin.encode() or None)
    assert not connected


async def test_a_handshake_to_a_host_not_allowed_is_refused(site, settings, volunteer):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    session = await database_sync_to_async(make_live_session)()
    communicator, connected, _ = await room_communicator(session, volunteer, origin=b"http://testserver")
    assert not connected
