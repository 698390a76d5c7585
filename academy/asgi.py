"""ASGI entry point: Daphne serves HTTP and WebSocket from this one application."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

# Set Django up before anything imports models (consumers do).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from live.routing import websocket_urlpatterns  # noqa: E402

http_application = ASGIStaticFilesHandler(django_asgi_app) if settings.SERVE_FILES else django_asgi_app

application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
