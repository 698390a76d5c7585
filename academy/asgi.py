"""ASGI entry point: Daphne serves HTTP and WebSocket from this one application."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings")

from academy.handler import get_asgi_application  # noqa: E402 - Django's, with each request in one thread hop

# Set Django up before anything imports models (consumers do).
django_asgi_app = get_asgi_application()

# Under Daphne: WebSocket frames go straight to the socket when nothing waits before them, and a client that stops
# reading is disconnected once its unsent output passes LIVE_SEND_BUFFER_LIMIT (live/transport.py).
from live import transport  # noqa: E402

transport.install()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from live.auth import RoomAuthMiddlewareStack  # noqa: E402
from live.origin import SiteOriginValidator  # noqa: E402
from live.routing import websocket_urlpatterns  # noqa: E402

from academy.gate import StormGate  # noqa: E402

# A bound on the join links and room pages in flight in this process, checked before Django does any work; more wait
# in line for a few seconds, past that a tiny 503 that retries by itself (academy/gate.py).
http_application = StormGate(ASGIStaticFilesHandler(django_asgi_app) if settings.SERVE_FILES else django_asgi_app,
                             limit=settings.LIVE_PAGES_IN_FLIGHT, retry_after=settings.LIVE_PAGES_RETRY_AFTER,
                             queue_seconds=settings.LIVE_PAGES_QUEUE_SECONDS)

application = ProtocolTypeRouter(
    {
        "http": http_application,
        # The site's own origins only (scheme, host and port: live/origin.py); Channels' AuthMiddlewareStack with the
        # session and user look-ups left to the room's joins, which batch them with their admission (live/auth.py).
        "websocket": SiteOriginValidator(RoomAuthMiddlewareStack(URLRouter(websocket_urlpatterns), deferred=True)),
    }
)
