"""ASGI application of the stock baseline: the project's HTTP side and the stock room at /ws/stock/<session>/."""
import os

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.stock.settings"

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from bench.stock.consumers import StockRoomConsumer  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter([
        path("ws/stock/<int:session>/", StockRoomConsumer.as_asgi()),
    ]))),
})
