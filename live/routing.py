"""WebSocket routes of the live room (academy/asgi.py wraps them in the origin check and the session auth)."""
from django.urls import path

from live.consumers import RoomConsumer

websocket_urlpatterns = [
    path("ws/live/<int:session_id>/", RoomConsumer.as_asgi()),
]
